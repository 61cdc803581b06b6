/*
 * What the socket and tunnel modules share: delivery of received data to a JS object's
 * `callback` (callback(2, byteCount) or callback(2, byteCount, address, port), as the Moddable
 * SDK's socket module calls it; runs inside xsBeginHost/xsEndHost from the event loop), and
 * the bounds-checked region of a caller's buffer their reads and writes use.
 */
#include "xs.h"
#include "xslin_host.h"
#include <stdio.h>

/* xsmc's buffer access (ArrayBuffer, TypedArray or DataView), declared here because xsmc.h
   and the xs.h macros this file uses cannot be mixed */
extern xsIntegerValue _xsmcGetBuffer(xsMachine* the, xsSlot* slot, void** data, xsUnsignedValue* count, xsBooleanValue writable);

uint8_t* xslin_buffer_range(xsMachine* the, xsSlot* slot, xsIntegerValue offset, xsIntegerValue length, int writable, const char* what)
{
	void* data;
	xsUnsignedValue size;
	_xsmcGetBuffer(the, slot, &data, &size, writable ? 1 : 0);
	if (offset < 0 || length < 0 || (xsUnsignedValue)offset > size || (xsUnsignedValue)length > size - (xsUnsignedValue)offset)
		xsRangeError("no room for a %d-byte %s at %d in a %u-byte buffer", (int)length, what, (int)offset, (unsigned)size);
	return (uint8_t*)data + offset;
}

void xslin_deliver(xsMachine* the, xsSlot* target, int count, const char* address, int port)
{
	xsBeginHost(the);
	{
		xsTry {
			xsVars(1);
			xsVar(0) = *target;
			if (address)
				xsCall4_noResult(xsVar(0), xsID("callback"), xsInteger(2), xsInteger(count), xsString(address), xsInteger(port));
			else
				xsCall2_noResult(xsVar(0), xsID("callback"), xsInteger(2), xsInteger(count));
		}
		xsCatch {
			/* as for a timer callback: an exception nobody catches ends the process */
			xsSlot e = xsException;
			if (xsTypeOf(e) == xsReferenceType && xsHas(e, xsID("stack")))
				e = xsGet(e, xsID("stack"));
			fprintf(stderr, "uncaught exception: %s\n", xsToString(e));
			xslin_exit(the, 1);
		}
	}
	xsEndHost(the);
}
