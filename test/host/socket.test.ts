/**
 * Moddable-compatible sockets on each engine: UDP datagrams both ways on loopback with the
 * device's callback and read semantics; on the simulator, RAW protocol-50 sockets that read
 * from the IPv4 header on (as lwIP delivers them). Node has no RAW sockets and says so.
 */
import { equal, ok, throws } from '../assert.js';
import { engine, uniqueId } from '../engine.js';
import { test } from '../harness.js';

interface SocketLike {
  callback: (message: number, value?: number, address?: string, port?: number) => void;
  read(type: typeof ArrayBuffer): ArrayBuffer | undefined;
  write(ip: string, port: number | ArrayBuffer, data?: ArrayBuffer): void;
  close(): void;
  ready?(): Promise<void>;
}
type SocketConstructor = new (options: { kind: string; port?: number; protocol?: number }) => SocketLike;

const Socket: SocketConstructor = engine === 'node'
  ? (await import('../../hosts/node/socket.js')).NodeSocket as unknown as SocketConstructor
  : ((await import('socket' as string)) as { Socket: SocketConstructor }).Socket;

function wait(ms: number): Promise<void> {
  if (engine === 'node') return new Promise((resolve) => setTimeout(resolve, ms));
  return import('timer').then(({ default: Timer }) => new Promise<void>((resolve) => Timer.set(() => resolve(), ms)));
}

test('socket: UDP datagrams both ways on loopback, with address, port and byte count', async () => {
  const base = 42000 + (uniqueId() % 10000);
  const a = new Socket({ kind: 'UDP', port: base });
  const b = new Socket({ kind: 'UDP', port: base + 1 });
  const received: string[] = [];
  try {
    await a.ready?.();
    await b.ready?.();
    a.callback = function (message, count, address, port) {
      const data = new Uint8Array(a.read(ArrayBuffer)!);
      received.push(`a got ${message} ${count} from ${address}:${port}: ${Array.from(data).join(',')}`);
      a.write(address!, port!, Uint8Array.of(9, 8, 7).buffer);
    };
    b.callback = function (message, count, address, port) {
      const data = new Uint8Array(b.read(ArrayBuffer)!);
      received.push(`b got ${message} ${count} from ${address}:${port}: ${Array.from(data).join(',')}`);
    };
    b.write('127.0.0.1', base, Uint8Array.of(1, 2, 3, 4).buffer);
    for (let i = 0; i < 50 && received.length < 2; i++) await wait(10);
  } finally {
    a.close();
    b.close();
  }
  equal(received.join(' | '), `a got 2 4 from 127.0.0.1:${base + 1}: 1,2,3,4 | b got 2 3 from 127.0.0.1:${base}: 9,8,7`);
});

test('socket: RAW protocol 50 reads the IPv4 header and the ESP bytes (simulator); Node refuses RAW', async () => {
  if (engine === 'node') {
    throws(() => new Socket({ kind: 'RAW', protocol: 50 }), /not available on Node/);
    return;
  }
  const receiver = new Socket({ kind: 'RAW', protocol: 50 });
  const sender = new Socket({ kind: 'RAW', protocol: 50 });
  const seen: Uint8Array[] = [];
  const esp = Uint8Array.of(0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1, 0xaa, 0xbb);
  try {
    receiver.callback = () => {
      seen.push(new Uint8Array(receiver.read(ArrayBuffer)!));
    };
    sender.write('127.0.0.1', esp.buffer);
    for (let i = 0; i < 50 && seen.length < 1; i++) await wait(10);
  } finally {
    receiver.close();
    sender.close();
  }
  ok(seen.length >= 1, 'a datagram arrived');
  const packet = seen[0];
  equal(packet[0] >> 4, 4, 'starts with an IPv4 header');
  equal(packet[9], 50, 'protocol ESP');
  const header = (packet[0] & 15) * 4;
  equal(Array.from(packet.subarray(header)).join(','), Array.from(esp).join(','));
});
