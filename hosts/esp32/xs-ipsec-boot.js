/*
 * Module "xs-ipsec/boot" on the esp32 platforms: an alias of hosts/esp32/boot (./boot.ts).
 * On the device a module's relative imports resolve against its name, so the boot module
 * itself keeps its path name (hosts/esp32/boot) and this module, named "xs-ipsec/boot" by
 * manifest.json, re-exports it by that name. Applications import "xs-ipsec/boot" on every
 * platform (the simulator maps it to hosts/lin/boot: scripts/setup.mjs).
 */
export { boot } from "hosts/esp32/boot";
