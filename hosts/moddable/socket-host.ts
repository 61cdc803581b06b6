/**
 * The gateway's Host over sockets with Moddable's `socket` API and a tunnel interface: UDP
 * 500 (IKE), UDP 4500 (NAT-T: UDP-encapsulated ESP, keepalives and IKE behind the non-ESP
 * marker), RAW protocol 50 and optionally RAW ICMP. The socket class is a parameter, so one
 * implementation serves the ESP32 and the simulator (Moddable's `socket`: ./host.ts) and Node
 * (dgram, UDP only: hosts/node/host.ts).
 *
 * IKE (RFC 7296 §2.23, RFC 3948 §2.2): what arrives on the IKE port, and what arrives on the
 * NAT-T port behind the non-ESP marker (four zero bytes), goes to the IKE receiver given to
 * `attach`, without the marker; `sendIke` puts the marker in front when it sends from the
 * NAT-T port. The marker is all the host knows of IKE.
 */
import { Gateway, OUTBOUND_OFFSET } from '../../src/gateway.js';
import type { Host, IkeReceiver } from '../../src/host.js';
import { hasNonEspMarker, IKE_PORT, NAT_T_PORT, NON_ESP_MARKER_LENGTH } from '../../src/wire/udp.js';

/** What the gateway needs of a tunnel interface (lin/tun's Tun has it). */
export interface TunnelInterface {
  callback: (message: number, byteCount: number) => void;
  read(buffer: Uint8Array, offset: number): number;
  /** false when the packet was refused (a counted drop) */
  write(buffer: Uint8Array, offset: number, length: number): boolean | void;
}

export type SocketLike = {
  callback: (message: number, value?: number, address?: string, port?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer;
  write(...args: unknown[]): void;
  close(): void;
  /** hosts/lin's extensions (hosts/lin/modules/socket.js): no allocation per datagram */
  readInto?(buffer: Uint8Array, offset: number): number;
  writeFrom?(address: string, port: number, buffer: Uint8Array, offset: number, length: number): void;
};

/**
 * Where received datagrams are copied when the socket can read into a caller's buffer: one
 * buffer for all the sockets (callbacks run one at a time). Larger datagrams than this are read
 * the Moddable way, into a new ArrayBuffer: ESP carrying a tunnel MTU of at most
 * MAX_INNER_PACKET is far smaller.
 */
const RECEIVE_BUFFER_SIZE = 4096;

export type SocketConstructor = new (options: { kind: string; port?: number; protocol?: number }) => SocketLike;

export interface SocketHostOptions {
  /** the NAT-T port to listen on (default 4500): UDP-encapsulated ESP, keepalives, IKE behind the non-ESP marker */
  udpPort?: number;
  /**
   * the IKE port to listen on (default 500, RFC 7296 §2.23); 0, or the same port as
   * `udpPort`, opens no separate IKE socket (IKE then runs on the NAT-T port only, behind
   * the marker, e.g. when IKE and ESP share one custom port)
   */
  ikePort?: number;
  /** open a RAW protocol-50 socket for ESP without UDP (needs CAP_NET_RAW; not on Node) */
  raw?: boolean;
  /**
   * also read ICMP (a RAW protocol-1 socket) for routers' "fragmentation needed" about our
   * packets (RFC 4301 §8.2.1). On Linux a raw socket gets a copy of each ICMP packet and the
   * kernel still answers pings; on lwIP a RAW PCB that keeps a packet takes it from lwIP's
   * own ICMP, so the device decides this per board (issue 6).
   */
  icmp?: boolean;
}

/**
 * One datagram from `socket`. A send that fails (no route, no buffer space, a packet the
 * stack refuses) throws in Moddable's socket as in ours: caught here, so that it is a counted
 * drop, not the end of the callback that was sealing.
 */
function send(socket: SocketLike, address: string, port: number, buffer: Uint8Array, offset: number, length: number): boolean {
  try {
    if (socket.writeFrom) socket.writeFrom(address, port, buffer, offset, length);
    else socket.write(address, port, buffer.subarray(offset, offset + length));
    return true;
  } catch {
    return false;
  }
}

export class SocketHost implements Host {
  readonly #tunnel: TunnelInterface;
  readonly #udp: SocketLike;
  readonly #udpPort: number;
  /** the IKE port's socket, null when there is none (ikePort 0) */
  readonly #ike: SocketLike | null;
  readonly #ikePort: number;
  readonly #raw: SocketLike | null;
  readonly #icmp: SocketLike | null;
  readonly #start = Date.now();
  readonly #received = new Uint8Array(RECEIVE_BUFFER_SIZE);
  /** the length of the datagram #read returned */
  #length = 0;

  constructor(Socket: SocketConstructor, tunnel: TunnelInterface, options: SocketHostOptions = {}) {
    this.#tunnel = tunnel;
    this.#udpPort = options.udpPort ?? NAT_T_PORT;
    const ikePort = options.ikePort ?? IKE_PORT;
    this.#ikePort = ikePort === this.#udpPort ? 0 : ikePort;
    this.#udp = new Socket({ kind: 'UDP', port: this.#udpPort });
    this.#ike = this.#ikePort ? new Socket({ kind: 'UDP', port: this.#ikePort }) : null;
    this.#raw = options.raw === false ? null : new Socket({ kind: 'RAW', protocol: 50 });
    this.#icmp = options.icmp ? new Socket({ kind: 'RAW', protocol: 1 }) : null;
  }

  /**
   * Connects the sockets and the tunnel interface to a gateway, and IKE to `ike`: each
   * datagram on the IKE port, as it is (however short: the IKE engine counts what it
   * refuses), and each datagram on the NAT-T port that has the non-ESP marker and something
   * after it, without the marker (RFC 3948 §2.2). Each message is a fresh copy. Everything
   * else on the NAT-T port goes to gateway.inboundUdp, as without `ike`: ESP, keepalives, and
   * the marker alone (four zero bytes, counted there as inboundNotEsp). Without `ike`, IKE
   * messages on either port are counted in gateway.counters.inboundIke and dropped.
   */
  attach(gateway: Gateway, ike?: IkeReceiver): void {
    this.#tunnel.callback = () => {
      const n = this.#tunnel.read(gateway.outboundBuffer, OUTBOUND_OFFSET);
      gateway.outbound(n);
    };
    const raw = this.#raw;
    const udp = this.#udp;
    const icmp = this.#icmp;
    const ikeSocket = this.#ike;
    const udpPort = this.#udpPort;
    const ikePort = this.#ikePort;
    if (ike) {
      // the ESP path: the shared buffer, the four marker bytes looked at, nothing allocated
      udp.callback = (message, count, address, port) => {
        if (message !== 2) return;
        const data = this.#read(udp, count!);
        const length = this.#length;
        if (hasNonEspMarker(data, 0, length)) ike(data.slice(NON_ESP_MARKER_LENGTH, length), address!, port!, udpPort);
        else gateway.inboundUdp(data, 0, length);
      };
    } else {
      udp.callback = (message, count) => {
        if (message === 2) gateway.inboundUdp(this.#read(udp, count!), 0, this.#length);
      };
    }
    if (ikeSocket) {
      ikeSocket.callback = (message, count, address, port) => {
        if (message !== 2) return;
        const data = this.#read(ikeSocket, count!); // read even when dropped: consumed as on every socket
        if (ike) ike(data.slice(0, this.#length), address!, port!, ikePort);
        else gateway.counters.inboundIke++;
      };
    }
    if (raw) {
      raw.callback = (message, count) => {
        if (message === 2) gateway.inboundEsp(this.#read(raw, count!), 0, this.#length);
      };
    }
    if (icmp) {
      icmp.callback = (message, count) => {
        if (message === 2) gateway.inboundIcmp(this.#read(icmp, count!), 0, this.#length);
      };
    }
  }

  /**
   * The datagram being delivered, its length in #length: copied into the shared receive
   * buffer when the socket can (readInto) and it fits, else in a new ArrayBuffer (Moddable's
   * `read(ArrayBuffer)`).
   */
  #read(socket: SocketLike, count: number): Uint8Array {
    if (socket.readInto && count <= RECEIVE_BUFFER_SIZE) {
      this.#length = socket.readInto(this.#received, 0);
      return this.#received;
    }
    const data = new Uint8Array(socket.read(ArrayBuffer));
    this.#length = data.length;
    return data;
  }

  now(): number {
    return Date.now() - this.#start;
  }

  // a send that fails is a counted drop, as in send() above
  sendEsp(address: string, buffer: Uint8Array, offset: number, length: number): boolean {
    const raw = this.#raw;
    if (!raw) return false; // no RAW socket here: ESP goes in UDP only
    try {
      if (raw.writeFrom) raw.writeFrom(address, 0, buffer, offset, length);
      else raw.write(address, buffer.subarray(offset, offset + length));
      return true;
    } catch {
      return false;
    }
  }

  sendUdp(address: string, port: number, buffer: Uint8Array, offset: number, length: number): boolean {
    return send(this.#udp, address, port, buffer, offset, length);
  }

  sendIke(localPort: number, address: string, port: number, message: Uint8Array): boolean {
    if (localPort === this.#udpPort) {
      // RFC 3948 §2.2: on the NAT-T port, the non-ESP marker (four zero bytes) goes first
      const datagram = new Uint8Array(NON_ESP_MARKER_LENGTH + message.length);
      datagram.set(message, NON_ESP_MARKER_LENGTH);
      return send(this.#udp, address, port, datagram, 0, datagram.length);
    }
    const ike = this.#ike;
    if (!ike || localPort !== this.#ikePort) return false;
    return send(ike, address, port, message, 0, message.length);
  }

  deliver(buffer: Uint8Array, offset: number, length: number): boolean {
    return this.#tunnel.write(buffer, offset, length) !== false;
  }

  close(): void {
    this.#udp.close();
    this.#ike?.close();
    this.#raw?.close();
    this.#icmp?.close();
  }
}
