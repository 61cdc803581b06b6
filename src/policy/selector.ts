/**
 * Traffic selectors (RFC 4301 §4.4.1.1): address ranges, next protocol and port ranges,
 * matched against a packet in its buffer without allocating.
 *
 * Addresses are ranges of one family (start and end inclusive, 4 or 16 bytes, compared as
 * big-endian numbers); a prefix such as 10.1.0.0/16 is the range 10.1.0.0-10.1.255.255.
 * Ports apply to TCP, UDP, SCTP (and UDP-Lite); for ICMP and ICMPv6 the "local port" range
 * holds the message type and the "remote port" range the code (RFC 4301 §4.4.1.1).
 */
import { readU32 } from '../crypto/bytes.js';
import { IPV6_HEADER_LENGTH, IpProtocol } from '../wire/ip.js';

export interface AddressRange {
  /** 4 or 16 bytes */
  start: Uint8Array;
  /** 4 or 16 bytes, same family as start, start <= end */
  end: Uint8Array;
}

export interface Selector {
  local: AddressRange;
  remote: AddressRange;
  /** IP protocol number; 0 for any (RFC 4301 "ANY") */
  protocol: number;
  /** inclusive port range; [0, 65535] for any */
  localPorts: [number, number];
  remotePorts: [number, number];
}

/** Parses "10.1.0.0/16", "192.0.2.7", "2001:db8::/32", "10.0.0.1-10.0.0.9" into a range. */
export function parseRange(text: string): AddressRange {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const range = { start: parseAddress(text.slice(0, dash)), end: parseAddress(text.slice(dash + 1)) };
    if (range.start.length !== range.end.length) throw new RangeError(`${text}: the two ends are of different families`);
    if (compare(range.start, 0, range.end) > 0) throw new RangeError(`${text}: the range is backwards`);
    return range;
  }
  const slash = text.indexOf('/');
  const start = parseAddress(slash < 0 ? text : text.slice(0, slash));
  const bits = start.length * 8;
  const prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))) {
    throw new RangeError(`${text}: prefix length must be 0 to ${bits}`);
  }
  const end = start.slice();
  for (let bit = prefix; bit < bits; bit++) {
    start[bit >> 3] &= ~(0x80 >> (bit & 7));
    end[bit >> 3] |= 0x80 >> (bit & 7);
  }
  return { start, end };
}

/** Parses a dotted IPv4 or an RFC 4291 IPv6 address (with "::"); throws on anything else. */
export function parseAddress(text: string): Uint8Array {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    if (parts.some((p) => p > 255)) throw new RangeError(`${text}: not an IPv4 address`);
    return Uint8Array.from(parts);
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.length < 2) throw new RangeError(`${text}: not an IP address`);
  const halves = text.split('::');
  if (halves.length > 2) throw new RangeError(`${text}: more than one "::"`);
  const words = (s: string) => (s === '' ? [] : s.split(':'));
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) throw new RangeError(`${text}: not 8 groups`);
  const all = [...head, ...new Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((word, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(word)) throw new RangeError(`${text}: bad group "${word}"`);
    const v = parseInt(word, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Whether text is a dotted IPv4 address (parseAddress's rules). */
export function isIpv4Address(text: string): boolean {
  try {
    return parseAddress(text).length === 4;
  } catch {
    return false;
  }
}

/** An address as text: dotted IPv4, or IPv6 in RFC 5952 form (lower case, the longest run of zeros as "::"). */
export function formatAddress(address: Uint8Array): string {
  if (address.length === 4) return Array.from(address).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((address[i] << 8) | address[i + 1]);
  let best = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero word is not shortened
  for (let i = 0; i < 8; i++) {
    let n = 0;
    while (i + n < 8 && words[i + n] === 0) n++;
    if (n > bestLength) [best, bestLength] = [i, n];
    i += n;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLength))}`;
}

/** Compares buffer[offset, offset+n) with `value` (n = value.length) as big-endian numbers. */
function compare(buffer: Uint8Array, offset: number, value: Uint8Array): number {
  for (let i = 0; i < value.length; i++) {
    const d = buffer[offset + i] - value[i];
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether the address at buffer[offset] (of the range's family) lies in the range. */
export function inRange(range: AddressRange, buffer: Uint8Array, offset: number): boolean {
  return compare(buffer, offset, range.start) >= 0 && compare(buffer, offset, range.end) <= 0;
}

/** Whether `inner` is wholly inside `outer` (same family). */
export function rangeWithin(inner: AddressRange, outer: AddressRange): boolean {
  return inner.start.length === outer.start.length && compare(inner.start, 0, outer.start) >= 0 && compare(inner.end, 0, outer.end) <= 0;
}

/** A selector matching everything of one family. */
export function anySelector(family: 4 | 6): Selector {
  const any = family === 4 ? '0.0.0.0/0' : '::/0';
  return { local: parseRange(any), remote: parseRange(any), protocol: 0, localPorts: [0, 65535], remotePorts: [0, 65535] };
}

function hasPorts(protocol: number): boolean {
  return protocol === IpProtocol.TCP || protocol === IpProtocol.UDP || protocol === 132 /* SCTP */ || protocol === 136 /* UDP-Lite */;
}

/**
 * Whether the IP packet at buffer[offset, offset+length) matches. `outbound` says which of its
 * addresses is ours: the source of an outbound packet, the destination of an inbound one.
 * A packet too short for the fields the selector needs does not match.
 */
export function matchesPacket(selector: Selector, buffer: Uint8Array, offset: number, length: number, outbound: boolean): boolean {
  if (length < 20) return false;
  const version = buffer[offset] >> 4;
  const family = selector.local.start.length === 4 ? 4 : 6;
  if (version !== family) return false;
  let protocol: number;
  let transport: number;
  let source: number;
  let destination: number;
  if (version === 4) {
    protocol = buffer[offset + 9];
    transport = offset + (buffer[offset] & 15) * 4;
    source = offset + 12;
    destination = offset + 16;
    // a non-first fragment carries no ports (RFC 4301 §7): only port-less selectors match it
    if (((buffer[offset + 6] & 0x1f) | buffer[offset + 7]) !== 0 && !portless(selector)) return false;
  } else {
    if (length < IPV6_HEADER_LENGTH) return false;
    protocol = buffer[offset + 6];
    transport = offset + IPV6_HEADER_LENGTH;
    source = offset + 8;
    destination = offset + 24;
  }
  const local = outbound ? source : destination;
  const remote = outbound ? destination : source;
  if (!inRange(selector.local, buffer, local) || !inRange(selector.remote, buffer, remote)) return false;
  if (selector.protocol !== 0 && selector.protocol !== protocol) return false;
  if (portless(selector)) return true;
  let localPort: number;
  let remotePort: number;
  if (hasPorts(protocol)) {
    if (transport + 4 > offset + length) return false;
    const sourcePort = (buffer[transport] << 8) | buffer[transport + 1];
    const destinationPort = (buffer[transport + 2] << 8) | buffer[transport + 3];
    localPort = outbound ? sourcePort : destinationPort;
    remotePort = outbound ? destinationPort : sourcePort;
  } else if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6) {
    if (transport + 2 > offset + length) return false;
    localPort = buffer[transport]; // type
    remotePort = buffer[transport + 1]; // code
  } else {
    return false; // the selector names ports, the protocol has none
  }
  return localPort >= selector.localPorts[0] && localPort <= selector.localPorts[1] &&
    remotePort >= selector.remotePorts[0] && remotePort <= selector.remotePorts[1];
}

/**
 * The fields of one IP packet that selectors look at, read once per packet rather than once
 * per SPD entry, and held as numbers. On XS a typed-array element read costs about 470
 * instructions and a DataView word read about 650, while comparing two numbers costs a few
 * dozen: reading the 5-tuple once and comparing words took the outbound SPD lookup of the
 * simulator's one-policy configuration from ~37,000 instructions per packet to ~5,000.
 * `matchesPacket` above is the plain statement of the same rules (and the tests' reference).
 */
export class PacketFields {
  /** false when no selector can match (shorter than the IP header, or not IP) */
  valid = false;
  version = 0;
  protocol = 0;
  /** IPv4 addresses as unsigned 32-bit numbers */
  source = 0;
  destination = 0;
  /** IPv6: where the addresses are in `buffer` (compared byte by byte) */
  sourceOffset = 0;
  destinationOffset = 0;
  buffer: Uint8Array = new Uint8Array(0);
  /**
   * Ports (TCP, UDP, SCTP, UDP-Lite) or ICMP type and code; -1 when the packet has none (too
   * short, another protocol, or a non-first IPv4 fragment: RFC 4301 §7). Read only when a
   * selector names ports (`readPorts`): gateway policies are usually subnet to subnet.
   */
  sourcePort = -1;
  destinationPort = -1;
  /** the "ports" are ICMP's type (sourcePort) and code (destinationPort) */
  icmp = false;
  #portsRead = false;
  #ip = 0;
  #transport = 0;
  #end = 0;
  #view: DataView | null = null;

  /** Reads the packet at buffer[offset, offset+length); false when no selector can match it. */
  read(buffer: Uint8Array, offset: number, length: number): boolean {
    this.valid = false;
    if (length < 20) return false;
    let view = this.#view;
    if (buffer !== this.buffer || view === null) {
      this.buffer = buffer;
      view = this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    const first = buffer[offset];
    const version = first >> 4;
    if (version === 4) {
      this.protocol = buffer[offset + 9];
      this.source = view.getUint32(offset + 12);
      this.destination = view.getUint32(offset + 16);
      this.#transport = offset + (first & 15) * 4;
    } else if (version === 6) {
      if (length < IPV6_HEADER_LENGTH) return false;
      this.protocol = buffer[offset + 6];
      this.sourceOffset = offset + 8;
      this.destinationOffset = offset + 24;
      this.#transport = offset + IPV6_HEADER_LENGTH;
    } else {
      return false;
    }
    this.version = version;
    this.#ip = offset;
    this.#end = offset + length;
    this.#portsRead = false;
    this.valid = true;
    return true;
  }

  /** Fills sourcePort and destinationPort (once per packet). */
  readPorts(): void {
    if (this.#portsRead) return;
    this.#portsRead = true;
    this.sourcePort = -1;
    this.destinationPort = -1;
    this.icmp = false;
    const view = this.#view!;
    const transport = this.#transport;
    const protocol = this.protocol;
    // a non-first IPv4 fragment: its ports are in the first fragment (RFC 4301 §7)
    if (this.version === 4 && (view.getUint16(this.#ip + 6) & 0x1fff) !== 0) return;
    if (hasPorts(protocol)) {
      if (transport + 4 <= this.#end) {
        const ports = view.getUint32(transport);
        this.sourcePort = ports >>> 16;
        this.destinationPort = ports & 0xffff;
      }
    } else if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6) {
      if (transport + 2 <= this.#end) {
        const typeAndCode = view.getUint16(transport);
        this.sourcePort = typeAndCode >> 8; // type
        this.destinationPort = typeAndCode & 0xff; // code
        this.icmp = true;
      }
    }
  }
}

/** A selector prepared for PacketFields: its IPv4 bounds as numbers. Same rules as matchesPacket. */
export class CompiledSelector {
  readonly #selector: Selector;
  readonly #family: number;
  readonly #localStart: number;
  readonly #localEnd: number;
  readonly #remoteStart: number;
  readonly #remoteEnd: number;
  readonly #protocol: number;
  readonly #portless: boolean;
  /** the port ranges as numbers (copies of the selector's, not arrays: fewer objects per SPD entry) */
  readonly #localPortLow: number;
  readonly #localPortHigh: number;
  readonly #remotePortLow: number;
  readonly #remotePortHigh: number;

  constructor(selector: Selector) {
    const word = (a: Uint8Array) => readU32(a, 0);
    this.#selector = selector;
    this.#family = selector.local.start.length === 4 ? 4 : 6;
    const v4 = this.#family === 4;
    this.#localStart = v4 ? word(selector.local.start) : 0;
    this.#localEnd = v4 ? word(selector.local.end) : 0;
    this.#remoteStart = v4 ? word(selector.remote.start) : 0;
    this.#remoteEnd = v4 ? word(selector.remote.end) : 0;
    this.#protocol = selector.protocol;
    this.#portless = portless(selector);
    this.#localPortLow = selector.localPorts[0];
    this.#localPortHigh = selector.localPorts[1];
    this.#remotePortLow = selector.remotePorts[0];
    this.#remotePortHigh = selector.remotePorts[1];
  }

  /** Whether the packet read into `p` matches; `outbound` as for matchesPacket. */
  matches(p: PacketFields, outbound: boolean): boolean {
    if (!p.valid || p.version !== this.#family) return false;
    if (p.version === 4) {
      const local = outbound ? p.source : p.destination;
      const remote = outbound ? p.destination : p.source;
      if (local < this.#localStart || local > this.#localEnd || remote < this.#remoteStart || remote > this.#remoteEnd) return false;
    } else {
      const local = outbound ? p.sourceOffset : p.destinationOffset;
      const remote = outbound ? p.destinationOffset : p.sourceOffset;
      if (!inRange(this.#selector.local, p.buffer, local) || !inRange(this.#selector.remote, p.buffer, remote)) return false;
    }
    if (this.#protocol !== 0 && this.#protocol !== p.protocol) return false;
    if (this.#portless) return true;
    p.readPorts();
    if (p.sourcePort < 0) return false; // the selector names ports; the packet has none
    // ICMP's type and code are "local" and "remote" whichever the direction (RFC 4301 §4.4.1.1)
    const swap = !outbound && !p.icmp;
    const localPort = swap ? p.destinationPort : p.sourcePort;
    const remotePort = swap ? p.sourcePort : p.destinationPort;
    return localPort >= this.#localPortLow && localPort <= this.#localPortHigh && remotePort >= this.#remotePortLow && remotePort <= this.#remotePortHigh;
  }
}

function portless(selector: Selector): boolean {
  return selector.localPorts[0] === 0 && selector.localPorts[1] === 65535 && selector.remotePorts[0] === 0 && selector.remotePorts[1] === 65535;
}

/** Whether `inner` allows nothing that `outer` does not (for PAD checks and narrowing). */
export function selectorWithin(inner: Selector, outer: Selector): boolean {
  return rangeWithin(inner.local, outer.local) && rangeWithin(inner.remote, outer.remote) &&
    (outer.protocol === 0 || inner.protocol === outer.protocol) &&
    inner.localPorts[0] >= outer.localPorts[0] && inner.localPorts[1] <= outer.localPorts[1] &&
    inner.remotePorts[0] >= outer.remotePorts[0] && inner.remotePorts[1] <= outer.remotePorts[1];
}
