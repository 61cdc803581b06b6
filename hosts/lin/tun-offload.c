/*
 * Offloads for the simulator's TUN device (tun.c), both directions, as a NIC does them for
 * Linux. They live in the simulator's TUN glue only: the JS data path sees ordinary packets,
 * and on the device lwIP's netif takes packets one by one.
 *
 * Segmentation (TSO), packets the host's stack sends into the tunnel: with TUN_F_TSO4 the
 * kernel hands over TCP super-packets of up to 64 KB with a virtio_net_hdr (gso_size = MSS)
 * and, with TUN_F_CSUM, packets whose checksum it left to us (NEEDS_CSUM). tun_segment cuts a
 * super-packet into the segments the kernel would have sent, with their IP and TCP headers
 * and checksums complete, and tun_complete_checksum finishes a left checksum: the gateway
 * seals ordinary packets. The sending stack then works per 64 KB, not per segment.
 *
 * Merging (GRO), packets the gateway opens, as Linux's own GRO does for a NIC:
 * consecutive TCP segments of one flow that the gateway delivers in one round of the event
 * loop are written to the kernel as one large packet with a virtio_net_hdr asking it to
 * treat them as segments of MSS bytes (VIRTIO_NET_HDR_GSO_TCPV4). The kernel's stack then
 * handles a batch once instead of per segment, and the receiver sends fewer ACKs, which is
 * fewer packets for both gateways to seal and open.
 *
 * Only what Linux's tcp_gro_receive would merge is merged: IPv4 without options or
 * fragments, the same addresses, ports, TOS, TTL, TCP options, acknowledgement number and
 * header length, flags ACK (PSH allowed), sequence numbers back to back, every segment but
 * the last exactly MSS bytes, 64 KB at most. Each segment's TCP checksum is verified before
 * it is merged (one that fails is written alone, and the kernel drops it), since the merged
 * packet's checksum is left for the kernel to complete (VIRTIO_NET_HDR_F_NEEDS_CSUM).
 */
#include "tun-offload.h"
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define VNET_HDR_LENGTH ((int)sizeof(struct virtio_net_hdr))

static unsigned sum16(const uint8_t* p, int length, unsigned sum)
{
	int i;
	for (i = 0; i + 1 < length; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (length & 1)
		sum += p[length - 1] << 8;
	return sum;
}

static unsigned fold(unsigned sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* the ones' complement sum of the TCP pseudo-header (RFC 793) for a segment of tcpLength bytes */
static unsigned pseudoHeaderSum(const uint8_t* ip, int tcpLength)
{
	return sum16(ip + 12, 8, 6 + tcpLength);
}

/* a plain IPv4 TCP segment we may merge: the TCP header's offset and its length, else 0 */
static int mergeable(const uint8_t* p, int length, int* tcpHeader)
{
	int total, tcp, flags;
	if (length < 40 || p[0] != 0x45 || p[9] != 6)
		return 0;
	total = (p[2] << 8) | p[3];
	if (total != length || ((p[6] & 0x3f) | p[7]) != 0) /* MF or a fragment offset */
		return 0;
	tcp = (p[32] >> 4) * 4;
	if (tcp < 20 || 20 + tcp > length)
		return 0;
	flags = p[33];
	if ((flags & ~0x08) != 0x10) /* ACK, maybe PSH; nothing else */
		return 0;
	if (fold(sum16(p + 20, length - 20, pseudoHeaderSum(p, length - 20))) != 0xffff)
		return 0; /* a bad checksum: let the kernel see and drop it */
	*tcpHeader = tcp;
	return 1;
}

static uint32_t word(const uint8_t* p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int tun_write_plain(int fd, const uint8_t* packet, int length)
{
	struct virtio_net_hdr header;
	struct iovec parts[2];
	memset(&header, 0, sizeof(header));
	parts[0].iov_base = &header;
	parts[0].iov_len = sizeof(header);
	parts[1].iov_base = (void*)packet;
	parts[1].iov_len = length;
	return writev(fd, parts, 2) < 0 ? -1 : 0;
}

int tun_gro_flush(TunGro* g, int fd)
{
	uint8_t* p = g->packet;
	int length = g->length;
	struct virtio_net_hdr header;
	struct iovec parts[2];
	unsigned sum;
	int result;
	if (g->merged == 0)
		return 0;
	g->length = 0;
	if (g->merged == 1) {
		g->merged = 0;
		return tun_write_plain(fd, p, length); /* one segment: as it came */
	}
	/* the IP header of the whole, and the TCP checksum left to the kernel */
	p[2] = length >> 8;
	p[3] = length & 0xff;
	p[10] = p[11] = 0;
	sum = ~fold(sum16(p, 20, 0)) & 0xffff;
	p[10] = sum >> 8;
	p[11] = sum & 0xff;
	if (g->push)
		p[33] |= 0x08;
	sum = fold(pseudoHeaderSum(p, length - 20));
	p[36] = sum >> 8;
	p[37] = sum & 0xff;
	memset(&header, 0, sizeof(header));
	header.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	header.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	header.hdr_len = 20 + g->tcpHeader;
	header.gso_size = g->mss;
	header.csum_start = 20;
	header.csum_offset = 16;
	parts[0].iov_base = &header;
	parts[0].iov_len = sizeof(header);
	parts[1].iov_base = p;
	parts[1].iov_len = length;
	result = writev(fd, parts, 2) < 0 ? -1 : 0;
	g->merged = 0;
	return result;
}

int tun_gro_write(TunGro* g, int fd, const uint8_t* packet, int length)
{
	int tcp;
	if (!mergeable(packet, length, &tcp)) {
		if (tun_gro_flush(g, fd) < 0)
			return -1;
		return tun_write_plain(fd, packet, length);
	}
	if (g->merged) {
		const uint8_t* first = g->packet;
		int payload = length - 20 - tcp;
		int continues = tcp == g->tcpHeader
			&& payload > 0 && payload <= g->mss && !g->short_
			&& g->length + payload <= TUN_GRO_MAX
			&& !memcmp(first + 12, packet + 12, 8) /* addresses */
			&& !memcmp(first + 20, packet + 20, 4) /* ports */
			&& first[1] == packet[1] && first[8] == packet[8] /* TOS, TTL */
			&& word(packet + 24) == g->nextSequence
			&& !memcmp(first + 28, packet + 28, 4) /* acknowledgement number */
			&& !memcmp(first + 40, packet + 40, tcp - 20); /* options (timestamps included) */
		if (continues) {
			memcpy(g->packet + g->length, packet + 20 + tcp, payload);
			g->length += payload;
			g->nextSequence += payload;
			g->merged++;
			g->push |= (packet[33] & 0x08) != 0;
			g->short_ = payload < g->mss || g->push; /* a short segment or a PSH ends the run */
			memcpy(g->packet + 34, packet + 34, 2); /* the latest window */
			return 0;
		}
		if (tun_gro_flush(g, fd) < 0)
			return -1;
	}
	/* the first segment of a new run */
	{
		int payload = length - 20 - tcp;
		if (payload <= 0 || (packet[33] & 0x08)) /* a bare ACK or a PSH: nothing to wait for */
			return tun_write_plain(fd, packet, length);
		memcpy(g->packet, packet, length);
		g->length = length;
		g->merged = 1;
		g->tcpHeader = tcp;
		g->mss = payload;
		g->short_ = 0;
		g->push = 0;
		g->nextSequence = word(packet + 24) + payload;
	}
	return 0;
}

void tun_complete_checksum(uint8_t* packet, int length, int start, int offset)
{
	unsigned sum;
	if (start < 0 || start + offset + 2 > length)
		return; /* not a checksum we can place: the receiver will drop the packet */
	/* the field holds the pseudo-header's sum: add the rest and store the complement */
	sum = ~fold(sum16(packet + start, length - start, 0)) & 0xffff;
	packet[start + offset] = sum >> 8;
	packet[start + offset + 1] = sum & 0xff;
}

int tun_segment(const uint8_t* packet, int length, int mss, int index, uint8_t* segment)
{
	int ip, tcp, headers, start, payload, count, total;
	unsigned sum;
	uint32_t sequence;
	uint16_t id;
	if (length < 40 || (packet[0] >> 4) != 4 || packet[9] != 6 || mss <= 0)
		return -1;
	ip = (packet[0] & 15) * 4;
	if (ip < 20 || ip + 20 > length || ((packet[2] << 8) | packet[3]) != length)
		return -1; /* a header that does not describe what was read: not cut */
	tcp = (packet[ip + 12] >> 4) * 4;
	headers = ip + tcp;
	if (tcp < 20 || headers > length)
		return -1;
	count = (length - headers + mss - 1) / mss;
	if (index >= count)
		return 0;
	start = headers + index * mss;
	payload = length - start < mss ? length - start : mss;
	total = headers + payload;
	memcpy(segment, packet, headers);
	memcpy(segment + headers, packet + start, payload);
	/* IP: its length, an identification per segment, the header checksum */
	id = (uint16_t)(((packet[4] << 8) | packet[5]) + index);
	segment[2] = total >> 8;
	segment[3] = total & 0xff;
	segment[4] = id >> 8;
	segment[5] = id & 0xff;
	segment[10] = segment[11] = 0;
	sum = ~fold(sum16(segment, ip, 0)) & 0xffff;
	segment[10] = sum >> 8;
	segment[11] = sum & 0xff;
	/* TCP: the sequence number of this segment; FIN and PSH only on the last, CWR only on the first */
	sequence = word(packet + ip + 4) + (uint32_t)index * (uint32_t)mss;
	segment[ip + 4] = sequence >> 24;
	segment[ip + 5] = (sequence >> 16) & 0xff;
	segment[ip + 6] = (sequence >> 8) & 0xff;
	segment[ip + 7] = sequence & 0xff;
	if (index != count - 1)
		segment[ip + 13] &= ~0x09;
	if (index != 0)
		segment[ip + 13] &= ~0x80;
	segment[ip + 16] = segment[ip + 17] = 0;
	sum = ~fold(sum16(segment + ip, total - ip, sum16(segment + 12, 8, 6 + total - ip))) & 0xffff;
	segment[ip + 16] = sum >> 8;
	segment[ip + 17] = sum & 0xff;
	return total;
}
