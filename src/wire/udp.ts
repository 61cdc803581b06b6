/**
 * UDP (RFC 768) header view and writer, with the checksum over the IPv4 or IPv6 pseudo-header
 * (RFC 768, RFC 8200 §8.1), and the UDP encapsulation of ESP (RFC 3948): the non-ESP marker
 * that separates IKE from ESP on port 4500, and the NAT-keepalive packet.
 */
import { internetChecksum, onesComplementSum } from './checksum.js';

export const UDP_HEADER_LENGTH = 8;
export const NAT_T_PORT = 4500;
export const IKE_PORT = 500;

export function udpSourcePort(buffer: Uint8Array, offset: number): number {
  return (buffer[offset] << 8) | buffer[offset + 1];
}

export function udpDestinationPort(buffer: Uint8Array, offset: number): number {
  return (buffer[offset + 2] << 8) | buffer[offset + 3];
}

export function udpLength(buffer: Uint8Array, offset: number): number {
  return (buffer[offset + 4] << 8) | buffer[offset + 5];
}

/** Sum of the pseudo-header for a UDP datagram of `length` bytes inside the IP packet at `ip`. */
function pseudoHeaderSum(buffer: Uint8Array, ip: number, length: number, protocol: number): number {
  const v6 = buffer[ip] >> 4 === 6;
  // addresses: IPv4 12..20, IPv6 8..40
  let sum = v6 ? onesComplementSum(buffer, ip + 8, 32) : onesComplementSum(buffer, ip + 12, 8);
  sum += protocol + (length & 0xffff) + (v6 ? Math.floor(length / 65536) : 0);
  return sum;
}

/**
 * Writes a UDP header at `udp` for a datagram of `length` bytes (header included) whose
 * payload is already in place. IPv4: checksum 0, as RFC 3948 §2.1 says for ESP in UDP;
 * IPv6: the checksum is mandatory (RFC 8200 §8.1) and computed.
 */
export function writeUdpHeader(buffer: Uint8Array, ip: number, udp: number, sourcePort: number, destinationPort: number, length: number): void {
  buffer[udp] = sourcePort >> 8;
  buffer[udp + 1] = sourcePort & 0xff;
  buffer[udp + 2] = destinationPort >> 8;
  buffer[udp + 3] = destinationPort & 0xff;
  buffer[udp + 4] = length >> 8;
  buffer[udp + 5] = length & 0xff;
  buffer[udp + 6] = 0;
  buffer[udp + 7] = 0;
  if (buffer[ip] >> 4 === 6) {
    const sum = internetChecksum(buffer, udp, length, pseudoHeaderSum(buffer, ip, length, 17)) || 0xffff;
    buffer[udp + 6] = sum >> 8;
    buffer[udp + 7] = sum & 0xff;
  }
}

/** Verifies a UDP checksum (a zero checksum means "none" on IPv4). */
export function udpChecksumOk(buffer: Uint8Array, ip: number, udp: number, length: number): boolean {
  const field = (buffer[udp + 6] << 8) | buffer[udp + 7];
  if (field === 0) return buffer[ip] >> 4 === 4;
  return onesComplementSum(buffer, udp, length, pseudoHeaderSum(buffer, ip, length, 17)) === 0xffff;
}

/**
 * What arrived on the NAT-T port (RFC 3948 §2.2, §2.3): IKE behind a non-ESP marker, a
 * keepalive, or ESP. Numbers, not strings: this runs per packet, and on XS a string literal
 * in runtime-parsed code allocates each time it is evaluated.
 */
export const NatTPayload = { INVALID: 0, ESP: 1, IKE: 2, KEEPALIVE: 3 } as const;
export type NatTPayload = (typeof NatTPayload)[keyof typeof NatTPayload];

/**
 * Classifies a UDP payload received on port 4500: a single 0xFF byte is a NAT-keepalive;
 * four zero bytes (the non-ESP marker) start an IKE message; anything else of at least
 * 8 bytes starts with a non-zero SPI and is ESP.
 */
export function classifyNatT(buffer: Uint8Array, offset: number, length: number): NatTPayload {
  if (length === 1 && buffer[offset] === 0xff) return NatTPayload.KEEPALIVE;
  if (length >= 4 && buffer[offset] === 0 && buffer[offset + 1] === 0 && buffer[offset + 2] === 0 && buffer[offset + 3] === 0) {
    return length > 4 ? NatTPayload.IKE : NatTPayload.INVALID;
  }
  return length >= 8 ? NatTPayload.ESP : NatTPayload.INVALID;
}

/** The non-ESP marker's length: four zero bytes where ESP has its SPI (RFC 3948 §2.2). */
export const NON_ESP_MARKER_LENGTH = 4;

/**
 * Whether a UDP payload on the NAT-T port is an IKE message behind the non-ESP marker
 * (RFC 3948 §2.2, RFC 7296 §2.23): four zero bytes and something after them. Four zero bytes
 * alone are not IKE (classifyNatT: INVALID). Only the marker is looked at: a host calls this
 * per datagram, ESP included.
 */
export function hasNonEspMarker(buffer: Uint8Array, offset: number, length: number): boolean {
  return length > NON_ESP_MARKER_LENGTH && buffer[offset] === 0 && buffer[offset + 1] === 0 && buffer[offset + 2] === 0 && buffer[offset + 3] === 0;
}

/** The NAT-keepalive payload (RFC 3948 §2.3). */
export const NAT_KEEPALIVE: Uint8Array = Uint8Array.of(0xff);
