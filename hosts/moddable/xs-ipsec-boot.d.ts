/**
 * Module "xs-ipsec/boot": the firmware's boot for the platform being built. A manifest maps
 * it per platform (esp32: hosts/esp32/boot.ts, the lwIP netif; lin: hosts/lin/boot.ts, a TUN
 * device); the simulator's module directory maps it the same way (scripts/setup.mjs).
 * Applications import it by this name, so one application source serves both.
 */
declare module 'xs-ipsec/boot' {
  /** Boots the firmware (self-test on the device, configuration, tunnel, sockets, IKE) and returns it running. */
  export function boot(): import('./firmware.js').Firmware;
}
