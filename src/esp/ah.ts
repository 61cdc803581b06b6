/**
 * An AH security association (RFC 4302): integrity and anti-replay for the whole packet,
 * including the immutable fields of the IP header, in tunnel or transport mode, IPv4 and
 * IPv6, with extended sequence numbers.
 *
 * AH header (RFC 4302 §2):
 *   [next header 1][payload length 1: AH length in 32-bit words - 2][reserved 2][SPI 4][seq 4][ICV]
 * The ICV is padded so the header is a multiple of 4 bytes (IPv4) or 8 bytes (IPv6) (§2.6).
 * The ICV covers (§3.3.3) the IP header with its mutable fields zeroed (IPv4: TOS, flags and
 * fragment offset, TTL, checksum; IPv6: traffic class, flow label, hop limit), the AH header
 * with a zero ICV, the payload, and with ESN the high half of the sequence number appended.
 *
 * Not supported (dropped as 'bad packet', counted): IPv4 options and IPv6 extension headers in
 * the header AH protects.
 */
import { readU32, writeU32 } from '../crypto/bytes.js';
import type { Crypto, MacKey } from '../crypto/provider.js';
import type { Algorithm } from '../crypto/registry.js';
import { IPV6_HEADER_LENGTH, IpProtocol, setIpv4Checksum, writeIpv4Header, writeIpv6Header } from '../wire/ip.js';
import { REPLAYED, ReplayWindow, TOO_OLD } from './replay.js';
import { Drop, DROP_REASONS, dropCounters, type DropCounters, type Packet } from './sa.js';

export interface AhSaConfig {
  spi: number;
  direction: 'in' | 'out';
  mode: 'tunnel' | 'transport';
  /** an integrity algorithm of the registry (kind 'mac') */
  integrity: Algorithm;
  key: Uint8Array;
  esn: boolean;
  replayWindow?: number;
  /** tunnel mode, outbound: outer addresses, both 4 or both 16 bytes */
  tunnel?: { local: Uint8Array; remote: Uint8Array };
}

/** AH header length for an ICV, padded for the IP version (RFC 4302 §2.6). */
export function ahLength(icvLength: number, ipVersion: number): number {
  const align = ipVersion === 6 ? 8 : 4;
  return Math.ceil((12 + icvLength) / align) * align;
}

export class AhSa {
  readonly spi: number;
  readonly direction: 'in' | 'out';
  readonly mode: 'tunnel' | 'transport';
  readonly esn: boolean;
  readonly dropCounts = new Uint32Array(DROP_REASONS.length);
  packets = 0;
  bytes = 0;
  readonly replay: ReplayWindow | null;
  readonly #mac: MacKey;
  readonly #icvLength: number;
  readonly #icv: Uint8Array;
  /** the ICV as sent: the MAC truncated (a view made once, not per packet) */
  readonly #icvOut: Uint8Array;
  readonly #received: Uint8Array;
  readonly #tunnelAddresses: Uint8Array | null;
  #seqHigh = 0;
  #seqLow = 0;
  #identification = 0;

  constructor(crypto: Crypto, config: AhSaConfig) {
    const p = config.integrity.primitive;
    if (p.kind !== 'mac') throw new TypeError(`${config.integrity.name} is not an integrity algorithm for AH`);
    if (config.key.length !== p.keyBytes) throw new RangeError(`${config.integrity.name} needs a ${p.keyBytes}-byte key, got ${config.key.length}`);
    if (!Number.isInteger(config.spi) || config.spi < 256 || config.spi > 0xffffffff) throw new RangeError(`SPI ${config.spi} is reserved or out of range`);
    this.spi = config.spi;
    this.direction = config.direction;
    this.mode = config.mode;
    this.esn = config.esn;
    this.#mac = crypto.macKey(p.mac, config.key, p.hash);
    this.#icvLength = p.truncateBytes;
    this.#icv = new Uint8Array(this.#mac.length);
    this.#icvOut = this.#icv.subarray(0, this.#icvLength);
    this.#received = new Uint8Array(this.#icvLength);
    const window = config.replayWindow ?? 64;
    this.replay = config.direction === 'in' && window > 0 ? new ReplayWindow(Math.max(32, window), config.esn) : null;
    const t = config.tunnel;
    if (config.mode === 'tunnel' && config.direction === 'out' && (!t || (t.local.length !== 4 && t.local.length !== 16) || t.local.length !== t.remote.length)) {
      throw new TypeError('an outbound tunnel-mode SA needs local and remote addresses of one family');
    }
    this.#tunnelAddresses = t ? Uint8Array.from([...t.local, ...t.remote]) : null;
  }

  get drops(): DropCounters {
    return dropCounters(this.dropCounts);
  }

  #drop(reason: Drop): false {
    this.dropCounts[reason]++;
    return false;
  }

  /**
   * MAC over the packet at buffer[ip, end) as RFC 4302 §3.3.3 defines it: mutable IP fields
   * and the ICV zeroed for the computation, then restored; with ESN the high half of the
   * sequence number appended (borrowing the 4 bytes after the packet).
   */
  #computeIcv(buffer: Uint8Array, ip: number, ah: number, end: number, seqHigh: number): void {
    const v4 = buffer[ip] >> 4 === 4;
    // save and zero the mutable fields
    const m0 = v4 ? buffer[ip + 1] : buffer[ip]; // IPv4 TOS | IPv6 version+traffic class
    const m1 = v4 ? buffer[ip + 6] : buffer[ip + 1];
    const m2 = v4 ? buffer[ip + 7] : buffer[ip + 2];
    const m3 = v4 ? buffer[ip + 8] : buffer[ip + 3];
    const m4 = v4 ? buffer[ip + 10] : buffer[ip + 7];
    const m5 = v4 ? buffer[ip + 11] : 0;
    if (v4) {
      buffer[ip + 1] = 0;
      buffer[ip + 6] = 0;
      buffer[ip + 7] = 0;
      buffer[ip + 8] = 0;
      buffer[ip + 10] = 0;
      buffer[ip + 11] = 0;
    } else {
      buffer[ip] = 0x60;
      buffer[ip + 1] = 0;
      buffer[ip + 2] = 0;
      buffer[ip + 3] = 0;
      buffer[ip + 7] = 0;
    }
    const icvStart = ah + 12;
    const icvEnd = icvStart + this.#icvLength;
    for (let i = icvStart; i < icvEnd; i++) buffer[i] = 0;
    let tail0 = 0, tail1 = 0, tail2 = 0, tail3 = 0;
    if (this.esn) {
      tail0 = buffer[end];
      tail1 = buffer[end + 1];
      tail2 = buffer[end + 2];
      tail3 = buffer[end + 3];
      buffer[end] = seqHigh >>> 24;
      buffer[end + 1] = (seqHigh >>> 16) & 0xff;
      buffer[end + 2] = (seqHigh >>> 8) & 0xff;
      buffer[end + 3] = seqHigh & 0xff;
      this.#mac.compute(buffer, ip, end + 4 - ip, this.#icv);
      buffer[end] = tail0;
      buffer[end + 1] = tail1;
      buffer[end + 2] = tail2;
      buffer[end + 3] = tail3;
    } else {
      this.#mac.compute(buffer, ip, end - ip, this.#icv);
    }
    // restore
    if (v4) {
      buffer[ip + 1] = m0;
      buffer[ip + 6] = m1;
      buffer[ip + 7] = m2;
      buffer[ip + 8] = m3;
      buffer[ip + 10] = m4;
      buffer[ip + 11] = m5;
    } else {
      buffer[ip] = m0;
      buffer[ip + 1] = m1;
      buffer[ip + 2] = m2;
      buffer[ip + 3] = m3;
      buffer[ip + 7] = m4;
    }
  }

  /**
   * Protects the IP packet at packet.offset: afterwards `packet` holds the outer IP packet
   * (tunnel: new header; transport: the original header, protocol 51) with the AH header.
   * Needs headroom for an outer header and the AH header, and 4 bytes of tailroom with ESN.
   */
  seal(packet: Packet): boolean {
    if (this.direction !== 'out') return this.#drop(Drop.BAD_SPI);
    const buffer = packet.buffer;
    const inner = packet.offset;
    if (packet.length < 20) return this.#drop(Drop.BAD_PACKET);
    const version = buffer[inner] >> 4;
    let total: number;
    let header: number;
    if (version === 4) {
      header = (buffer[inner] & 15) * 4;
      total = (buffer[inner + 2] << 8) | buffer[inner + 3];
      if (header !== 20 && this.mode === 'transport') return this.#drop(Drop.BAD_PACKET); // IPv4 options: not supported
      if (header < 20 || total < header || total > packet.length) return this.#drop(Drop.BAD_PACKET);
    } else if (version === 6 && packet.length >= IPV6_HEADER_LENGTH) {
      header = IPV6_HEADER_LENGTH;
      total = IPV6_HEADER_LENGTH + ((buffer[inner + 4] << 8) | buffer[inner + 5]);
      if (total > packet.length) return this.#drop(Drop.BAD_PACKET);
      const next = buffer[inner + 6];
      if (this.mode === 'transport' && (next === 0 || next === 43 || next === 44 || next === 60)) return this.#drop(Drop.BAD_PACKET);
    } else {
      return this.#drop(Drop.BAD_PACKET);
    }
    if (this.#seqLow === 0xffffffff && (!this.esn || this.#seqHigh === 0xffffffff)) return this.#drop(Drop.SEQUENCE_EXHAUSTED);
    const outerVersion = this.mode === 'tunnel' ? (this.#tunnelAddresses!.length === 8 ? 4 : 6) : version;
    const outerHeader = outerVersion === 4 ? 20 : IPV6_HEADER_LENGTH;
    const ahBytes = ahLength(this.#icvLength, outerVersion);
    let ip: number;
    let nextHeader: number;
    let payloadEnd: number;
    if (this.mode === 'tunnel') {
      ip = inner - ahBytes - outerHeader;
      nextHeader = version === 4 ? IpProtocol.IPV4 : IpProtocol.IPV6;
      payloadEnd = inner + total;
    } else {
      ip = inner - ahBytes;
      nextHeader = version === 4 ? buffer[inner + 9] : buffer[inner + 6];
      payloadEnd = inner + total;
    }
    if (ip < 0 || payloadEnd + (this.esn ? 4 : 0) > buffer.length) return this.#drop(Drop.NO_ROOM);
    const low = (this.#seqLow + 1) >>> 0;
    const high = low === 0 ? (this.#seqHigh + 1) >>> 0 : this.#seqHigh;
    this.#seqLow = low;
    this.#seqHigh = high;
    const length = payloadEnd - ip;
    const ah = ip + outerHeader;
    if (this.mode === 'tunnel') {
      const a = this.#tunnelAddresses!;
      if (outerVersion === 4) {
        this.#identification = (this.#identification + 1) & 0xffff;
        writeIpv4Header(buffer, ip, length, IpProtocol.AH, this.#identification, 64, a, 0, 4);
      } else {
        writeIpv6Header(buffer, ip, length - IPV6_HEADER_LENGTH, IpProtocol.AH, 64, a, 0, 16);
      }
    } else {
      buffer.copyWithin(ip, inner, inner + header);
      if (version === 4) {
        buffer[ip + 2] = length >> 8;
        buffer[ip + 3] = length & 0xff;
        buffer[ip + 9] = IpProtocol.AH;
      } else {
        buffer[ip + 4] = (length - IPV6_HEADER_LENGTH) >> 8;
        buffer[ip + 5] = (length - IPV6_HEADER_LENGTH) & 0xff;
        buffer[ip + 6] = IpProtocol.AH;
      }
    }
    buffer[ah] = nextHeader;
    buffer[ah + 1] = ahBytes / 4 - 2;
    buffer[ah + 2] = 0;
    buffer[ah + 3] = 0;
    writeU32(buffer, ah + 4, this.spi);
    writeU32(buffer, ah + 8, low);
    for (let i = ah + 12 + this.#icvLength; i < ah + ahBytes; i++) buffer[i] = 0; // ICV padding
    this.#computeIcv(buffer, ip, ah, payloadEnd, high);
    buffer.set(this.#icvOut, ah + 12);
    if (outerVersion === 4) setIpv4Checksum(buffer, ip);
    this.packets++;
    this.bytes += total;
    packet.offset = ip;
    packet.length = length;
    return true;
  }

  /**
   * Verifies the AH-protected IP packet at packet.offset (its IP header). Tunnel mode:
   * afterwards `packet` holds the inner packet; transport mode: the IP header, restored to the
   * protocol AH carried, followed by the payload. False when dropped.
   */
  open(packet: Packet): boolean {
    if (this.direction !== 'in') return this.#drop(Drop.BAD_SPI);
    const buffer = packet.buffer;
    const ip = packet.offset;
    if (packet.length < 20) return this.#drop(Drop.TRUNCATED);
    const version = buffer[ip] >> 4;
    let header: number;
    let total: number;
    if (version === 4) {
      header = (buffer[ip] & 15) * 4;
      total = (buffer[ip + 2] << 8) | buffer[ip + 3];
      if (header !== 20 || buffer[ip + 9] !== IpProtocol.AH) return this.#drop(Drop.BAD_PACKET);
    } else if (version === 6) {
      header = IPV6_HEADER_LENGTH;
      if (packet.length < header) return this.#drop(Drop.TRUNCATED);
      total = IPV6_HEADER_LENGTH + ((buffer[ip + 4] << 8) | buffer[ip + 5]);
      if (buffer[ip + 6] !== IpProtocol.AH) return this.#drop(Drop.BAD_PACKET);
    } else {
      return this.#drop(Drop.BAD_PACKET);
    }
    if (total > packet.length || total < header + 12) return this.#drop(Drop.TRUNCATED);
    const ah = ip + header;
    const ahBytes = (buffer[ah + 1] + 2) * 4;
    if (ahBytes !== ahLength(this.#icvLength, version) || ah + ahBytes > ip + total) return this.#drop(Drop.TRUNCATED);
    if (readU32(buffer, ah + 4) !== this.spi) return this.#drop(Drop.BAD_SPI);
    const end = ip + total;
    if (this.esn && end + 4 > buffer.length) return this.#drop(Drop.NO_ROOM);
    const low = readU32(buffer, ah + 8);
    let high = 0;
    if (this.replay) {
      high = this.replay.check(low);
      if (high === REPLAYED) return this.#drop(Drop.REPLAY);
      if (high === TOO_OLD) return this.#drop(Drop.TOO_OLD);
    }
    const received = this.#received;
    for (let i = 0; i < this.#icvLength; i++) received[i] = buffer[ah + 12 + i];
    this.#computeIcv(buffer, ip, ah, end, high);
    // put the received ICV back (the computation zeroed it), then compare in constant time
    let diff = 0;
    for (let i = 0; i < this.#icvLength; i++) {
      buffer[ah + 12 + i] = received[i];
      diff |= received[i] ^ this.#icv[i];
    }
    if (diff !== 0) return this.#drop(Drop.AUTH_FAILURE);
    if (this.replay && !this.replay.accept(high, low)) return this.#drop(Drop.REPLAY);
    const nextHeader = buffer[ah];
    const payload = ah + ahBytes;
    if (this.mode === 'tunnel') {
      const innerVersion = payload < end ? buffer[payload] >> 4 : 0;
      if (!((nextHeader === IpProtocol.IPV4 && innerVersion === 4) || (nextHeader === IpProtocol.IPV6 && innerVersion === 6))) {
        return this.#drop(Drop.BAD_INNER_PACKET);
      }
      this.packets++;
      this.bytes += end - payload;
      packet.offset = payload;
      packet.length = end - payload;
      return true;
    }
    // transport: the IP header moves up to the payload, with AH's next header as its protocol
    const restored = payload - header;
    buffer.copyWithin(restored, ip, ip + header);
    const length = end - restored;
    if (version === 4) {
      buffer[restored + 2] = length >> 8;
      buffer[restored + 3] = length & 0xff;
      buffer[restored + 9] = nextHeader;
      setIpv4Checksum(buffer, restored);
    } else {
      buffer[restored + 4] = (length - IPV6_HEADER_LENGTH) >> 8;
      buffer[restored + 5] = (length - IPV6_HEADER_LENGTH) & 0xff;
      buffer[restored + 6] = nextHeader;
    }
    this.packets++;
    this.bytes += length;
    packet.offset = restored;
    packet.length = length;
    return true;
  }
}


