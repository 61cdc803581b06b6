/*
 * Random bytes on the ESP32 for keys, nonces and SPIs: the hardware RNG through
 * esp_fill_random(). It is a true random source only while the RF subsystem (Wi-Fi or
 * Bluetooth) is on, or after bootloader_random_enable(); otherwise it is a pseudo-random
 * sequence (ESP-IDF "Random Number Generation"). The gateway runs with Wi-Fi up, and the
 * firmware must not derive keys before it is. Same JS binding as the desktop host's
 * getrandom() version: hosts/native/random.js.
 * esp_fill_random comes through chip.h, so the desktop compile check (make -C hosts/esp32)
 * builds this file too.
 */
#include "xsmc.h"
#include "chip.h"

void xs_random_fill(xsMachine* the)
{
	void* data;
	xsUnsignedValue size;
	xsmcGetBufferWritable(xsArg(0), &data, &size);
	esp_fill_random(data, size);
}
