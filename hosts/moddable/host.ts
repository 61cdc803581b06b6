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
};

export class ModdableHost implements Host {
  readonly #tunnel: TunnelInterface;
  readonly #udp: SocketLike;
  readonly #raw: SocketLike;
  readonly #start = Date.now();

  constructor(tunnel: TunnelInterface, udpPort = NAT_T_PORT) {
    this.#tunnel = tunnel;
    const S = Socket as unknown as new (options: object) => SocketLike;
    this.#udp = new S({ kind: 'UDP', port: udpPort });
    this.#raw = new S({ kind: 'RAW', protocol: 50 });
  }

  /** Connects the sockets and the tunnel interface to a gateway. */
  attach(gateway: Gateway): void {
    this.#tunnel.callback = () => {
      const n = this.#tunnel.read(gateway.outboundBuffer, OUTBOUND_OFFSET);
      gateway.outbound(n);
    };
    this.#raw.callback = (message) => {
      if (message !== 2) return;
      const data = new Uint8Array(this.#raw.read(ArrayBuffer));
      gateway.inboundEsp(data, 0, data.length);
    };
    this.#udp.callback = (message) => {
      if (message !== 2) return;
      const data = new Uint8Array(this.#udp.read(ArrayBuffer));
      gateway.inboundUdp(data, 0, data.length);
    };
  }

  now(): number {
    return Date.now() - this.#start;
  }

  sendEsp(address: string, buffer: Uint8Array, offset: number, length: number): void {
    this.#raw.write(address, buffer.subarray(offset, offset + length));
  }

  sendUdp(address: string, port: number, buffer: Uint8Array, offset: number, length: number): void {
    this.#udp.write(address, port, buffer.subarray(offset, offset + length));
  }

  deliver(buffer: Uint8Array, offset: number, length: number): void {
    this.#tunnel.write(buffer, offset, length);
  }

  close(): void {
    this.#udp.close();
    this.#raw.close();
  }
}
