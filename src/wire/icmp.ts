/**
 * The ICMP messages of path MTU discovery, as a security gateway sends and receives them
 * (RFC 4301 §8):
 *   - "too big" to a host whose packet does not fit the SA's path once ESP is added:
 *     ICMPv4 Destination Unreachable, Fragmentation Needed with the next-hop MTU (RFC 792,
 *     RFC 1191 §4), or ICMPv6 Packet Too Big (RFC 4443 §3.2);
 *   - the same messages about our own outer packets, from a router on the path to the peer
 *     (RFC 4301 §8.2.1), read from what a RAW ICMP socket delivers (an IPv4 header first).
 */
import { internetChecksum, onesComplementSum } from './checksum.js';
import { IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, IpProtocol, writeIpv4Header, writeIpv6Header } from './ip.js';

export const ICMP_HEADER_LENGTH = 8;
/** RFC 792: type 3 Destination Unreachable, code 4 fragmentation needed and DF set */
export const ICMP_UNREACHABLE = 3;
export const ICMP_FRAGMENTATION_NEEDED = 4;
/** RFC 4443 §3.2 */
export const ICMPV6_PACKET_TOO_BIG = 2;
/** RFC 4443 §2.4(c): an ICMPv6 error must not make a packet larger than the minimum MTU */
const IPV6_MINIMUM_MTU = 1280;
/** RFC 1191 §3 / RFC 791: no IPv4 path is smaller than 68 bytes; IPv6's is 1280 */
export const IPV4_MINIMUM_MTU = 68;

/**
 * Writes, at buffer[offset], a complete IP packet carrying a "too big" error about the packet
 * at original[at, at+length) (IPv4 or IPv6), from `source` (our address of that family, 4 or
 * 16 bytes) to the original's source, announcing `mtu`. Returns its length, or 0 when the
 * original must not be answered (too short, not IP, or itself an ICMP error: RFC 1122
 * §3.2.2, RFC 4443 §2.4(e)) or when `buffer` has no room.
 */
export function writeTooBig(buffer: Uint8Array, offset: number, original: Uint8Array, at: number, length: number, source: Uint8Array, mtu: number): number {
  const version = length >= 1 ? original[at] >> 4 : 0;
  if (version === 4 && length >= IPV4_HEADER_LENGTH && source.length === 4) {
    const header = (original[at] & 15) * 4;
    if (header < IPV4_HEADER_LENGTH || header > length) return 0;
    if (original[at + 9] === IpProtocol.ICMP && isIcmpError(original[at + header])) return 0;
    // RFC 792: the original's IP header and its first 64 bits of data
    const quoted = Math.min(length, header + 8);
    const total = IPV4_HEADER_LENGTH + ICMP_HEADER_LENGTH + quoted;
    if (offset + total > buffer.length) return 0;
    const addresses = new Uint8Array(8);
    addresses.set(source, 0);
    addresses.set(original.subarray(at + 12, at + 16), 4);
    writeIpv4Header(buffer, offset, total, IpProtocol.ICMP, 0, 64, addresses, 0, 4);
    const icmp = offset + IPV4_HEADER_LENGTH;
    buffer[icmp] = ICMP_UNREACHABLE;
    buffer[icmp + 1] = ICMP_FRAGMENTATION_NEEDED;
    buffer.fill(0, icmp + 2, icmp + 6); // checksum, unused
    buffer[icmp + 6] = (mtu >> 8) & 0xff; // RFC 1191 §4: next-hop MTU
    buffer[icmp + 7] = mtu & 0xff;
    buffer.set(original.subarray(at, at + quoted), icmp + ICMP_HEADER_LENGTH);
    const sum = internetChecksum(buffer, icmp, ICMP_HEADER_LENGTH + quoted);
    buffer[icmp + 2] = sum >> 8;
    buffer[icmp + 3] = sum & 0xff;
    return total;
  }
  if (version === 6 && length >= IPV6_HEADER_LENGTH && source.length === 16) {
    if (original[at + 6] === IpProtocol.ICMPV6 && length > IPV6_HEADER_LENGTH && original[at + IPV6_HEADER_LENGTH] < 128) return 0;
    // RFC 4443 §3.2: as much of the original as fits in the minimum MTU
    const quoted = Math.min(length, IPV6_MINIMUM_MTU - IPV6_HEADER_LENGTH - ICMP_HEADER_LENGTH);
    const payload = ICMP_HEADER_LENGTH + quoted;
    if (offset + IPV6_HEADER_LENGTH + payload > buffer.length) return 0;
    const addresses = new Uint8Array(32);
    addresses.set(source, 0);
    addresses.set(original.subarray(at + 8, at + 24), 16);
    writeIpv6Header(buffer, offset, payload, IpProtocol.ICMPV6, 64, addresses, 0, 16);
    const icmp = offset + IPV6_HEADER_LENGTH;
    buffer[icmp] = ICMPV6_PACKET_TOO_BIG;
    buffer[icmp + 1] = 0;
    buffer[icmp + 2] = 0;
    buffer[icmp + 3] = 0;
    buffer[icmp + 4] = mtu >>> 24;
    buffer[icmp + 5] = (mtu >>> 16) & 0xff;
    buffer[icmp + 6] = (mtu >>> 8) & 0xff;
    buffer[icmp + 7] = mtu & 0xff;
    buffer.set(original.subarray(at, at + quoted), icmp + ICMP_HEADER_LENGTH);
    // RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header
    let pseudo = onesComplementSum(buffer, offset + 8, 32);
    pseudo += payload + IpProtocol.ICMPV6;
    const sum = internetChecksum(buffer, icmp, payload, pseudo);
    buffer[icmp + 2] = sum >> 8;
    buffer[icmp + 3] = sum & 0xff;
    return IPV6_HEADER_LENGTH + payload;
  }
  return 0;
}

/** ICMPv4 error types (RFC 1122 §3.2.2): never answered with another error */
function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** type << 8 | code of the ICMP message in an IPv4 packet, or -1 when it is not one. */
export function icmpTypeAndCode(buffer: Uint8Array, offset: number, length: number): number {
  if (length < IPV4_HEADER_LENGTH || buffer[offset] >> 4 !== 4 || buffer[offset + 9] !== IpProtocol.ICMP) return -1;
  const icmp = offset + (buffer[offset] & 15) * 4;
  if (icmp + 2 > offset + length) return -1;
  return (buffer[icmp] << 8) | buffer[icmp + 1];
}

/** What a "fragmentation needed" message received from the network says about one of our packets. */
export interface TooBigReport {
  /** the next-hop MTU it announces (RFC 1191 §4) */
  mtu: number;
  /** where the quoted packet (its IPv4 header first) starts in the buffer, and its length */
  quoted: number;
  quotedLength: number;
}

/**
 * Reads an IPv4 packet carrying ICMP Destination Unreachable / Fragmentation Needed (as a
 * RAW ICMP socket delivers it). Null for anything else, for a bad checksum, or when too
 * little of the original packet is quoted to tell which SA it belongs to (its IP header and
 * 8 bytes: the SPI and sequence number, or the UDP header).
 */
export function readTooBig(buffer: Uint8Array, offset: number, length: number): TooBigReport | null {
  if (length < IPV4_HEADER_LENGTH || buffer[offset] >> 4 !== 4 || buffer[offset + 9] !== IpProtocol.ICMP) return null;
  const header = (buffer[offset] & 15) * 4;
  const total = (buffer[offset + 2] << 8) | buffer[offset + 3];
  const end = offset + Math.min(length, total);
  const icmp = offset + header;
  if (header < IPV4_HEADER_LENGTH || icmp + ICMP_HEADER_LENGTH > end) return null;
  if (buffer[icmp] !== ICMP_UNREACHABLE || buffer[icmp + 1] !== ICMP_FRAGMENTATION_NEEDED) return null;
  if (internetChecksum(buffer, icmp, end - icmp) !== 0) return null;
  const quoted = icmp + ICMP_HEADER_LENGTH;
  if (quoted + IPV4_HEADER_LENGTH > end || buffer[quoted] >> 4 !== 4) return null;
  const quotedHeader = (buffer[quoted] & 15) * 4;
  if (quotedHeader < IPV4_HEADER_LENGTH || quoted + quotedHeader + 8 > end) return null;
  return { mtu: (buffer[icmp + 6] << 8) | buffer[icmp + 7], quoted, quotedLength: end - quoted };
}
