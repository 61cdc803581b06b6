/**
 * IKE between the sockets and an IKE receiver (RFC 7296 §2.23, RFC 3948 §2.2), on each
 * engine over loopback UDP: the SocketHost the device and the simulator use (the simulator's
 * `socket` on XS), NodeHost on Node (dgram). A plain socket plays the peer. The ports are
 * picked per run (500 and 4500 may be taken on this machine, and need no root this way).
 */
import { Gateway } from '../../src/gateway.js';
import type { IkeReceiver } from '../../src/host.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { Spd } from '../../src/policy/spd.js';
import { IKE_PORT, NAT_KEEPALIVE } from '../../src/wire/udp.js';
import { MemoryTunnel } from '../../hosts/moddable/memory-tunnel.js';
import { SocketHost, type SocketConstructor, type SocketLike } from '../../hosts/moddable/socket-host.js';
import { bytesEqual, deepEqual, equal } from '../assert.js';
import { engine, providerSlots, uniqueId } from '../engine.js';
import { test } from '../harness.js';

function wait(ms: number): Promise<void> {
  if (engine === 'node') return new Promise((resolve) => setTimeout(resolve, ms));
  return import('timer').then(({ default: Timer }) => new Promise<void>((resolve) => Timer.set(() => resolve(), ms)));
}

/** Waits (up to a second) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await wait(20);
}

const Socket: SocketConstructor = engine === 'node'
  ? (await import('../../hosts/node/socket.js')).NodeSocket as unknown as SocketConstructor
  : ((await import('socket' as string)) as { Socket: SocketConstructor }).Socket;

interface Received {
  message: Uint8Array;
  address: string;
  port: number;
  localPort: number;
}

interface Datagram {
  data: Uint8Array;
  address: string;
  port: number;
}

/** An IKE-like message of `n` bytes: a non-zero first word (an initiator SPI), never a marker. */
function message(n: number, seed: number): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = (i * 7 + seed) & 0xff;
  m[0] = 0x80 | seed;
  return m;
}

/**
 * A host on loopback with its NAT-T and IKE ports (ikePort: 0 for none), a gateway without
 * SAs, IKE to `receiver` (unless `attachIke` is false), and a peer socket recording what it
 * receives; runs `fn`, then closes everything.
 */
async function withHost(
  options: { ikePort?: 0; attachIke?: boolean },
  fn: (t: { host: SocketHost; gateway: Gateway; received: Received[]; peer: SocketLike; peerPort: number; peerGot: Datagram[]; natT: number; ike: number }) => Promise<void>,
): Promise<void> {
  const base = 20000 + (uniqueId() % 3000) * 4; // below Linux's ephemeral ports
  const natT = base;
  const ike = options.ikePort ?? base + 1;
  const peerPort = base + 2;
  const tunnel = new MemoryTunnel();
  const host: SocketHost = engine === 'node'
    ? new (await import('../../hosts/node/host.js')).NodeHost(tunnel, natT, ike)
    : new SocketHost(Socket, tunnel, { udpPort: natT, ikePort: ike, raw: false });
  const peer = new Socket({ kind: 'UDP', port: peerPort });
  try {
    await (host as SocketHost & { ready?: () => Promise<void> }).ready?.();
    await (peer as SocketLike & { ready?: () => Promise<void> }).ready?.();
    const gateway = new Gateway(host, new Spd(), new PfKeyEngine(providerSlots[0].make()));
    const received: Received[] = [];
    const receiver: IkeReceiver = (message, address, port, localPort) => received.push({ message, address, port, localPort });
    host.attach(gateway, options.attachIke === false ? undefined : receiver);
    const peerGot: Datagram[] = [];
    peer.callback = (m, _count, address, port) => {
      if (m === 2) peerGot.push({ data: new Uint8Array(peer.read(ArrayBuffer)), address: address!, port: port! });
    };
    await fn({ host, gateway, received, peer, peerPort, peerGot, natT, ike });
  } finally {
    host.close();
    peer.close();
  }
}

const marked = (m: Uint8Array): Uint8Array => Uint8Array.from([0, 0, 0, 0, ...m]);

test('IKE transport: a message on the IKE port reaches the receiver as it was sent, with the peer address and port and the IKE port; a 3-byte datagram too', async () => {
  await withHost({}, async ({ gateway, received, peer, peerPort, ike }) => {
    const m = message(72, 1);
    peer.write('127.0.0.1', ike, m.slice().buffer);
    peer.write('127.0.0.1', ike, Uint8Array.of(1, 2, 3).buffer);
    await until(() => received.length >= 2);
    equal(received.length, 2);
    bytesEqual(received[0].message, m);
    deepEqual([received[0].address, received[0].port, received[0].localPort], ['127.0.0.1', peerPort, ike]);
    // the IKE engine, not the host, judges (and counts) a message too short to be one
    bytesEqual(received[1].message, Uint8Array.of(1, 2, 3));
    equal(received[1].localPort, ike);
    equal(gateway.counters.inboundIke, 0);
  });
});

test('IKE transport: a message behind the non-ESP marker on the NAT-T port reaches the receiver without the marker, with the NAT-T port; each message is the receiver\'s to keep', async () => {
  await withHost({}, async ({ gateway, received, peer, peerPort, natT }) => {
    const first = message(300, 2);
    const second = message(80, 3);
    peer.write('127.0.0.1', natT, marked(first).buffer);
    peer.write('127.0.0.1', natT, marked(second).buffer);
    await until(() => received.length >= 2);
    equal(received.length, 2);
    // the first is intact after the second went through the host's receive buffer
    bytesEqual(received[0].message, first);
    bytesEqual(received[1].message, second);
    deepEqual([received[0].address, received[0].port, received[0].localPort], ['127.0.0.1', peerPort, natT]);
    equal(received[1].localPort, natT);
    equal(gateway.counters.inboundIke + gateway.counters.inboundNotEsp + gateway.counters.inboundUnknownSpi, 0, JSON.stringify(gateway.counters));
  });
});

test('IKE transport: sendIke from the NAT-T port puts the non-ESP marker in front, from the IKE port it does not; from a port without a socket it fails', async () => {
  await withHost({}, async ({ host, peerPort, peerGot, natT, ike }) => {
    const m = message(120, 4);
    equal(host.sendIke(natT, '127.0.0.1', peerPort, m), true);
    await until(() => peerGot.length >= 1);
    equal(host.sendIke(ike, '127.0.0.1', peerPort, m), true);
    await until(() => peerGot.length >= 2);
    equal(peerGot.length, 2);
    bytesEqual(peerGot[0].data, marked(m));
    deepEqual([peerGot[0].address, peerGot[0].port], ['127.0.0.1', natT]);
    bytesEqual(peerGot[1].data, m);
    deepEqual([peerGot[1].address, peerGot[1].port], ['127.0.0.1', ike]);
    equal(host.sendIke(peerPort, '127.0.0.1', peerPort, m), false);
  });
});

test('IKE transport: keepalives and ESP on the NAT-T port still go to the gateway; the marker alone is dropped and counted as inboundNotEsp; a keepalive sent is one 0xFF byte', async () => {
  await withHost({}, async ({ host, gateway, received, peer, peerPort, peerGot, natT }) => {
    const c = gateway.counters;
    peer.write('127.0.0.1', natT, NAT_KEEPALIVE.slice().buffer);
    peer.write('127.0.0.1', natT, message(64, 5).buffer); // ESP with an SPI we have no SA for
    peer.write('127.0.0.1', natT, new Uint8Array(4).buffer);
    await until(() => c.inboundKeepalives + c.inboundUnknownSpi + c.inboundNotEsp >= 3);
    deepEqual([c.inboundKeepalives, c.inboundUnknownSpi, c.inboundNotEsp, c.inboundIke], [1, 1, 1, 0]);
    equal(received.length, 0);
    // RFC 3948 §2.3: the keepalive is an ordinary datagram from the NAT-T port
    equal(host.sendUdp('127.0.0.1', peerPort, NAT_KEEPALIVE, 0, 1), true);
    await until(() => peerGot.length >= 1);
    equal(peerGot.length, 1);
    bytesEqual(peerGot[0].data, Uint8Array.of(0xff));
    equal(peerGot[0].port, natT);
  });
});

test('IKE transport: without a receiver, IKE on either port is counted in gateway.counters.inboundIke and dropped', async () => {
  await withHost({ attachIke: false }, async ({ gateway, peer, natT, ike }) => {
    const c = gateway.counters;
    peer.write('127.0.0.1', ike, message(40, 6).buffer);
    peer.write('127.0.0.1', natT, marked(message(40, 7)).buffer);
    peer.write('127.0.0.1', natT, NAT_KEEPALIVE.slice().buffer);
    await until(() => c.inboundIke + c.inboundKeepalives >= 3);
    deepEqual([c.inboundIke, c.inboundKeepalives, c.inboundNotEsp, c.inboundUnknownSpi], [2, 1, 0, 0]);
  });
});

test('IKE transport: ikePort 0 opens no IKE socket; IKE runs on the NAT-T port alone, behind the marker', async () => {
  await withHost({ ikePort: 0 }, async ({ host, received, peer, peerPort, peerGot, natT }) => {
    const m = message(50, 8);
    equal(host.sendIke(IKE_PORT, '127.0.0.1', peerPort, m), false);
    equal(host.sendIke(0, '127.0.0.1', peerPort, m), false);
    equal(host.sendIke(natT, '127.0.0.1', peerPort, m), true);
    await until(() => peerGot.length >= 1);
    bytesEqual(peerGot[0].data, marked(m));
    peer.write('127.0.0.1', natT, marked(m).buffer);
    await until(() => received.length >= 1);
    equal(received.length, 1);
    bytesEqual(received[0].message, m);
    equal(received[0].localPort, natT);
  });
});
