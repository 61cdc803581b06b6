/*
 * Offloads for the simulator's TUN device: see tun-offload.c. The device must be opened with
 * IFF_VNET_HDR: every read and write carries a virtio_net_hdr.
 */
#ifndef __TUN_GRO__
#define __TUN_GRO__

#include <stdint.h>

/* the largest merged packet: IPv4's total length field */
#define TUN_GRO_MAX 65535

typedef struct {
	uint8_t packet[TUN_GRO_MAX];
	int length;		/* bytes in packet */
	int merged;		/* segments in packet; 0 when nothing waits */
	int tcpHeader;
	int mss;		/* the first segment's payload: every segment but the last has it */
	int short_;		/* the last segment was shorter than mss, or had PSH: the run is over */
	int push;
	uint32_t nextSequence;
} TunGro;

/* One IP packet from the gateway: merged with what waits, or written (flushing what waits
   first, to keep the order). 0, or -1 with errno when a write failed. */
int tun_gro_write(TunGro* g, int fd, const uint8_t* packet, int length);
/* Writes what waits (at the end of each round of the event loop). */
int tun_gro_flush(TunGro* g, int fd);
/* One packet as it is, behind an empty virtio_net_hdr. */
int tun_write_plain(int fd, const uint8_t* packet, int length);

/* Finishes a checksum the kernel left to us (NEEDS_CSUM: csum_start, csum_offset). */
void tun_complete_checksum(uint8_t* packet, int length, int start, int offset);
/* Segment `index` of an IPv4 TCP super-packet cut at `mss` bytes of payload, written to
   `segment` (room for the headers plus mss) with its headers and checksums complete: its
   length, 0 after the last segment, -1 when the packet is not one we can cut. */
int tun_segment(const uint8_t* packet, int length, int mss, int index, uint8_t* segment);

#endif
