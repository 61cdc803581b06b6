/*
 * Test helpers over Debian's lwIP (JS side: modules/esp32-desktop/lwip-test.js), for the
 * desktop test of the tunnel netif (test/esp32/tunnel-netif.test.ts): lwIP's own UDP sends a
 * datagram that lwIP routes into the tunnel; a UDP PCB receives what the tunnel's write()
 * delivered; the route hook answers a destination; a thread of its own sends a burst while the
 * machine's thread takes packets from the tunnel; a second netif stands for Wi-Fi (its subnet,
 * its gateway, lwIP's default netif) and counts what lwIP sends it; the question tunnel.c asks
 * lwIP about the route hook can be answered as ESP-IDF's lwIP with our hook would. Every lwIP call runs on the tcpip thread
 * (tcpip_callback_wait), as on the chip; received datagrams reach JS through
 * modMessagePostToMachine, as the tunnel's packets do.
 */
#include "xs.h"
#include "chip.h"
#include "tunnel.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* xsmc's buffer access (ArrayBuffer, TypedArray or DataView), as hosts/lin/callback.c declares it */
extern xsIntegerValue _xsmcGetBuffer(xsMachine* the, xsSlot* slot, void** data, xsUnsignedValue* count, xsBooleanValue writable);

static void parseAddress(xsMachine* the, xsSlot* slot, ip4_addr_t* address)
{
	if (!ip4addr_aton(xsToString(*slot), address))
		xsRangeError("%s: not an IPv4 address", xsToString(*slot));
}

/* ---------- udpSend(fromPort, toAddress, toPort, payload) -> err_t ---------- */

typedef struct {
	u16_t fromPort;
	ip_addr_t to;
	u16_t toPort;
	const uint8_t* data;
	u16_t length;
	err_t result;
} SendCall;

static void sendOnTcpip(void* data)
{
	SendCall* call = data;
	struct udp_pcb* pcb = udp_new();
	struct pbuf* p;
	if (!pcb) {
		call->result = ERR_MEM;
		return;
	}
	call->result = udp_bind(pcb, IP4_ADDR_ANY, call->fromPort);
	if (call->result == ERR_OK) {
		p = pbuf_alloc(PBUF_TRANSPORT, call->length, PBUF_RAM);
		if (!p)
			call->result = ERR_MEM;
		else {
			memcpy(p->payload, call->data, call->length);
			call->result = udp_sendto(pcb, p, &call->to, call->toPort);
			pbuf_free(p);
		}
	}
	udp_remove(pcb);
}

void xs_lwip_test_udp_send(xsMachine* the)
{
	SendCall call;
	ip4_addr_t to;
	void* data;
	xsUnsignedValue length;
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	parseAddress(the, &xsArg(1), &to);
	_xsmcGetBuffer(the, &xsArg(3), &data, &length, 0);
	if (length > 65507)
		xsRangeError("payload too long");
	call.fromPort = (u16_t)xsToInteger(xsArg(0));
	ip_addr_copy_from_ip4(call.to, to);
	call.toPort = (u16_t)xsToInteger(xsArg(2));
	call.data = data;
	call.length = (u16_t)length;
	call.result = ERR_OK;
	if (tcpip_callback_wait(sendOnTcpip, &call) != ERR_OK)
		xsUnknownError("tcpip thread unreachable");
	xsResult = xsInteger(call.result);
}

/* ---------- udpBurst(fromPort, toAddress, toPort, count, size, pause), burstProgress() ----------
   A thread of its own sends `count` datagrams of `size` bytes (a 4-byte big-endian sequence
   number, then byte j = sequence + j), one tcpip_callback_wait each and `pause` microseconds
   apart, while the machine's thread goes on: the tunnel's queue then has a producer and a
   consumer at the same time. */

static struct {
	pthread_t thread;
	int running;
	SendCall call;
	int count;
	int pause;
	uint8_t payload[1472];
	atomic_int sent;	/* udp_sendto returned ERR_OK */
	atomic_int failed;	/* it returned an error (ERR_MEM: the tunnel's queue was full) */
	atomic_int done;
} gBurst;

static void* burst(void* data)
{
	int i, j;
	LWIP_UNUSED_ARG(data);
	for (i = 0; i < gBurst.count; i++) {
		gBurst.payload[0] = (uint8_t)(i >> 24);
		gBurst.payload[1] = (uint8_t)(i >> 16);
		gBurst.payload[2] = (uint8_t)(i >> 8);
		gBurst.payload[3] = (uint8_t)i;
		for (j = 4; j < gBurst.call.length; j++)
			gBurst.payload[j] = (uint8_t)(i + j);
		if (tcpip_callback_wait(sendOnTcpip, &gBurst.call) == ERR_OK && gBurst.call.result == ERR_OK)
			atomic_fetch_add(&gBurst.sent, 1);
		else
			atomic_fetch_add(&gBurst.failed, 1);
		if (gBurst.pause)
			usleep(gBurst.pause);
	}
	atomic_store(&gBurst.done, 1);
	return NULL;
}

void xs_lwip_test_udp_burst(xsMachine* the)
{
	ip4_addr_t to;
	int size = xsToInteger(xsArg(4));
	if (gBurst.running)
		xsUnknownError("a burst is running");
	if (size < 4 || size > (int)sizeof(gBurst.payload))
		xsRangeError("burst datagrams of 4 to %d bytes", (int)sizeof(gBurst.payload));
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	parseAddress(the, &xsArg(1), &to);
	gBurst.call.fromPort = (u16_t)xsToInteger(xsArg(0));
	ip_addr_copy_from_ip4(gBurst.call.to, to);
	gBurst.call.toPort = (u16_t)xsToInteger(xsArg(2));
	gBurst.call.data = gBurst.payload;
	gBurst.call.length = (u16_t)size;
	gBurst.count = xsToInteger(xsArg(3));
	gBurst.pause = xsToInteger(xsArg(5));
	atomic_store(&gBurst.sent, 0);
	atomic_store(&gBurst.failed, 0);
	atomic_store(&gBurst.done, 0);
	if (pthread_create(&gBurst.thread, NULL, burst, NULL) != 0)
		xsUnknownError("cannot start the burst's thread");
	gBurst.running = 1;
}

/* burstProgress() -> [sent, failed, done]; joins the thread once it is done */
void xs_lwip_test_burst_progress(xsMachine* the)
{
	int done = atomic_load(&gBurst.done);
	if (done && gBurst.running) {
		pthread_join(gBurst.thread, NULL);
		gBurst.running = 0;
	}
	xsResult = xsNewArray(3);
	xsSetIndex(xsResult, 0, xsInteger(atomic_load(&gBurst.sent)));
	xsSetIndex(xsResult, 1, xsInteger(atomic_load(&gBurst.failed)));
	xsSetIndex(xsResult, 2, xsBoolean(done));
}

/* ---------- new UdpListener(port): callback(payload, address, port) ---------- */

typedef struct {
	struct udp_pcb* pcb;
	u16_t port;
	xsMachine* the;
	xsSlot target;
	atomic_int references;	/* the JS handle, and each message in flight */
	atomic_int open;
	err_t result;
} Listener;

static void releaseListener(Listener* l)
{
	if (atomic_fetch_sub(&l->references, 1) == 1)
		free(l);
}

/* on the machine's thread; message: source address (4 bytes), port (2, big-endian), payload */
static void deliverDatagram(void* machine, void* refcon, uint8_t* message, uint16_t messageLength)
{
	Listener* l = refcon;
	xsMachine* the = machine;
	if (atomic_load(&l->open) && message && messageLength >= 6) {
		char address[IP4ADDR_STRLEN_MAX];
		ip4_addr_t source;
		memcpy(&source, message, 4);
		ip4addr_ntoa_r(&source, address, sizeof(address));
		xsBeginHost(the);
		{
			xsVars(2);
			xsVar(0) = l->target;
			xsVar(1) = xsArrayBuffer(message + 6, messageLength - 6);
			xsCall3_noResult(xsVar(0), xsID("callback"), xsVar(1), xsString(address), xsInteger((message[4] << 8) | message[5]));
		}
		xsEndHost(the);
	}
	releaseListener(l);
}

/* lwIP's recv callback, on the tcpip thread */
static void received(void* arg, struct udp_pcb* pcb, struct pbuf* p, const ip_addr_t* address, u16_t port)
{
	Listener* l = arg;
	uint8_t* message = malloc(6 + (size_t)p->tot_len);
	LWIP_UNUSED_ARG(pcb);
	if (message && IP_IS_V4(address) && 6 + (size_t)p->tot_len <= 0xFFFF) {
		memcpy(message, ip_2_ip4(address), 4);
		message[4] = port >> 8;
		message[5] = port & 0xFF;
		pbuf_copy_partial(p, message + 6, p->tot_len, 0);
		atomic_fetch_add(&l->references, 1);
		if (modMessagePostToMachine(l->the, message, (uint16_t)(6 + p->tot_len), deliverDatagram, l) != 0)
			atomic_fetch_sub(&l->references, 1);
	}
	free(message);
	pbuf_free(p);
}

static void listenOnTcpip(void* data)
{
	Listener* l = data;
	l->pcb = udp_new();
	if (!l->pcb) {
		l->result = ERR_MEM;
		return;
	}
	l->result = udp_bind(l->pcb, IP4_ADDR_ANY, l->port);
	if (l->result != ERR_OK) {
		udp_remove(l->pcb);
		l->pcb = NULL;
		return;
	}
	udp_recv(l->pcb, received, l);
}

static void unlistenOnTcpip(void* data)
{
	Listener* l = data;
	udp_remove(l->pcb);
	l->pcb = NULL;
}

static void listenerDestructor(void* data)
{
	Listener* l = data;
	if (l) {
		if (atomic_exchange(&l->open, 0)) {
			tcpip_callback_wait(unlistenOnTcpip, l);
			chipMessagesClose(l->the);
		}
		releaseListener(l);
	}
}

void xs_lwip_test_listen(xsMachine* the)
{
	Listener* l;
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	l = calloc(1, sizeof(Listener));
	if (!l)
		xsUnknownError("out of memory");
	l->port = (u16_t)xsToInteger(xsArg(0));
	l->the = the;
	atomic_init(&l->references, 1);
	atomic_init(&l->open, 1);
	chipMessagesOpen(the);
	if (tcpip_callback_wait(listenOnTcpip, l) != ERR_OK || l->result != ERR_OK) {
		chipMessagesClose(the);
		free(l);
		xsUnknownError("cannot bind UDP port %d in lwIP", (int)xsToInteger(xsArg(0)));
	}
	l->target = xsArg(1);
	xsRemember(l->target);
	xsResult = xsNewHostObject(listenerDestructor);
	xsSetHostData(xsResult, l);
}

void xs_lwip_test_unlisten(xsMachine* the)
{
	Listener* l = xsGetHostDataValidate(xsArg(0), (void*)listenerDestructor);
	if (l && atomic_exchange(&l->open, 0)) {
		tcpip_callback_wait(unlistenOnTcpip, l);
		chipMessagesClose(the);
		xsForget(l->target);
	}
}

/* ---------- route(destination) -> tunnel address or undefined ---------- */

typedef struct {
	ip4_addr_t destination;
	struct netif* netif;
	ip4_addr_t address;
} RouteCall;

static void routeOnTcpip(void* data)
{
	RouteCall* call = data;
	call->netif = netif_tunnel_route(NULL, &call->destination);
	if (call->netif)
		ip4_addr_copy(call->address, *netif_ip4_addr(call->netif));
}

void xs_lwip_test_route(xsMachine* the)
{
	RouteCall call;
	char address[IP4ADDR_STRLEN_MAX];
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	parseAddress(the, &xsArg(0), &call.destination);
	call.netif = NULL;
	if (tcpip_callback_wait(routeOnTcpip, &call) != ERR_OK)
		xsUnknownError("tcpip thread unreachable");
	if (call.netif)
		xsResult = xsString(ip4addr_ntoa_r(&call.address, address, sizeof(address)));
}

/* ---------- addNetif(address, prefixLength, gateway, isDefault) -> index; netifOutputs(index) ----------
   An interface like the device's Wi-Fi station, without a link behind it: what lwIP sends it is
   counted and dropped. Added for the rest of the process (a test's process). */

#define MAX_DUMMIES 4

static struct {
	struct netif netif;
	atomic_int outputs;
} gDummies[MAX_DUMMIES];
static int gDummyCount = 0;

typedef struct {
	ip4_addr_t address, netmask, gateway;
	int index;
	int isDefault;
	err_t result;
} DummyCall;

static err_t dummyOutput(struct netif* netif, struct pbuf* p, const ip4_addr_t* next)
{
	LWIP_UNUSED_ARG(p);
	LWIP_UNUSED_ARG(next);
	atomic_fetch_add((atomic_int*)netif->state, 1); /* its counter */
	return ERR_OK;
}

static err_t dummyInit(struct netif* netif)
{
	netif->name[0] = 'd';
	netif->name[1] = 'm';
	netif->output = dummyOutput;
	netif->mtu = 1500;
	netif->flags = NETIF_FLAG_BROADCAST; /* as Wi-Fi's: lwIP matches no gateway on it by address */
	return ERR_OK;
}

static void addDummyOnTcpip(void* data)
{
	DummyCall* call = data;
	struct netif* netif = &gDummies[call->index].netif;
	if (!netif_add(netif, &call->address, &call->netmask, &call->gateway, &gDummies[call->index].outputs, dummyInit, tcpip_input)) {
		call->result = ERR_IF;
		return;
	}
	netif_set_link_up(netif);
	netif_set_up(netif);
	if (call->isDefault)
		netif_set_default(netif);
	call->result = ERR_OK;
}

void xs_lwip_test_add_netif(xsMachine* the)
{
	DummyCall call;
	int prefix = xsToInteger(xsArg(1));
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	if (gDummyCount == MAX_DUMMIES)
		xsRangeError("at most %d test interfaces", MAX_DUMMIES);
	if (prefix < 0 || prefix > 32)
		xsRangeError("prefix length %d: not 0 to 32", prefix);
	parseAddress(the, &xsArg(0), &call.address);
	parseAddress(the, &xsArg(2), &call.gateway);
	ip4_addr_set_u32(&call.netmask, prefix ? lwip_htonl(0xFFFFFFFFu << (32 - prefix)) : 0);
	call.index = gDummyCount;
	call.isDefault = xsTest(xsArg(3));
	call.result = ERR_OK;
	if (tcpip_callback_wait(addDummyOnTcpip, &call) != ERR_OK || call.result != ERR_OK)
		xsUnknownError("lwIP refused the test interface");
	xsResult = xsInteger(gDummyCount++);
}

void xs_lwip_test_netif_outputs(xsMachine* the)
{
	int index = xsToInteger(xsArg(0));
	if (index < 0 || index >= gDummyCount)
		xsRangeError("no test interface %d", index);
	xsResult = xsInteger(atomic_load(&gDummies[index].outputs));
}

/* ---------- emulateRouteHook(): from now on, chipIp4Route answers as with our hook ---------- */

static void emulateOnTcpip(void* data)
{
	LWIP_UNUSED_ARG(data);
	chipEmulateRouteHook(1);
}

void xs_lwip_test_emulate_route_hook(xsMachine* the)
{
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	if (tcpip_callback_wait(emulateOnTcpip, NULL) != ERR_OK)
		xsUnknownError("tcpip thread unreachable");
}
