/* Compile check only (README.md): what chip.h uses of the Moddable SDK's
   xs/platforms/esp/xsHost.h (messages, lines 319-322 in SDK 8.2.3). */
#include "xs.h"
#include <stdint.h>
typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
