/**
 * The device's tunnel interface (hosts/esp32/tunnel.{c,ts}) with the real lwIP: Debian's
 * liblwip (2.1.3, its tcpip thread a pthread) linked into the desktop host's netif variant,
 * the chip's calls behind hosts/esp32/chip.h served by hosts/esp32/desktop/chip-desktop.c.
 * Each test runs one scenario of test/esp32/netif-fixture.ts in that host and judges what it
 * printed: packets out of lwIP into JS and in from JS to lwIP's UDP, the bounded queue (also
 * filled from another thread while JS reads), the refusals of write(), routes through a wider
 * netmask (Debian's lwIP has no route hook, as the Moddable SDK's ESP32 build has none) and
 * the netmasks refused, the route hook itself (called directly) and close(); and the device's
 * random.c, which that host links through the same seam. Runs the
 * same on both engines (each spawns the host); needs no privileges (lwIP lives inside the
 * process).
 */
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, testDirectory } from '../engine.js';
import { test } from '../harness.js';
import { checkIpv4, IpProblem } from '../../src/wire/ip.js';
import { udpChecksumOk } from '../../src/wire/udp.js';

type Seen = { message: number; count: number; read: number; packet: string };

const runs = new Map<string, Promise<any>>();

/** The scenario's result; run once for all the tests that judge it. */
function scenario(name: string): Promise<any> {
  if (!runs.has(name)) runs.set(name, runScenario(name));
  return runs.get(name)!;
}

async function runScenario(name: string): Promise<any> {
  const root = testDirectory.replace(/\/js\/test$/, '');
  const r = await runProgram([`${root}/lin/release/xs-ipsec-lin-netif`, '--modules', `${root}/xs-modules`, `${testDirectory}/esp32/netif-fixture.js`, name], 30_000);
  equal(r.status, 0, `scenario ${name} exited ${r.status}: ${r.output}`);
  const line = r.output.split('\n').find((l) => l.startsWith('result '));
  ok(line, `scenario ${name} printed no result: ${r.output}`);
  return JSON.parse(line.slice('result '.length));
}

function bytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const dotted = (b: Uint8Array, at: number) => Array.from(b.subarray(at, at + 4)).join('.');
const port = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('tunnel netif: a UDP datagram lwIP routes into the tunnel reaches callback and read() whole', async () => {
  const r = await scenario('out');
  equal(r.sent, 0, 'udp_sendto through the tunnel');
  equal(r.readOutside, 0, 'read() outside the callback copies nothing');
  equal(r.offSubnet, -4, 'no route beyond the subnet without the hook: ERR_RTE');
  equal(r.seen.length, 1, JSON.stringify(r.seen));
  const seen: Seen = r.seen[0];
  const packet = bytes(seen.packet);
  equal(seen.message, 2);
  equal(seen.count, 20 + 8 + 18, 'callback byteCount');
  equal(seen.read, seen.count, 'read() length');
  equal(checkIpv4(packet, 0, packet.length, true), IpProblem.NONE, 'a valid IPv4 header, checksum included');
  equal(packet[0], 0x45);
  equal(packet[9], 17, 'UDP');
  equal(dotted(packet, 12), '10.1.0.1', 'source: the tunnel address lwIP chose');
  equal(dotted(packet, 16), '10.1.0.9');
  equal(port(packet, 20), 40000);
  equal(port(packet, 22), 7777);
  ok(udpChecksumOk(packet, 0, 20, packet.length - 20), 'lwIP\'s UDP checksum');
  equal(text(packet.subarray(28)), 'hello through lwIP');
  equal(r.counters.outbound, 1);
  equal(r.counters.outboundQueueFull, 0);
  equal(r.routing, 'netmask', 'Debian\'s lwIP asks no route hook');
  equal(r.netmask, '255.255.0.0', 'no routes: the tunnel\'s own prefix');
});

const HOOK_NEEDS = 'the route hook: ESP-IDF\'s lwip component compiled with ESP_IDF_LWIP_HOOK_FILENAME="lwip-hooks.h" and hosts/esp32 on its include path (hosts/esp32/lwip-hooks.h)';

test('tunnel netif without the route hook: a route reaches the tunnel through a covering netmask, the rest of that netmask is dropped and counted', async () => {
  const r = await scenario('fallback');
  equal(r.routing, 'netmask');
  equal(r.netmask, '255.252.0.0', '10.0.0.0/14: the longest prefix holding 10.1.0.17/32 and 10.2.0.0/16');
  equal(r.routed, 0, 'udp_sendto to 10.2.0.1, beyond the tunnel\'s /32');
  const first = bytes((r.seen[0] as Seen).packet);
  equal(checkIpv4(first, 0, first.length, true), IpProblem.NONE);
  equal(dotted(first, 12), '10.1.0.17', 'source: the tunnel address lwIP chose');
  equal(dotted(first, 16), '10.2.0.1');
  equal(text(first.subarray(28)), 'to a route');
  equal(r.uncovered, -4, '10.3.0.1: in the netmask, in no route: ERR_RTE to the sender');
  equal(r.delivered, 1, 'JS saw only the routed packet');
  equal(r.counters.outboundNoRoute, 1);
  equal(r.beyond, 0, '8.8.8.8 goes to the default netif');
  equal(r.peer, 0, 'the peer 203.0.113.5 too');
  equal(r.wifiOutputs, 2, 'the Wi-Fi stand-in got those two and nothing of the dropped one');
  equal(r.again, 0, 'the refused tunnels left the first one as it was');
  equal(r.seen.length, 2);
  equal(text(bytes((r.seen[1] as Seen).packet).subarray(28)), 'again');
  deepEqual(r.counters, {
    outbound: 2, outboundQueueFull: 0, outboundTooLong: 0, outboundNoRoute: 1,
    inbound: 0, inboundTooLong: 0, inboundMalformed: 0, inboundNoBuffer: 0, inboundRefused: 0,
  });
  deepEqual(r.second, { routing: 'netmask', netmask: '255.254.0.0' }, 'a second tunnel beside it: 10.64.0.0/15');
});

test('tunnel netif without the route hook: netmasks that would take another interface\'s subnet, a peer, the default gateway or all of IPv4 are refused', async () => {
  const r = await scenario('fallback');
  const e = r.errors;
  const covers = 'the netmask that covers its routes without the route hook,';
  equal(e.overlap, `RangeError: tunnel 192.168.3.1/32: ${covers} 192.168.0.0/22 overlaps interface dm0 (192.168.1.10/24); routes that wide need ${HOOK_NEEDS}`);
  equal(e.tunnelOverlap, 'RangeError: tunnel 10.3.0.1/32: its prefix 10.3.0.1/32 overlaps interface tu1 (10.1.0.17/14)', 'the first tunnel\'s netmask is taken');
  equal(e.peer, `RangeError: tunnel 10.5.0.1/32: ${covers} 10.4.0.0/14 holds peer 10.4.1.1, and IKE and ESP to it would loop into the tunnel; routes that wide need ${HOOK_NEEDS}`);
  equal(e.all, `RangeError: tunnel 10.9.0.1/32: routes that span all of IPv4 (0.0.0.0/0) need ${HOOK_NEEDS}`);
  equal(e.disjoint, e.all, '10.9.0.1 and 192.0.2.0/24 share no leading bit: only 0.0.0.0/0 covers both');
  equal(e.gateway, `RangeError: tunnel 100.64.0.9/32: ${covers} 100.64.0.0/15 holds the default gateway 100.64.0.1; routes that wide need ${HOOK_NEEDS}`);
  equal(e.peerIpv6, 'RangeError: tunnel peer 2001:db8::1: not IPv4');
});

test('tunnel netif: a packet written to the tunnel is delivered by lwIP to a UDP PCB, a closed port answered with ICMP', async () => {
  const r = await scenario('in');
  equal(r.written, true);
  equal(r.writtenUnreachable, true);
  deepEqual(r.got, [{ payload: 'opened inner packet', address: '10.2.0.5', port: 1234 }]);
  equal(r.seen.length, 1, 'lwIP\'s ICMP port unreachable, out through the tunnel');
  const icmp = bytes((r.seen[0] as Seen).packet);
  equal(icmp[9], 1, 'ICMP');
  equal(dotted(icmp, 12), '10.1.0.1');
  equal(dotted(icmp, 16), '10.1.0.77');
  equal(icmp[20], 3, 'destination unreachable');
  equal(icmp[21], 3, 'port unreachable');
  equal(port(icmp, 28 + 20 + 2), 9998, 'the quoted datagram\'s destination port');
  equal(r.counters.inbound, 2);
  equal(r.counters.outbound, 1);
});

test('tunnel netif: a full queue drops what lwIP sends (ERR_MEM to the sender, counted), then takes packets again', async () => {
  const r = await scenario('queue-full');
  deepEqual(r.results, [0, 0, -1, -1, -1], 'udp_sendto results: two queued, three ERR_MEM');
  equal(r.delivered, 2);
  equal(r.later, 0);
  deepEqual(r.payloads.map((hex: string) => text(bytes(hex))), ['burst 0', 'burst 1', 'later']);
  equal(r.counters.outboundQueueFull, 3);
  equal(r.counters.outbound, 3);
});

test('tunnel netif: a burst from another thread while JS reads: every packet whole and in order, every drop counted', async () => {
  const r = await scenario('burst');
  equal(r.sent + r.failed, r.count, 'each datagram sent or refused');
  ok(r.delivered >= 20, `packets delivered while the burst ran (a queue of 4 holds the rest): ${r.delivered}`);
  equal(r.delivered, r.sent, 'every datagram lwIP took reached JS');
  equal(r.damaged, 0, 'packets whole');
  equal(r.outOfOrder, 0, 'packets in order');
  equal(r.counters.outbound, r.delivered);
  equal(r.counters.outboundQueueFull, r.failed, 'the refused ones are the queue-full drops');
});

test('esp32 random.c through the seam: fillRandom fills exactly the bytes given, differently each time', async () => {
  const r = await scenario('random');
  equal(r.draws.length, 2);
  for (const draw of r.draws) {
    equal(draw.length, 64);
    ok(draw !== '00'.repeat(32), 'not all zero');
  }
  ok(r.draws[0] !== r.draws[1], 'two draws differ');
  ok(r.view.startsWith('00'.repeat(8)) && r.view.endsWith('00'.repeat(8)), `only the subarray is filled: ${r.view}`);
  ok(r.view.slice(16, 80) !== '00'.repeat(32), 'the subarray is filled');
});

test('tunnel netif: write() refuses oversized and malformed packets by reason, without harm to what follows', async () => {
  const r = await scenario('refused');
  deepEqual(r.results, {
    tooLong: false, empty: false, truncatedHeader: false, version6: false, headerLength16: false, totalBeyondGiven: false, headerBeyondTotal: false,
  });
  ok(/^RangeError: (@\w+: )?no room for 20 bytes at 90 in a 100-byte buffer$/.test(r.rangeError), r.rangeError);
  equal(r.written, true);
  deepEqual(r.got, [{ payload: 'still fine', address: '10.2.0.5', port: 1234 }]);
  deepEqual(r.counters, {
    outbound: 0, outboundQueueFull: 0, outboundTooLong: 0, outboundNoRoute: 0,
    inbound: 1, inboundTooLong: 1, inboundMalformed: 6, inboundNoBuffer: 0, inboundRefused: 0,
  });
});

test('tunnel netif: the route hook picks the longest prefix over all tunnels and leaves connected subnets and peers to lwIP', async () => {
  const r = await scenario('routes');
  deepEqual(r.routing, ['hook', 'hook', 'hook'], 'lwIP asks the hook (emulated: ESP-IDF with lwip-hooks.h)');
  deepEqual(r.netmasks, ['255.255.0.0', '255.255.0.0', '255.255.0.0'], 'each netif keeps its own prefix');
  deepEqual(r.withDefault, { '8.8.8.8': '10.1.0.1', '203.0.113.5': null }, 'a route of 0.0.0.0/0 takes all but the peer');
  equal(r.peerInPrefix, 'RangeError: tunnel 10.7.0.1/16: its prefix 10.7.0.0/16 holds peer 10.7.3.3, and IKE and ESP to it would loop into the tunnel');
  const a = '10.1.0.1';
  const b = '10.200.0.1';
  deepEqual(r.before, {
    '10.2.3.4': b, '10.3.0.1': a, '10.1.5.5': null, '10.200.9.9': null, '192.168.7.1': a, '192.168.7.200': b, '8.8.8.8': null,
  });
  deepEqual(r.afterRefusal, r.before, 'a refused tunnel leaves the table as it was');
  deepEqual(r.after, {
    '10.2.3.4': a, '10.3.0.1': a, '10.1.5.5': null, '10.200.9.9': a, '192.168.7.1': a, '192.168.7.200': a, '8.8.8.8': null,
  }, 'after closing the tunnel with the longer prefixes (and the subnet 10.200/16: now in 10/8)');
  deepEqual(Object.values(r.none), [null, null, null, null, null, null, null], 'no routes once both are closed');
  ok(/^RangeError: tunnel route 10\.0\.0\.1\/8: host bits set/.test(r.errors.hostBits), r.errors.hostBits);
  ok(/^RangeError: 10\.0\.0\.0\/33: prefix length must be 0 to 32/.test(r.errors.prefix33), r.errors.prefix33);
  ok(/^RangeError: tunnel route fd00::\/8: not IPv4/.test(r.errors.ipv6), r.errors.ipv6);
  ok(/^RangeError: tunnel address 10\.5\.0\.1: no prefix length/.test(r.errors.noPrefix), r.errors.noPrefix);
  ok(/^RangeError: tunnel MTU 67: not 68 to 9000/.test(r.errors.mtu), r.errors.mtu);
  ok(/^RangeError: tunnel queue 65: not 1 to 64/.test(r.errors.queue), r.errors.queue);
  ok(/^RangeError: (@\w+: )?more than 16 routes in all tunnels$/.test(r.errors.tooMany), r.errors.tooMany);
});

test('tunnel netif: close() removes the netif; a message already posted, or packets queued behind a callback that closes, bring no callback; the host exits by itself', async () => {
  const r = await scenario('close');
  equal(r.sent, 0, 'queued before close');
  equal(r.afterClose, -4, 'ERR_RTE: lwIP has no netif for the subnet any more');
  equal(r.callbacks, 0);
  ok(/tunnel closed/.test(r.readError), r.readError);
  ok(/tunnel closed/.test(r.writeError), r.writeError);
  equal(r.closeAgain, null, 'close() twice is harmless');
  equal(r.counters.outbound, 0);
  deepEqual(r.queued, [0, 0, 0]);
  equal(r.secondCallbacks, 1, 'a tunnel closed by its callback gets no more');
});
