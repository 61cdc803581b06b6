/*
 * The desktop's stand-in for xsc's `native("name")`: tunnel.ts names its C functions the way
 * the Moddable SDK documents for TypeScript and standard JS ("XS in C", "Native" and
 * "native"), which xsc turns into host functions when it compiles a module with -c. The XS
 * engine of the desktop host (13.3, from @agoric/xsnap) predates that, so module
 * "esp32-desktop/native" defines a global native(name) that returns the host function of that
 * name, found with dlsym() in the host (linked with -rdynamic). Import it before a module
 * that calls native().
 */
#include "xs.h"
#include <dlfcn.h>

static void xs_esp32_desktop_native(xsMachine* the)
{
	const char* name = xsToString(xsArg(0));
	xsCallback callback = (xsCallback)dlsym(RTLD_DEFAULT, name);
	if (!callback)
		xsReferenceError("native: no host function %s", name);
	xsResult = xsNewHostFunction(callback, 0);
}

/* install(): globalThis.native */
void xs_esp32_desktop_install_native(xsMachine* the)
{
	xsVars(1);
	xsVar(0) = xsNewHostFunction(xs_esp32_desktop_native, 1);
	xsSet(xsGlobal, xsID("native"), xsVar(0));
}
