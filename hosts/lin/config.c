/*
 * The simulator's "mc/config" (hosts/lin/modules/mc/config.js): the JSON document given with
 * `xs-ipsec-lin --config FILE`, deeply frozen, or nothing (the module then exports {}).
 *
 * On a device, mcconfig turns the manifest's "config" into the mc/config module at build time,
 * so a malformed configuration never reaches a running firmware. The simulator keeps that
 * property by parsing the file at start-up, before the entry module runs: an unreadable file
 * or bad JSON ends the host with status 2 and one line naming the file, like bad usage.
 */
#include "xs.h"
#include "xslin_host.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xsSlot gxConfig;
static int gxHasConfig = 0;

static void refuse(const char* path, const char* problem)
{
	fprintf(stderr, "xs-ipsec-lin: --config %s: %s\n", path, problem);
	fflush(stdout);
	exit(2);
}

void xslin_load_config(xsMachine* machine, const char* path)
{
	size_t size;
	int error;
	char* text = xslin_read_whole_file(path, 1024 * 1024, &size, &error);
	if (!text)
		refuse(path, error == EFBIG ? "larger than 1 MiB" : strerror(error));
	if (strlen(text) != size)
		refuse(path, "not a text file (it holds a NUL byte)");
	xsBeginHost(machine);
	{
		xsVars(2);
		xsTry {
			xsVar(0) = xsString(text);
			xsVar(1) = xsGet(xsGlobal, xsID("JSON"));
			xsVar(0) = xsCall1(xsVar(1), xsID("parse"), xsVar(0));
		}
		xsCatch {
			char problem[256];
			const char* message;
			int line, at = 0;
			xsVar(1) = xsGet(xsException, xsID("message"));
			message = xsToString(xsVar(1));
			/* XS says "JSON.parse: LINE: what" */
			if (sscanf(message, "JSON.parse: %d: %n", &line, &at) == 1 && at > 0)
				snprintf(problem, sizeof(problem), "not valid JSON: line %d: %s", line, message + at);
			else
				snprintf(problem, sizeof(problem), "not valid JSON: %s", message);
			refuse(path, problem);
		}
		if (xsTypeOf(xsVar(0)) != xsReferenceType || xsIsInstanceOf(xsVar(0), xsArrayPrototype))
			refuse(path, "the document must be a JSON object, as a manifest's \"config\" is");
		/* XS's Object.freeze(o, true) freezes deeply: what mcconfig's generated module does */
		xsVar(1) = xsGet(xsGlobal, xsID("Object"));
		xsCall2(xsVar(1), xsID("freeze"), xsVar(0), xsTrue);
		gxConfig = xsVar(0);
		xsRemember(gxConfig);
		gxHasConfig = 1;
	}
	xsEndHost(machine);
	free(text);
}

/* config() -> the document, or undefined without --config */
void xs_lin_config(xsMachine* the)
{
	if (gxHasConfig)
		xsResult = gxConfig;
}
