/**
 * The gateway: wires the SPD, the SAs (installed through PF_KEY) and the ESP data path to a
 * Host (src/host.ts), in both directions:
 *   outbound: tunnel interface -> SPD -> ESP seal -> UDP 4500 or IP protocol 50;
 *   inbound:  ESP (raw or UDP 4500) -> SA by SPI -> ESP open -> inbound policy check
 *             (RFC 4301 §5.2: the inner packet must match a PROTECT policy of that SA) ->
 *             tunnel interface.
 * Every packet that is not passed on is counted under a reason (`counters`); nothing is
 * thrown on the data path and nothing is allocated per packet (tunnel mode over IPv4).
 *
 * The host reads the tunnel interface straight into `outboundBuffer` at `OUTBOUND_OFFSET`
 * (headroom for the outer headers in front) and calls `outbound(length)`.
 *
 * Path MTU (RFC 4301 §8): each outbound SA carries the path MTU toward its peer (the
 * configured one, lowered by ICMP "fragmentation needed" from routers on the way, RFC 4301
 * §8.2.1, and raised back after PMTU_AGING_MS, §8.2.2). An inner packet that would not fit
 * once sealed is answered, when it may not be fragmented (IPv4 DF, or IPv6), with an ICMP
 * "too big" carrying the MTU that fits, through the tunnel interface to its sender (§8.1);
 * an IPv4 packet that may be fragmented is sealed and its outer packet fragmented on the way.
 *
 * Not yet: transport-mode SAs over UDP encapsulation inbound (the outer IP header is not in
 * the UDP payload), IPv6 outer headers (Moddable's RAW sockets are IPv4 only), IKE.
 */
import type { Host } from './host.js';
import { EspSa, SEAL_HEADROOM, SEAL_TAILROOM, type Packet } from './esp/sa.js';
import type { PfKeyEngine } from './policy/pfkey-engine.js';
import { Action, type Spd } from './policy/spd.js';
import { classifyNatT, NatTPayload } from './wire/udp.js';
import { ICMP_FRAGMENTATION_NEEDED, ICMP_UNREACHABLE, icmpTypeAndCode, IPV4_MINIMUM_MTU, readTooBig, writeTooBig } from './wire/icmp.js';
import { IpProtocol } from './wire/ip.js';
import { readU32 } from './crypto/bytes.js';

export const OUTBOUND_OFFSET = SEAL_HEADROOM;
/** the largest inner packet the gateway takes (the tunnel interface's MTU must not exceed it) */
export const MAX_INNER_PACKET = 2048;

/** RFC 1191 §6.3 / RFC 4301 §8.2.2: try the configured path MTU again after ten minutes */
export const PMTU_AGING_MS = 10 * 60 * 1000;
/**
 * The lowest path MTU an ICMP message may set (Linux's min_pmtu is 552): the messages are
 * not authenticated (RFC 4301 §8.2.1), and a forged one must not shrink packets to nothing.
 */
export const MINIMUM_PATH_MTU = 576;
/** RFC 4443 §2.4(f), RFC 1812 §4.3.2.8: ICMP errors we originate are rate-limited */
export const ICMP_ERRORS_PER_SECOND = 10;
/** RFC 1191 §7: the plateaus to guess from when a router announces no MTU (an RFC 792 one) */
const MTU_PLATEAUS = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, IPV4_MINIMUM_MTU];

export interface GatewayOptions {
  /** the path MTU toward the peers, before any ICMP lowers it (default 1500) */
  pathMtu?: number;
  /** our address on the tunnel interface (4 or 16 bytes): the source of the ICMP errors we send */
  tunnelAddress?: Uint8Array;
}

/** What happened to packets, by reason (numbers counted in place, read for status output). */
export class GatewayCounters {
  outboundProtected = 0;
  outboundDiscarded = 0; // DISCARD policy, or no policy (the SPD's default)
  outboundBypass = 0; // a BYPASS policy matched a packet routed into the tunnel: not ours to send
  outboundNoSa = 0; // PROTECT without an SA yet: an ACQUIRE is raised
  outboundSealFailed = 0; // see the SA's own drop counters
  inboundDelivered = 0;
  inboundUnknownSpi = 0;
  inboundNotEsp = 0; // too short, or not IPv4 carrying ESP
  inboundOpenFailed = 0; // see the SA's own drop counters
  inboundPolicyMismatch = 0; // RFC 4301 §5.2
  inboundDeliverFailed = 0; // the tunnel interface refused the opened packet
  outboundTooBig = 0; // did not fit the SA's path MTU and may not be fragmented: ICMP sent
  outboundSendFailed = 0; // the host could not send (no route, no buffer space)
  icmpTooBigSent = 0;
  icmpRateLimited = 0; // "too big" errors not sent (rate limit)
  icmpPathMtuLowered = 0; // RFC 4301 §8.2.1: an SA's path MTU lowered by a router's ICMP
  icmpIgnored = 0; // "fragmentation needed" not about one of our SAs, not lowering anything, or malformed
  inboundKeepalives = 0;
  inboundIke = 0; // IKE on port 500, or on 4500 behind the non-ESP marker, with no IKE receiver attached to the host
}

export class Gateway {
  readonly counters = new GatewayCounters();
  /** where the host puts each packet read from the tunnel interface, at OUTBOUND_OFFSET */
  readonly outboundBuffer = new Uint8Array(OUTBOUND_OFFSET + MAX_INNER_PACKET + SEAL_TAILROOM);
  /** SPD entries that need an SA (ACQUIRE raised), for the key manager to drain */
  readonly acquires: string[] = [];
  readonly #host: Host;
  #spd: Spd;
  #keys: PfKeyEngine;
  readonly #packet: Packet = { buffer: this.outboundBuffer, offset: 0, length: 0 };
  readonly #inbound: Packet = { buffer: this.outboundBuffer, offset: 0, length: 0 };
  /**
   * remote addresses of outbound SAs, as text for the host, made once per SA; weak, so that an
   * SA deleted or replaced by a rekey goes (a Map kept every SA that ever sent, and with it its
   * keys: on XS its native key slots, of which PSA has 32)
   */
  #remote = new WeakMap<EspSa, string>();
  readonly #pathMtu: number;
  readonly #tunnelAddress: Uint8Array;
  /** SAs whose path MTU an ICMP message lowered, and when */
  readonly #lowered = new Map<EspSa, number>();
  /** ICMP errors we may still send in the current second, and when that second started */
  #icmpBudget = ICMP_ERRORS_PER_SECOND;
  #icmpSecond = 0;
  /** where ICMP errors are written before they are delivered */
  readonly #icmpBuffer = new Uint8Array(1280);

  constructor(host: Host, spd: Spd, keys: PfKeyEngine, options: GatewayOptions = {}) {
    this.#host = host;
    this.#spd = spd;
    this.#keys = keys;
    this.#pathMtu = options.pathMtu ?? 1500;
    this.#tunnelAddress = options.tunnelAddress ?? new Uint8Array(4);
  }

  /** Replaces the policies and SAs at once (a configuration reload); counters carry on. */
  reconfigure(spd: Spd, keys: PfKeyEngine): void {
    this.#spd = spd;
    this.#keys = keys;
    this.#remote = new WeakMap();
    this.#lowered.clear();
    this.acquires.length = 0;
  }

  /** A packet of `length` bytes read from the tunnel interface into outboundBuffer at OUTBOUND_OFFSET. */
  outbound(length: number): void {
    const buffer = this.outboundBuffer;
    const c = this.counters;
    if (length <= 0 || length > MAX_INNER_PACKET) {
      c.outboundDiscarded++;
      return;
    }
    const entry = this.#spd.lookupOutbound(buffer, OUTBOUND_OFFSET, length);
    if (!entry || entry.action === Action.DISCARD) {
      c.outboundDiscarded++;
      return;
    }
    if (entry.action === Action.BYPASS) {
      c.outboundBypass++;
      return;
    }
    const sa = entry.spi ? this.#keys.sa(entry.spi) : undefined;
    if (!(sa instanceof EspSa) || !sa.outbound) {
      c.outboundNoSa++;
      if (!this.acquires.includes(entry.name)) this.acquires.push(entry.name);
      return;
    }
    if (sa.pathMtu === 0) sa.setPathMtu(this.#pathMtu);
    if (length > sa.maxInnerLength && this.#tooBig(buffer, length, sa)) return;
    const packet = this.#packet;
    packet.offset = OUTBOUND_OFFSET;
    packet.length = length;
    if (!sa.seal(packet)) {
      c.outboundSealFailed++;
      return;
    }
    c.outboundProtected++;
    const remote = this.#remoteOf(sa, buffer, packet.offset);
    const header = (buffer[packet.offset] & 15) * 4;
    const encapsulation = sa.encapsulation;
    let sent: boolean;
    if (encapsulation) {
      const udp = packet.offset + header + 8;
      sent = this.#host.sendUdp(remote, encapsulation.remotePort, buffer, udp, packet.offset + packet.length - udp);
    } else {
      const esp = packet.offset + header;
      sent = this.#host.sendEsp(remote, buffer, esp, packet.offset + packet.length - esp);
    }
    if (!sent) c.outboundSendFailed++;
  }

  /**
   * RFC 4301 §8.1: an inner packet too big for the SA's path. True when it was refused (with
   * an ICMP "too big" to its sender, rate permitting); false when it may go on to be sealed
   * (IPv4 without DF: the outer packet is fragmented).
   */
  #tooBig(buffer: Uint8Array, length: number, sa: EspSa): boolean {
    const version = buffer[OUTBOUND_OFFSET] >> 4;
    if (version === 4 && (buffer[OUTBOUND_OFFSET + 6] & 0x40) === 0) return false; // DF clear
    const c = this.counters;
    c.outboundTooBig++;
    const now = this.#host.now();
    if (now - this.#icmpSecond >= 1000) {
      this.#icmpSecond = now;
      this.#icmpBudget = ICMP_ERRORS_PER_SECOND;
    }
    if (this.#icmpBudget === 0) {
      c.icmpRateLimited++;
      return true;
    }
    const n = writeTooBig(this.#icmpBuffer, 0, buffer, OUTBOUND_OFFSET, length, this.#tunnelAddress, sa.maxInnerLength);
    if (n > 0) {
      this.#icmpBudget--;
      c.icmpTooBigSent++;
      this.#host.deliver(this.#icmpBuffer, 0, n);
    }
    return true;
  }

  /**
   * An ICMP message from the network, its IPv4 header first (a RAW ICMP socket's view). A
   * "fragmentation needed" about one of our outer packets lowers the path MTU of the
   * outbound SAs it concerns (RFC 4301 §8.2.1): the quoted packet must have gone from our
   * tunnel endpoint to the SA's peer, carrying the SA's SPI (ESP) or its NAT-T ports (UDP).
   */
  inboundIcmp(buffer: Uint8Array, offset: number, length: number): void {
    const c = this.counters;
    // a RAW ICMP socket sees every ICMP message (pings, their replies): only "fragmentation
    // needed" is ours to read; the rest is not counted
    const kind = icmpTypeAndCode(buffer, offset, length);
    if (kind >= 0 && kind !== ((ICMP_UNREACHABLE << 8) | ICMP_FRAGMENTATION_NEEDED)) return;
    const report = readTooBig(buffer, offset, length);
    if (!report) {
      c.icmpIgnored++;
      return;
    }
    const q = report.quoted;
    const quotedHeader = (buffer[q] & 15) * 4;
    const protocol = buffer[q + 9];
    const next = q + quotedHeader;
    let mtu = report.mtu;
    if (mtu < IPV4_MINIMUM_MTU) {
      // RFC 1191 §7: no MTU announced; the plateau below the size of the packet that failed
      const failed = (buffer[q + 2] << 8) | buffer[q + 3];
      mtu = IPV4_MINIMUM_MTU;
      for (const plateau of MTU_PLATEAUS) {
        if (plateau < failed) {
          mtu = plateau;
          break;
        }
      }
    }
    mtu = Math.max(mtu, MINIMUM_PATH_MTU);
    let lowered = false;
    for (const sa of this.#keys.all()) {
      if (!(sa instanceof EspSa) || !sa.outbound) continue;
      const a = sa.tunnelAddresses;
      if (!a || a.length !== 8) continue; // IPv4 endpoints (ICMP here is ICMPv4)
      let same = true;
      for (let i = 0; i < 8 && same; i++) same = a[i] === buffer[q + 12 + i];
      if (!same) continue;
      const e = sa.encapsulation;
      if (protocol === IpProtocol.ESP) {
        if (e || readU32(buffer, next) !== sa.spi) continue;
      } else if (protocol === IpProtocol.UDP) {
        if (!e || ((buffer[next] << 8) | buffer[next + 1]) !== e.localPort || ((buffer[next + 2] << 8) | buffer[next + 3]) !== e.remotePort) continue;
      } else {
        continue;
      }
      const current = sa.pathMtu || this.#pathMtu;
      if (mtu >= current) continue; // only routers' reports that lower it (RFC 1191 §6.3 raises by aging)
      sa.setPathMtu(mtu);
      this.#lowered.set(sa, this.#host.now());
      lowered = true;
    }
    if (lowered) c.icmpPathMtuLowered++;
    else c.icmpIgnored++;
  }

  /** Timers: path MTUs lowered by ICMP go back to the configured one after PMTU_AGING_MS (RFC 4301 §8.2.2). */
  tick(): void {
    const now = this.#host.now();
    for (const [sa, when] of this.#lowered) {
      if (now - when >= PMTU_AGING_MS) {
        sa.setPathMtu(this.#pathMtu);
        this.#lowered.delete(sa);
      }
    }
  }

  #remoteOf(sa: EspSa, buffer: Uint8Array, ip: number): string {
    let remote = this.#remote.get(sa);
    if (remote === undefined) {
      remote = `${buffer[ip + 16]}.${buffer[ip + 17]}.${buffer[ip + 18]}.${buffer[ip + 19]}`;
      if (sa.mode === 'tunnel') this.#remote.set(sa, remote); // transport: per packet's destination
    }
    return remote;
  }

  /** An ESP packet as a RAW protocol-50 socket reads it: from its IPv4 header on. */
  inboundEsp(buffer: Uint8Array, offset: number, length: number): void {
    if (length < 28 || buffer[offset] >> 4 !== 4 || buffer[offset + 9] !== 50) {
      this.counters.inboundNotEsp++;
      return;
    }
    const header = (buffer[offset] & 15) * 4;
    this.#open(buffer, offset + header, length - header, offset);
  }

  /**
   * A UDP datagram on the NAT-T port (RFC 3948): ESP, a keepalive, or IKE behind the non-ESP
   * marker, only counted here (a host with an IKE receiver gives IKE to it instead, see
   * SocketHost.attach); the marker alone is counted as inboundNotEsp.
   */
  inboundUdp(buffer: Uint8Array, offset: number, length: number): void {
    const kind = classifyNatT(buffer, offset, length);
    if (kind === NatTPayload.ESP) this.#open(buffer, offset, length, -1);
    else if (kind === NatTPayload.KEEPALIVE) this.counters.inboundKeepalives++;
    else if (kind === NatTPayload.IKE) this.counters.inboundIke++;
    else this.counters.inboundNotEsp++;
  }

  #open(buffer: Uint8Array, esp: number, length: number, ip: number): void {
    const c = this.counters;
    const spi = EspSa.spiOf(buffer, esp, length);
    const sa = spi >= 0 ? this.#keys.sa(spi) : undefined;
    if (!(sa instanceof EspSa) || sa.outbound) {
      c.inboundUnknownSpi++;
      return;
    }
    const packet = this.#inbound;
    packet.buffer = buffer;
    packet.offset = esp;
    packet.length = length;
    if (!sa.open(packet, ip)) {
      c.inboundOpenFailed++;
      return;
    }
    // RFC 4301 §5.2: what arrives on an SA must be traffic a PROTECT policy assigns to it
    const entry = this.#spd.lookupInboundFor(spi, buffer, packet.offset, packet.length);
    if (!entry || entry.action !== Action.PROTECT || (entry.spi !== 0 && entry.spi !== spi)) {
      c.inboundPolicyMismatch++;
      return;
    }
    if (this.#host.deliver(buffer, packet.offset, packet.length)) c.inboundDelivered++;
    else c.inboundDeliverFailed++;
  }
}
