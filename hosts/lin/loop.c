/*
 * The host's event loop and the Moddable-compatible `timer` module (hosts/lin/modules/timer.js).
 *
 * One poll() call waits for both the watched file descriptors and the next timer deadline:
 * the process sleeps when there is nothing to do (xsnap's own loop busy-waits). Promise jobs
 * run to completion after every callback, and a rejection still unhandled at that point ends
 * the process (as Node does), so a forgotten `await` cannot fail silently.
 */
#include "xsAll.h"
#include "xslin_host.h"
#include <poll.h>
#include <errno.h>

typedef struct sxTimer txTimer;
struct sxTimer {
	txTimer* next;
	txSlot self;		/* the timer host object; remembered (a GC root) while scheduled */
	txSlot function;
	double when;		/* monotonic ms */
	double interval;	/* 0 for one-shot */
	int scheduled;
};

typedef struct {
	int fd;
	short events;
	xslin_watch_callback callback;
	void* data;
} txWatcher;

#define mxMaxWatchers 64
static txWatcher gxWatchers[mxMaxWatchers];
static int gxWatcherCount = 0;

/* called before each wait for file descriptors and timers: tun.c and socket.c send what they
   held back to send as one (merged TCP segments, UDP datagrams of one size) */
typedef struct {
	void (*callback)(void* data);
	void* data;
} txRoundEnd;
#define mxMaxRoundEnds 8
static txRoundEnd gxRoundEnds[mxMaxRoundEnds];
static int gxRoundEndCount = 0;

int xslin_at_round_end(void (*callback)(void* data), void* data)
{
	if (gxRoundEndCount >= mxMaxRoundEnds)
		return -1;
	gxRoundEnds[gxRoundEndCount].callback = callback;
	gxRoundEnds[gxRoundEndCount].data = data;
	gxRoundEndCount++;
	return 0;
}

void xslin_cancel_round_end(void* data)
{
	int i;
	for (i = 0; i < gxRoundEndCount; i++) {
		if (gxRoundEnds[i].data == data) {
			gxRoundEnds[i] = gxRoundEnds[--gxRoundEndCount];
			return;
		}
	}
}

double xslin_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1000000.0;
}

/* ---------- timers ---------- */

static void fxTimerDestructor(void* data)
{
	if (data)
		c_free(data);
}

static void fxTimerMark(txMachine* the, void* it, txMarkRoot markRoot)
{
	txTimer* timer = it;
	if (timer)
		(*markRoot)(the, &timer->function);
}

static txHostHooks gxTimerHooks = { fxTimerDestructor, fxTimerMark };

static void fxUnlinkTimer(txMachine* the, txTimer* timer)
{
	txTimer** address = (txTimer**)&the->timers;
	while (*address) {
		if (*address == timer) {
			*address = timer->next;
			break;
		}
		address = &(*address)->next;
	}
	timer->next = NULL;
	if (timer->scheduled) {
		timer->scheduled = 0;
		fxForget(the, &timer->self);
	}
}

static void fxScheduleTimer(txMachine* the, txTimer* timer, double delay, double interval)
{
	if (timer->scheduled)
		fxUnlinkTimer(the, timer);
	timer->when = xslin_now_ms() + (delay > 0 ? delay : 0);
	timer->interval = interval > 0 ? interval : 0;
	timer->next = the->timers;
	the->timers = timer;
	timer->scheduled = 1;
	fxRemember(the, &timer->self);
}

static txTimer* fxCheckTimer(txMachine* the, txSlot* slot)
{
	if (slot->kind == XS_REFERENCE_KIND && fxGetHostHooks(the, slot) == &gxTimerHooks)
		return fxGetHostData(the, slot);
	mxTypeError("not a timer");
	return NULL;
}

static double fxArgMs(txMachine* the, int i)
{
	if (mxArgc > i && mxArgv(i)->kind != XS_UNDEFINED_KIND) {
		double v = fxToNumber(the, mxArgv(i));
		return (v == v && v > 0) ? v : 0;
	}
	return 0;
}

/* Timer.set(callback, delay = 0, repeat = 0) */
void xs_timer_set(txMachine* the)
{
	txTimer* timer;
	if (mxArgc < 1 || !mxIsReference(mxArgv(0)) || !mxIsFunction(mxArgv(0)->value.reference))
		mxTypeError("Timer.set: callback is not a function");
	timer = c_calloc(1, sizeof(txTimer));
	if (!timer)
		fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
	fxNewHostObject(the, NULL);
	mxPullSlot(mxResult);
	timer->self = *mxResult;
	timer->function = *mxArgv(0);
	fxSetHostData(the, mxResult, timer);
	fxSetHostHooks(the, mxResult, &gxTimerHooks);
	fxScheduleTimer(the, timer, fxArgMs(the, 1), fxArgMs(the, 2));
}

/* Timer.repeat(callback, interval) */
void xs_timer_repeat(txMachine* the)
{
	double interval = fxArgMs(the, 1);
	xs_timer_set(the);
	fxScheduleTimer(the, fxGetHostData(the, mxResult), interval, interval);
}

/* Timer.schedule(timer, delay, repeat = 0) */
void xs_timer_schedule(txMachine* the)
{
	txTimer* timer = fxCheckTimer(the, mxArgv(0));
	fxScheduleTimer(the, timer, fxArgMs(the, 1), fxArgMs(the, 2));
}

/* Timer.clear(timer): null and undefined are ignored, as on the device. */
void xs_timer_clear(txMachine* the)
{
	if (mxArgc < 1 || mxArgv(0)->kind == XS_UNDEFINED_KIND || mxArgv(0)->kind == XS_NULL_KIND)
		return;
	fxUnlinkTimer(the, fxCheckTimer(the, mxArgv(0)));
}

/* Timer.delay(ms): blocks the machine, as on the device. */
void xs_timer_delay(txMachine* the)
{
	double ms = fxArgMs(the, 0);
	struct timespec ts = { (time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1000000) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int xslin_timer_count(txMachine* the)
{
	int count = 0;
	txTimer* timer = the->timers;
	while (timer) {
		count++;
		timer = timer->next;
	}
	return count;
}

static void fxFireTimer(txMachine* the, txTimer* timer)
{
	txSlot self = timer->self;
	txSlot function = timer->function;
	if (timer->interval > 0) {
		timer->when += timer->interval;
		if (timer->when < xslin_now_ms() - timer->interval)
			timer->when = xslin_now_ms() + timer->interval; /* don't replay a backlog */
	}
	else
		fxUnlinkTimer(the, timer);
	fxBeginHost(the);
	mxTry(the) {
		mxPushUndefined();
		mxPushSlot(&function);
		mxCall();
		mxPushSlot(&self);
		mxRunCount(1);
		mxPop();
	}
	mxCatch(the) {
		fxAbort(the, XS_UNHANDLED_EXCEPTION_EXIT);
	}
	fxEndHost(the);
}

/* ---------- watched file descriptors ---------- */

int xslin_watch(xsMachine* the, int fd, short events, xslin_watch_callback callback, void* data)
{
	int i;
	for (i = 0; i < gxWatcherCount; i++) {
		if (gxWatchers[i].fd == fd) {
			gxWatchers[i].events = events;
			gxWatchers[i].callback = callback;
			gxWatchers[i].data = data;
			return 0;
		}
	}
	if (gxWatcherCount >= mxMaxWatchers)
		return -1;
	gxWatchers[gxWatcherCount].fd = fd;
	gxWatchers[gxWatcherCount].events = events;
	gxWatchers[gxWatcherCount].callback = callback;
	gxWatchers[gxWatcherCount].data = data;
	gxWatcherCount++;
	return 0;
}

void xslin_unwatch(xsMachine* the, int fd)
{
	int i;
	for (i = 0; i < gxWatcherCount; i++) {
		if (gxWatchers[i].fd == fd) {
			gxWatchers[i] = gxWatchers[--gxWatcherCount];
			return;
		}
	}
}

/* ---------- the loop ---------- */

static void fxDrainJobs(txMachine* the)
{
	do {
		while (the->promiseJobs) {
			the->promiseJobs = 0;
			fxRunPromiseJobs(the);
		}
		fxEndJob(the);
	} while (the->promiseJobs);
	/* Every job has run: a rejected promise without a handler now is unhandled. */
	fxCheckUnhandledRejections(the, 1);
	the->turns++;
}

void xslin_run_loop(xsMachine* the)
{
	struct pollfd fds[mxMaxWatchers];
	for (;;) {
		txTimer* timer;
		txTimer* next = NULL;
		double now;
		int timeout, count, i;
		fxDrainJobs(the);
		for (timer = the->timers; timer; timer = timer->next)
			if (!next || timer->when < next->when)
				next = timer;
		if (!next && gxWatcherCount == 0)
			break;
		now = xslin_now_ms();
		if (!next)
			timeout = -1;
		else if (next->when <= now)
			timeout = 0;
		else
			timeout = (int)(next->when - now + 0.999);
		/* before waiting: what the modules hold back to send in batches goes out */
		for (i = 0; i < gxRoundEndCount; i++)
			gxRoundEnds[i].callback(gxRoundEnds[i].data);
		count = gxWatcherCount;
		for (i = 0; i < count; i++) {
			fds[i].fd = gxWatchers[i].fd;
			fds[i].events = gxWatchers[i].events;
			fds[i].revents = 0;
		}
		if (poll(fds, count, timeout) < 0 && errno != EINTR) {
			perror("xs-ipsec-lin: poll");
			xslin_exit(the, 1);
		}
		for (i = 0; i < count; i++) {
			if (fds[i].revents) {
				int j;
				/* look the watcher up again: an earlier callback may have removed it */
				for (j = 0; j < gxWatcherCount; j++) {
					if (gxWatchers[j].fd == fds[i].fd) {
						gxWatchers[j].callback(the, gxWatchers[j].data, fds[i].revents);
						fxDrainJobs(the);
						break;
					}
				}
			}
		}
		now = xslin_now_ms();
		for (;;) {
			next = NULL;
			for (timer = the->timers; timer; timer = timer->next)
				if (timer->when <= now && (!next || timer->when < next->when))
					next = timer;
			if (!next)
				break;
			fxFireTimer(the, next);
			fxDrainJobs(the);
		}
	}
}
