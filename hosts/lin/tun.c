/*
 * The simulator's tunnel interface: a Linux TUN device (IFF_TUN | IFF_NO_PI: IP packets, each
 * behind a virtio_net_hdr with IFF_VNET_HDR, so that writes can merge TCP segments: tun-offload.c)
 * standing in for the lwIP netif the device uses (hosts/esp32). Inner packets cross it both
 * ways: what the host's stack routes into the interface is read here and sealed; what is
 * opened is written here and delivered to the host's stack.
 *   open(name, target) -> handle; target.callback(2, byteCount) per packet, read inside it
 *   read(handle, buffer, offset) -> bytes copied into buffer at offset (no allocation)
 *   write(handle, buffer, offset, length); close(handle); name(handle)
 * Needs CAP_NET_ADMIN. Addresses, MTU and routes are set with ip(8) by whoever owns the
 * interface (the gateway, a test); the JS side is hosts/lin/modules/tun.js.
 */
#include "xs.h"
#include "xslin_host.h"
#include "tun-offload.h"
#include <linux/virtio_net.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* the largest IP packet (a TSO super-packet can be one), read behind its virtio_net_hdr */
#define MAX_PACKET 65535

typedef struct {
	int fd;
	char name[IFNAMSIZ];
	xsSlot target;
	uint8_t* data;		/* what was read: a virtio_net_hdr, then a packet */
	uint8_t* segment;	/* a segment cut from a TCP super-packet (tun-offload.c) */
	uint8_t* current;	/* the packet being delivered: in data, or segment */
	int length;
	xsMachine* the;
	TunGro* gro;		/* TCP segments waiting to be written as one (tun-offload.c) */
} LinTun;

#define VNET_HEADER ((int)sizeof(struct virtio_net_hdr))

void xs_lin_tun_destructor(void* data)
{
	LinTun* t = data;
	if (t) {
		if (t->fd >= 0)
			close(t->fd);
		free(t->data);
		free(t->segment);
		free(t->gro);
		free(t);
	}
}

static LinTun* getTun(xsMachine* the, xsSlot slot)
{
	LinTun* t = xsGetHostDataValidate(slot, (void*)xs_lin_tun_destructor);
	if (!t || t->fd < 0)
		xsTypeError("not an open tunnel interface");
	return t;
}

/* Packets taken per poll() wake-up before other watchers and timers get a turn. */
#define MAX_BATCH 64

static void deliverPacket(xsMachine* the, LinTun* t, uint8_t* packet, int length)
{
	t->current = packet;
	t->length = length;
	xslin_deliver(the, &t->target, length, NULL, 0);
	t->length = 0;
}

static void onReadable(xsMachine* the, void* data, short revents)
{
	LinTun* t = data;
	int batch;
	for (batch = 0; batch < MAX_BATCH && t->fd >= 0; batch++) {
		struct virtio_net_hdr* header = (struct virtio_net_hdr*)t->data;
		uint8_t* packet = t->data + VNET_HEADER;
		int length;
		ssize_t n = read(t->fd, t->data, VNET_HEADER + MAX_PACKET);
		if (n <= 0)
			return; /* EAGAIN: drained */
		if (n <= VNET_HEADER)
			continue;
		length = (int)n - VNET_HEADER;
		if (header->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
			if (header->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				tun_complete_checksum(packet, length, header->csum_start, header->csum_offset);
			deliverPacket(the, t, packet, length);
		}
		else if ((header->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4) {
			/* a TCP super-packet (TSO): the gateway gets the segments the kernel would have sent */
			int index, size;
			for (index = 0; t->fd >= 0 && (size = tun_segment(packet, length, header->gso_size, index, t->segment)) > 0; index++)
				deliverPacket(the, t, t->segment, size);
		}
		/* no other offload was offered (TUNSETOFFLOAD): nothing else arrives */
	}
}

/* after each round of the event loop: what tun-offload.c holds goes to the kernel */
static void flushMerged(void* data)
{
	LinTun* t = data;
	if (t->fd >= 0 && tun_gro_flush(t->gro, t->fd) < 0)
		fprintf(stderr, "xs-ipsec-lin: write to %s failed: %s\n", t->name, strerror(errno));
}

/* open(name, target) -> handle */
void xs_lin_tun_open(xsMachine* the)
{
	struct ifreq request;
	LinTun* t;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (fd < 0)
		xsUnknownError("cannot open /dev/net/tun: %s", strerror(errno));
	memset(&request, 0, sizeof(request));
	request.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(request.ifr_name, xsToString(xsArg(0)), IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &request) < 0) {
		int e = errno;
		close(fd);
		xsUnknownError("cannot create tunnel interface %s: %s%s", xsToString(xsArg(0)), strerror(e), e == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	}
	/* checksums and TCP segmentation for IPv4 are ours to do (tun-offload.c) */
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
		int e = errno;
		close(fd);
		xsUnknownError("cannot set offloads on %s: %s", xsToString(xsArg(0)), strerror(e));
	}
	t = calloc(1, sizeof(LinTun));
	if (t) {
		t->data = malloc(VNET_HEADER + MAX_PACKET);
		t->segment = malloc(MAX_PACKET);
		t->gro = calloc(1, sizeof(TunGro));
	}
	if (!t || !t->data || !t->segment || !t->gro) {
		if (t) {
			free(t->data);
			free(t->segment);
			free(t->gro);
		}
		close(fd);
		free(t);
		xsUnknownError("out of memory");
	}
	t->fd = fd;
	memcpy(t->name, request.ifr_name, IFNAMSIZ - 1); /* t is zeroed: the name stays terminated */
	t->the = the;
	t->target = xsArg(1);
	xsRemember(t->target);
	xsResult = xsNewHostObject(xs_lin_tun_destructor);
	xsSetHostData(xsResult, t);
	if (xslin_watch(the, fd, POLLIN, onReadable, t) < 0 || xslin_at_round_end(flushMerged, t) < 0)
		xsUnknownError("too many watched files");
}

void xs_lin_tun_name(xsMachine* the)
{
	xsResult = xsString(getTun(the, xsArg(0))->name);
}

/* read(handle, buffer, offset) -> length: the packet being delivered, copied at offset */
void xs_lin_tun_read(xsMachine* the)
{
	LinTun* t = getTun(the, xsArg(0));
	xsSlot buffer = xsArg(1);
	uint8_t* into = xslin_buffer_range(the, &buffer, xsToInteger(xsArg(2)), t->length, 1, "packet");
	memcpy(into, t->current, t->length);
	xsResult = xsInteger(t->length);
}

/* write(handle, buffer, offset, length) -> true, or false when the kernel refused the packet
   (no buffer space, a malformed packet): the caller counts it; nothing is thrown */
void xs_lin_tun_write(xsMachine* the)
{
	LinTun* t = getTun(the, xsArg(0));
	xsSlot buffer = xsArg(1);
	xsIntegerValue length = xsToInteger(xsArg(3));
	uint8_t* data = xslin_buffer_range(the, &buffer, xsToInteger(xsArg(2)), length, 0, "packet");
	xsResult = xsBoolean(tun_gro_write(t->gro, t->fd, data, length) == 0);
}

void xs_lin_tun_close(xsMachine* the)
{
	LinTun* t = xsGetHostDataValidate(xsArg(0), (void*)xs_lin_tun_destructor);
	if (t && t->fd >= 0) {
		xslin_unwatch(the, t->fd);
		xslin_cancel_round_end(t);
		tun_gro_flush(t->gro, t->fd);
		close(t->fd);
		t->fd = -1;
		xsForget(t->target);
	}
}
