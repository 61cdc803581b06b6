/**
 * NAT traversal pieces of RFC 3948 that are not the encapsulation itself:
 *   - transport-mode checksum fix-up (§3.1.2): a NAT rewrote the outer addresses, so the
 *     TCP/UDP checksum computed over the original addresses no longer matches; given the
 *     original addresses (NAT-OA, exchanged by IKE, RFC 7296 §2.23) it is corrected
 *     incrementally (RFC 1624), without touching the payload;
 *   - the NAT-keepalive schedule (§4): a one-byte 0xFF datagram when nothing else was sent to
 *     the peer for an interval (20 s by default, as strongSwan's keep_alive).
 */
import { IPV6_HEADER_LENGTH, IpProtocol } from '../wire/ip.js';

/** Adds the 16-bit words of buffer[offset, offset+length) (even length) to a running sum. */
function sum16(buffer: Uint8Array, offset: number, length: number, sum: number): number {
  for (let i = 0; i < length; i += 2) sum += (buffer[offset + i] << 8) | buffer[offset + i + 1];
  return sum;
}

/**
 * Fixes the TCP or UDP checksum of the transport-mode packet at `ip` after its addresses were
 * changed from `originalSource`/`originalDestination` to what its header now says
 * (RFC 1624 eq. 3: HC' = ~(~HC + ~m + m')). A UDP checksum of zero (none, IPv4) stays zero.
 * Returns false when the packet is not TCP/UDP or too short (left as it is).
 */
export function fixTransportChecksum(buffer: Uint8Array, ip: number, length: number, originalSource: Uint8Array, originalDestination: Uint8Array): boolean {
  const v6 = buffer[ip] >> 4 === 6;
  const header = v6 ? IPV6_HEADER_LENGTH : (buffer[ip] & 15) * 4;
  const protocol = v6 ? buffer[ip + 6] : buffer[ip + 9];
  const field = protocol === IpProtocol.TCP ? 16 : protocol === IpProtocol.UDP ? 6 : -1;
  if (field < 0 || length < header + field + 2) return false;
  const at = ip + header + field;
  const old = (buffer[at] << 8) | buffer[at + 1];
  if (protocol === IpProtocol.UDP && old === 0 && !v6) return true;
  const addresses = v6 ? 32 : 8;
  if (originalSource.length !== addresses / 2 || originalDestination.length !== addresses / 2) return false;
  const current = v6 ? ip + 8 : ip + 12;
  // ~m: the original addresses' words, complemented; m': the current ones
  let sum = ~old & 0xffff;
  for (let i = 0; i < addresses / 2; i += 2) {
    sum += ~((originalSource[i] << 8) | originalSource[i + 1]) & 0xffff;
    sum += ~((originalDestination[i] << 8) | originalDestination[i + 1]) & 0xffff;
  }
  sum = sum16(buffer, current, addresses, sum);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let checksum = ~sum & 0xffff;
  if (protocol === IpProtocol.UDP && checksum === 0) checksum = 0xffff; // 0 means "none" for UDP
  buffer[at] = checksum >> 8;
  buffer[at + 1] = checksum & 0xff;
  return true;
}

/** When to send NAT keepalives (RFC 3948 §4): only when the path has been quiet. */
export class NatKeepalive {
  #lastSent: number;

  /** `interval` in ms; `now` the current time in ms */
  constructor(readonly interval: number, now: number) {
    if (!(interval > 0)) throw new RangeError('keepalive interval must be positive');
    this.#lastSent = now;
  }

  /** Anything sent to the peer (ESP, IKE or a keepalive) resets the clock. */
  sent(now: number): void {
    this.#lastSent = now;
  }

  /** Whether a keepalive is due now. */
  due(now: number): boolean {
    return now - this.#lastSent >= this.interval;
  }

  /** Milliseconds until the next keepalive would be due. */
  wait(now: number): number {
    return Math.max(0, this.#lastSent + this.interval - now);
  }
}
