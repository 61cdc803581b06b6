/*
 * Delivery of received data to a JS object's `callback`, shared by the socket and tunnel
 * modules: callback(2, byteCount) or callback(2, byteCount, address, port), as the Moddable
 * SDK's socket module calls it. Runs inside xsBeginHost/xsEndHost from the event loop.
 */
#include "xs.h"
#include "xslin_host.h"
#include <stdio.h>

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
