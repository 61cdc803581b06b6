/*
 * Random bytes from the host's CSPRNG (desktop: getrandom(2); ESP32: esp_fill_random, see
 * hosts/esp32). Binding module: the `@` functions are native, as in the Moddable SDK's modules.
 */
export function fillRandom(buffer) @ "xs_random_fill";
