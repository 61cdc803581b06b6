/*
 * Moddable-compatible `socket` module for the desktop host: UDP and RAW (IPv4) sockets with
 * the device's semantics (modules/network/socket/lwip/modSocket.c in the Moddable SDK):
 *   new Socket({kind: "UDP", port}) / ({kind: "RAW", protocol: 50})
 *   socket.callback(2, byteCount, remoteAddress, remotePort) for each datagram;
 *   socket.read(ArrayBuffer) inside the callback returns the datagram (RAW: from its IPv4
 *   header on, as lwIP delivers it); socket.write(ip, port, data) / write(ip, data) for RAW
 *   (the kernel adds the IP header, as lwIP does); socket.close().
 * Datagrams arrive through the host's poll() loop (loop.c). RAW sockets need CAP_NET_RAW.
 * The JS side is hosts/lin/modules/socket.js.
 */
#include "xs.h"
#include "xslin_host.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/udp.h>
#include <stdio.h>
#include <unistd.h>

#define KIND_UDP 1
#define KIND_RAW 2
#define MAX_DATAGRAM 65536
/* Datagrams taken per poll() wake-up before other watchers and timers get a turn. */
#define MAX_BATCH 64
/* Receive buffer asked of the kernel. Linux's default (~208 KB, about 90 full-size datagrams
   counting its per-packet overhead) overflows when TCP through the tunnel sends a burst while
   the XS thread is busy sealing the other direction: iperf3 measured one retransmission per
   UdpRcvbufErrors drop. The device has its own bound (Moddable's socket read queue). */
#define RECEIVE_BUFFER (4 * 1024 * 1024)

/*
 * Sending in batches (UDP only): datagrams of one size to one destination, written during one
 * round of the event loop, leave in one sendmsg() with UDP_SEGMENT (Linux's UDP GSO), which
 * the kernel cuts into the same datagrams: ESP packets of full-size TCP segments all have one
 * size. The batch goes out before the loop waits again (xslin_at_round_end), so nothing is
 * held longer than the callbacks of one round.
 */
#define BATCH_BYTES 65000
#define BATCH_COUNT 64

typedef struct {
	int fd;
	int kind;
	uint8_t* batch;		/* datagrams waiting, back to back */
	int batchLength;
	int batchCount;
	int segment;		/* the size of each (the last may be shorter: then the batch is closed) */
	struct sockaddr_in batchTo;
	unsigned failed;	/* batched datagrams the kernel refused (reported on stderr) */
	xsSlot target;		/* the JS Socket object whose callback receives datagrams (remembered) */
	uint8_t* data;		/* the datagram being delivered */
	int length;
	int position;
	xsMachine* the;
} LinSocket;

static void flushBatch(void* data);

static void socketClose(LinSocket* s)
{
	if (s->fd >= 0) {
		flushBatch(s);
		xslin_cancel_round_end(s);
		xslin_unwatch(s->the, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	if (s->the) {
		xsMachine* the = s->the;
		xsForget(s->target);
		s->the = NULL;
	}
}

void xs_lin_socket_destructor(void* data)
{
	LinSocket* s = data;
	if (s) {
		if (s->fd >= 0)
			close(s->fd);
		free(s->data);
		free(s->batch);
		free(s);
	}
}

static LinSocket* getSocket(xsMachine* the, xsSlot slot)
{
	LinSocket* s = xsGetHostDataValidate(slot, (void*)xs_lin_socket_destructor);
	if (!s)
		xsTypeError("not a socket");
	return s;
}

static void onReadable(xsMachine* the, void* data, short revents)
{
	LinSocket* s = data;
	int batch;
	for (batch = 0; batch < MAX_BATCH && s->fd >= 0; batch++) {
		struct sockaddr_in from;
		socklen_t fromLength = sizeof(from);
		char address[INET_ADDRSTRLEN];
		ssize_t n = recvfrom(s->fd, s->data, MAX_DATAGRAM, MSG_DONTWAIT, (struct sockaddr*)&from, &fromLength);
		if (n < 0)
			return; /* EAGAIN (drained) or a transient error: the next poll() tells */
		s->length = (int)n;
		s->position = 0;
		inet_ntop(AF_INET, &from.sin_addr, address, sizeof(address));
		xslin_deliver(the, &s->target, (int)n, address, s->kind == KIND_UDP ? ntohs(from.sin_port) : 0);
		s->length = 0;
		s->position = 0;
	}
}

/* open(kind, port, address, protocol, target) -> socket handle */
void xs_lin_socket_open(xsMachine* the)
{
	char* kindName = xsToString(xsArg(0));
	int kind = !strcmp(kindName, "UDP") ? KIND_UDP : !strcmp(kindName, "RAW") ? KIND_RAW : 0;
	int port = xsToInteger(xsArg(1));
	int protocol = xsToInteger(xsArg(3));
	struct sockaddr_in local;
	LinSocket* s;
	int fd;
	if (!kind)
		xsRangeError("socket kind %s is not supported here (UDP and RAW are)", kindName);
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_port = htons((uint16_t)port);
	local.sin_addr.s_addr = htonl(INADDR_ANY);
	if (xsTypeOf(xsArg(2)) == xsStringType && inet_pton(AF_INET, xsToString(xsArg(2)), &local.sin_addr) != 1)
		xsRangeError("address %s is not an IPv4 address", xsToString(xsArg(2)));
	fd = kind == KIND_UDP ? socket(AF_INET, SOCK_DGRAM, 0) : socket(AF_INET, SOCK_RAW, protocol);
	if (fd < 0)
		xsUnknownError("socket(%s) failed: %s%s", kind == KIND_UDP ? "UDP" : "RAW", strerror(errno),
			errno == EPERM ? " (RAW sockets need CAP_NET_RAW)" : "");
	{
		/* SO_RCVBUFFORCE passes net.core.rmem_max when we are root; otherwise take what
		   SO_RCVBUF allows */
		int size = RECEIVE_BUFFER;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (kind == KIND_UDP) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr*)&local, sizeof(local)) < 0) {
			int e = errno;
			close(fd);
			xsUnknownError("bind to port %d failed: %s", port, strerror(e));
		}
	}
	s = calloc(1, sizeof(LinSocket));
	if (s) {
		s->data = malloc(MAX_DATAGRAM);
		s->batch = kind == KIND_UDP ? malloc(BATCH_BYTES) : NULL;
	}
	if (!s || !s->data || (kind == KIND_UDP && !s->batch)) {
		close(fd);
		if (s) {
			free(s->data);
			free(s->batch);
		}
		free(s);
		xsUnknownError("out of memory");
	}
	s->fd = fd;
	s->kind = kind;
	s->the = the;
	s->target = xsArg(4);
	xsRemember(s->target);
	xsResult = xsNewHostObject(xs_lin_socket_destructor);
	xsSetHostData(xsResult, s);
	if (xslin_watch(the, fd, POLLIN, onReadable, s) < 0 || (kind == KIND_UDP && xslin_at_round_end(flushBatch, s) < 0)) {
		socketClose(s);
		xsUnknownError("too many sockets");
	}
}

void xs_lin_socket_close(xsMachine* the)
{
	socketClose(getSocket(the, xsArg(0)));
}

/* read(handle, asString): ArrayBuffer (or String) of the rest of the datagram being delivered */
void xs_lin_socket_read(xsMachine* the)
{
	LinSocket* s = getSocket(the, xsArg(0));
	int available = s->length - s->position;
	if (available <= 0)
		return;
	if (xsTest(xsArg(1))) {
		char* copy = malloc(available + 1);
		if (!copy)
			xsUnknownError("out of memory");
		memcpy(copy, s->data + s->position, available);
		copy[available] = 0;
		xsResult = xsString(copy);
		free(copy);
	}
	else {
		xsResult = xsArrayBuffer(s->data + s->position, available);
	}
	s->position = s->length;
}

/* readInto(handle, buffer, offset) -> bytes: the rest of the datagram being delivered, copied
   into buffer at offset without allocating (an extension: Moddable's read(ArrayBuffer) makes a
   new buffer per datagram). RangeError when it does not fit: check the callback's byte count. */
void xs_lin_socket_read_into(xsMachine* the)
{
	LinSocket* s = getSocket(the, xsArg(0));
	xsSlot buffer = xsArg(1);
	int available = s->length > s->position ? s->length - s->position : 0;
	uint8_t* into = xslin_buffer_range(the, &buffer, xsToInteger(xsArg(2)), available, 1, "datagram");
	memcpy(into, s->data + s->position, available);
	s->position = s->length;
	xsResult = xsInteger(available);
}

/* Sends what waits in the batch: one datagram plainly, several with UDP_SEGMENT. */
static void flushBatch(void* data)
{
	LinSocket* s = data;
	int count = s->batchCount;
	if (count == 0 || s->fd < 0)
		return;
	s->batchCount = 0;
	if (count > 1) {
		char control[CMSG_SPACE(sizeof(uint16_t))];
		struct iovec part = { s->batch, (size_t)s->batchLength };
		struct msghdr message;
		struct cmsghdr* c;
		memset(&message, 0, sizeof(message));
		memset(control, 0, sizeof(control));
		message.msg_name = &s->batchTo;
		message.msg_namelen = sizeof(s->batchTo);
		message.msg_iov = &part;
		message.msg_iovlen = 1;
		message.msg_control = control;
		message.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&message);
		c->cmsg_level = IPPROTO_UDP; /* SOL_UDP */
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t*)CMSG_DATA(c) = (uint16_t)s->segment;
		if (sendmsg(s->fd, &message, 0) >= 0) {
			s->batchLength = 0;
			return;
		}
		/* no UDP GSO here (or refused): one by one */
	}
	{
		int offset;
		for (offset = 0; offset < s->batchLength; offset += s->segment) {
			int size = s->batchLength - offset < s->segment ? s->batchLength - offset : s->segment;
			if (sendto(s->fd, s->batch + offset, size, 0, (struct sockaddr*)&s->batchTo, sizeof(s->batchTo)) < 0 && s->failed++ % 1000 == 0)
				fprintf(stderr, "xs-ipsec-lin: send failed: %s (%u datagrams so far)\n", strerror(errno), s->failed);
		}
	}
	s->batchLength = 0;
}

static void sendDatagram(xsMachine* the, LinSocket* s, const char* ip, int port, void* data, size_t size)
{
	struct sockaddr_in to;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &to.sin_addr) != 1)
		xsRangeError("address %s is not an IPv4 address", ip);
	if (s->fd < 0)
		xsUnknownError("socket is closed");
	if (s->kind == KIND_UDP && size > 0 && size <= 1500) {
		/* joins the batch when it has the batch's destination and size (datagrams beyond an
		   Ethernet MTU go alone: a UDP_SEGMENT segment must fit the path) */
		if (s->batchCount && (s->batchTo.sin_addr.s_addr != to.sin_addr.s_addr || s->batchTo.sin_port != to.sin_port
				|| (int)size > s->segment || s->batchLength % s->segment != 0
				|| s->batchLength + (int)size > BATCH_BYTES || s->batchCount >= BATCH_COUNT))
			flushBatch(s);
		if (s->batchCount == 0) {
			s->batchTo = to;
			s->segment = (int)size;
		}
		memcpy(s->batch + s->batchLength, data, size);
		s->batchLength += (int)size;
		s->batchCount++;
		return;
	}
	flushBatch(s); /* what waits goes first */
	if (sendto(s->fd, data, size, 0, (struct sockaddr*)&to, sizeof(to)) < 0)
		xsUnknownError("send failed: %s", strerror(errno));
}

/* write(handle, ip, port, data): a datagram to ip:port (UDP) or ip (RAW) */
void xs_lin_socket_write(xsMachine* the)
{
	LinSocket* s = getSocket(the, xsArg(0));
	xsSlot buffer = xsArg(3);
	xsIntegerValue size = xsToInteger(xsGet(buffer, xsID("byteLength")));
	uint8_t* data = xslin_buffer_range(the, &buffer, 0, size, 0, "datagram");
	int port = xsToInteger(xsArg(2));
	sendDatagram(the, s, xsToString(xsArg(1)), port, data, size);
}

/* writeFrom(handle, ip, port, buffer, offset, length): buffer[offset, offset+length) as one
   datagram, without the caller making a subarray per datagram (an extension, as readInto) */
void xs_lin_socket_write_from(xsMachine* the)
{
	LinSocket* s = getSocket(the, xsArg(0));
	xsSlot buffer = xsArg(3);
	xsIntegerValue length = xsToInteger(xsArg(5));
	uint8_t* data = xslin_buffer_range(the, &buffer, xsToInteger(xsArg(4)), length, 0, "datagram");
	int port = xsToInteger(xsArg(2));
	sendDatagram(the, s, xsToString(xsArg(1)), port, data, length);
}
