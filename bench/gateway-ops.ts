/**
 * The gateway rows of the bench: one packet through `src/gateway.ts` as the simulator runs it
 * (tunnel mode, AES-128-GCM, ESP in UDP 4500, SAs and policies installed by manual keying),
 * with a host that sends and delivers nothing. Set beside the ESP rows (bench/esp-ops.ts),
 * they show what the gateway adds to a seal or an open: the SPD lookup, the SA lookup, the
 * NAT-T classification and the RFC 4301 §5.2 inbound check.
 *   "gateway outbound"  an inner packet read from the tunnel interface, sealed and sent;
 *   "gateway inbound"   a UDP-encapsulated ESP packet opened, checked and delivered: the
 *                       sealed copy is restored before each run (copyWithin, a memmove),
 *                       as "harness: restore" measures alone.
 */
import type { Crypto } from '../src/crypto/provider.js';
import { Gateway, OUTBOUND_OFFSET } from '../src/gateway.js';
import type { Host } from '../src/host.js';
import { applyStatic, type StaticPolicy, type StaticSa } from '../src/policy/manual.js';
import { PfKeyEngine } from '../src/policy/pfkey-engine.js';
import { Spd } from '../src/policy/spd.js';
import { IpProtocol, writeIpv4Header } from '../src/wire/ip.js';
import type { BenchOp } from './crypto-ops.js';

/** the inner packet: IPv4 + UDP + 1400 bytes of payload, as the ESP table's 1400 B rows */
const PAYLOAD = 1400;
const SIZE = 28 + PAYLOAD;

/** A host that keeps the last UDP datagram sent, and drops everything else. */
class CaptureHost implements Host {
  sent = new Uint8Array(0);
  delivered = 0;
  now(): number {
    return 0;
  }
  sendEsp(): boolean {
    return true;
  }
  sendUdp(_address: string, _port: number, buffer: Uint8Array, offset: number, length: number): boolean {
    if (this.sent.length === 0) this.sent = buffer.slice(offset, offset + length);
    return true;
  }
  sendIke(): boolean {
    return true;
  }
  deliver(): boolean {
    this.delivered++;
    return true;
  }
}

/** A gateway of one site of the simulator test (site a: 10.1/16 behind 192.0.2.1). */
function site(crypto: Crypto, side: 'a' | 'b', host: Host): Gateway {
  const common = { protocol: 'esp' as const, mode: 'tunnel' as const, encryption: 'aes128gcm16', natT: { sourcePort: 4500, destinationPort: 4500 } };
  const sas: StaticSa[] = [
    { ...common, spi: 0x1001, source: '192.0.2.1', destination: '192.0.2.2', encryptionKey: '11'.repeat(20) },
    { ...common, spi: 0x1002, source: '192.0.2.2', destination: '192.0.2.1', encryptionKey: '22'.repeat(20) },
  ];
  const [local, remote, out, inbound, address] = side === 'a'
    ? ['10.1.0.0/16', '10.2.0.0/16', 0x1001, 0x1002, '192.0.2.1']
    : ['10.2.0.0/16', '10.1.0.0/16', 0x1002, 0x1001, '192.0.2.2'];
  const policies: StaticPolicy[] = [
    { name: 'out', direction: 'out', local, remote, action: 'protect', spi: out },
    { name: 'in', direction: 'in', local, remote, action: 'protect', spi: inbound },
  ];
  const engine = new PfKeyEngine(crypto);
  const spd = new Spd();
  const problems = applyStatic(engine, spd, sas, policies, [address]);
  if (problems.length) throw new Error(problems.join('\n'));
  return new Gateway(host, spd, engine);
}

/** Writes an inner IPv4/UDP packet 10.1.0.1 -> 10.2.0.1 of SIZE bytes into a's outbound buffer. */
function writeInner(a: Gateway): void {
  const b = a.outboundBuffer;
  writeIpv4Header(b, OUTBOUND_OFFSET, SIZE, IpProtocol.UDP, 1, 64, Uint8Array.of(10, 1, 0, 1, 10, 2, 0, 1), 0, 4);
  for (let i = OUTBOUND_OFFSET + 20; i < OUTBOUND_OFFSET + SIZE; i++) b[i] = i & 0xff;
}

export function gatewayOps(): BenchOp[] {
  /** site b's view of a packet site a sealed: [sealed datagram][a saved copy] */
  const inbound = (crypto: Crypto) => {
    const hostA = new CaptureHost();
    const a = site(crypto, 'a', hostA);
    writeInner(a);
    a.outbound(SIZE);
    const datagram = hostA.sent;
    if (datagram.length === 0) throw new Error('site a sent nothing');
    const buffer = new Uint8Array(datagram.length * 2);
    buffer.set(datagram, datagram.length);
    const hostB = new CaptureHost();
    return { b: site(crypto, 'b', hostB), hostB, buffer, n: datagram.length };
  };
  return [
    {
      name: `gateway outbound aes128gcm16 UDP 4500 ${PAYLOAD} B`, algorithm: 'aes128gcm16',
      prepare(crypto) {
        const a = site(crypto, 'a', new CaptureHost());
        const b = a.outboundBuffer;
        writeInner(a);
        // sealing encrypts the inner packet in place: keep its first 28 bytes to restore
        const saved = b.length - 28;
        b.copyWithin(saved, OUTBOUND_OFFSET, OUTBOUND_OFFSET + 28);
        return () => {
          b.copyWithin(OUTBOUND_OFFSET, saved, saved + 28);
          a.outbound(SIZE);
        };
      },
    },
    {
      name: 'harness: restore a sealed datagram', algorithm: 'aes128gcm16',
      prepare(crypto) {
        const { buffer, n } = inbound(crypto);
        return () => {
          buffer.copyWithin(0, n, 2 * n);
        };
      },
    },
    {
      name: `gateway inbound aes128gcm16 UDP 4500 ${PAYLOAD} B`, algorithm: 'aes128gcm16',
      prepare(crypto) {
        const { b, hostB, buffer, n } = inbound(crypto);
        return () => {
          buffer.copyWithin(0, n, 2 * n);
          const before = hostB.delivered;
          b.inboundUdp(buffer, 0, n);
          if (hostB.delivered !== before + 1) throw new Error(`not delivered: ${JSON.stringify(b.counters)}`);
        };
      },
    },
  ];
}
