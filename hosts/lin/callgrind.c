/*
 * Callgrind client requests for benchmarks ("lin/callgrind"): run the host under
 * `valgrind --tool=callgrind --instr-atstart=no` and only the code between start() and
 * stop(name) is instrumented and dumped as one part, so instruction counts per operation
 * exclude start-up and module loading; dump(name) in between ends one part and begins the
 * next without stopping (no re-instrumentation: a loop can be split into many parts cheaply).
 * Outside valgrind the requests do nothing. Built with
 * the requests only where valgrind's headers are installed (Makefile sets XSLIN_CALLGRIND).
 */
#include "xsmc.h"
#include "xs.h"
#ifdef XSLIN_CALLGRIND
#include <valgrind/callgrind.h>
#endif

/* available() -> true when running under valgrind with the requests compiled in */
void xs_callgrind_available(xsMachine* the)
{
#ifdef XSLIN_CALLGRIND
	xsmcSetBoolean(xsResult, RUNNING_ON_VALGRIND ? 1 : 0);
#else
	xsmcSetBoolean(xsResult, 0);
#endif
}

void xs_callgrind_start(xsMachine* the)
{
#ifdef XSLIN_CALLGRIND
	CALLGRIND_ZERO_STATS;
	CALLGRIND_START_INSTRUMENTATION;
#endif
}

/* stop(name): stop instrumenting and dump the counts since start() as part "name" */
void xs_callgrind_stop(xsMachine* the)
{
#ifdef XSLIN_CALLGRIND
	char name[128];
	xsmcToStringBuffer(xsArg(0), name, sizeof(name));
	CALLGRIND_DUMP_STATS_AT(name);
	CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

/* dump(name): dump the counts since start() or the last dump as part "name", zero them, go on */
void xs_callgrind_dump(xsMachine* the)
{
#ifdef XSLIN_CALLGRIND
	char name[128];
	xsmcToStringBuffer(xsArg(0), name, sizeof(name));
	CALLGRIND_DUMP_STATS_AT(name);
#endif
}
