/*
 * The chip's side of hosts/esp32/chip.h on the desktop, so that tunnel.c runs in the
 * simulator host's variant (make -C hosts/lin netif) against Debian's lwIP:
 *   modMessagePostToMachine  a mutex-protected list and an eventfd watched by hosts/lin's
 *                            event loop (xslin_watch): any thread posts, the machine's thread
 *                            delivers, outside xsBeginHost, as Moddable's message queue does
 *                            on the chip (xs/platforms/esp/xsHost.c);
 *   esp_fill_random          getrandom(2);
 *   chipNetworkStart         tcpip_init() once: lwIP's tcpip thread (a pthread in Debian's
 *                            unix port), as esp_netif_init() starts it on the chip;
 *   chipMessagesOpen/Close   the eventfd is watched while some module may post (the loop
 *                            ends when nothing is watched and no timer is set), and after
 *                            the last close until what was posted has been delivered;
 *   chipIp4Route             Debian's ip4_route(), which has no hook, or (a test's choice,
 *                            chipEmulateRouteHook) the answer of ESP-IDF's with ours.
 */
#include "xs.h"
#include "xslin_host.h"
#include "chip.h"
#include "tunnel.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

typedef struct Message Message;
struct Message {
	Message* next;
	modMessageDeliver callback;
	void* refcon;
	uint16_t length;
	uint8_t message[];
};

static pthread_mutex_t gMessagesLock = PTHREAD_MUTEX_INITIALIZER;
static Message* gFirst = NULL;
static Message* gLast = NULL;
static int gEventFd = -1;
static int gOpenCount = 0;	/* the machine thread's */
static int gWatching = 0;

static int messagesWaiting(void)
{
	int waiting;
	pthread_mutex_lock(&gMessagesLock);
	waiting = gFirst != NULL;
	pthread_mutex_unlock(&gMessagesLock);
	return waiting;
}

static void stopWatchingWhenIdle(xsMachine* the)
{
	if (gWatching && gOpenCount == 0 && !messagesWaiting()) {
		xslin_unwatch(the, gEventFd);
		gWatching = 0;
	}
}

static void onMessages(xsMachine* the, void* data, short revents)
{
	uint64_t ignored;
	Message* message;
	LWIP_UNUSED_ARG(data);
	LWIP_UNUSED_ARG(revents);
	if (read(gEventFd, &ignored, sizeof(ignored)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&gMessagesLock);
	message = gFirst;
	gFirst = gLast = NULL;
	pthread_mutex_unlock(&gMessagesLock);
	while (message) {
		Message* next = message->next;
		message->callback(the, message->refcon, message->length ? message->message : NULL, message->length);
		free(message);
		message = next;
	}
	stopWatchingWhenIdle(the);
}

int modMessagePostToMachine(xsMachine* the, uint8_t* message, uint16_t messageLength, modMessageDeliver callback, void* refcon)
{
	uint64_t one = 1;
	LWIP_UNUSED_ARG(the); /* one machine here */
	Message* m = malloc(sizeof(Message) + (message ? messageLength : 0));
	if (!m)
		return -1;
	m->next = NULL;
	m->callback = callback;
	m->refcon = refcon;
	m->length = message ? messageLength : 0;
	if (message && messageLength)
		memcpy(m->message, message, messageLength);
	pthread_mutex_lock(&gMessagesLock);
	if (gLast)
		gLast->next = m;
	else
		gFirst = m;
	gLast = m;
	pthread_mutex_unlock(&gMessagesLock);
	if (write(gEventFd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -2; /* cannot happen short of 2^64 - 1 unread posts: the message is queued anyway */
	return 0;
}

void chipMessagesOpen(xsMachine* the)
{
	if (gEventFd < 0) {
		gEventFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (gEventFd < 0)
			xsUnknownError("eventfd: %s", strerror(errno));
	}
	if (!gWatching) {
		if (xslin_watch(the, gEventFd, POLLIN, onMessages, NULL) < 0)
			xsUnknownError("too many watched files");
		gWatching = 1;
	}
	gOpenCount++;
}

void chipMessagesClose(xsMachine* the)
{
	if (gOpenCount > 0)
		gOpenCount--;
	stopWatchingWhenIdle(the);
}

void esp_fill_random(void* buffer, size_t length)
{
	size_t done = 0;
	while (done < length) {
		ssize_t n = getrandom((char*)buffer + done, length - done, 0);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EINTR)
			abort(); /* esp_fill_random cannot fail; neither can the kernel's CSPRNG once seeded */
	}
}

static void networkStarted(void* data)
{
	sys_sem_signal((sys_sem_t*)data);
}

int chipNetworkStart(void)
{
	static int started = 0;
	sys_sem_t done;
	if (started)
		return 0;
	if (sys_sem_new(&done, 0) != ERR_OK)
		return -1;
	tcpip_init(networkStarted, &done);
	sys_sem_wait(&done);
	sys_sem_free(&done);
	started = 1;
	return 0;
}

/* the tcpip thread's, as lwIP's routing is */
static int gEmulateRouteHook = 0;

void chipEmulateRouteHook(int on)
{
	gEmulateRouteHook = on;
}

struct netif* chipIp4Route(const ip4_addr_t* dest)
{
	struct netif* netif;
	if (gEmulateRouteHook) {
		/* ip4_route()'s first loop: a connected subnet */
		NETIF_FOREACH(netif) {
			if (netif_is_up(netif) && netif_is_link_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif))
					&& ip4_addr_netcmp(dest, netif_ip4_addr(netif), netif_ip4_netmask(netif)))
				return netif;
		}
		netif = netif_tunnel_route(NULL, dest);
		if (netif)
			return netif;
	}
	return ip4_route(dest);
}
