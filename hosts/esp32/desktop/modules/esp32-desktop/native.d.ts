/** Types of native.js: importing it defines globalThis.native on the desktop host (hosts/esp32/desktop/native.c). */
declare module 'esp32-desktop/native' {}
