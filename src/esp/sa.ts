/**
 * An ESP security association (RFC 4303): seals outbound packets and opens inbound ones in
 * place, in tunnel or transport mode, IPv4 or IPv6, optionally UDP-encapsulated (RFC 3948).
 *
 * The caller hands a `Packet` whose buffer has headroom before the packet (outer IP header,
 * UDP header, ESP header and IV: SEAL_HEADROOM bytes are always enough) and tailroom after it
 * (padding, trailer and ICV: SEAL_TAILROOM plus any TFC padding). Seal and open move the
 * packet's `offset`/`length` to the result; nothing is allocated per packet. A packet that
 * cannot be processed is dropped and counted under a named reason (`drops`), never thrown.
 */
import {
  checkIpv4, checkIpv6, IPV6_HEADER_LENGTH, IpProblem, IpProtocol,
  ipv4HeaderLength, ipv4Protocol, ipv4TotalLength, ipv6NextHeader, ipv6PayloadLength, updateIpv4, updateIpv6,
  writeIpv6Header,
} from '../wire/ip.js';
import { writeUdpHeader } from '../wire/udp.js';
import { fixTransportChecksum } from './natt.js';
import { REPLAYED, ReplayWindow, TOO_OLD } from './replay.js';
import { readU32 } from '../crypto/bytes.js';
import type { EspAeadKey } from '../crypto/provider.js';
import type { EspTransform } from './transform.js';

/**
 * Headroom that is always enough in front of a packet to seal: ESP needs outer IPv6 (40) +
 * UDP (8) + ESP header (8) + the largest IV (16) = 72; AH needs outer IPv6 (40) + the largest
 * AH header (48, HMAC-SHA-512-256 on IPv6).
 */
export const SEAL_HEADROOM = 88;
/**
 * Tailroom that is always enough after a packet to seal: the largest padding for a 16-byte
 * block (15) + pad length + next header + the largest ICV (32); AH with ESN needs 4.
 */
export const SEAL_TAILROOM = 49;

/** A packet in a buffer, moved in place by seal and open. */
export interface Packet {
  buffer: Uint8Array;
  offset: number;
  length: number;
}

/**
 * Why a packet was dropped. Each SA counts every reason in a Uint32Array indexed by these
 * numbers: the data path handles no strings (on XS, evaluating a string literal in code
 * loaded at run time allocates, and a flood of bad packets must not churn the collector).
 */
export const Drop = {
  TRUNCATED: 0, // shorter than the headers and trailer it must have
  BAD_LENGTH: 1, // the encrypted part is not a whole number of cipher blocks
  BAD_SPI: 2, // not this SA's SPI
  REPLAY: 3, // this sequence number was already received
  TOO_OLD: 4, // left of the replay window (or 0)
  AUTH_FAILURE: 5, // ICV / AEAD tag did not verify
  BAD_PADDING: 6, // pad length too long, or padding bytes not 1, 2, 3, ... (RFC 4303 §2.4)
  BAD_INNER_PACKET: 7, // tunnel mode: not an IP packet of the family the next header says
  BAD_PACKET: 8, // outbound: not an IP packet this SA can carry
  NO_ROOM: 9, // outbound: not enough headroom or tailroom in the buffer
  SEQUENCE_EXHAUSTED: 10, // outbound: the counter would wrap (RFC 4303 §3.3.3): rekey
  EXPIRED: 11, // the hard lifetime is reached
  DUMMY: 12, // inbound dummy packet, next header 59 (RFC 4303 §2.6): counted, not an error
} as const;
export type Drop = (typeof Drop)[keyof typeof Drop];

/** The names of the drop reasons, by number, as counters are shown to users. */
export const DROP_REASONS = [
  'truncated', 'bad length', 'bad spi', 'replay', 'too old', 'auth failure', 'bad padding', 'bad inner packet',
  'bad packet', 'no room', 'sequence exhausted', 'expired', 'dummy',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounters = Record<DropReason, number>;

/** Counters as a record by name (for status output and tests; allocates). */
export function dropCounters(counts: Uint32Array): DropCounters {
  const record = {} as DropCounters;
  DROP_REASONS.forEach((name, i) => (record[name] = counts[i]));
  return record;
}

/** Soft and hard limits (RFC 4301 §4.4.2.1): soft raises an event (time to rekey), hard stops the SA. */
export interface Lifetime {
  bytes?: number;
  packets?: number;
}

export type SaEvent = { type: 'soft-expired' | 'hard-expired' | 'sequence-exhausted'; spi: number; reason: 'bytes' | 'packets' | 'sequence' };

export interface EspSaConfig {
  spi: number;
  direction: 'in' | 'out';
  mode: 'tunnel' | 'transport';
  transform: EspTransform;
  esn: boolean;
  /** inbound: anti-replay window size (RFC 4303 §3.4.3); 0 turns the check off. Default 64. */
  replayWindow?: number;
  /** tunnel mode, outbound: outer source and destination addresses, both 4 or both 16 bytes */
  tunnel?: { local: Uint8Array; remote: Uint8Array };
  /** UDP encapsulation (RFC 3948): outbound source and destination ports */
  encapsulation?: { localPort: number; remotePort: number };
  /**
   * transport mode over a NAT, inbound: the original addresses of the packets (NAT-OA,
   * RFC 7296 §2.23): TCP/UDP checksums are fixed after decapsulation (RFC 3948 §3.1.2)
   */
  natOriginal?: { source: Uint8Array; destination: Uint8Array };
  /** tunnel mode, outbound: pad inner packets to at least this many bytes (TFC, RFC 4303 §2.7) */
  tfcPadding?: number;
  soft?: Lifetime;
  hard?: Lifetime;
}

/* Methods are TypeScript-private, not #private: XS gives every instance a slot per #private method. */
export class EspSa {
  readonly spi: number;
  readonly direction: 'in' | 'out';
  /** direction === 'out', as a boolean the data path can test without a string */
  readonly outbound: boolean;
  /**
   * Outbound: the path MTU toward the peer this SA's packets must fit (RFC 4301 §8.2), 0
   * until the gateway sets it, and the largest inner packet that fits it once sealed.
   */
  pathMtu = 0;
  maxInnerLength = 0xffff;
  readonly mode: 'tunnel' | 'transport';
  readonly esn: boolean;
  readonly transform: EspTransform;
  /** drop counters, indexed by `Drop` */
  readonly dropCounts = new Uint32Array(DROP_REASONS.length);
  /** packets and bytes (of inner packets) sealed or opened */
  packets = 0;
  bytes = 0;
  /** lifetime and sequence events, for the key manager to drain */
  readonly events: SaEvent[] = [];
  readonly replay: ReplayWindow | null;
  /** what the packets need of the configuration (not the whole object: it would stay on the heap with the SA) */
  readonly #soft: Lifetime | undefined;
  readonly #hard: Lifetime | undefined;
  readonly #encapsulation: { localPort: number; remotePort: number } | undefined;
  readonly #natOriginal: { source: Uint8Array; destination: Uint8Array } | undefined;
  /** mode and direction as booleans: the per-packet code compares no strings */
  readonly #tunnel: boolean;
  readonly #outbound: boolean;
  /** addresses of the tunnel: local then remote (8 bytes for IPv4, 32 for IPv6), for the outer header */
  readonly #tunnelAddresses: Uint8Array | null;
  #seqHigh = 0;
  #seqLow = 0;
  #identification = 0;
  readonly #tfcPadding: number;
  /** tunnel mode: 20 (IPv4) or 40 (IPv6) */
  readonly #outerHeaderLength: number;
  /** whether any lifetime limit is set (else counting is all #account has to do) */
  readonly #limited: boolean;
  /** a DataView over the last packet buffer seen, reused while the caller reuses its buffer */
  #viewBuffer: Uint8Array | null = null;
  #view: DataView | null = null;
  /** tunnel mode over IPv4: the outer header's words 2-4 and the checksum of its fixed fields */
  #outerIpv4 = false;
  #outerWord2 = 0;
  #outerAddresses = 0n;
  #outerSum = 0;
  /** AEAD transforms: their one provider call, called directly (one JS call less per packet) */
  readonly #espAead: EspAeadKey | null;
  /** the transform's and encapsulation's sizes, read once */
  readonly #udp: number;
  readonly #espHeaderLength: number;
  readonly #blockSize: number;
  readonly #icvLength: number;
  #softReached = false;
  #exhausted = false;
  #hardReached = false;

  constructor(config: EspSaConfig) {
    if (!Number.isInteger(config.spi) || config.spi < 256 || config.spi > 0xffffffff) {
      throw new RangeError(`SPI ${config.spi} is reserved or out of range (RFC 4303 §2.1: 1-255 are reserved)`);
    }
    this.#soft = config.soft;
    this.#hard = config.hard;
    this.#encapsulation = config.encapsulation;
    this.#natOriginal = config.natOriginal;
    this.spi = config.spi;
    this.direction = config.direction;
    this.mode = config.mode;
    this.esn = config.esn;
    this.transform = config.transform;
    this.#tunnel = config.mode === 'tunnel';
    this.#outbound = config.direction === 'out';
    this.outbound = this.#outbound;
    const window = config.replayWindow ?? 64;
    this.replay = config.direction === 'in' && window > 0 ? new ReplayWindow(Math.max(32, window), config.esn) : null;
    const t = config.tunnel;
    if (config.mode === 'tunnel' && config.direction === 'out') {
      if (!t || (t.local.length !== 4 && t.local.length !== 16) || t.local.length !== t.remote.length) {
        throw new TypeError('an outbound tunnel-mode SA needs local and remote addresses of one family');
      }
    }
    this.#tunnelAddresses = t ? Uint8Array.from([...t.local, ...t.remote]) : null;
    this.#tfcPadding = config.tfcPadding ?? 0;
    this.#outerHeaderLength = t && t.local.length === 16 ? IPV6_HEADER_LENGTH : 20;
    this.#limited = !!(config.soft || config.hard);
    this.#udp = config.encapsulation ? 8 : 0;
    this.#espHeaderLength = 8 + config.transform.ivLength;
    this.#blockSize = config.transform.blockSize;
    this.#icvLength = config.transform.icvLength;
    this.#espAead = config.transform.espAead ?? null;
    if (t && t.local.length === 4 && this.#tunnel && this.#outbound) {
      // RFC 791 header: words 0-1 change per packet (length, identification), words 2-4 do not
      // except for the checksum, computed incrementally from the fixed fields' sum
      const protocol = config.encapsulation ? IpProtocol.UDP : IpProtocol.ESP;
      const a = this.#tunnelAddresses!;
      const u32 = (o: number) => ((a[o] << 24) | (a[o + 1] << 16) | (a[o + 2] << 8) | a[o + 3]) >>> 0;
      this.#outerIpv4 = true;
      this.#outerWord2 = ((64 << 24) | (protocol << 16)) >>> 0;
      this.#outerAddresses = (BigInt(u32(0)) << 32n) | BigInt(u32(4));
      let sum = 0x4500 + (64 << 8) + protocol;
      for (let i = 0; i < 8; i += 2) sum += (a[i] << 8) | a[i + 1];
      this.#outerSum = sum;
    }
  }

  /**
   * Sets the path MTU (RFC 4301 §8.2) and with it `maxInnerLength`: the largest packet whose
   * sealed form (outer header, UDP, ESP header and IV, padding, trailer, ICV) fits. In
   * transport mode the IP header is counted once, as it stays in front. TFC padding is not
   * counted: it pads packets up to a size set below the tunnel MTU.
   */
  setPathMtu(mtu: number): void {
    const ip = this.#outerHeaderLength;
    const room = mtu - ip - this.#udp - this.#espHeaderLength - this.#icvLength;
    const block = this.#blockSize;
    const padded = Math.floor(room / block) * block;
    this.pathMtu = mtu;
    this.maxInnerLength = Math.max(0, padded - 2 + (this.#tunnel ? 0 : ip));
  }

  /** where the outer packets go from and to: local and remote addresses (tunnel mode), else null */
  get tunnelAddresses(): Uint8Array | null {
    return this.#tunnelAddresses;
  }

  /** A DataView over `buffer`, with the same indices; created once per buffer the caller uses. */
  private viewOf(buffer: Uint8Array): DataView {
    if (buffer !== this.#viewBuffer) {
      this.#viewBuffer = buffer;
      this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    return this.#view!;
  }

  /** The next outbound sequence number as (high, low); the SA's counter (RFC 4303 §3.3.3). */
  get sequence(): { high: number; low: number } {
    return { high: this.#seqHigh, low: this.#seqLow };
  }

  /** Sets the outbound counter (tests of the wrap; an SA restored with its state). */
  setSequence(high: number, low: number): void {
    this.#seqHigh = high >>> 0;
    this.#seqLow = low >>> 0;
  }

  /** The drop counters by name (allocates: for status output and tests). */
  get drops(): DropCounters {
    return dropCounters(this.dropCounts);
  }

  private drop(reason: Drop): false {
    this.dropCounts[reason]++;
    return false;
  }

  /** Counts a packet toward the lifetimes; false when the hard limit stops it. */
  private account(bytes: number): boolean {
    this.packets++;
    this.bytes += bytes;
    if (!this.#limited) return true;
    if (this.#hardReached) return false;
    const soft = this.#soft;
    const hard = this.#hard;
    if (hard && ((hard.bytes !== undefined && this.bytes >= hard.bytes) || (hard.packets !== undefined && this.packets >= hard.packets))) {
      this.#hardReached = true;
      this.events.push({ type: 'hard-expired', spi: this.spi, reason: hard.packets !== undefined && this.packets >= hard.packets ? 'packets' : 'bytes' });
    } else if (!this.#softReached && soft &&
      ((soft.bytes !== undefined && this.bytes >= soft.bytes) || (soft.packets !== undefined && this.packets >= soft.packets))) {
      this.#softReached = true;
      this.events.push({ type: 'soft-expired', spi: this.spi, reason: soft.packets !== undefined && this.packets >= soft.packets ? 'packets' : 'bytes' });
    }
    return true;
  }

  /** UDP encapsulation (RFC 3948) ports, when the SA is encapsulated. */
  get encapsulation(): { localPort: number; remotePort: number } | undefined {
    return this.#encapsulation;
  }

  /** True once the hard lifetime is reached: the SA must be replaced. */
  get expired(): boolean {
    return this.#hardReached;
  }

  /**
   * Seals the IP packet at packet.offset. Afterwards `packet` holds the complete outer IP
   * packet (tunnel: a new outer header; transport: the original header, updated), with the
   * UDP header when encapsulated. Returns false when the packet was dropped.
   */
  seal(packet: Packet): boolean {
    if (!this.#outbound) return this.drop(Drop.BAD_SPI);
    if (this.#hardReached) return this.drop(Drop.EXPIRED);
    const buffer = packet.buffer;
    const inner = packet.offset;
    const innerLength = packet.length;
    if (innerLength < 20) return this.drop(Drop.BAD_PACKET);
    // one read for version, header length, TOS and total length (typed-array and DataView
    // accesses are the dear part of XS's per-packet work)
    const view = buffer === this.#viewBuffer ? this.#view! : this.viewOf(buffer);
    const word = view.getUint32(inner);
    const version = word >>> 28;
    let total: number;
    let headerLength: number;
    let tos: number;
    if (version === 4) {
      headerLength = ((word >>> 24) & 15) * 4;
      total = word & 0xffff;
      tos = (word >>> 16) & 0xff;
      if (headerLength < 20 || total < headerLength || total > innerLength) return this.drop(Drop.BAD_PACKET);
    } else if (version === 6 && checkIpv6(buffer, inner, innerLength) === IpProblem.NONE) {
      headerLength = IPV6_HEADER_LENGTH;
      total = IPV6_HEADER_LENGTH + ipv6PayloadLength(buffer, inner);
      tos = (word >>> 20) & 0xff;
    } else {
      return this.drop(Drop.BAD_PACKET);
    }
    if (this.#tunnel) {
      // the whole inner packet; TFC padding (RFC 4303 §2.7) may follow it, since the receiver
      // finds the inner length in its header
      const tfc = this.#tfcPadding > total ? this.#tfcPadding - total : 0;
      return this.encapsulate(packet, inner, total, tfc, version === 4 ? IpProtocol.IPV4 : IpProtocol.IPV6, this.#outerHeaderLength, total, tos);
    }
    // transport mode: the IP payload; the header stays in front
    if (version === 6 && !isUpperLayer(ipv6NextHeader(buffer, inner))) return this.drop(Drop.BAD_PACKET); // extension headers: not yet
    const nextHeader = version === 4 ? ipv4Protocol(buffer, inner) : ipv6NextHeader(buffer, inner);
    return this.encapsulate(packet, inner + headerLength, total - headerLength, 0, nextHeader, headerLength, total, tos);
  }

  /**
   * Seals a dummy packet (next header 59, RFC 4303 §2.6) of `length` bytes of payload in
   * tunnel mode: traffic-flow confidentiality for a sender with nothing to say. The packet's
   * buffer is used from `packet.offset` on; its content is ignored.
   */
  sealDummy(packet: Packet, length: number): boolean {
    if (!this.#outbound || !this.#tunnel || length < 0) return this.drop(Drop.BAD_PACKET);
    if (this.#hardReached) return this.drop(Drop.EXPIRED);
    if (packet.offset + length > packet.buffer.length) return this.drop(Drop.NO_ROOM);
    packet.buffer.fill(0, packet.offset, packet.offset + length);
    this.viewOf(packet.buffer);
    return this.encapsulate(packet, packet.offset, length, 0, IpProtocol.NO_NEXT_HEADER, this.#outerHeaderLength, 0, 0);
  }

  /**
   * The common part of seal: trailer, ESP header, encryption, outer headers. (Eight
   * arguments measure cheaper on XS than fewer arguments and recomputing.)
   */
  private encapsulate(packet: Packet, payload: number, payloadLength: number, tfc: number, nextHeader: number,
    ipHeaderLength: number, accounted: number, tos: number): boolean {
    const buffer = packet.buffer;
    const inner = packet.offset;
    const view = this.#view!;
    // RFC 4303 §3.3.3: the counter must not cycle; with ESN at 2^64 - 1, without at 2^32 - 1
    if (this.#seqLow === 0xffffffff && (!this.esn || this.#seqHigh === 0xffffffff)) {
      if (!this.#exhausted) {
        this.#exhausted = true;
        this.events.push({ type: 'sequence-exhausted', spi: this.spi, reason: 'sequence' });
      }
      return this.drop(Drop.SEQUENCE_EXHAUSTED);
    }
    const udp = this.#udp;
    const block = this.#blockSize;
    const padLength = (block - ((payloadLength + tfc + 2) % block)) % block;
    const encrypted = payloadLength + tfc + padLength + 2;
    const esp = payload - this.#espHeaderLength;
    const outer = esp - udp - ipHeaderLength;
    const end = payload + encrypted + this.#icvLength;
    if (outer < 0 || end > buffer.length) return this.drop(Drop.NO_ROOM);

    // sequence number: count up first, the first packet carries 1
    const low = (this.#seqLow + 1) >>> 0;
    const high = low === 0 ? (this.#seqHigh + 1) >>> 0 : this.#seqHigh;
    this.#seqLow = low;
    this.#seqHigh = high;
    if (this.#limited) {
      if (!this.account(accounted)) return this.drop(Drop.EXPIRED);
    } else {
      this.packets++;
      this.bytes += accounted;
    }

    // transport mode: the IP header moves in front of the ESP header
    if (!this.#tunnel) buffer.copyWithin(outer, inner, inner + ipHeaderLength);

    // trailer: TFC zeros, padding 1, 2, 3, ..., pad length, next header (RFC 4303 §2.4-§2.7)
    let p = payload + payloadLength;
    if (tfc) {
      buffer.fill(0, p, p + tfc);
      p += tfc;
    }
    // Padding of 0 to 3 bytes (every 4-byte-block transform) goes out as whole words with
    // the pad length and next header; bytes written past the trailer land where the ICV goes.
    if (padLength === 0) view.setUint16(p, nextHeader);
    else if (padLength === 1) view.setUint32(p, 0x01010000 | (nextHeader << 8));
    else if (padLength === 2) view.setUint32(p, 0x01020200 | nextHeader);
    else if (padLength === 3) {
      view.setUint32(p, 0x01020303);
      buffer[p + 4] = nextHeader;
    } else {
      for (let i = 1; i <= padLength; i++) buffer[p++] = i;
      view.setUint16(p, (padLength << 8) | nextHeader);
    }

    view.setUint32(esp, this.spi);
    view.setUint32(esp + 4, low);
    const aead = this.#espAead;
    if (aead) aead.seal(buffer, esp, encrypted, high, low);
    else this.transform.seal(buffer, view, esp, encrypted, high, low);

    const totalLength = end - outer;
    if (this.#outerIpv4) {
      // tunnel over IPv4: RFC 4301 §5.1.2.1, DSCP copied from the inner header; ECN copied
      // (RFC 6040 normal mode). The checksum is the fixed fields' sum plus the per-packet ones.
      const id = (this.#identification = (this.#identification + 1) & 0xffff);
      let sum = this.#outerSum + (tos & 0xff) + totalLength + id;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      view.setUint32(outer, 0x45000000 | ((tos & 0xff) << 16) | totalLength);
      view.setUint32(outer + 4, id << 16);
      view.setUint32(outer + 8, (this.#outerWord2 | (~sum & 0xffff)) >>> 0);
      view.setBigUint64(outer + 12, this.#outerAddresses); // both addresses in one call
    } else {
      const protocol = udp ? IpProtocol.UDP : IpProtocol.ESP;
      if (this.#tunnel) writeIpv6Header(buffer, outer, totalLength - IPV6_HEADER_LENGTH, protocol, 64, this.#tunnelAddresses!, 0, 16, tos);
      else if (buffer[outer] >> 4 === 4) updateIpv4(buffer, outer, totalLength, protocol);
      else updateIpv6(buffer, outer, totalLength - IPV6_HEADER_LENGTH, protocol);
    }
    if (udp) {
      const e = this.#encapsulation!;
      writeUdpHeader(buffer, outer, outer + ipHeaderLength, e.localPort, e.remotePort, end - (outer + ipHeaderLength));
    }
    packet.offset = outer;
    packet.length = totalLength;
    return true;
  }

  /**
   * Opens the ESP packet at packet.offset (its ESP header; UDP encapsulation already
   * removed). Tunnel mode: afterwards `packet` holds the inner IP packet. Transport mode:
   * `ipOffset` is where the outer IP header starts in the same buffer; afterwards `packet`
   * holds that header, restored, followed by the decrypted payload. Returns false when the
   * packet was dropped (or was a dummy packet).
   */
  open(packet: Packet, ipOffset = -1): boolean {
    const buffer = packet.buffer;
    const esp = packet.offset;
    const length = packet.length;
    const t = this.transform;
    if (this.#outbound) return this.drop(Drop.BAD_SPI);
    if (length < 8 + t.ivLength + 2 + t.icvLength) return this.drop(Drop.TRUNCATED);
    const view = buffer === this.#viewBuffer ? this.#view! : this.viewOf(buffer);
    if (view.getUint32(esp) !== this.spi) return this.drop(Drop.BAD_SPI);
    const encrypted = length - 8 - t.ivLength - t.icvLength;
    if (t.blockSize > 4 && encrypted % t.blockSize !== 0) return this.drop(Drop.BAD_LENGTH);
    if (this.#hardReached) return this.drop(Drop.EXPIRED);
    const low = view.getUint32(esp + 4);
    let high = 0;
    if (this.replay) {
      high = this.replay.check(low);
      if (high === REPLAYED) return this.drop(Drop.REPLAY);
      if (high === TOO_OLD) return this.drop(Drop.TOO_OLD);
    }
    const aead = this.#espAead;
    if (!(aead ? aead.open(buffer, esp, encrypted, high, low) : t.open(buffer, view, esp, encrypted, high, low))) {
      return this.drop(Drop.AUTH_FAILURE);
    }
    // only an authenticated packet moves the window (RFC 4303 §3.4.3)
    if (this.replay && !this.replay.accept(high, low)) return this.drop(Drop.REPLAY);

    const start = esp + 8 + t.ivLength;
    const trailer = view.getUint16(start + encrypted - 2);
    const nextHeader = trailer & 0xff;
    const padLength = trailer >> 8;
    if (padLength + 2 > encrypted) return this.drop(Drop.BAD_PADDING);
    const payloadLength = encrypted - 2 - padLength;
    for (let i = 1; i <= padLength; i++) if (buffer[start + payloadLength + i - 1] !== i) return this.drop(Drop.BAD_PADDING);
    if (nextHeader === IpProtocol.NO_NEXT_HEADER) return this.drop(Drop.DUMMY);

    if (this.#tunnel) {
      let innerLength: number;
      // the inner header's checksum is not verified: the packet has just authenticated, and
      // the stack that receives it checks it anyway
      if (nextHeader === IpProtocol.IPV4 && checkIpv4(buffer, start, payloadLength, false) === IpProblem.NONE) {
        innerLength = ipv4TotalLength(buffer, start);
      } else if (nextHeader === IpProtocol.IPV6 && checkIpv6(buffer, start, payloadLength) === IpProblem.NONE) {
        innerLength = IPV6_HEADER_LENGTH + ipv6PayloadLength(buffer, start);
      } else {
        return this.drop(Drop.BAD_INNER_PACKET);
      }
      if (!this.account(innerLength)) return this.drop(Drop.EXPIRED);
      packet.offset = start;
      packet.length = innerLength; // anything after it was TFC padding
      return true;
    }

    // transport mode: put the outer IP header back in front of the payload
    if (ipOffset < 0 || ipOffset >= esp) return this.drop(Drop.BAD_PACKET);
    const version = buffer[ipOffset] >> 4;
    const headerLength = version === 4 ? ipv4HeaderLength(buffer, ipOffset) : IPV6_HEADER_LENGTH;
    if (version !== 4 && version !== 6) return this.drop(Drop.BAD_PACKET);
    const header = start - headerLength;
    buffer.copyWithin(header, ipOffset, ipOffset + headerLength);
    if (version === 4) updateIpv4(buffer, header, headerLength + payloadLength, nextHeader);
    else updateIpv6(buffer, header, payloadLength, nextHeader);
    const nat = this.#natOriginal;
    if (nat) fixTransportChecksum(buffer, header, headerLength + payloadLength, nat.source, nat.destination);
    if (!this.account(headerLength + payloadLength)) return this.drop(Drop.EXPIRED);
    packet.offset = header;
    packet.length = headerLength + payloadLength;
    return true;
  }

  /** Reads the SPI of the ESP packet at `offset` (the SAD's lookup key); -1 if too short. */
  static spiOf(buffer: Uint8Array, offset: number, length: number): number {
    return length < 8 ? -1 : readU32(buffer, offset);
  }
}

function isUpperLayer(protocol: number): boolean {
  return protocol !== IpProtocol.HOPOPT && protocol !== IpProtocol.ROUTING && protocol !== IpProtocol.FRAGMENT && protocol !== IpProtocol.DSTOPTS;
}

