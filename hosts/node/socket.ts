/**
 * The Moddable `socket` module's UDP API on Node (dgram underneath), so the same host code
 * runs in Node tests and tools: `callback(2, byteCount, address, port)` per datagram,
 * `read(ArrayBuffer)` inside it, `write(ip, port, data)`, `close()`. RAW sockets do not exist
 * in Node: asking for one throws, and the simulator (hosts/lin) is the place for them.
 */
import * as dgram from 'node:dgram';

export interface SocketOptions {
  kind?: 'UDP' | 'RAW' | 'TCP';
  port?: number;
  address?: string;
  protocol?: number;
}

export class NodeSocket {
  callback: (message: number, value?: number, address?: string, port?: number) => void = () => {};
  readonly #socket: dgram.Socket;
  readonly #bound: Promise<void>;
  #current: Uint8Array | null = null;

  constructor(options: SocketOptions) {
    if (options.kind !== 'UDP') throw new RangeError(`socket kind ${options.kind ?? 'TCP'} is not available on Node (UDP is; RAW needs the simulator)`);
    this.#socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.#socket.on('message', (data, remote) => {
      this.#current = new Uint8Array(data);
      try {
        this.callback(2, data.length, remote.address, remote.port);
      } finally {
        this.#current = null;
      }
    });
    // a bind that fails (port in use, a port below 1024 without the right) rejects ready();
    // an error after that (a send the stack refused, which dgram reports later) is ignored:
    // that datagram is lost, as UDP datagrams may be
    let bound = false;
    this.#bound = new Promise((resolve, reject) => {
      this.#socket.once('listening', () => {
        bound = true;
        resolve();
      });
      this.#socket.on('error', (e) => {
        if (!bound) reject(e);
      });
    });
    this.#bound.catch(() => {}); // reported through ready(), never as an unhandled rejection
    this.#socket.bind(options.port ?? 0, options.address);
  }

  /** Resolves once bound (Node binds asynchronously; the device and simulator bind at once). */
  ready(): Promise<void> {
    return this.#bound;
  }

  read(type: typeof ArrayBuffer | typeof String): ArrayBuffer | string | undefined {
    const data = this.#current;
    this.#current = null;
    if (!data) return undefined;
    return type === String ? String.fromCharCode(...data) : data.slice().buffer;
  }

  write(ip: string, port: number, data: ArrayBuffer | ArrayBufferView): void {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#socket.send(bytes, port, ip);
  }

  close(): void {
    this.#socket.close();
  }
}
