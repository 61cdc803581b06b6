/*
 * Process-level natives of the desktop host:
 *   - globals `trace` (Moddable: prints its arguments, no newline added) and `console`
 *     (log/info/debug on stdout, warn/error on stderr, arguments joined by spaces);
 *   - module "instrumentation" (Moddable-compatible names: XS heap and GC figures);
 *   - module "lin/process": argv, exit, getenv, gc, now, execPath, run (its file functions are
 *     in files.c). Only the simulator has these.
 */
#include "xsAll.h"
#include "xslin_host.h"
#include <errno.h>
#include <sys/wait.h>

extern int xslin_timer_count(txMachine* the);
/* TextEncoder and TextDecoder: the Moddable SDK's own modules (modules/data/text), as shipped
   with the XS sources in @agoric/xsnap; the device build includes the same modules. */
extern void modInstallTextDecoder(txMachine* the);
extern void modInstallTextEncoder(txMachine* the);

static int gxArgc = 0;
static char** gxArgv = NULL;

void xslin_set_arguments(int argc, char** argv)
{
	gxArgc = argc;
	gxArgv = argv;
}

/* ---------- trace and console ---------- */

static void fxWriteValue(txMachine* the, FILE* out, txSlot* value)
{
	/* Errors print their stack (name, message, frames); everything else prints String(v). */
	if (mxIsReference(value)) {
		txSlot* instance = value->value.reference;
		if (instance->next && instance->next->kind == XS_ERROR_KIND) {
			mxPushSlot(value);
			mxGetID(mxID(_stack));
			fputs(fxToString(the, the->stack), out);
			mxPop();
			return;
		}
	}
	mxPushSlot(value);
	fputs(fxToString(the, the->stack), out);
	mxPop();
}

static void fxWriteArguments(txMachine* the, FILE* out, const char* separator, const char* end)
{
	txInteger i, c = mxArgc;
	for (i = 0; i < c; i++) {
		if (i)
			fputs(separator, out);
		fxWriteValue(the, out, mxArgv(i));
	}
	fputs(end, out);
	fflush(out);
}

void xs_lin_trace(txMachine* the) { fxWriteArguments(the, stdout, "", ""); }
void xs_lin_console_log(txMachine* the) { fxWriteArguments(the, stdout, " ", "\n"); }
void xs_lin_console_error(txMachine* the) { fxWriteArguments(the, stderr, " ", "\n"); }

void xslin_install_globals(txMachine* the)
{
	txSlot* console;
	txSlot* global;
	mxPush(mxGlobal);
	global = the->stack;
	fxNewHostFunction(the, xs_lin_trace, 1, fxID(the, "trace"), XS_NO_ID);
	mxPushSlot(global);
	fxDefineID(the, fxID(the, "trace"), XS_DONT_ENUM_FLAG, XS_GET_ONLY);
	mxPop();

	mxPush(mxObjectPrototype);
	console = fxNewObjectInstance(the);
	{
		char* names[] = { "log", "info", "debug", "warn", "error" };
		int i;
		for (i = 0; i < 5; i++) {
			fxNewHostFunction(the, i < 3 ? xs_lin_console_log : xs_lin_console_error, 1, fxID(the, names[i]), XS_NO_ID);
			mxPushReference(console);
			fxDefineID(the, fxID(the, names[i]), XS_DONT_ENUM_FLAG, XS_GET_ONLY);
			mxPop();
		}
	}
	mxPushSlot(global);
	fxDefineID(the, fxID(the, "console"), XS_DONT_ENUM_FLAG, XS_GET_ONLY);
	mxPop();
	mxPop();
	modInstallTextDecoder(the);
	modInstallTextEncoder(the);
}

/* ---------- instrumentation ---------- */

/* Indices and names as in the Moddable SDK's instrumentation module (1-based). Only the XS
   figures and the ones this host knows are non-zero. */
static const char* gxInstrumentationNames[] = {
	NULL,
	"Timers",
	"Turns",
	"XS Slot Heap Used",
	"XS Chunk Heap Used",
	"XS Keys Used",
	"XS Garbage Collection Count",
	"XS Modules Loaded",
	"XS Stack Used",
	"XS Slot Heap Size",
	"XS Chunk Heap Size",
	"XS Chunk Heap Peak",
	"XS Slot Heap Peak",
};
#define mxInstrumentationCount ((int)(sizeof(gxInstrumentationNames) / sizeof(gxInstrumentationNames[0])))

void xs_instrumentation_map(txMachine* the)
{
	txString name = fxToString(the, mxArgv(0));
	int i;
	for (i = 1; i < mxInstrumentationCount; i++) {
		if (!c_strcmp(name, gxInstrumentationNames[i])) {
			mxResult->kind = XS_INTEGER_KIND;
			mxResult->value.integer = i;
			return;
		}
	}
}

void xs_instrumentation_name(txMachine* the)
{
	txInteger i = fxToInteger(the, mxArgv(0));
	if (i > 0 && i < mxInstrumentationCount)
		fxCopyStringC(the, mxResult, (txString)gxInstrumentationNames[i]);
}

void xs_instrumentation_get(txMachine* the)
{
#ifdef mxInstrument
	txInteger i = fxToInteger(the, mxArgv(0));
	double value;
	switch (i) {
	case 1: value = xslin_timer_count(the); break;
	case 2: value = (double)the->turns; break;
	case 3: value = (double)(the->currentHeapCount) * sizeof(txSlot); break;
	case 4: value = (double)the->currentChunksSize; break;
	case 5: value = (double)(the->keyIndex - the->keyOffset); break;
	case 6: value = (double)the->garbageCollectionCount; break;
	case 7: value = (double)the->modulesLoaded; break;
	case 8: value = (double)((the->stackTop - the->stackPeak) * sizeof(txSlot)); break;
	case 9: value = (double)(the->maximumHeapCount) * sizeof(txSlot); break;
	case 10: value = (double)the->maximumChunksSize; break;
	case 11: value = (double)the->peakChunksSize; break;
	case 12: value = (double)(the->peakHeapCount) * sizeof(txSlot); break;
	default: return;
	}
	mxResult->kind = XS_NUMBER_KIND;
	mxResult->value.number = value;
#endif
}

/* ---------- lin/process ---------- */

void xs_lin_argv(txMachine* the)
{
	int i;
	mxPush(mxArrayPrototype);
	fxNewArrayInstance(the);
	mxPullSlot(mxResult);
	for (i = 0; i < gxArgc; i++) {
		mxPushStringC(gxArgv[i]);
		mxPushSlot(mxResult);
		mxDefineIndex(i, 0, XS_GET_ONLY);
		mxPop();
	}
}

void xs_lin_exit(txMachine* the)
{
	int status = mxArgc > 0 ? fxToInteger(the, mxArgv(0)) : 0;
	xslin_exit(the, status);
}

void xs_lin_getenv(txMachine* the)
{
	const char* value = getenv(fxToString(the, mxArgv(0)));
	if (value)
		fxCopyStringC(the, mxResult, (txString)value);
}

void xs_lin_gc(txMachine* the)
{
	fxCollectGarbage(the);
}

void xs_lin_now(txMachine* the)
{
	mxResult->kind = XS_NUMBER_KIND;
	mxResult->value.number = xslin_now_ms();
}

/* execPath(): this executable, so tests can start another simulator instance */
void xs_lin_exec_path(txMachine* the)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0)
		mxUnknownError("cannot read /proc/self/exe");
	path[n] = 0;
	fxCopyStringC(the, mxResult, path);
}

/* run(argv) -> { status, output }: runs a program to completion, with its stdout and stderr
   captured together (at most 1 MiB kept). status is the exit code, or 128 + signal. Blocks
   the machine, so it is for tests and tools, not for the gateway's event loop. */
void xs_lin_run(txMachine* the)
{
	txInteger argc, i;
	char** args;
	int fds[2];
	pid_t pid;
	int status = 0;
	char* output;
	size_t size = 0, capacity = 1024 * 1024;
	mxPushSlot(mxArgv(0));
	mxGetID(mxID(_length));
	argc = fxToInteger(the, the->stack);
	mxPop();
	if (argc < 1 || argc > 256)
		mxRangeError("run: argv must have 1 to 256 strings");
	args = c_calloc(argc + 1, sizeof(char*));
	output = c_malloc(capacity + 1);
	if (!args || !output)
		fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
	for (i = 0; i < argc; i++) {
		mxPushSlot(mxArgv(0));
		mxGetIndex(i);
		args[i] = strdup(fxToString(the, the->stack));
		mxPop();
	}
	if (pipe(fds) < 0)
		mxUnknownError("run: pipe failed");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execvp(args[0], args);
		fprintf(stderr, "run: cannot execute %s\n", args[0]);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		char chunk[4096];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (size < capacity) {
			size_t take = (size_t)n < capacity - size ? (size_t)n : capacity - size;
			memcpy(output + size, chunk, take);
			size += take;
		}
	}
	close(fds[0]);
	output[size] = 0;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	else
		status = -1;
	for (i = 0; i < argc; i++)
		free(args[i]);
	c_free(args);
	mxPush(mxObjectPrototype);
	fxNewObjectInstance(the);
	mxPullSlot(mxResult);
	mxPushInteger(status);
	mxPushSlot(mxResult);
	mxDefineID(fxID(the, "status"), XS_NO_FLAG, XS_GET_ONLY);
	mxPop();
	for (i = 0; i < (txInteger)size; i++)
		if ((unsigned char)output[i] >= 0x80 || output[i] == 0)
			output[i] = '?'; /* keep the string valid UTF-8 for XS */
	mxPushStringC(output);
	mxPushSlot(mxResult);
	mxDefineID(fxID(the, "output"), XS_NO_FLAG, XS_GET_ONLY);
	mxPop();
	c_free(output);
}
