/**
 * The gateway's Host on Node, for tests and tools: the same SocketHost as the device and the
 * simulator, over dgram (hosts/node/socket.ts). Node has no RAW sockets, so ESP travels in
 * UDP only (RFC 3948), and no TUN device: inner packets go to and come from a
 * MemoryTunnel (hosts/moddable/memory-tunnel.ts) the caller reads and writes. IKE as on the
 * device: UDP `ikePort` (default 500; 0 for none) and behind the non-ESP marker on `udpPort`
 * (default 4500), to the receiver given to `attach`.
 */
import { SocketHost, type SocketConstructor, type TunnelInterface } from '../moddable/socket-host.js';
export { MemoryTunnel } from '../moddable/memory-tunnel.js';
import { NodeSocket } from './socket.js';

export class NodeHost extends SocketHost {
  readonly #sockets: NodeSocket[] = [];

  constructor(tunnel: TunnelInterface, udpPort?: number, ikePort?: number) {
    const sockets: NodeSocket[] = [];
    const Socket = class extends NodeSocket {
      constructor(options: { kind: string; port?: number; protocol?: number }) {
        super(options as ConstructorParameters<typeof NodeSocket>[0]);
        sockets.push(this);
      }
    };
    super(Socket as unknown as SocketConstructor, tunnel, { udpPort, ikePort, raw: false, icmp: false });
    this.#sockets = sockets;
  }

  /** Resolves when the UDP sockets are bound; rejects when one cannot be (a port in use, 500 without the right). */
  async ready(): Promise<void> {
    await Promise.all(this.#sockets.map((s) => s.ready()));
  }
}
