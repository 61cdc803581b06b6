/**
 * The gateway end to end in memory: two gateways with static SAs (manual keying through
 * PF_KEY) pass packets between their LANs over raw ESP and over UDP 4500; what no policy
 * allows, what a wrong key produces and what an SA carries against its policy are dropped and
 * counted; real crypto on each engine's host provider.
 */
import type { Crypto } from '../../src/crypto/provider.js';
import { Gateway, ICMP_ERRORS_PER_SECOND, MINIMUM_PATH_MTU, OUTBOUND_OFFSET, PMTU_AGING_MS, type GatewayOptions } from '../../src/gateway.js';
import { internetChecksum } from '../../src/wire/checksum.js';
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
function memoryHost(wire: Wire, me: 'a' | 'b', delivered: Uint8Array[], clock = { now: 0 }, sent: Uint8Array[] = []): Host {
  const peer = () => (me === 'a' ? wire.b! : wire.a!);
  return {
    now: () => clock.now,
    sendEsp(_address, buffer, offset, length) {
      // a raw socket reads the packet from its IPv4 header on: the sealed packet has it in front
      sent.push(buffer.slice(offset - 20, offset + length));
      peer().inboundEsp(buffer.slice(offset - 20, offset + length), 0, length + 20);
      return true;
    },
    sendUdp(_address, port, buffer, offset, length) {
      equal(port, 4500);
      sent.push(buffer.slice(offset - 28, offset + length));
      peer().inboundUdp(buffer.slice(offset, offset + length), 0, length);
      return true;
    },
    sendIke: () => false, // no IKE between these gateways
    deliver(buffer, offset, length) {
      delivered.push(buffer.slice(offset, offset + length));
      return true;
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

function makeGateways(crypto: Crypto, natT: boolean, keyAtB = '11', inboundLanAtB = '10.2.0.0/16', options: GatewayOptions = {}) {
  const wire: Wire = {};
  const clock = { now: 0 };
  const sentA: Uint8Array[] = [];
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
    return new Gateway(memoryHost(wire, me, delivered, clock, me === 'a' ? sentA : []), spd, engine, options);
  };
  wire.a = make('a', '192.0.2.1', '10.1.0.0/16', '10.2.0.0/16', 0x1001, 0x1002, sas(natT), deliveredA);
  wire.b = make('b', '198.51.100.2', '10.2.0.0/16', '10.1.0.0/16', 0x1002, 0x1001, sas(natT, keyAtB), deliveredB, inboundLanAtB);
  return { a: wire.a, b: wire.b, deliveredA, deliveredB, clock, sentA };
}

/** Puts an inner UDP packet into the gateway's buffer as the tunnel interface would; returns a copy. */
function send(gateway: Gateway, src: string, dst: string, payload: number[], dontFragment = false): Uint8Array {
  const length = 28 + payload.length;
  const b = gateway.outboundBuffer;
  writeIpv4Header(b, OUTBOUND_OFFSET, length, IpProtocol.UDP, 1, 64, Uint8Array.from([...parseAddress(src), ...parseAddress(dst)]), 0, 4);
  if (dontFragment) {
    b[OUTBOUND_OFFSET + 6] |= 0x40;
    b[OUTBOUND_OFFSET + 10] = 0;
    b[OUTBOUND_OFFSET + 11] = 0;
    const sum = internetChecksum(b, OUTBOUND_OFFSET, 20);
    b[OUTBOUND_OFFSET + 10] = sum >> 8;
    b[OUTBOUND_OFFSET + 11] = sum & 0xff;
  }
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

for (const natT of [false, true]) {
  test(`path MTU (RFC 4301 §8): a packet that fits exactly is sealed to the path MTU; one byte more with DF gets ICMP "fragmentation needed" (${natT ? 'UDP 4500' : 'raw ESP'})`, () => {
    const crypto = providerSlots[1].make();
    const g = makeGateways(crypto, natT, '11', '10.2.0.0/16', { pathMtu: 1400, tunnelAddress: parseAddress('10.1.0.1') });
    send(g.a, '10.1.0.5', '10.2.0.9', [0]); // the SA learns its path MTU on first use
    // the largest inner packet that fits: 1400 - 20 (outer) - 8 (UDP) - 8 (ESP) - 8 (IV) - 16 (ICV), minus 2 for the trailer, in 4-byte blocks
    const fits = Math.floor((1400 - 20 - (natT ? 8 : 0) - 16 - 16) / 4) * 4 - 2;
    g.sentA.length = 0;
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(fits - 28).fill(7), true);
    equal(g.sentA.length, 1, JSON.stringify(g.a.counters));
    ok(g.sentA[0].length <= 1400 && g.sentA[0].length > 1400 - 4, `sealed ${g.sentA[0].length} bytes for a path MTU of 1400`);
    equal(g.deliveredB.length, 2);
    // one byte more, with DF: refused with an ICMP error to its sender, announcing `fits`
    const big = send(g.a, '10.1.0.5', '10.2.0.9', new Array(fits - 27).fill(7), true);
    equal(g.sentA.length, 1, 'not sent');
    equal(g.a.counters.outboundTooBig, 1);
    equal(g.a.counters.icmpTooBigSent, 1);
    equal(g.deliveredA.length, 1);
    const icmp = g.deliveredA[0];
    equal(icmp.length, 20 + 8 + 28, 'IPv4 + ICMP header + the original header and 8 bytes');
    equal(icmp[9], IpProtocol.ICMP);
    equal(Array.from(icmp.subarray(12, 20)).join('.'), '10.1.0.1.10.1.0.5', 'from the gateway to the sender');
    equal(icmp[20], 3, 'destination unreachable');
    equal(icmp[21], 4, 'fragmentation needed');
    equal((icmp[26] << 8) | icmp[27], fits, 'the next-hop MTU is what fits');
    equal(internetChecksum(icmp, 0, 20), 0, 'IPv4 checksum');
    equal(internetChecksum(icmp, 20, icmp.length - 20), 0, 'ICMP checksum');
    bytesEqual(icmp.subarray(28), big.subarray(0, 28), 'the original header and first 8 bytes');
    // without DF the packet may be fragmented: sealed and sent (the host fragments the outer packet)
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(fits - 27).fill(7), false);
    equal(g.sentA.length, 2);
    ok(g.sentA[1].length > 1400);
    equal(g.deliveredB.length, 3);
  });
}

test('path MTU: ICMP errors we send are rate-limited (RFC 4443 §2.4(f)), per second', () => {
  const crypto = providerSlots[1].make();
  const g = makeGateways(crypto, false, '11', '10.2.0.0/16', { pathMtu: 600, tunnelAddress: parseAddress('10.1.0.1') });
  for (let i = 0; i < ICMP_ERRORS_PER_SECOND + 5; i++) send(g.a, '10.1.0.5', '10.2.0.9', new Array(1000).fill(1), true);
  equal(g.a.counters.icmpTooBigSent, ICMP_ERRORS_PER_SECOND);
  equal(g.a.counters.icmpRateLimited, 5);
  g.clock.now += 1000;
  send(g.a, '10.1.0.5', '10.2.0.9', new Array(1000).fill(1), true);
  equal(g.a.counters.icmpTooBigSent, ICMP_ERRORS_PER_SECOND + 1, 'a new second, a new budget');
});

/** A router's ICMP "fragmentation needed" about an outer packet, as a RAW ICMP socket reads it. */
function routerSays(outer: Uint8Array, mtu: number): Uint8Array {
  const quoted = outer.subarray(0, 28);
  const m = new Uint8Array(20 + 8 + quoted.length);
  writeIpv4Header(m, 0, m.length, IpProtocol.ICMP, 9, 60, Uint8Array.from([203, 0, 113, 1, ...outer.subarray(12, 16)]), 0, 4);
  m.set([3, 4, 0, 0, 0, 0, mtu >> 8, mtu & 0xff], 20);
  m.set(quoted, 28);
  const sum = internetChecksum(m, 20, m.length - 20);
  m[22] = sum >> 8;
  m[23] = sum & 0xff;
  return m;
}

for (const natT of [false, true]) {
  test(`path MTU: a router's "fragmentation needed" about our packets lowers the SA's path MTU (floored at ${MINIMUM_PATH_MTU}), forged or unrelated ones are ignored, and it ages back after ten minutes (${natT ? 'UDP 4500' : 'raw ESP'})`, () => {
    const crypto = providerSlots[1].make();
    const g = makeGateways(crypto, natT, '11', '10.2.0.0/16', { pathMtu: 1500, tunnelAddress: parseAddress('10.1.0.1') });
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(1200).fill(3), true);
    equal(g.sentA.length, 1);
    const outer = g.sentA[0];
    // a message about another SPI / other ports, one with a bad checksum, one that raises: ignored
    const other = outer.slice();
    other[natT ? 22 : 20] ^= 1;
    g.a.inboundIcmp(routerSays(other, 1000), 0, 56);
    const corrupt = routerSays(outer, 1000);
    corrupt[40] ^= 0xff;
    g.a.inboundIcmp(corrupt, 0, corrupt.length);
    g.a.inboundIcmp(routerSays(outer, 1600), 0, 56);
    g.a.inboundIcmp(routerSays(outer, 1000), 0, 30); // truncated
    equal(g.a.counters.icmpIgnored, 4);
    equal(g.a.counters.icmpPathMtuLowered, 0);
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(1200).fill(3), true);
    equal(g.a.counters.outboundTooBig, 0);
    // the real thing: the path is 1000 bytes
    g.a.inboundIcmp(routerSays(outer, 1000), 0, 56);
    equal(g.a.counters.icmpPathMtuLowered, 1);
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(1200).fill(3), true);
    equal(g.a.counters.outboundTooBig, 1);
    const announced = (g.deliveredA[0][26] << 8) | g.deliveredA[0][27];
    ok(announced < 1000 - 50 && announced > 1000 - 80, `announced ${announced} for a path of 1000`);
    // a forged tiny MTU is floored
    g.a.inboundIcmp(routerSays(outer, 100), 0, 56);
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(600).fill(3), true);
    const floored = (g.deliveredA[1][26] << 8) | g.deliveredA[1][27];
    ok(floored > MINIMUM_PATH_MTU - 80 && floored < MINIMUM_PATH_MTU, `announced ${floored}`);
    // RFC 4301 §8.2.2: aged back to the configured path MTU
    g.clock.now += PMTU_AGING_MS - 1;
    g.a.tick();
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(1200).fill(3), true);
    equal(g.a.counters.outboundTooBig, 3, 'not yet');
    g.clock.now += 1;
    g.a.tick();
    const before = g.sentA.length;
    send(g.a, '10.1.0.5', '10.2.0.9', new Array(1200).fill(3), true);
    equal(g.sentA.length, before + 1, 'sent again after aging');
    // something that is not ICMP at all
    g.a.inboundIcmp(Uint8Array.of(0x45), 0, 1);
    equal(g.a.counters.icmpIgnored, 5);
  });
}
