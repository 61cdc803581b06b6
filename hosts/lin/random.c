/*
 * Random bytes for keys, nonces and SPIs on the desktop host: the kernel's CSPRNG through
 * getrandom(2). The ESP32 build has its own xs_random_fill (esp_fill_random) in hosts/esp32.
 * Moddable's `rng` module (RC4) and Math.random are not fit for keys.
 */
#include "xsmc.h"
#include "xs.h"
#include <errno.h>
#include <sys/random.h>

/* fillRandom(buffer): fills an ArrayBuffer, TypedArray or DataView */
void xs_random_fill(xsMachine* the)
{
	void* data;
	xsUnsignedValue size, done = 0;
	xsmcGetBufferWritable(xsArg(0), &data, &size);
	while (done < size) {
		ssize_t n = getrandom((char*)data + done, size - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("getrandom failed (errno %d)", errno);
		}
		done += (xsUnsignedValue)n;
	}
}
