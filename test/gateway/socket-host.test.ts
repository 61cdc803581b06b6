/**
 * The gateway's Host over real sockets, on each engine: two gateways, each with the same
 * SocketHost the device and the simulator use (Moddable's socket API: dgram on Node, the
 * simulator's `socket` on XS), exchange ESP in UDP over loopback; inner packets enter and
 * leave through in-memory tunnel interfaces. No root needed: UDP only, no TUN.
 */
import { Gateway } from '../../src/gateway.js';
import { applyStatic, type StaticSa } from '../../src/policy/manual.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { parseAddress } from '../../src/policy/selector.js';
import { Spd } from '../../src/policy/spd.js';
import { IpProtocol, writeIpv4Header } from '../../src/wire/ip.js';
import { MemoryTunnel } from '../../hosts/moddable/memory-tunnel.js';
import { SocketHost, type SocketConstructor } from '../../hosts/moddable/socket-host.js';
import { bytesEqual, deepEqual, equal } from '../assert.js';
import { engine, providerSlots, uniqueId } from '../engine.js';
import { test } from '../harness.js';

function wait(ms: number): Promise<void> {
  if (engine === 'node') return new Promise((resolve) => setTimeout(resolve, ms));
  return import('timer').then(({ default: Timer }) => new Promise<void>((resolve) => Timer.set(() => resolve(), ms)));
}

test('SocketHost: two gateways exchange ESP in UDP over loopback sockets, both ways; inner packets through memory tunnels', async () => {
  const crypto = providerSlots[1].make();
  const base = 43000 + (uniqueId() % 10000);
  const hosts: SocketHost[] = [];
  const make = async (side: 'a' | 'b') => {
    // two loopback addresses, so that each side knows which SA is its outbound one
    const [mine, theirs, out, inbound, lan, remote, me, peer] = side === 'a'
      ? [base, base + 1, 0x2001, 0x2002, '10.1.0.0/16', '10.2.0.0/16', '127.0.0.1', '127.0.0.2']
      : [base + 1, base, 0x2002, 0x2001, '10.2.0.0/16', '10.1.0.0/16', '127.0.0.2', '127.0.0.1'];
    const common = { protocol: 'esp' as const, mode: 'tunnel' as const, encryption: 'aes128gcm16' };
    const sas: StaticSa[] = [
      { ...common, spi: out, source: me, destination: peer, natT: { sourcePort: mine, destinationPort: theirs }, encryptionKey: (side === 'a' ? '11' : '22').repeat(20) },
      { ...common, spi: inbound, source: peer, destination: me, natT: { sourcePort: theirs, destinationPort: mine }, encryptionKey: (side === 'a' ? '22' : '11').repeat(20) },
    ];
    const keys = new PfKeyEngine(crypto);
    const spd = new Spd();
    deepEqual(applyStatic(keys, spd, sas, [
      { name: 'out', direction: 'out', local: lan, remote, action: 'protect', spi: out },
      { name: 'in', direction: 'in', local: lan, remote, action: 'protect', spi: inbound },
    ], [me]), []);
    const tunnel = new MemoryTunnel();
    const Socket: SocketConstructor = engine === 'node'
      ? (await import('../../hosts/node/socket.js')).NodeSocket as unknown as SocketConstructor
      : ((await import('socket' as string)) as { Socket: SocketConstructor }).Socket;
    const host = new SocketHost(Socket, tunnel, { udpPort: mine, ikePort: 0, raw: false });
    hosts.push(host);
    const gateway = new Gateway(host, spd, keys);
    host.attach(gateway);
    return { tunnel, gateway };
  };
  try {
    const a = await make('a');
    const b = await make('b');
    for (const h of hosts) await (h as unknown as { ready?: () => Promise<void> }).ready?.();
    const packet = (src: string, dst: string, n: number) => {
      const p = new Uint8Array(28 + n);
      writeIpv4Header(p, 0, p.length, IpProtocol.UDP, 1, 64, Uint8Array.from([...parseAddress(src), ...parseAddress(dst)]), 0, 4);
      p.set([0x30, 0x39, 0x00, 0x35, (8 + n) >> 8, (8 + n) & 0xff], 20);
      for (let i = 28; i < p.length; i++) p[i] = i & 0xff;
      return p;
    };
    const there = packet('10.1.0.5', '10.2.0.9', 1000);
    const back = packet('10.2.0.9', '10.1.0.5', 100);
    a.tunnel.inject(there);
    b.tunnel.inject(back);
    for (let i = 0; i < 50 && (b.tunnel.delivered.length < 1 || a.tunnel.delivered.length < 1); i++) await wait(20);
    equal(b.tunnel.delivered.length, 1, JSON.stringify(b.gateway.counters));
    bytesEqual(b.tunnel.delivered[0], there);
    equal(a.tunnel.delivered.length, 1, JSON.stringify(a.gateway.counters));
    bytesEqual(a.tunnel.delivered[0], back);
    equal(a.gateway.counters.outboundSendFailed, 0);
  } finally {
    for (const h of hosts) h.close();
  }
});
