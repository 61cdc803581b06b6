/**
 * The gateway end to end in memory: two gateways with static SAs (manual keying through
 * PF_KEY) pass packets between their LANs over raw ESP and over UDP 4500; what no policy
 * allows, what a wrong key produces and what an SA carries against its policy are dropped and
 * counted; real crypto on each engine's host provider.
 */
import type { Crypto } from '../../src/crypto/provider.js';
import { Gateway, OUTBOUND_OFFSET } from '../../src/gateway.js';
import type { Host } from '../../src/host.js';
import { applyStatic, type StaticSa } from '../../src/policy/manual.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { parseAddress } from '../../src/policy/selector.js';
import { Spd } from '../../src/policy/spd.js';
import { IpProtocol, writeIpv4Header } from '../../src/wire/ip.js';
import { bytesEqual, deepEqual, equal, ok } from '../assert.js';
import { providerSlots } from '../engine.js';
import { test } from '../harness.js';

interface Wire {
  a?: Gateway;
  b?: Gateway;
}

/** A host that hands ESP to the other gateway as a raw socket (or UDP socket) would. */
function memoryHost(wire: Wire, me: 'a' | 'b', delivered: Uint8Array[]): Host {
  const peer = () => (me === 'a' ? wire.b! : wire.a!);
  return {
    now: () => 0,
    sendEsp(_address, buffer, offset, length) {
      // a raw socket reads the packet from its IPv4 header on: the sealed packet has it in front
      peer().inboundEsp(buffer.slice(offset - 20, offset + length), 0, length + 20);
    },
    sendUdp(_address, port, buffer, offset, length) {
      equal(port, 4500);
      peer().inboundUdp(buffer.slice(offset, offset + length), 0, length);
    },
    deliver(buffer, offset, length) {
      delivered.push(buffer.slice(offset, offset + length));
    },
  };
}

function sas(natT: boolean, keyB = '11'): StaticSa[] {
  const common = { protocol: 'esp' as const, mode: 'tunnel' as const, encryption: 'aes128gcm16', natT: natT ? { sourcePort: 4500, destinationPort: 4500 } : undefined };
  return [
    { ...common, spi: 0x1001, source: '192.0.2.1', destination: '198.51.100.2', encryptionKey: keyB.repeat(20) },
    { ...common, spi: 0x1002, source: '198.51.100.2', destination: '192.0.2.1', encryptionKey: '22'.repeat(20) },
  ];
}

function makeGateways(crypto: Crypto, natT: boolean, keyAtB = '11', inboundLanAtB = '10.2.0.0/16') {
  const wire: Wire = {};
  const deliveredA: Uint8Array[] = [];
  const deliveredB: Uint8Array[] = [];
  const make = (me: 'a' | 'b', local: string, lan: string, remoteLan: string, outSpi: number, inSpi: number, keys: StaticSa[], delivered: Uint8Array[], inboundLan = lan) => {
    const engine = new PfKeyEngine(crypto);
    const spd = new Spd();
    const errors = applyStatic(engine, spd, keys, [
      { name: 'out', direction: 'out', local: lan, remote: remoteLan, action: 'protect', spi: outSpi },
      { name: 'in', direction: 'in', local: inboundLan, remote: remoteLan, action: 'protect', spi: inSpi },
    ], [local]);
    deepEqual(errors, []);
    return new Gateway(memoryHost(wire, me, delivered), spd, engine);
  };
  wire.a = make('a', '192.0.2.1', '10.1.0.0/16', '10.2.0.0/16', 0x1001, 0x1002, sas(natT), deliveredA);
  wire.b = make('b', '198.51.100.2', '10.2.0.0/16', '10.1.0.0/16', 0x1002, 0x1001, sas(natT, keyAtB), deliveredB, inboundLanAtB);
  return { a: wire.a, b: wire.b, deliveredA, deliveredB };
}

/** Puts an inner UDP packet into the gateway's buffer as the tunnel interface would; returns a copy. */
function send(gateway: Gateway, src: string, dst: string, payload: number[]): Uint8Array {
  const length = 28 + payload.length;
  const b = gateway.outboundBuffer;
  writeIpv4Header(b, OUTBOUND_OFFSET, length, IpProtocol.UDP, 1, 64, Uint8Array.from([...parseAddress(src), ...parseAddress(dst)]), 0, 4);
  b.set([0x30, 0x39, 0x00, 0x35, 0, 8 + payload.length, 0, 0, ...payload], OUTBOUND_OFFSET + 20);
  const copy = b.slice(OUTBOUND_OFFSET, OUTBOUND_OFFSET + length);
  gateway.outbound(length);
  return copy;
}

for (const natT of [false, true]) {
  test(`gateway: two LANs through ESP ${natT ? 'in UDP 4500' : 'over IP protocol 50'}, both ways`, () => {
    const crypto = providerSlots[1].make();
    const { a, b, deliveredA, deliveredB } = makeGateways(crypto, natT);
    const there = send(a, '10.1.0.5', '10.2.0.9', [1, 2, 3]);
    const back = send(b, '10.2.0.9', '10.1.0.5', [4, 5, 6, 7]);
    equal(deliveredB.length, 1, JSON.stringify(b.counters));
    bytesEqual(deliveredB[0], there);
    equal(deliveredA.length, 1, JSON.stringify(a.counters));
    bytesEqual(deliveredA[0], back);
    equal(a.counters.outboundProtected, 1);
    equal(b.counters.inboundDelivered, 1);
    // no policy for this destination: the SPD's default is discard
    send(a, '10.1.0.5', '10.3.0.1', [9]);
    equal(a.counters.outboundDiscarded, 1);
  });
}

test('gateway: a wrong key drops and counts authentication failures; traffic against its SA policy is refused', () => {
  const crypto = providerSlots[1].make();
  const wrong = makeGateways(crypto, false, '33');
  send(wrong.a, '10.1.0.5', '10.2.0.9', [1]);
  send(wrong.a, '10.1.0.5', '10.2.0.9', [2]);
  equal(wrong.deliveredB.length, 0);
  equal(wrong.b.counters.inboundOpenFailed, 2);
  // the right key (as after a configuration reload): traffic resumes
  const fixed = makeGateways(crypto, false);
  send(fixed.a, '10.1.0.5', '10.2.0.9', [3]);
  equal(fixed.deliveredB.length, 1);
  // RFC 4301 §5.2: B accepts only 10.2.0.0/24 on SA 0x1001; A protects all of 10.2.0.0/16
  const narrow = makeGateways(crypto, false, '11', '10.2.0.0/24');
  send(narrow.a, '10.1.0.5', '10.2.5.5', [4]);
  equal(narrow.deliveredB.length, 0);
  equal(narrow.b.counters.inboundPolicyMismatch, 1);
  send(narrow.a, '10.1.0.5', '10.2.0.5', [5]);
  equal(narrow.deliveredB.length, 1);
  // unknown SPIs and things that are not ESP are counted, not thrown
  narrow.b.inboundEsp(Uint8Array.of(0x45, 0, 0, 28), 0, 4);
  equal(narrow.b.counters.inboundNotEsp, 1);
  narrow.b.inboundUdp(Uint8Array.of(0xff), 0, 1);
  equal(narrow.b.counters.inboundKeepalives, 1);
  narrow.b.inboundUdp(Uint8Array.of(0, 0, 0x99, 0x99, 0, 0, 0, 1, 1, 2, 3, 4), 0, 12);
  equal(narrow.b.counters.inboundUnknownSpi, 1);
  ok(narrow.a.acquires.length === 0);
});
