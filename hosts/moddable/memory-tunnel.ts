/**
 * A tunnel interface in memory, for tests and tools where there is no TUN device or netif
 * (Node, or a test on any engine): `inject` plays a packet the host's stack routes into the
 * tunnel; what the gateway delivers is kept in `delivered`.
 */
import type { TunnelInterface } from './socket-host.js';

/** A tunnel interface in memory: `inject` plays a packet the host's stack would route into it. */
export class MemoryTunnel implements TunnelInterface {
  callback: (message: number, byteCount: number) => void = () => {};
  readonly delivered: Uint8Array[] = [];
  #pending: Uint8Array | null = null;

  /** A packet into the tunnel, as if the host's stack had routed it there. */
  inject(packet: Uint8Array): void {
    this.#pending = packet;
    try {
      this.callback(2, packet.length);
    } finally {
      this.#pending = null;
    }
  }

  read(buffer: Uint8Array, offset: number): number {
    const p = this.#pending;
    if (!p) return 0;
    buffer.set(p, offset);
    return p.length;
  }

  write(buffer: Uint8Array, offset: number, length: number): boolean {
    this.delivered.push(buffer.slice(offset, offset + length));
    return true;
  }
}

