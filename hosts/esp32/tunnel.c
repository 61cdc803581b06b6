/*
 * The device's tunnel interface: an lwIP netif whose packets cross to the gateway in JS, the
 * counterpart of the simulator's TUN device (hosts/lin/tun.c). The JS side is tunnel.ts
 * (NetifTunnel); what comes from ESP-IDF and Moddable is declared in chip.h, so this file
 * compiles and runs unchanged on the desktop against Debian's lwIP (make -C hosts/esp32).
 *
 * Out (lwIP -> JS): lwIP routes a packet to the netif (its subnet, or a route of ours through
 * the route hook below) and calls tunnelOutput on its tcpip thread. That copies the packet into
 * a fixed ring of `depth` slots of `mtu` bytes and posts one message to the XS machine
 * (modMessagePostToMachine); a full ring is a counted drop, so the tcpip thread never waits
 * for JS. On the machine's thread, tunnelDeliver calls target.callback(2, byteCount) for each
 * queued packet, and read() inside the callback copies it into the caller's buffer.
 *   The ring has one producer (whoever holds lwIP's core: the tcpip thread) and one consumer
 *   (the machine), so it needs no lock: the producer publishes a slot by storing `tail` with
 *   release order after filling it, the consumer frees it by storing `head` after reading it.
 *   At most one message is in flight (`posted`): a burst costs one message, not one per packet.
 *
 * In (JS -> lwIP): write() checks the opened inner packet (an IPv4 header that fits, no longer
 * than the MTU), copies it into a new pbuf and passes it to netif->input, which is
 * tcpip_input: it queues the packet for the tcpip thread, so it may be called from here.
 *
 * Lifetime: the netif is added and removed on the tcpip thread (tcpip_callback_wait), so they
 * never race tunnelOutput. Each message in flight holds a reference to the tunnel, as the JS
 * handle does; after close() a message that still arrives finds the tunnel closed and only
 * drops its reference, and the memory goes with the last reference.
 *
 * Routes: lwIP picks the netif whose subnet holds the destination, else its default netif
 * (Wi-Fi). Destinations beyond the tunnel's own subnet reach it through our route hook,
 * netif_tunnel_route(), which ESP-IDF's lwIP calls as LWIP_HOOK_IP4_ROUTE_SRC once
 * lwip-hooks.h is its ESP_IDF_LWIP_HOOK_FILENAME (see there). Debian's lwIP has no hook: the
 * desktop test calls it directly (hosts/esp32/desktop/lwip-test.c).
 */
#include "xsmc.h"
#include "xs.h"
#include "chip.h"
#include "tunnel.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* all tunnels' routes together: a gateway has a handful of tunnels with a few prefixes each */
#define MAX_ROUTES 16
/* lwIP's IPv4 minimum MTU is 68 (RFC 791); a slot of 65535 would be a packet no peer sends */
#define MIN_MTU 68
#define MAX_MTU 9000
#define MAX_DEPTH 64

typedef struct {
	uint32_t network;	/* network byte order, as lwIP keeps addresses */
	uint32_t mask;
	uint8_t prefix;
	struct netif* netif;
} TunnelRoute;

/* read and written only on the tcpip thread (or with its core lock): netif_tunnel_route runs
   there, and tunnels add and remove theirs there (addOnTcpip, removeOnTcpip) */
static TunnelRoute gRoutes[MAX_ROUTES];
static int gRouteCount = 0;

enum {
	COUNTER_OUTBOUND,		/* packets given to the callback */
	COUNTER_OUTBOUND_QUEUE_FULL,	/* dropped: the ring was full */
	COUNTER_OUTBOUND_TOO_LONG,	/* dropped: longer than the MTU (a slot) */
	COUNTER_INBOUND,		/* packets written to lwIP */
	COUNTER_INBOUND_TOO_LONG,	/* refused: longer than the MTU */
	COUNTER_INBOUND_MALFORMED,	/* refused: not an IPv4 packet whose header fits */
	COUNTER_INBOUND_NO_BUFFER,	/* refused: no pbuf */
	COUNTER_INBOUND_REFUSED,	/* refused: tcpip_input's queue was full */
	COUNTER_COUNT
};

typedef struct {
	struct netif netif;
	xsMachine* the;
	xsSlot target;			/* the NetifTunnel: remembered while open */
	atomic_int references;		/* the JS handle, and each message in flight */
	atomic_int open;		/* 0 once closed: no more callbacks */
	atomic_int posted;		/* a message is on its way to the machine */
	atomic_uint head;		/* the next slot to deliver (the machine's) */
	atomic_uint tail;		/* the next slot to fill (the tcpip thread's) */
	atomic_uint counters[COUNTER_COUNT];
	uint16_t mtu;
	uint16_t depth;
	uint16_t* lengths;		/* per slot */
	uint8_t* slots;			/* depth slots of mtu bytes */
	int delivering;			/* the slot being delivered, -1 outside the callback */
	ip4_addr_t address;
	ip4_addr_t netmask;
	const uint8_t* routes;		/* 5 bytes each (network, prefix length): open() only */
	int routeCount;
} NetifTunnel;

/*
 * The tunnel of a netif, which is its first member. Not netif->state: ESP-IDF's esp_netif
 * watches every lwIP netif (netif_add_ext_callback in esp_netif_lwip.c) and, on a link or
 * status change, takes a non-NULL netif->state for its own esp_netif_t (lwip_get_esp_netif,
 * unless bridge or PPP support moves that to client data, which netif_add leaves NULL). With
 * NULL it leaves our netif alone.
 */
static NetifTunnel* tunnelOf(struct netif* netif)
{
	return (NetifTunnel*)((char*)netif - offsetof(NetifTunnel, netif));
}

static void count(NetifTunnel* t, int counter)
{
	atomic_fetch_add_explicit(&t->counters[counter], 1, memory_order_relaxed);
}

static void release(NetifTunnel* t)
{
	if (atomic_fetch_sub(&t->references, 1) == 1) {
		free(t->slots);
		free(t->lengths);
		free(t);
	}
}

/* ---------- routes (tcpip thread) ---------- */

static uint32_t maskOf(int prefix)
{
	return prefix ? lwip_htonl(0xFFFFFFFFu << (32 - prefix)) : 0;
}

struct netif* netif_tunnel_route(const ip4_addr_t* src, const ip4_addr_t* dest)
{
	struct netif* netif;
	TunnelRoute* best = NULL;
	int i;
	/* a destination on a connected subnet goes there, as lwIP's ip4_route() decides before it
	   asks the hook with src NULL: the same answer whichever way lwIP asks (ip4_route_src()
	   asks first); lwIP finds that netif itself when we answer NULL */
	NETIF_FOREACH(netif) {
		if (netif_is_up(netif) && netif_is_link_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif))
				&& ip4_addr_netcmp(dest, netif_ip4_addr(netif), netif_ip4_netmask(netif)))
			return chipNextRouteHook(src, dest);
	}
	for (i = 0; i < gRouteCount; i++) {
		TunnelRoute* r = &gRoutes[i];
		if ((ip4_addr_get_u32(dest) & r->mask) == r->network && netif_is_up(r->netif) && (!best || r->prefix > best->prefix))
			best = r;
	}
	return best ? best->netif : chipNextRouteHook(src, dest);
}

static void removeRoutes(struct netif* netif)
{
	int i = 0;
	while (i < gRouteCount) {
		if (gRoutes[i].netif == netif)
			gRoutes[i] = gRoutes[--gRouteCount];
		else
			i++;
	}
}

/* ---------- out: lwIP -> JS ---------- */

static void tunnelDeliver(void* the, void* refcon, uint8_t* message, uint16_t messageLength);

/* one message to the machine unless one is already on its way (tunnelDeliver clears `posted`
   before it looks at the ring, so a packet queued after that is announced again) */
static void announce(NetifTunnel* t)
{
	if (atomic_exchange(&t->posted, 1))
		return;
	atomic_fetch_add(&t->references, 1);
	if (modMessagePostToMachine(t->the, NULL, 0, tunnelDeliver, t) != 0) {
		/* the machine's queue refused it: the packets wait for the next one */
		atomic_store(&t->posted, 0);
		atomic_fetch_sub(&t->references, 1); /* the handle's reference remains: never the last */
	}
}

/* netif->output for IPv4: on the tcpip thread; never waits for JS */
static err_t tunnelOutput(struct netif* netif, struct pbuf* p, const ip4_addr_t* next)
{
	NetifTunnel* t = tunnelOf(netif);
	unsigned tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
	unsigned head = atomic_load_explicit(&t->head, memory_order_acquire);
	unsigned slot;
	LWIP_UNUSED_ARG(next); /* the next hop: one peer, the gateway, behind this interface */
	if (p->tot_len > t->mtu) {
		count(t, COUNTER_OUTBOUND_TOO_LONG);
		return ERR_BUF;
	}
	if (tail - head >= t->depth) {
		count(t, COUNTER_OUTBOUND_QUEUE_FULL);
		return ERR_MEM;
	}
	slot = tail % t->depth;
	pbuf_copy_partial(p, t->slots + (size_t)slot * t->mtu, p->tot_len, 0);
	t->lengths[slot] = p->tot_len;
	atomic_store_explicit(&t->tail, tail + 1, memory_order_release);
	announce(t);
	return ERR_OK;
}

/* callback(2, length) on the target; its own function, so that the setjmp of xsBeginHost
   leaves the caller's locals alone */
static void callTarget(xsMachine* the, NetifTunnel* t, int length)
{
	xsBeginHost(the);
	{
		xsCall2_noResult(t->target, xsID("callback"), xsInteger(2), xsInteger(length));
	}
	xsEndHost(the);
}

/* the message handler, on the machine's thread */
static void tunnelDeliver(void* machine, void* refcon, uint8_t* message, uint16_t messageLength)
{
	NetifTunnel* t = refcon;
	int batch;
	LWIP_UNUSED_ARG(message);
	LWIP_UNUSED_ARG(messageLength);
	atomic_store(&t->posted, 0);
	/* at most one ring's worth per message, so that other messages get their turn */
	for (batch = 0; batch < t->depth && atomic_load(&t->open); batch++) {
		unsigned head = atomic_load_explicit(&t->head, memory_order_relaxed);
		unsigned tail = atomic_load_explicit(&t->tail, memory_order_acquire);
		if (head == tail)
			break;
		t->delivering = (int)(head % t->depth);
		count(t, COUNTER_OUTBOUND);
		callTarget(machine, t, t->lengths[t->delivering]);
		/* reached after an exception too, when the platform carries on */
		t->delivering = -1;
		if (!atomic_load(&t->open))
			break; /* closed by the callback: tunnelClose emptied the ring */
		atomic_store_explicit(&t->head, head + 1, memory_order_release);
	}
	if (atomic_load(&t->open) && atomic_load(&t->head) != atomic_load(&t->tail))
		announce(t);
	release(t);
}

/* ---------- in: JS -> lwIP ---------- */

/* The counter that refuses an inner packet, or -1 to accept it: an IPv4 header (RFC 791 §3.1)
   that fits, a total length within what was given (lwIP trims what lies beyond it) and the
   packet no longer than the MTU. lwIP checks the rest (checksum, options) and drops silently. */
static int refusal(const uint8_t* packet, size_t length, size_t mtu)
{
	size_t headerLength, totalLength;
	if (length > mtu)
		return COUNTER_INBOUND_TOO_LONG;
	if (length < 20 || (packet[0] >> 4) != 4)
		return COUNTER_INBOUND_MALFORMED;
	headerLength = (size_t)(packet[0] & 0x0F) * 4;
	totalLength = ((size_t)packet[2] << 8) | packet[3];
	if (headerLength < 20 || headerLength > totalLength || totalLength > length)
		return COUNTER_INBOUND_MALFORMED;
	return -1;
}

/* ---------- the netif (tcpip thread) ---------- */

static err_t tunnelInit(struct netif* netif)
{
	NetifTunnel* t = tunnelOf(netif);
	netif->name[0] = 't';
	netif->name[1] = 'u';
	netif->output = tunnelOutput;
	netif->mtu = t->mtu;
	netif->flags = 0; /* no broadcast, no ARP: IP packets only, as on a TUN device */
	return ERR_OK;
}

typedef struct {
	NetifTunnel* tunnel;
	err_t result;
} TunnelCall;

static void addOnTcpip(void* data)
{
	TunnelCall* call = data;
	NetifTunnel* t = call->tunnel;
	int i;
	if (gRouteCount + t->routeCount > MAX_ROUTES) {
		call->result = ERR_MEM;
		return;
	}
	if (!netif_add(&t->netif, &t->address, &t->netmask, IP4_ADDR_ANY4, NULL, tunnelInit, tcpip_input)) {
		call->result = ERR_IF;
		return;
	}
	for (i = 0; i < t->routeCount; i++) {
		const uint8_t* r = t->routes + 5 * i;
		TunnelRoute* route = &gRoutes[gRouteCount++];
		route->prefix = r[4];
		route->mask = maskOf(r[4]);
		memcpy(&route->network, r, 4);
		route->network &= route->mask;
		route->netif = &t->netif;
	}
	netif_set_link_up(&t->netif);
	netif_set_up(&t->netif);
	call->result = ERR_OK;
}

static void removeOnTcpip(void* data)
{
	TunnelCall* call = data;
	removeRoutes(&call->tunnel->netif);
	netif_set_down(&call->tunnel->netif);
	netif_remove(&call->tunnel->netif);
	call->result = ERR_OK;
}

/* Takes the netif out of lwIP and stops the callbacks; the queue is dropped (counted neither
   way: those packets were accepted from lwIP, and the tunnel is gone). */
static void tunnelClose(NetifTunnel* t)
{
	TunnelCall call = { t, ERR_OK };
	if (!atomic_exchange(&t->open, 0))
		return;
	tcpip_callback_wait(removeOnTcpip, &call);
	atomic_store(&t->head, atomic_load(&t->tail));
	chipMessagesClose(t->the);
}

void xs_netif_tunnel_destructor(void* data)
{
	NetifTunnel* t = data;
	if (t) {
		tunnelClose(t);
		release(t);
	}
}

static NetifTunnel* getTunnel(xsMachine* the, xsSlot* slot)
{
	NetifTunnel* t = xsmcGetHostDataValidate(*slot, (void*)xs_netif_tunnel_destructor);
	if (!t || !atomic_load(&t->open))
		xsUnknownError("tunnel closed");
	return t;
}

/* bytes [offset, offset+length) of a buffer argument, checked to lie inside it */
static uint8_t* bufferRange(xsMachine* the, xsSlot* slot, xsIntegerValue offset, xsIntegerValue length, int writable)
{
	void* data;
	xsUnsignedValue size;
	if (writable)
		xsmcGetBufferWritable(*slot, &data, &size);
	else
		xsmcGetBufferReadable(*slot, &data, &size);
	if (offset < 0 || length < 0 || (xsUnsignedValue)offset > size || (xsUnsignedValue)length > size - (xsUnsignedValue)offset)
		xsRangeError("no room for %d bytes at %d in a %u-byte buffer", (int)length, (int)offset, (unsigned)size);
	return (uint8_t*)data + offset;
}

/* open(target, address, prefixLength, mtu, depth, routes) -> handle
     address: 4 bytes; routes: 5 bytes each, network then prefix length (tunnel.ts checks them) */
void xs_netif_tunnel_open(xsMachine* the)
{
	NetifTunnel* t;
	TunnelCall call;
	uint8_t* address;
	void* routes;
	xsUnsignedValue routesSize;
	int prefix = xsmcToInteger(xsArg(2));
	int mtu = xsmcToInteger(xsArg(3));
	int depth = xsmcToInteger(xsArg(4));
	int i;
	address = bufferRange(the, &xsArg(1), 0, 4, 0);
	if (prefix < 0 || prefix > 32)
		xsRangeError("prefix length %d: not 0 to 32", prefix);
	if (mtu < MIN_MTU || mtu > MAX_MTU)
		xsRangeError("MTU %d: not %d to %d", mtu, MIN_MTU, MAX_MTU);
	if (depth < 1 || depth > MAX_DEPTH)
		xsRangeError("queue depth %d: not 1 to %d", depth, MAX_DEPTH);
	xsmcGetBufferReadable(xsArg(5), &routes, &routesSize);
	if (routesSize % 5 || routesSize / 5 > MAX_ROUTES)
		xsRangeError("routes: %u bytes, not 5 per route up to %d routes", (unsigned)routesSize, MAX_ROUTES);
	for (i = 0; i < (int)(routesSize / 5); i++)
		if (((uint8_t*)routes)[5 * i + 4] > 32)
			xsRangeError("route %d: prefix length over 32", i);
	if (chipNetworkStart() != 0)
		xsUnknownError("lwIP did not start");
	t = calloc(1, sizeof(NetifTunnel));
	if (t) {
		t->slots = malloc((size_t)depth * mtu);
		t->lengths = calloc(depth, sizeof(uint16_t));
	}
	if (!t || !t->slots || !t->lengths) {
		if (t) {
			free(t->slots);
			free(t->lengths);
		}
		free(t);
		xsUnknownError("out of memory");
	}
	t->the = the;
	t->mtu = (uint16_t)mtu;
	t->depth = (uint16_t)depth;
	t->delivering = -1;
	atomic_init(&t->references, 1);
	atomic_init(&t->open, 1);
	memcpy(&t->address, address, 4);
	ip4_addr_set_u32(&t->netmask, maskOf(prefix));
	t->routes = routes;
	t->routeCount = (int)(routesSize / 5);
	call.tunnel = t;
	call.result = ERR_OK;
	chipMessagesOpen(the);
	if (tcpip_callback_wait(addOnTcpip, &call) != ERR_OK || call.result != ERR_OK) {
		chipMessagesClose(the);
		release(t);
		if (call.result == ERR_MEM)
			xsRangeError("more than %d routes in all tunnels", MAX_ROUTES);
		xsUnknownError("lwIP refused the tunnel interface");
	}
	t->routes = NULL;
	t->target = xsArg(0);
	xsRemember(t->target);
	xsResult = xsNewHostObject(xs_netif_tunnel_destructor);
	xsmcSetHostData(xsResult, t);
}

/* read(handle, buffer, offset) -> length: the packet being delivered, copied at offset; 0
   outside the callback */
void xs_netif_tunnel_read(xsMachine* the)
{
	NetifTunnel* t = getTunnel(the, &xsArg(0));
	int length;
	if (t->delivering < 0) {
		xsResult = xsInteger(0);
		return;
	}
	length = t->lengths[t->delivering];
	memcpy(bufferRange(the, &xsArg(1), xsmcToInteger(xsArg(2)), length, 1), t->slots + (size_t)t->delivering * t->mtu, length);
	xsResult = xsInteger(length);
}

/* write(handle, buffer, offset, length) -> true when lwIP took the packet; false when it was
   refused (counted by reason): a bad packet from the gateway must not end the callback */
void xs_netif_tunnel_write(xsMachine* the)
{
	NetifTunnel* t = getTunnel(the, &xsArg(0));
	xsIntegerValue length = xsmcToInteger(xsArg(3));
	uint8_t* packet = bufferRange(the, &xsArg(1), xsmcToInteger(xsArg(2)), length, 0);
	int refused = refusal(packet, (size_t)length, t->mtu);
	struct pbuf* p;
	if (refused >= 0) {
		count(t, refused);
		xsResult = xsFalse;
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)length, PBUF_RAM);
	if (!p) {
		count(t, COUNTER_INBOUND_NO_BUFFER);
		xsResult = xsFalse;
		return;
	}
	memcpy(p->payload, packet, length);
	if (t->netif.input(p, &t->netif) != ERR_OK) {
		pbuf_free(p);
		count(t, COUNTER_INBOUND_REFUSED);
		xsResult = xsFalse;
		return;
	}
	count(t, COUNTER_INBOUND);
	xsResult = xsTrue;
}

/* counters(handle, out): out holds COUNTER_COUNT native-endian uint32s (a Uint32Array's bytes),
   in the order of the enum */
void xs_netif_tunnel_counters(xsMachine* the)
{
	NetifTunnel* t = xsmcGetHostDataValidate(xsArg(0), (void*)xs_netif_tunnel_destructor);
	uint32_t* out = (uint32_t*)bufferRange(the, &xsArg(1), 0, COUNTER_COUNT * sizeof(uint32_t), 1);
	int i;
	for (i = 0; i < COUNTER_COUNT; i++)
		out[i] = t ? atomic_load_explicit(&t->counters[i], memory_order_relaxed) : 0;
}

void xs_netif_tunnel_close(xsMachine* the)
{
	NetifTunnel* t = xsmcGetHostDataValidate(xsArg(0), (void*)xs_netif_tunnel_destructor);
	if (t && atomic_load(&t->open)) {
		tunnelClose(t);
		xsForget(t->target);
	}
}
