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
 * Not yet: transport-mode SAs over UDP encapsulation inbound (the outer IP header is not in
 * the UDP payload), IPv6 outer headers (Moddable's RAW sockets are IPv4 only), IKE.
 */
import type { Host } from './host.js';
import { EspSa, SEAL_HEADROOM, SEAL_TAILROOM, type Packet } from './esp/sa.js';
import type { PfKeyEngine } from './policy/pfkey-engine.js';
import { Action, type Spd } from './policy/spd.js';
import { classifyNatT, NatTPayload } from './wire/udp.js';

export const OUTBOUND_OFFSET = SEAL_HEADROOM;
/** the largest inner packet the gateway takes (the tunnel interface's MTU must not exceed it) */
export const MAX_INNER_PACKET = 2048;

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
  inboundKeepalives = 0;
  inboundIke = 0; // IKE on port 4500 (the IKE engine is not wired yet)
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
  /** remote addresses of outbound SAs, as text for the host, made once per SA */
  readonly #remote = new Map<EspSa, string>();

  constructor(host: Host, spd: Spd, keys: PfKeyEngine) {
    this.#host = host;
    this.#spd = spd;
    this.#keys = keys;
  }

  /** Replaces the policies and SAs at once (a configuration reload); counters carry on. */
  reconfigure(spd: Spd, keys: PfKeyEngine): void {
    this.#spd = spd;
    this.#keys = keys;
    this.#remote.clear();
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
    if (encapsulation) {
      const udp = packet.offset + header + 8;
      this.#host.sendUdp(remote, encapsulation.remotePort, buffer, udp, packet.offset + packet.length - udp);
    } else {
      const esp = packet.offset + header;
      this.#host.sendEsp(remote, buffer, esp, packet.offset + packet.length - esp);
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

  /** A UDP datagram on the NAT-T port (RFC 3948): ESP, a keepalive, or IKE. */
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
    const entry = this.#spd.lookupInbound(buffer, packet.offset, packet.length);
    if (!entry || entry.action !== Action.PROTECT || (entry.spi !== 0 && entry.spi !== spi)) {
      c.inboundPolicyMismatch++;
      return;
    }
    c.inboundDelivered++;
    this.#host.deliver(buffer, packet.offset, packet.length);
  }
}
