/*
 * Defines globalThis.native(name) on the desktop host, as xsc provides `native("name")` on
 * the device (hosts/esp32/desktop/native.c). Import it before hosts/esp32/tunnel.js.
 */
function install() @ "xs_esp32_desktop_install_native";
install();
