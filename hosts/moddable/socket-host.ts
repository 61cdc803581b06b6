/**
 * The gateway's Host over sockets with Moddable's `socket` API and a tunnel interface: UDP
 * 4500, RAW protocol 50 and optionally RAW ICMP. The socket class is a parameter, so one
 * implementation serves the ESP32 and the simulator (Moddable's `socket`: ./host.ts) and Node
 * (dgram, UDP only: hosts/node/host.ts).
 */
import { Gateway, OUTBOUND_OFFSET } from '../../src/gateway.js';
import type { Host } from '../../src/host.js';
import { NAT_T_PORT } from '../../src/wire/udp.js';

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
 * buffer for both sockets (callbacks run one at a time). Larger datagrams than this are read
 * the Moddable way, into a new ArrayBuffer: ESP carrying a tunnel MTU of at most
 * MAX_INNER_PACKET is far smaller.
 */
const RECEIVE_BUFFER_SIZE = 4096;

export type SocketConstructor = new (options: { kind: string; port?: number; protocol?: number }) => SocketLike;

export interface SocketHostOptions {
  /** the NAT-T port to listen on (default 4500) */
  udpPort?: number;
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

export class SocketHost implements Host {
  readonly #tunnel: TunnelInterface;
  readonly #udp: SocketLike;
  readonly #raw: SocketLike | null;
  readonly #icmp: SocketLike | null;
  readonly #start = Date.now();
  readonly #received = new Uint8Array(RECEIVE_BUFFER_SIZE);
  /** the length of the datagram #read returned */
  #length = 0;

  constructor(Socket: SocketConstructor, tunnel: TunnelInterface, options: SocketHostOptions = {}) {
    this.#tunnel = tunnel;
    this.#udp = new Socket({ kind: 'UDP', port: options.udpPort ?? NAT_T_PORT });
    this.#raw = options.raw === false ? null : new Socket({ kind: 'RAW', protocol: 50 });
    this.#icmp = options.icmp ? new Socket({ kind: 'RAW', protocol: 1 }) : null;
  }

  /** Connects the sockets and the tunnel interface to a gateway. */
  attach(gateway: Gateway): void {
    this.#tunnel.callback = () => {
      const n = this.#tunnel.read(gateway.outboundBuffer, OUTBOUND_OFFSET);
      gateway.outbound(n);
    };
    const raw = this.#raw;
    const udp = this.#udp;
    const icmp = this.#icmp;
    udp.callback = (message, count) => {
      if (message === 2) gateway.inboundUdp(this.#read(udp, count!), 0, this.#length);
    };
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

  // A send that fails (no route, no buffer space, a packet the stack refuses) throws in
  // Moddable's socket as in ours: caught here, so that it is a counted drop, not the end of
  // the callback that was sealing.
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
    const udp = this.#udp;
    try {
      if (udp.writeFrom) udp.writeFrom(address, port, buffer, offset, length);
      else udp.write(address, port, buffer.subarray(offset, offset + length));
      return true;
    } catch {
      return false;
    }
  }

  deliver(buffer: Uint8Array, offset: number, length: number): boolean {
    return this.#tunnel.write(buffer, offset, length) !== false;
  }

  close(): void {
    this.#udp.close();
    this.#raw?.close();
    this.#icmp?.close();
  }
}
