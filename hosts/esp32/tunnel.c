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
 * Routes: lwIP 2.1's ip4_route() picks, in this order, the first netif whose subnet holds the
 * destination (or, on a netif without broadcast, whose gateway it is), then whatever
 * LWIP_HOOK_IP4_ROUTE_SRC answers (asked with src NULL), then the default netif (Wi-Fi). So a
 * route of ours beyond the tunnel's own subnet reaches the tunnel one of two ways, chosen when
 * the tunnel opens (addOnTcpip) and shown to JS as `routing`:
 *   hook     our route hook, netif_tunnel_route(), is lwIP's LWIP_HOOK_IP4_ROUTE_SRC: ESP-IDF's
 *            lwIP with lwip-hooks.h as its ESP_IDF_LWIP_HOOK_FILENAME (see there). It answers
 *            each route's destinations with the longest prefix over all tunnels, never a
 *            peer's outer address; the netif keeps its own prefix as its netmask.
 *   netmask  no hook: ESP-IDF's lwipopts.h defines LWIP_HOOK_IP4_ROUTE_SRC as its own
 *            ip4_route_src_hook (source-address routing: the netif whose address is the
 *            source, none for an unbound socket, and Moddable's sockets bind to IP_ADDR_ANY),
 *            and the Moddable SDK's build has no way to compile the lwip component with ours;
 *            Debian's lwIP (the desktop test's) has no hook either. The netif then gets the
 *            longest prefix that covers its address and all its routes as its netmask, so that
 *            ip4_route()'s first loop (the subnet match) sends those destinations here. The
 *            netif has no ARP and no broadcast, so a wider "connected" subnet costs nothing
 *            but the addresses it covers beyond the tunnel's prefix and routes: tunnelOutput
 *            drops those (outboundNoRoute) rather than hand JS what no policy carries. A
 *            covering prefix that would take another netif's subnet, the default gateway or an
 *            IPsec peer's outer address (IKE and ESP would loop into the tunnel), or all of
 *            IPv4 (0.0.0.0/0), is refused: those routes need the hook.
 * The mode is found by asking lwIP: ip4_route() for an address on no connected subnet asks
 * the hook only where it is compiled in (routeHookActive; not a route's own address, see
 * there). Routes change only when a tunnel opens or closes, and each opening asks again and
 * checks its netmask against the netifs and peers of that moment; a Wi-Fi subnet that DHCP
 * changes later is not checked again. With the hook too, the tunnel's own prefix may hold no
 * peer, default gateway or other netif's subnet. The desktop test calls the hook directly, and
 * can have the question answered as ESP-IDF's lwIP with our hook would (chip.h,
 * chipEmulateRouteHook): hosts/esp32/desktop/lwip-test.c.
 */
#include "xsmc.h"
#include "xs.h"
#include "chip.h"
#include "tunnel.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* all tunnels' routes together: a gateway has a handful of tunnels with a few prefixes each */
#define MAX_ROUTES 16
/* all tunnels' peers (outer addresses) together: one or two central gateways each */
#define MAX_PEERS 16
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

typedef struct {
	uint32_t address;	/* network byte order */
	struct netif* netif;
} TunnelPeer;

/* read and written only on the tcpip thread (or with its core lock): netif_tunnel_route runs
   there, and tunnels add and remove theirs there (addOnTcpip, removeOnTcpip) */
static TunnelRoute gRoutes[MAX_ROUTES];
static int gRouteCount = 0;
static TunnelPeer gPeers[MAX_PEERS];
static int gPeerCount = 0;
/* how often lwIP asked the hook: routeHookActive() watches it move */
static unsigned gHookAsked = 0;

enum {
	COUNTER_OUTBOUND,		/* packets given to the callback */
	COUNTER_OUTBOUND_QUEUE_FULL,	/* dropped: the ring was full */
	COUNTER_OUTBOUND_TOO_LONG,	/* dropped: longer than the MTU (a slot) */
	COUNTER_OUTBOUND_NO_ROUTE,	/* dropped: in the netmask but in neither the prefix nor a route */
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
	uint8_t prefix;			/* the tunnel's own, as configured */
	uint8_t hooked;			/* routing: 1 hook, 0 netmask (addOnTcpip) */
	ip4_addr_t netmask;		/* the netif's: the own prefix's, or the covering one */
	TunnelRoute routes[MAX_ROUTES];	/* netif unset: these are the tunnel's own copy */
	int routeCount;
	uint32_t peers[MAX_PEERS];	/* network byte order */
	int peerCount;
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

/* the length of a netmask that lwIP holds (contiguous ones, network byte order) */
static int prefixOf(const ip4_addr_t* mask)
{
	uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
	int n = 0;
	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	return n;
}

/* whether a/aPrefix and b/bPrefix share an address: one holds the other */
static int overlap(uint32_t a, int aPrefix, uint32_t b, int bPrefix)
{
	uint32_t mask = maskOf(aPrefix < bPrefix ? aPrefix : bPrefix);
	return (a & mask) == (b & mask);
}

/* the netif whose subnet holds dest, as ip4_route()'s first loop finds it, or NULL */
static struct netif* connectedNetif(const ip4_addr_t* dest)
{
	struct netif* netif;
	NETIF_FOREACH(netif) {
		if (netif_is_up(netif) && netif_is_link_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif))
				&& ip4_addr_netcmp(dest, netif_ip4_addr(netif), netif_ip4_netmask(netif)))
			return netif;
	}
	return NULL;
}

static int isPeer(const ip4_addr_t* dest)
{
	int i;
	for (i = 0; i < gPeerCount; i++)
		if (gPeers[i].address == ip4_addr_get_u32(dest))
			return 1;
	return 0;
}

struct netif* netif_tunnel_route(const ip4_addr_t* src, const ip4_addr_t* dest)
{
	TunnelRoute* best = NULL;
	int i;
	gHookAsked++;
	/* a destination on a connected subnet goes there, as lwIP's ip4_route() decides before it
	   asks the hook with src NULL: the same answer whichever way lwIP asks (ip4_route_src()
	   asks first); lwIP finds that netif itself when we answer NULL. A peer's outer address
	   never enters a tunnel: IKE and ESP to it would loop (a route of 0.0.0.0/0 holds it). */
	if (connectedNetif(dest) || isPeer(dest))
		return chipNextRouteHook(src, dest);
	for (i = 0; i < gRouteCount; i++) {
		TunnelRoute* r = &gRoutes[i];
		if ((ip4_addr_get_u32(dest) & r->mask) == r->network && netif_is_up(r->netif) && (!best || r->prefix > best->prefix))
			best = r;
	}
	return best ? best->netif : chipNextRouteHook(src, dest);
}

/*
 * Whether lwIP asks our hook: ip4_route() for an address on no connected subnet reaches
 * LWIP_HOOK_IP4_ROUTE_SRC, if it is ours, before the default netif. Not a route's own address:
 * 0.0.0.0 (0.0.0.0/0's) is the unset gateway of every point-to-point netif, which ip4_route()
 * matches in its first loop, and a route may hold our own or another netif's subnet. The
 * documentation addresses (RFC 5737) are on no subnet of a device, but one may be a test's.
 */
static int routeHookActive(void)
{
	static const uint32_t probes[] = { PP_HTONL(0xC0000201UL), PP_HTONL(0xC6336401UL), PP_HTONL(0xCB007101UL) };
	size_t i;
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		ip4_addr_t probe;
		unsigned asked = gHookAsked;
		ip4_addr_set_u32(&probe, probes[i]);
		if (connectedNetif(&probe))
			continue;
		chipIp4Route(&probe);
		return gHookAsked != asked;
	}
	return 0;
}

/* the longest prefix that holds the tunnel's own prefix and every route */
static int coveringPrefix(const NetifTunnel* t)
{
	uint32_t address = lwip_ntohl(ip4_addr_get_u32(&t->address));
	int prefix = t->prefix;
	int i;
	for (i = 0; i < t->routeCount; i++) {
		uint32_t differ = address ^ lwip_ntohl(t->routes[i].network);
		int common = differ ? __builtin_clz(differ) : 32;
		if (t->routes[i].prefix < prefix)
			prefix = t->routes[i].prefix;
		if (common < prefix)
			prefix = common;
	}
	return prefix;
}

/* "a.b.c.d/n", the address as given (host bits too) */
static void describePrefix(char* out, size_t size, uint32_t address, int prefix)
{
	ip4_addr_t a;
	char text[IP4ADDR_STRLEN_MAX];
	ip4_addr_set_u32(&a, address);
	snprintf(out, size, "%s/%d", ip4addr_ntoa_r(&a, text, sizeof(text)), prefix);
}

#define HOOK_NEEDS "the route hook: ESP-IDF's lwip component compiled with ESP_IDF_LWIP_HOOK_FILENAME=\"lwip-hooks.h\" and hosts/esp32 on its include path (hosts/esp32/lwip-hooks.h)"

/*
 * Why the netif cannot have netmask/prefix (network byte order), written into message; 0 when
 * it can. Checked in both modes (with the hook, for the tunnel's own prefix): a peer or the
 * default gateway inside it would send IKE and ESP into the tunnel; another netif's subnet
 * inside or around it would be lost to one of the two, whichever ip4_route() meets first.
 */
static int netmaskConflict(const NetifTunnel* t, int prefix, char* message, size_t size)
{
	uint32_t network = ip4_addr_get_u32(&t->address) & maskOf(prefix);
	char netmask[24], tunnel[24], other[24];
	int widened = prefix < t->prefix; /* only without the hook */
	const char* what = widened ? "the netmask that covers its routes without the route hook," : "its prefix";
	const char* remedy = widened ? "; routes that wide need " HOOK_NEEDS : "";
	struct netif* netif;
	int i;
	describePrefix(netmask, sizeof(netmask), network, prefix);
	describePrefix(tunnel, sizeof(tunnel), ip4_addr_get_u32(&t->address), t->prefix);
	if (prefix == 0) {
		snprintf(message, size, "tunnel %s: routes that span all of IPv4 (0.0.0.0/0) need %s", tunnel, HOOK_NEEDS);
		return 1;
	}
	for (i = 0; i < t->peerCount; i++) {
		if ((t->peers[i] & maskOf(prefix)) == network) {
			ip4_addr_t peer;
			ip4_addr_set_u32(&peer, t->peers[i]);
			snprintf(message, size, "tunnel %s: %s %s holds peer %s, and IKE and ESP to it would loop into the tunnel%s",
				tunnel, what, netmask, ip4addr_ntoa_r(&peer, other, sizeof(other)), remedy);
			return 1;
		}
	}
	NETIF_FOREACH(netif) {
		if (netif != &t->netif && netif_is_up(netif) && !ip4_addr_isany_val(*netif_ip4_addr(netif))
				&& overlap(network, prefix, ip4_addr_get_u32(netif_ip4_addr(netif)), prefixOf(netif_ip4_netmask(netif)))) {
			describePrefix(other, sizeof(other), ip4_addr_get_u32(netif_ip4_addr(netif)), prefixOf(netif_ip4_netmask(netif)));
			snprintf(message, size, "tunnel %s: %s %s overlaps interface %c%c%u (%s)%s",
				tunnel, what, netmask, netif->name[0], netif->name[1], (unsigned)netif->num, other, remedy);
			return 1;
		}
	}
	if (netif_default && netif_default != &t->netif && !ip4_addr_isany_val(*netif_ip4_gw(netif_default))
			&& (ip4_addr_get_u32(netif_ip4_gw(netif_default)) & maskOf(prefix)) == network) {
		snprintf(message, size, "tunnel %s: %s %s holds the default gateway %s%s",
			tunnel, what, netmask, ip4addr_ntoa_r(netif_ip4_gw(netif_default), other, sizeof(other)), remedy);
		return 1;
	}
	return 0;
}

/* whether the tunnel carries dest: its own prefix or one of its routes */
static int carries(const NetifTunnel* t, uint32_t dest)
{
	int i;
	if ((dest & maskOf(t->prefix)) == (ip4_addr_get_u32(&t->address) & maskOf(t->prefix)))
		return 1;
	for (i = 0; i < t->routeCount; i++)
		if ((dest & t->routes[i].mask) == t->routes[i].network)
			return 1;
	return 0;
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
	i = 0;
	while (i < gPeerCount) {
		if (gPeers[i].netif == netif)
			gPeers[i] = gPeers[--gPeerCount];
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
	uint32_t dest;
	LWIP_UNUSED_ARG(next); /* the next hop: one peer, the gateway, behind this interface */
	/* the header's destination (RFC 791 §3.1, at 16): lwIP's own packets and those it forwards */
	if (pbuf_copy_partial(p, &dest, 4, 16) != 4 || !carries(t, dest)) {
		count(t, COUNTER_OUTBOUND_NO_ROUTE);
		return ERR_RTE;
	}
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
	char message[400];	/* why the tunnel was refused */
} TunnelCall;

/* Adds the netif with the netmask its routing needs (see the top), or refuses it with
   call->message: nothing of it stays in lwIP then. */
static void addOnTcpip(void* data)
{
	TunnelCall* call = data;
	NetifTunnel* t = call->tunnel;
	int prefix, i;
	if (gRouteCount + t->routeCount > MAX_ROUTES || gPeerCount + t->peerCount > MAX_PEERS) {
		snprintf(call->message, sizeof(call->message), "more than %d %s in all tunnels",
			gRouteCount + t->routeCount > MAX_ROUTES ? MAX_ROUTES : MAX_PEERS, gRouteCount + t->routeCount > MAX_ROUTES ? "routes" : "peers");
		call->result = ERR_MEM;
		return;
	}
	/* asked again for each tunnel: lwIP's routing is what it is, but cheap to ask */
	t->hooked = (uint8_t)routeHookActive();
	prefix = t->hooked ? t->prefix : coveringPrefix(t);
	if (netmaskConflict(t, prefix, call->message, sizeof(call->message))) {
		call->result = ERR_VAL;
		return;
	}
	ip4_addr_set_u32(&t->netmask, maskOf(prefix));
	if (!netif_add(&t->netif, &t->address, &t->netmask, IP4_ADDR_ANY4, NULL, tunnelInit, tcpip_input)) {
		snprintf(call->message, sizeof(call->message), "lwIP refused the tunnel interface");
		call->result = ERR_IF;
		return;
	}
	for (i = 0; i < t->routeCount; i++) {
		gRoutes[gRouteCount] = t->routes[i];
		gRoutes[gRouteCount++].netif = &t->netif;
	}
	for (i = 0; i < t->peerCount; i++) {
		gPeers[gPeerCount].address = t->peers[i];
		gPeers[gPeerCount++].netif = &t->netif;
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
	TunnelCall call = { t, ERR_OK, "" };
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

/* open(target, address, prefixLength, mtu, depth, routes, peers, routing) -> handle
     address: 4 bytes; routes: 5 bytes each, network then prefix length (tunnel.ts checks them);
     peers: 4 bytes each, the outer addresses the tunnel must never carry; routing: 5 bytes
     filled here, 1 for the hook (0 netmask), then the netif's netmask */
void xs_netif_tunnel_open(xsMachine* the)
{
	NetifTunnel* t;
	TunnelCall call;
	uint8_t* address;
	uint8_t* routing;
	void* routes;
	void* peers;
	xsUnsignedValue routesSize, peersSize;
	int prefix = xsmcToInteger(xsArg(2));
	int mtu = xsmcToInteger(xsArg(3));
	int depth = xsmcToInteger(xsArg(4));
	int i;
	address = bufferRange(the, &xsArg(1), 0, 4, 0);
	routing = bufferRange(the, &xsArg(7), 0, 5, 1);
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
	xsmcGetBufferReadable(xsArg(6), &peers, &peersSize);
	if (peersSize % 4 || peersSize / 4 > MAX_PEERS)
		xsRangeError("peers: %u bytes, not 4 per peer up to %d peers", (unsigned)peersSize, MAX_PEERS);
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
	t->prefix = (uint8_t)prefix;
	t->routeCount = (int)(routesSize / 5);
	for (i = 0; i < t->routeCount; i++) {
		const uint8_t* r = (const uint8_t*)routes + 5 * i;
		t->routes[i].prefix = r[4];
		t->routes[i].mask = maskOf(r[4]);
		memcpy(&t->routes[i].network, r, 4);
		t->routes[i].network &= t->routes[i].mask;
	}
	t->peerCount = (int)(peersSize / 4);
	memcpy(t->peers, peers, peersSize);
	call.tunnel = t;
	call.result = ERR_OK;
	call.message[0] = 0;
	chipMessagesOpen(the);
	if (tcpip_callback_wait(addOnTcpip, &call) != ERR_OK || call.result != ERR_OK) {
		chipMessagesClose(the);
		release(t);
		/* thrown as built: xsRangeError's message is cut at 127 bytes */
		if (call.result == ERR_MEM || call.result == ERR_VAL)
			xsThrow(xsNew1(xsGlobal, xsID("RangeError"), xsString(call.message)));
		xsUnknownError("lwIP refused the tunnel interface");
	}
	routing = bufferRange(the, &xsArg(7), 0, 5, 1); /* again: no buffer moves, but no need to rely on it */
	routing[0] = t->hooked;
	memcpy(routing + 1, &t->netmask, 4);
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
