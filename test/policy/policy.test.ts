/**
 * RFC 4301 databases: selectors (parsing, matching packets in place), the SPD (ordered, per
 * direction, default discard), the SAD (by SPI, time lifetimes) and the PAD (who may claim
 * which traffic).
 */
import { toHex } from '../../src/crypto/bytes.js';
import { Pad } from '../../src/policy/pad.js';
import { Sad } from '../../src/policy/sad.js';
import fc from 'fast-check';
import { anySelector, CompiledSelector, matchesPacket, PacketFields, parseAddress, parseRange, selectorWithin, type Selector } from '../../src/policy/selector.js';
import { Action, Spd } from '../../src/policy/spd.js';
import { IpProtocol, writeIpv4Header, writeIpv6Header } from '../../src/wire/ip.js';
import { equal, ok, throws } from '../assert.js';
import { providerSlots } from '../engine.js';
import { test } from '../harness.js';
import { saPair } from '../esp/packets.js';

function selector(local: string, remote: string, protocol = 0, localPorts: [number, number] = [0, 65535], remotePorts: [number, number] = [0, 65535]): Selector {
  return { local: parseRange(local), remote: parseRange(remote), protocol, localPorts, remotePorts };
}

/** An IPv4 or IPv6 packet from src to dst with the given protocol and two port/type bytes pairs. */
function packet(src: string, dst: string, protocol: number, sport = 0, dport = 0): Uint8Array {
  const s = parseAddress(src);
  const d = parseAddress(dst);
  const header = s.length === 4 ? 20 : 40;
  const p = new Uint8Array(header + 8);
  const addresses = Uint8Array.from([...s, ...d]);
  if (s.length === 4) writeIpv4Header(p, 0, p.length, protocol, 1, 64, addresses, 0, 4);
  else writeIpv6Header(p, 0, 8, protocol, 64, addresses, 0, 16);
  if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPV6) p.set([sport, dport], header);
  else p.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff], header);
  return p;
}

test('selectors: addresses, prefixes and ranges parse; malformed ones are refused', () => {
  equal(toHex(parseAddress('192.0.2.7')), 'c0000207');
  equal(toHex(parseAddress('2001:db8::1')), '20010db8000000000000000000000001');
  equal(toHex(parseAddress('::')), '0'.repeat(32));
  equal(toHex(parseAddress('fe80::1:2')), 'fe800000000000000000000000010002');
  const r = parseRange('10.1.0.0/16');
  equal(toHex(r.start) + '-' + toHex(r.end), '0a010000-0a01ffff');
  const odd = parseRange('10.1.2.3/8');
  equal(toHex(odd.start), '0a000000', 'host bits are cleared');
  const v6 = parseRange('2001:db8::/32');
  equal(toHex(v6.end), '20010db8ffffffffffffffffffffffff');
  equal(toHex(parseRange('10.0.0.1-10.0.0.9').end), '0a000009');
  for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/x', '2001:db8::1::2',
    '2001:db8:1:2:3:4:5:6:7', 'g::1', '10.0.0.9-10.0.0.1', '10.0.0.1-::1', '12345::', ':']) {
    throws(() => parseRange(bad), RangeError, `"${bad}"`);
  }
});

test('selectors: packets match on addresses, protocol, ports, ICMP type/code; short and fragmented packets', () => {
  const web = selector('10.0.0.0/24', '192.0.2.0/24', IpProtocol.TCP, [0, 65535], [443, 443]);
  ok(matchesPacket(web, packet('10.0.0.5', '192.0.2.9', IpProtocol.TCP, 40000, 443), 0, 28, true));
  ok(!matchesPacket(web, packet('10.0.0.5', '192.0.2.9', IpProtocol.TCP, 40000, 80), 0, 28, true), 'port');
  ok(!matchesPacket(web, packet('10.0.0.5', '192.0.2.9', IpProtocol.UDP, 40000, 443), 0, 28, true), 'protocol');
  ok(!matchesPacket(web, packet('10.0.1.5', '192.0.2.9', IpProtocol.TCP, 40000, 443), 0, 28, true), 'local address');
  // inbound: the destination is ours
  ok(matchesPacket(web, packet('192.0.2.9', '10.0.0.5', IpProtocol.TCP, 443, 40000), 0, 28, false));
  ok(!matchesPacket(web, packet('192.0.2.9', '10.0.0.5', IpProtocol.TCP, 443, 40000), 0, 28, true), 'direction matters');
  // ICMP: echo request is type 8 code 0
  const ping = selector('10.0.0.0/8', '0.0.0.0/0', IpProtocol.ICMP, [8, 8], [0, 0]);
  ok(matchesPacket(ping, packet('10.1.1.1', '8.8.8.8', IpProtocol.ICMP, 8, 0), 0, 28, true));
  ok(!matchesPacket(ping, packet('10.1.1.1', '8.8.8.8', IpProtocol.ICMP, 0, 0), 0, 28, true), 'echo reply');
  // truncated: no room for the ports
  ok(!matchesPacket(web, packet('10.0.0.5', '192.0.2.9', IpProtocol.TCP, 40000, 443), 0, 22, true), 'truncated before the ports');
  ok(!matchesPacket(web, new Uint8Array(10), 0, 10, true), 'shorter than an IP header');
  // a non-first fragment has no ports: only a port-less selector can match it
  const fragment = packet('10.0.0.5', '192.0.2.9', IpProtocol.TCP, 40000, 443);
  fragment[7] = 0x10;
  ok(!matchesPacket(web, fragment, 0, 28, true), 'fragment vs port selector');
  ok(matchesPacket(selector('10.0.0.0/24', '192.0.2.0/24'), fragment, 0, 28, true), 'fragment vs address-only selector');
  // IPv6
  const v6 = selector('2001:db8:1::/48', '2001:db8:2::/48', IpProtocol.UDP, [0, 65535], [53, 53]);
  ok(matchesPacket(v6, packet('2001:db8:1::5', '2001:db8:2::9', IpProtocol.UDP, 5555, 53), 0, 48, true));
  ok(!matchesPacket(v6, packet('10.0.0.5', '192.0.2.9', IpProtocol.UDP, 5555, 53), 0, 28, true), 'family');
  ok(selectorWithin(web, selector('10.0.0.0/8', '192.0.2.0/24')));
  ok(!selectorWithin(selector('10.0.0.0/8', '192.0.2.0/24'), web));
});

test('SPD: first match in order, separate directions, default discard', () => {
  const spd = new Spd();
  spd.add({ name: 'dns-bypass', direction: 'out', selector: selector('10.0.0.0/24', '0.0.0.0/0', IpProtocol.UDP, [0, 65535], [53, 53]), action: Action.BYPASS });
  spd.add({ name: 'tunnel', direction: 'out', selector: selector('10.0.0.0/24', '192.0.2.0/24'), action: Action.PROTECT, spi: 0x1000 });
  spd.add({ name: 'block', direction: 'out', selector: anySelector(4), action: Action.DISCARD });
  spd.add({ name: 'first', direction: 'out', selector: selector('10.0.0.7/32', '0.0.0.0/0'), action: Action.DISCARD }, 0);
  spd.add({ name: 'in', direction: 'in', selector: selector('10.0.0.0/24', '192.0.2.0/24'), action: Action.PROTECT });
  equal(spd.lookupOutbound(packet('10.0.0.5', '192.0.2.1', IpProtocol.UDP, 1, 53), 0, 28)?.name, 'dns-bypass');
  equal(spd.lookupOutbound(packet('10.0.0.5', '192.0.2.1', IpProtocol.TCP, 1, 22), 0, 28)?.name, 'tunnel');
  equal(spd.lookupOutbound(packet('10.0.0.7', '192.0.2.1', IpProtocol.TCP, 1, 22), 0, 28)?.name, 'first', 'inserted at the front');
  equal(spd.lookupOutbound(packet('172.16.0.1', '192.0.2.1', IpProtocol.TCP, 1, 22), 0, 28)?.name, 'block');
  equal(spd.lookupInbound(packet('192.0.2.1', '10.0.0.5', IpProtocol.TCP, 22, 1), 0, 28)?.name, 'in');
  equal(spd.lookupInbound(packet('198.51.100.1', '10.0.0.5', IpProtocol.TCP, 22, 1), 0, 28), null, 'no inbound match: discard');
  equal(spd.find('tunnel')?.hits, 1);
  throws(() => spd.add({ name: 'tunnel', direction: 'in', selector: anySelector(4), action: Action.BYPASS }), /already exists/);
  ok(spd.remove('first'));
  equal(spd.lookupOutbound(packet('10.0.0.7', '192.0.2.1', IpProtocol.TCP, 1, 22), 0, 28)?.name, 'tunnel');
});

test('SAD: inbound by SPI, unique SPIs, time lifetimes raise soft then remove at hard', () => {
  const crypto = providerSlots[1].make();
  const sad = new Sad();
  const a = saPair(crypto, 'aes128gcm16', null, { spi: 0x1001 });
  const b = saPair(crypto, 'aes128gcm16', null, { spi: 0x1002 });
  sad.add(a.in, 0, { softSeconds: 100, hardSeconds: 120 });
  sad.add(a.out, 0);
  sad.add(b.in, 50, { hardSeconds: 60 });
  throws(() => sad.add(a.in, 1), /exists/);
  equal(sad.inbound(0x1001), a.in);
  equal(sad.inbound(0x9999), undefined);
  equal(sad.outbound(0x1001), a.out);
  sad.expire(99);
  equal(sad.events.length, 0);
  sad.expire(100);
  equal(sad.events.map((e) => `${e.type} ${e.spi.toString(16)}`).join(','), 'soft-expired 1001');
  sad.expire(110);
  equal(sad.events.length, 2, 'b expired at 50 + 60');
  equal(sad.inbound(0x1002), undefined);
  sad.expire(120);
  equal(sad.inbound(0x1001), undefined);
  equal(sad.events.map((e) => e.type).join(','), 'soft-expired,hard-expired,hard-expired');
  equal(sad.size, 1, 'the outbound SA without lifetimes stays');
});

test('PAD: a peer may claim only traffic inside what its entry allows', () => {
  const pad = new Pad();
  pad.add({ identity: { type: 'fqdn', value: 'Sensor-7.example.org' }, allowed: [selector('10.7.0.0/16', '192.0.2.0/24')] });
  pad.add({ identity: { type: 'ipv4', value: '198.51.100.2' }, allowed: [anySelector(4)] });
  ok(pad.mayClaim('fqdn', 'sensor-7.EXAMPLE.org', selector('10.7.1.0/24', '192.0.2.10/32')), 'FQDNs compare without case');
  ok(!pad.mayClaim('fqdn', 'sensor-7.example.org', selector('10.8.0.0/24', '192.0.2.10/32')), 'outside its range');
  ok(!pad.mayClaim('fqdn', 'sensor-8.example.org', selector('10.7.1.0/24', '192.0.2.10/32')), 'unknown peer');
  ok(!pad.mayClaim('rfc822', 'Sensor-7.example.org', selector('10.7.1.0/24', '192.0.2.10/32')), 'the type must match');
  ok(pad.mayClaim('ipv4', '198.51.100.2', selector('10.0.0.0/8', '0.0.0.0/0')));
});

test('the SPD\'s compiled selectors decide exactly as matchesPacket, on random selectors and packets (v4, v6, fragments, truncations)', () => {
  // the SPD reads each packet once (PacketFields) and compares numbers (CompiledSelector);
  // matchesPacket is the plain statement of RFC 4301 §4.4.1.1 and §7 they must agree with
  const v4 = fc.tuple(fc.integer({ min: 9, max: 11 }), fc.integer({ min: 0, max: 3 })).map(([a, b]) => `${a}.${b}.0.${b}`);
  const v6 = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 })).map(([a, b]) => `2001:db8:${a}::${b}`);
  const prefix4 = fc.tuple(v4, fc.integer({ min: 6, max: 32 })).map(([a, n]) => `${a}/${n}`);
  const prefix6 = fc.tuple(v6, fc.integer({ min: 30, max: 128 })).map(([a, n]) => `${a}/${n}`);
  const ports = fc.oneof(fc.constant<[number, number]>([0, 65535]), fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]));
  const protocol = fc.constantFrom(0, IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP, IpProtocol.ICMPV6, 50);
  const selectorOf = (prefix: fc.Arbitrary<string>) => fc.record({ local: prefix, remote: prefix, protocol, localPorts: ports, remotePorts: ports })
    .map((x) => ({ ...x, local: parseRange(x.local), remote: parseRange(x.remote) }) as Selector);
  const packetOf = (address: fc.Arbitrary<string>) => fc.record({ src: address, dst: address, protocol: fc.constantFrom(IpProtocol.TCP, IpProtocol.UDP, IpProtocol.ICMP, IpProtocol.ICMPV6, 50), sport: fc.integer({ min: 0, max: 9 }), dport: fc.integer({ min: 0, max: 9 }) });
  const fields = new PacketFields();
  fc.assert(fc.property(
    fc.oneof(fc.tuple(selectorOf(prefix4), packetOf(v4)), fc.tuple(selectorOf(prefix6), packetOf(v6)), fc.tuple(selectorOf(prefix4), packetOf(v6))),
    fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 48 }),
    ([sel, pk], outbound, fragment, cut) => {
      const p = packet(pk.src, pk.dst, pk.protocol, pk.sport, pk.dport);
      if (p.length === 28 && fragment) p[7] = fragment; // a non-first IPv4 fragment (offset > 0)
      const length = Math.min(p.length, cut);
      const expected = matchesPacket(sel, p, 0, length, outbound);
      fields.read(p, 0, length);
      equal(new CompiledSelector(sel).matches(fields, outbound), expected, JSON.stringify({ pk, length, outbound, fragment }));
    }), { numRuns: 3000 });
});
