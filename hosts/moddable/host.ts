/**
 * The gateway's Host over Moddable modules, the same on an ESP32 and in the simulator:
 * `socket` for UDP 4500 and RAW protocol 50 (lwIP on the device, Linux sockets in hosts/lin),
 * and a tunnel interface (the lwIP netif of hosts/esp32; lin/tun's TUN device here).
 */
import { Socket } from 'socket';
import { Gateway, OUTBOUND_OFFSET } from '../../src/gateway.js';
import type { Host } from '../../src/host.js';
import { NAT_T_PORT } from '../../src/wire/udp.js';

/** What the gateway needs of a tunnel interface (lin/tun's Tun has it). */
export interface TunnelInterface {
  callback: (message: number, byteCount: number) => void;
  read(buffer: Uint8Array, offset: number): number;
  write(buffer: Uint8Array, offset: number, length: number): void;
}

type SocketLike = {
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

export class ModdableHost implements Host {
  readonly #tunnel: TunnelInterface;
  readonly #udp: SocketLike;
  readonly #raw: SocketLike;
  readonly #icmp: SocketLike | null;
  readonly #start = Date.now();
  readonly #received = new Uint8Array(RECEIVE_BUFFER_SIZE);

  /**
   * `icmp`: also read ICMP (a RAW protocol-1 socket) for routers' "fragmentation needed"
   * about our packets (RFC 4301 §8.2.1). On Linux a raw socket gets a copy of each ICMP
   * packet and the kernel still answers pings; on lwIP a RAW PCB that keeps a packet takes
   * it from lwIP's own ICMP, so the device decides this per board (issue 6).
   */
  constructor(tunnel: TunnelInterface, udpPort = NAT_T_PORT, icmp = false) {
    this.#tunnel = tunnel;
    const S = Socket as unknown as new (options: object) => SocketLike;
    this.#udp = new S({ kind: 'UDP', port: udpPort });
    this.#raw = new S({ kind: 'RAW', protocol: 50 });
    this.#icmp = icmp ? new S({ kind: 'RAW', protocol: 1 }) : null;
  }

  /** Connects the sockets and the tunnel interface to a gateway. */
  attach(gateway: Gateway): void {
    this.#tunnel.callback = () => {
      const n = this.#tunnel.read(gateway.outboundBuffer, OUTBOUND_OFFSET);
      gateway.outbound(n);
    };
    const raw = this.#raw;
    const udp = this.#udp;
    const received = this.#received;
    const icmp = this.#icmp;
    if (icmp) {
      // rare, and not on the data path: read the Moddable way
      icmp.callback = (message) => {
        if (message === 2) this.#readNew(icmp, (data) => gateway.inboundIcmp(data, 0, data.length));
      };
    }
    if (raw.readInto && udp.readInto) {
      raw.callback = (message, count) => {
        if (message !== 2) return;
        if (count! <= RECEIVE_BUFFER_SIZE) gateway.inboundEsp(received, 0, raw.readInto!(received, 0));
        else this.#readNew(raw, (data) => gateway.inboundEsp(data, 0, data.length));
      };
      udp.callback = (message, count) => {
        if (message !== 2) return;
        if (count! <= RECEIVE_BUFFER_SIZE) gateway.inboundUdp(received, 0, udp.readInto!(received, 0));
        else this.#readNew(udp, (data) => gateway.inboundUdp(data, 0, data.length));
      };
    } else {
      raw.callback = (message) => {
        if (message === 2) this.#readNew(raw, (data) => gateway.inboundEsp(data, 0, data.length));
      };
      udp.callback = (message) => {
        if (message === 2) this.#readNew(udp, (data) => gateway.inboundUdp(data, 0, data.length));
      };
    }
  }

  /** Moddable's way: the datagram in a new ArrayBuffer. */
  #readNew(socket: SocketLike, handle: (data: Uint8Array) => void): void {
    handle(new Uint8Array(socket.read(ArrayBuffer)));
  }

  now(): number {
    return Date.now() - this.#start;
  }

  // A send that fails (no route, no buffer space, a packet the stack refuses) throws in
  // Moddable's socket as in ours: caught here, so that it is a counted drop, not the end of
  // the callback that was sealing.
  sendEsp(address: string, buffer: Uint8Array, offset: number, length: number): boolean {
    const raw = this.#raw;
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

  deliver(buffer: Uint8Array, offset: number, length: number): void {
    this.#tunnel.write(buffer, offset, length);
  }

  close(): void {
    this.#udp.close();
    this.#raw.close();
    this.#icmp?.close();
  }
}
