/*
 * XS platform hooks for the desktop simulator host: module resolution and loading, native
 * ("@ name") host functions for modules parsed at run time, aborts, promise jobs and error
 * reports. The event loop and timers are in loop.c.
 *
 * Module resolution, in the order tried:
 *   - "./x.js", "../x.js": relative to the importing module's file;
 *   - "/abs/x.js": as is;
 *   - anything else ("timer", "@noble/hashes/sha2.js"): looked up in each --modules directory,
 *     as DIR/<specifier>, then DIR/<specifier>.js (the Moddable manifest names modules without
 *     extension; TypeScript output names them with one).
 * Modules are parsed with the C flag, so a binding module may declare native functions the
 * way the Moddable SDK's own modules do (`function f() @ "xs_f";`): the names are resolved
 * with dlsym() in this executable (linked with -rdynamic).
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "xsAll.h"
#include "xsScript.h"
#include "xslin_host.h"
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>

#define mxMaxModuleDirectories 16
static char* gxModuleDirectories[mxMaxModuleDirectories];
static int gxModuleDirectoryCount = 0;

void xslin_add_module_directory(const char* path)
{
	char real[PATH_MAX];
	if (gxModuleDirectoryCount >= mxMaxModuleDirectories) {
		fprintf(stderr, "xs-ipsec-lin: too many --modules directories (at most %d)\n", mxMaxModuleDirectories);
		exit(2);
	}
	if (!realpath(path, real)) {
		fprintf(stderr, "xs-ipsec-lin: --modules %s: no such directory\n", path);
		exit(2);
	}
	gxModuleDirectories[gxModuleDirectoryCount++] = strdup(real);
}

/* ---------- aborts and error reports ---------- */

void xslin_report(txMachine* the, txSlot* value, const char* prefix)
{
	/* Print "prefix: <stack or string>" on stderr. Error objects carry XS's `stack` text
	   (name, message and the JS frames); anything else is converted with String(). */
	txSlot* saved = the->stack;
	mxTry(the) {
		txString text = C_NULL;
		if (mxIsReference(value)) {
			mxPushSlot(value);
			mxGetID(mxID(_stack));
			if (the->stack->kind == XS_STRING_KIND || the->stack->kind == XS_STRING_X_KIND)
				text = the->stack->value.string;
		}
		if (!text) {
			mxPushSlot(value);
			text = fxToString(the, the->stack);
		}
		fprintf(stderr, "%s: %s\n", prefix, text);
		the->stack = saved;
	}
	mxCatch(the) {
		the->stack = saved;
		fprintf(stderr, "%s: (the thrown value cannot be printed)\n", prefix);
	}
	fflush(stderr);
}

/*
 * The C stack's limit, which XS asks for when it creates a machine and every time it compiles
 * a regular expression or parses a script (xsre.c, xsScript.c). XS's own Linux version
 * (mxUseDefaultCStackLimit) calls pthread_getattr_np, which for the main thread reads
 * /proc/self/maps each time: ~44 us here, paid by every regular expression literal the code
 * evaluates (each evaluation compiles), ~26 a side in an IKE handshake. Our machine runs on the
 * main thread only, whose stack does not move: the same answer, computed once.
 */
char* fxCStackLimit(void)
{
	static char* limit = NULL;
	static int known = 0;
	if (!known) {
		pthread_attr_t attrs;
		pthread_attr_init(&attrs);
		if (pthread_getattr_np(pthread_self(), &attrs) == 0) {
			void* stackAddr;
			size_t stackSize;
			if (pthread_attr_getstack(&attrs, &stackAddr, &stackSize) == 0)
				limit = (char*)stackAddr + (128 * 1024);
		}
		pthread_attr_destroy(&attrs);
		known = 1;
	}
	return limit;
}

void xslin_exit(txMachine* the, int status)
{
	fflush(stdout);
	fflush(stderr);
	exit(status);
}

void fxAbort(txMachine* the, int status)
{
	switch (status) {
	case XS_STACK_OVERFLOW_EXIT:
		fprintf(stderr, "xs: stack overflow\n");
		break;
	case XS_NOT_ENOUGH_MEMORY_EXIT:
		fprintf(stderr, "xs: memory full\n");
		break;
	case XS_NO_MORE_KEYS_EXIT:
		fprintf(stderr, "xs: not enough keys\n");
		break;
	case XS_TOO_MUCH_COMPUTATION_EXIT:
		fprintf(stderr, "xs: too much computation\n");
		break;
	case XS_UNHANDLED_EXCEPTION_EXIT:
		xslin_report(the, &mxException, "uncaught exception");
		break;
	case XS_UNHANDLED_REJECTION_EXIT:
		xslin_report(the, &mxException, "unhandled rejection");
		break;
	default:
		fprintf(stderr, "xs: fatal error %d\n", status);
		break;
	}
	/* Every abort is fatal for this host: a simulator that limps on after an uncaught error
	   would hide it from the tests. */
	xslin_exit(the, 1);
}

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobs = 1;
}

#ifdef mxDebug
void fxConnect(txMachine* the) { }
void fxDisconnect(txMachine* the) { }
txBoolean fxIsConnected(txMachine* the) { return 0; }
txBoolean fxIsReadable(txMachine* the) { return 0; }
void fxReceive(txMachine* the) { }
void fxSend(txMachine* the, txBoolean more) { }
#endif

void fxRunDebugger(txMachine* the)
{
}

/* ---------- module resolution ---------- */

static int fileExists(const char* path)
{
	FILE* f = fopen(path, "r");
	if (f) {
		fclose(f);
		return 1;
	}
	return 0;
}

txID fxFindModule(txMachine* the, txSlot* realm, txID moduleID, txSlot* slot)
{
	char name[PATH_MAX];
	char path[PATH_MAX];
	char real[PATH_MAX];
	int i;
	fxToStringBuffer(the, slot, name, sizeof(name));
	if (!strncmp(name, "./", 2) || !strncmp(name, "../", 3)) {
		char* slash;
		if (moduleID == XS_NO_ID)
			return XS_NO_ID;
		c_strncpy(path, fxGetKeyName(the, moduleID), sizeof(path) - 1);
		path[sizeof(path) - 1] = 0;
		slash = c_strrchr(path, '/');
		if (!slash)
			return XS_NO_ID;
		slash[1] = 0;
		if (strlen(path) + strlen(name) >= sizeof(path))
			mxRangeError("module path too long: %s", name);
		strcat(path, name);
		if (!realpath(path, real))
			return XS_NO_ID;
		return fxNewNameC(the, real);
	}
	if (name[0] == '/') {
		if (!realpath(name, real))
			return XS_NO_ID;
		return fxNewNameC(the, real);
	}
	for (i = 0; i < gxModuleDirectoryCount; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", gxModuleDirectories[i], name) >= (int)sizeof(path))
			mxRangeError("module path too long: %s", name);
		if (fileExists(path) && realpath(path, real))
			return fxNewNameC(the, real);
		if (snprintf(path, sizeof(path), "%s/%s.js", gxModuleDirectories[i], name) >= (int)sizeof(path))
			mxRangeError("module path too long: %s", name);
		if (fileExists(path) && realpath(path, real))
			return fxNewNameC(the, real);
	}
	return XS_NO_ID;
}

/* ---------- native functions declared with `@ "name"` ---------- */

/* The hosts table of the script being resolved: fxResolveModule runs the script's callback
   synchronously, before any other module can be loaded. */
static txS1* gxPendingHosts = NULL;

static void fxBuildPendingHosts(txMachine* the)
{
	txS1* p = gxPendingHosts;
	txID count, id, i;
	mxDecodeID(p, count);
	mxPushInteger(count);
	mxPushInteger(1);
	mxPush(mxArrayPrototype);
	fxNewArrayInstance(the);
	fxArrayCacheBegin(the, the->stack);
	for (i = 0; i < count; i++) {
		txS1 length = *p++;
		void* address;
		mxDecodeID(p, id);
		(void)id;
		address = dlsym(RTLD_DEFAULT, (char*)p);
		if (!address)
			mxReferenceError("native function %s is not in this host", (char*)p);
		if (length >= 0)
			fxNewHostFunction(the, (txCallback)address, length, XS_NO_ID, XS_NO_ID);
		else
			fxNewHostObject(the, (txDestructor)address);
		fxArrayCacheItem(the, the->stack + 1, the->stack);
		mxPop();
		p += c_strlen((char*)p) + 1;
	}
	fxArrayCacheEnd(the, the->stack);
	mxPullSlot(mxResult);
}

/* Parser errors, printed the way compilers do: "path:line: error: message". */
static void fxReportParserProblem(void* console, txString path, txInteger line, txString format, c_va_list arguments)
{
	fprintf(stderr, "%s:%d: error: ", path ? path : "?", (int)line);
	vfprintf(stderr, format, arguments);
	fputc('\n', stderr);
}

static txScript* fxLoadScript(txMachine* the, txString path, txUnsigned flags)
{
	txParser _parser;
	txParser* parser = &_parser;
	txParserJump jump;
	FILE* volatile file = NULL;
	txString name = NULL;
	txScript* volatile script = NULL;
	fxInitializeParser(parser, the, the->parserBufferSize, the->parserTableModulo);
	parser->reportError = fxReportParserProblem;
	parser->firstJump = &jump;
	file = fopen(path, "r");
	if (c_setjmp(jump.jmp_buf) == 0) {
		mxParserThrowElse(file);
		parser->path = fxNewParserSymbol(parser, path);
		fxParserTree(parser, file, (txGetter)fgetc, flags, &name);
		fclose(file);
		file = NULL;
		fxParserHoist(parser);
		fxParserBind(parser);
		script = fxParserCode(parser);
	}
	if (file)
		fclose(file);
	if (!script || parser->errorCount) {
		/* The parser has already printed file:line and the reason. */
		fprintf(stderr, "xs: %s: %d syntax error(s)\n", path, (int)parser->errorCount);
	}
	fxTerminateParser(parser);
	return script;
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
	txString path = fxGetKeyName(the, moduleID);
	txScript* script = fxLoadScript(the, path, mxCFlag | mxDebugFlag);
	if (script) {
		if (script->hostsBuffer) {
			gxPendingHosts = script->hostsBuffer;
			script->callback = fxBuildPendingHosts;
		}
		the->modulesLoaded++;
		fxResolveModule(the, module, moduleID, script, C_NULL, C_NULL);
		gxPendingHosts = NULL;
	}
}

/* ---------- running the entry module ---------- */

static void fxEntryFulfilled(txMachine* the)
{
}

static void fxEntryRejected(txMachine* the)
{
	xslin_report(the, mxArgv(0), "error while loading the entry module");
	xslin_exit(the, 1);
}

void xslin_run_entry(txMachine* the, const char* path)
{
	char real[PATH_MAX];
	txSlot* realm;
	if (!realpath(path, real)) {
		fprintf(stderr, "xs-ipsec-lin: %s: no such file\n", path);
		xslin_exit(the, 2);
	}
	realm = mxProgram.value.reference->next->value.module.realm;
	mxTry(the) {
		mxPushStringC(real);
		fxRunImport(the, realm, XS_NO_ID);
		mxDub();
		fxGetID(the, mxID(_then));
		mxCall();
		fxNewHostFunction(the, fxEntryFulfilled, 1, XS_NO_ID, XS_NO_ID);
		fxNewHostFunction(the, fxEntryRejected, 1, XS_NO_ID, XS_NO_ID);
		mxRunCount(2);
		mxPop();
	}
	mxCatch(the) {
		xslin_report(the, &mxException, "error while loading the entry module");
		xslin_exit(the, 1);
	}
}
