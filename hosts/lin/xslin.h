/*
 * Platform header for the desktop simulator host (hosts/lin).
 * The XS sources include it through -DXSPLATFORM=\"xslin.h\" (see Makefile). It mirrors the
 * Linux part of xsnap's platform header, with our own per-machine fields.
 */
#ifndef __XSLIN_PLATFORM__
#define __XSLIN_PLATFORM__

#if !defined(__GNUC__) || !defined(__linux__)
	#error hosts/lin builds on Linux with gcc or clang
#endif

#undef mxLittleEndian
#define mxLittleEndian 1
#undef mxLinux
#define mxLinux 1
#define mxExport extern
#define mxImport extern
#define XS_FUNCTION_NORETURN __attribute__((noreturn))

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int txSocket;
#define mxNoSocket -1
#define mxUseGCCAtomics 1
#define mxUsePOSIXThreads 1

/* Per-machine state of the host: promise-job flag, exit status, timer list, watched fds. */
#ifdef mxDebug
#define mxMachineDebugConnection txSocket connection;
#else
#define mxMachineDebugConnection
#endif
#define mxMachinePlatform \
	mxMachineDebugConnection \
	int promiseJobs; \
	int exitStatus; \
	void* timers; \
	void* watchers; \
	unsigned long turns; \
	unsigned long modulesLoaded; \
	void* waiterCondition; \
	void* waiterData; \
	void* waiterLink;

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultMachinePlatform 1

#if INTPTR_MAX == INT64_MAX
	#define mx32bitID 1
#endif

#define mxCESU8 1

#endif /* __XSLIN_PLATFORM__ */
