/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) headers as views over a packet buffer, smoltcp-style:
 * `check*` validates lengths before anything is read and returns a reason on failure;
 * accessors read at fixed offsets; `write*` emits into a caller-supplied buffer.
 * Addresses stay in the buffer (compared in place), so the data path does not allocate.
 */
import { internetChecksum, onesComplementSum } from './checksum.js';

export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;

/** IP protocol numbers (IANA) the data path knows. */
export const IpProtocol = {
  HOPOPT: 0,
  ICMP: 1,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  /** RFC 4303 §2.6: "no next header", an ESP dummy packet */
  NO_NEXT_HEADER: 59,
  DSTOPTS: 60,
} as const;

/**
 * Why a packet was not accepted as an IP packet; 0 when it was. Numbers, not strings: the
 * data path must not allocate, even for a flood of bad packets.
 */
export const IpProblem = { NONE: 0, TRUNCATED: 1, BAD_VERSION: 2, BAD_HEADER_LENGTH: 3, BAD_TOTAL_LENGTH: 4, BAD_CHECKSUM: 5 } as const;
export type IpProblem = (typeof IpProblem)[keyof typeof IpProblem];

/** The IP version of the packet at `offset` (4 or 6), or 0 when there is no byte to read. */
export function ipVersion(buffer: Uint8Array, offset: number, length: number): number {
  return length < 1 ? 0 : buffer[offset] >> 4;
}

/**
 * Validates an IPv4 header at buffer[offset, offset+length). Returns IpProblem.NONE when it is sound:
 * version 4, IHL >= 5, total length within the data, header checksum right (when `verifyChecksum`).
 */
export function checkIpv4(buffer: Uint8Array, offset: number, length: number, verifyChecksum: boolean): IpProblem {
  if (length < IPV4_HEADER_LENGTH) return IpProblem.TRUNCATED;
  if (buffer[offset] >> 4 !== 4) return IpProblem.BAD_VERSION;
  const headerLength = (buffer[offset] & 15) * 4;
  if (headerLength < IPV4_HEADER_LENGTH || headerLength > length) return IpProblem.BAD_HEADER_LENGTH;
  const total = ipv4TotalLength(buffer, offset);
  if (total < headerLength || total > length) return IpProblem.BAD_TOTAL_LENGTH;
  if (verifyChecksum && onesComplementSum(buffer, offset, headerLength) !== 0xffff) return IpProblem.BAD_CHECKSUM;
  return IpProblem.NONE;
}

export function ipv4HeaderLength(buffer: Uint8Array, offset: number): number {
  return (buffer[offset] & 15) * 4;
}

export function ipv4TotalLength(buffer: Uint8Array, offset: number): number {
  return (buffer[offset + 2] << 8) | buffer[offset + 3];
}

export function ipv4Protocol(buffer: Uint8Array, offset: number): number {
  return buffer[offset + 9];
}

/** Offset of the source address (4 bytes); the destination follows at +4. */
export const IPV4_SOURCE = 12;
export const IPV4_DESTINATION = 16;

/** Recomputes the IPv4 header checksum in place. */
export function setIpv4Checksum(buffer: Uint8Array, offset: number): void {
  buffer[offset + 10] = 0;
  buffer[offset + 11] = 0;
  const sum = internetChecksum(buffer, offset, ipv4HeaderLength(buffer, offset));
  buffer[offset + 10] = sum >> 8;
  buffer[offset + 11] = sum & 0xff;
}

/** Writes total length and protocol into an IPv4 header and fixes its checksum. */
export function updateIpv4(buffer: Uint8Array, offset: number, totalLength: number, protocol: number): void {
  buffer[offset + 2] = totalLength >> 8;
  buffer[offset + 3] = totalLength & 0xff;
  buffer[offset + 9] = protocol;
  setIpv4Checksum(buffer, offset);
}

/**
 * Writes a 20-byte IPv4 header (no options) at `offset`: addresses copied from `addresses`
 * at `sourceOffset`/`destinationOffset` (4 bytes each), DF clear, the given TTL.
 */
export function writeIpv4Header(
  buffer: Uint8Array, offset: number, totalLength: number, protocol: number, identification: number, ttl: number,
  addresses: Uint8Array, sourceOffset: number, destinationOffset: number, tos = 0,
): void {
  buffer[offset] = 0x45;
  buffer[offset + 1] = tos;
  buffer[offset + 4] = (identification >> 8) & 0xff;
  buffer[offset + 5] = identification & 0xff;
  buffer[offset + 6] = 0;
  buffer[offset + 7] = 0;
  buffer[offset + 8] = ttl;
  for (let i = 0; i < 4; i++) {
    buffer[offset + IPV4_SOURCE + i] = addresses[sourceOffset + i];
    buffer[offset + IPV4_DESTINATION + i] = addresses[destinationOffset + i];
  }
  updateIpv4(buffer, offset, totalLength, protocol);
}

/** Validates an IPv6 fixed header: version 6, payload length within the data. */
export function checkIpv6(buffer: Uint8Array, offset: number, length: number): IpProblem {
  if (length < IPV6_HEADER_LENGTH) return IpProblem.TRUNCATED;
  if (buffer[offset] >> 4 !== 6) return IpProblem.BAD_VERSION;
  if (IPV6_HEADER_LENGTH + ipv6PayloadLength(buffer, offset) > length) return IpProblem.BAD_TOTAL_LENGTH;
  return IpProblem.NONE;
}

export function ipv6PayloadLength(buffer: Uint8Array, offset: number): number {
  return (buffer[offset + 4] << 8) | buffer[offset + 5];
}

export function ipv6NextHeader(buffer: Uint8Array, offset: number): number {
  return buffer[offset + 6];
}

export const IPV6_SOURCE = 8;
export const IPV6_DESTINATION = 24;

export function updateIpv6(buffer: Uint8Array, offset: number, payloadLength: number, nextHeader: number): void {
  buffer[offset + 4] = payloadLength >> 8;
  buffer[offset + 5] = payloadLength & 0xff;
  buffer[offset + 6] = nextHeader;
}

/** Writes a 40-byte IPv6 header: addresses copied from `addresses` (16 bytes each). */
export function writeIpv6Header(
  buffer: Uint8Array, offset: number, payloadLength: number, nextHeader: number, hopLimit: number,
  addresses: Uint8Array, sourceOffset: number, destinationOffset: number, trafficClass = 0,
): void {
  buffer[offset] = 0x60 | (trafficClass >> 4);
  buffer[offset + 1] = (trafficClass & 15) << 4;
  buffer[offset + 2] = 0;
  buffer[offset + 3] = 0;
  buffer[offset + 7] = hopLimit;
  for (let i = 0; i < 16; i++) {
    buffer[offset + IPV6_SOURCE + i] = addresses[sourceOffset + i];
    buffer[offset + IPV6_DESTINATION + i] = addresses[destinationOffset + i];
  }
  updateIpv6(buffer, offset, payloadLength, nextHeader);
}

/** Total length of the IP packet at `offset` from its header (IPv4 total length, IPv6 40 + payload). */
export function ipPacketLength(buffer: Uint8Array, offset: number): number {
  return buffer[offset] >> 4 === 4 ? ipv4TotalLength(buffer, offset) : IPV6_HEADER_LENGTH + ipv6PayloadLength(buffer, offset);
}
