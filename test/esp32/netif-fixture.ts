/**
 * Run by test/esp32/tunnel-netif.test.ts on the desktop host's netif variant
 * (build/lin/release/xs-ipsec-lin-netif), with Debian's lwIP in the process:
 *   netif-fixture.js SCENARIO
 * creates NetifTunnels through the device's own tunnel.ts and tunnel.c, plays lwIP's
 * applications with esp32-desktop/lwip-test, and prints one line "result <JSON>" with what it
 * observed; the test judges it. Not a test file itself (XS only, and only in that host).
 */
import 'esp32-desktop/native'; // first: tunnel.js calls native() when it loads
import { NetifTunnel } from '../../hosts/esp32/tunnel.js';
import { addNetif, burstProgress, emulateRouteHook, netifOutputs, route, udpBurst, udpSend, UdpListener } from 'esp32-desktop/lwip-test';
import { argv } from 'lin/process';
import { fillRandom } from 'random';
import Timer from 'timer';
import { writeIpv4Header } from '../../src/wire/ip.js';
import { parseAddress } from '../../src/policy/selector.js';
import { writeUdpHeader } from '../../src/wire/udp.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => Timer.set(() => resolve(), ms));
}

/** Waits for `condition` (checked every 5 ms) at most `ms`. */
async function until(condition: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !condition() && waited < ms; waited += 5) await sleep(5);
}

function report(result: unknown): void {
  console.log(`result ${JSON.stringify(result)}`);
}

function errorOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** An IPv4/UDP packet (UDP checksum 0: none, allowed on IPv4) at `offset` in a new 2048-byte buffer. */
function udpPacket(offset: number, source: string, sourcePort: number, destination: string, destinationPort: number, payload: Uint8Array): { buffer: Uint8Array; length: number } {
  const buffer = new Uint8Array(2048);
  const length = 20 + 8 + payload.length;
  const addresses = new Uint8Array(8);
  addresses.set(parseAddress(source), 0);
  addresses.set(parseAddress(destination), 4);
  buffer.set(payload, offset + 28);
  writeIpv4Header(buffer, offset, length, 17, 1, 64, addresses, 0, 4);
  writeUdpHeader(buffer, offset, offset + 20, sourcePort, destinationPort, 8 + payload.length);
  return { buffer, length };
}

/** Every packet the tunnel hands JS, read at offset 100 of a 2048-byte buffer. */
function collect(tunnel: NetifTunnel): { message: number; count: number; read: number; packet: string }[] {
  const seen: { message: number; count: number; read: number; packet: string }[] = [];
  const buffer = new Uint8Array(2048);
  tunnel.callback = (message, count) => {
    const read = tunnel.read(buffer, 100);
    seen.push({ message, count, read, packet: hex(buffer.subarray(100, 100 + read)) });
  };
  return seen;
}

function listen(port: number): { payload: string; address: string; port: number }[] {
  const got: { payload: string; address: string; port: number }[] = [];
  const listener = new UdpListener(port);
  listener.callback = (payload, address, from) => {
    got.push({ payload: decoder.decode(new Uint8Array(payload)), address, port: from });
    listener.close();
  };
  return got;
}

const scenarios: Record<string, () => Promise<void>> = {
  // lwIP's UDP sends to an address of the tunnel's subnet: the packet reaches the callback
  async out() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16' });
    const seen = collect(tunnel);
    const sent = udpSend(40000, '10.1.0.9', 7777, encoder.encode('hello through lwIP'));
    const readOutside = tunnel.read(new Uint8Array(2048), 0);
    // beyond the subnet and without a route hook (Debian's lwIP has none) nor a default netif
    const offSubnet = udpSend(40000, '192.0.2.1', 7777, encoder.encode('nowhere'));
    await until(() => seen.length > 0);
    await sleep(20);
    report({ sent, readOutside, offSubnet, seen, counters: tunnel.counters, routing: tunnel.routing, netmask: tunnel.netmask });
    tunnel.close();
  },

  // Debian's lwIP has no route hook: a route beyond the tunnel's address reaches it through a
  // wider netmask; what that netmask holds beyond the routes is dropped and counted; netmasks
  // that would take Wi-Fi's subnet, a peer, the default gateway or everything are refused
  async fallback() {
    const wifi = addNetif('192.168.1.10', 24, '192.168.1.1', true);
    const tunnel = new NetifTunnel({ address: '10.1.0.17/32', routes: ['10.2.0.0/16'], peers: ['192.168.1.1', '203.0.113.5'] });
    const seen = collect(tunnel);
    const routed = udpSend(40000, '10.2.0.1', 7777, encoder.encode('to a route'));
    await until(() => seen.length > 0);
    const uncovered = udpSend(40001, '10.3.0.1', 7777, encoder.encode('in the netmask, in no route'));
    const beyond = udpSend(40002, '8.8.8.8', 7777, encoder.encode('to the default netif'));
    const peer = udpSend(40003, '203.0.113.5', 500, encoder.encode('IKE to the peer'));
    await sleep(50);
    const delivered = seen.length;
    const wifiOutputs = netifOutputs(wifi);
    const errors = {
      overlap: errorOf(() => new NetifTunnel({ address: '192.168.3.1/32', routes: ['192.168.0.0/24'] })),
      tunnelOverlap: errorOf(() => new NetifTunnel({ address: '10.3.0.1/32' })),
      peer: errorOf(() => new NetifTunnel({ address: '10.5.0.1/32', routes: ['10.6.0.0/16'], peers: ['10.4.1.1'] })),
      all: errorOf(() => new NetifTunnel({ address: '10.9.0.1/32', routes: ['0.0.0.0/0'] })),
      disjoint: errorOf(() => new NetifTunnel({ address: '10.9.0.1/32', routes: ['192.0.2.0/24'] })),
      peerIpv6: errorOf(() => new NetifTunnel({ address: '10.9.0.1/32', peers: ['2001:db8::1'] })),
    };
    // a default netif whose gateway lies on no subnet (a host route to it, as PPP has)
    addNetif('172.16.0.2', 30, '100.64.0.1', true);
    const gateway = errorOf(() => new NetifTunnel({ address: '100.64.0.9/32', routes: ['100.65.0.0/16'] }));
    // what was refused left nothing behind: the first tunnel still carries its route
    const again = udpSend(40004, '10.2.0.1', 7777, encoder.encode('again'));
    await until(() => seen.length > delivered);
    // a second tunnel whose netmask overlaps nothing
    const second = new NetifTunnel({ address: '10.64.0.1/32', routes: ['10.65.0.0/16'] });
    report({
      routing: tunnel.routing, netmask: tunnel.netmask, routed, uncovered, beyond, peer, delivered, wifiOutputs, errors: { ...errors, gateway },
      again, seen, counters: tunnel.counters, second: { routing: second.routing, netmask: second.netmask },
    });
    second.close();
    tunnel.close();
  },

  // an opened packet written to the tunnel reaches a UDP PCB; one for a closed port comes
  // back out of the tunnel as lwIP's ICMP port unreachable
  async in() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16' });
    const seen = collect(tunnel);
    const got = listen(9999);
    const delivered = udpPacket(7, '10.2.0.5', 1234, '10.1.0.1', 9999, encoder.encode('opened inner packet'));
    const written = tunnel.write(delivered.buffer, 7, delivered.length);
    const unreachable = udpPacket(0, '10.1.0.77', 1235, '10.1.0.1', 9998, encoder.encode('nobody listens'));
    const writtenUnreachable = tunnel.write(unreachable.buffer, 0, unreachable.length);
    await until(() => got.length > 0 && seen.length > 0);
    report({ written, writtenUnreachable, got, seen, counters: tunnel.counters });
    tunnel.close();
  },

  // a queue of two: lwIP's sends beyond it get ERR_MEM and are counted; then room again
  async 'queue-full'() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16', queue: 2 });
    const seen = collect(tunnel);
    const results = [0, 1, 2, 3, 4].map((i) => udpSend(40000 + i, '10.1.0.9', 7, encoder.encode(`burst ${i}`)));
    await until(() => seen.length >= 2);
    await sleep(50);
    const delivered = seen.length;
    const later = udpSend(40010, '10.1.0.9', 7, encoder.encode('later'));
    await until(() => seen.length > delivered);
    report({ results, delivered, later, payloads: seen.map((s) => s.packet.slice(56)), counters: tunnel.counters });
    tunnel.close();
  },

  // a burst from a thread of its own while JS takes packets (now and then slowly): each packet
  // whole and in order, each datagram either delivered or refused with ERR_MEM and counted
  async burst() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16', queue: 4 });
    const count = 2000;
    const size = 1000;
    const buffer = new Uint8Array(2048);
    let delivered = 0;
    let damaged = 0;
    let outOfOrder = 0;
    let last = -1;
    tunnel.callback = (message, byteCount) => {
      const n = tunnel.read(buffer, 0);
      const sequence = (buffer[28] << 24) | (buffer[29] << 16) | (buffer[30] << 8) | buffer[31];
      let whole = n === byteCount && n === 28 + size;
      for (let j = 4; whole && j < size; j++) whole = buffer[28 + j] === ((sequence + j) & 0xff);
      if (!whole) damaged++;
      if (sequence <= last) outOfOrder++;
      last = sequence;
      delivered++;
      if (delivered % 50 === 0) for (const until = Date.now() + 2; Date.now() < until;); // a slow moment
    };
    udpBurst(41000, '10.1.0.9', 9, count, size, 100);
    let progress = burstProgress();
    while (!progress[2]) {
      await sleep(5);
      progress = burstProgress();
    }
    await until(() => delivered >= progress[0]);
    await sleep(20);
    report({ count, sent: progress[0], failed: progress[1], delivered, damaged, outOfOrder, counters: tunnel.counters });
    tunnel.close();
  },

  // module "random" of this host is the device's random.c, esp_fill_random through the seam
  async random() {
    const draws = [new Uint8Array(32), new Uint8Array(32)];
    draws.forEach((d) => fillRandom(d));
    const view = new Uint8Array(48);
    fillRandom(view.subarray(8, 40));
    report({ draws: draws.map(hex), view: hex(view) });
  },

  // what write() refuses, each counted by its reason; then a good packet still goes through
  async refused() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16', mtu: 576 });
    const good = () => udpPacket(0, '10.2.0.5', 1234, '10.1.0.1', 9999, encoder.encode('still fine'));
    const variant = (change: (buffer: Uint8Array) => void, length?: number) => {
      const p = good();
      change(p.buffer);
      return tunnel.write(p.buffer, 0, length ?? p.length);
    };
    const big = udpPacket(0, '10.2.0.5', 1234, '10.1.0.1', 9999, new Uint8Array(600 - 28));
    const results = {
      tooLong: tunnel.write(big.buffer, 0, big.length),
      empty: variant(() => {}, 0),
      truncatedHeader: variant(() => {}, 19),
      version6: variant((b) => (b[0] = 0x65)),
      headerLength16: variant((b) => (b[0] = 0x44)),
      totalBeyondGiven: variant((b) => (b[3] += 1)),
      headerBeyondTotal: variant((b) => (b[0] = 0x4f)),
    };
    const rangeError = errorOf(() => tunnel.write(new Uint8Array(100), 90, 20));
    const got = listen(9999);
    const p = good();
    const written = tunnel.write(p.buffer, 0, p.length);
    await until(() => got.length > 0);
    report({ results, rangeError, written, got, counters: tunnel.counters });
    tunnel.close();
  },

  // the route hook: longest prefix across two tunnels; connected subnets and peers left to
  // lwIP. Tunnels find lwIP asking the hook, as on ESP-IDF with lwip-hooks.h: routes that
  // overlap each other need the hook (no netmask could cover them)
  async routes() {
    emulateRouteHook();
    const a = new NetifTunnel({ address: '10.1.0.1/16', routes: ['10.0.0.0/8', '192.168.7.0/24'] });
    const b = new NetifTunnel({ address: '10.200.0.1/16', routes: ['10.2.0.0/16', '192.168.7.128/25'] });
    const destinations = ['10.2.3.4', '10.3.0.1', '10.1.5.5', '10.200.9.9', '192.168.7.1', '192.168.7.200', '8.8.8.8'];
    const lookup = () => Object.fromEntries(destinations.map((d) => [d, route(d) ?? null]));
    const before = lookup();
    const errors = {
      hostBits: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', routes: ['10.0.0.1/8'] })),
      prefix33: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', routes: ['10.0.0.0/33'] })),
      ipv6: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', routes: ['fd00::/8'] })),
      noPrefix: errorOf(() => new NetifTunnel({ address: '10.5.0.1' })),
      mtu: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', mtu: 67 })),
      queue: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', queue: 65 })),
      // 4 routes are taken: 13 more is one too many for the table of 16
      tooMany: errorOf(() => new NetifTunnel({ address: '10.5.0.1/16', routes: Array.from({ length: 13 }, (_, i) => `172.16.${i}.0/24`) })),
    };
    const afterRefusal = lookup();
    b.close();
    const after = lookup();
    a.close();
    const none = lookup();
    const everything = new NetifTunnel({ address: '10.1.0.1/16', routes: ['0.0.0.0/0'], peers: ['203.0.113.5'] });
    const withDefault = { '8.8.8.8': route('8.8.8.8') ?? null, '203.0.113.5': route('203.0.113.5') ?? null };
    const peerInPrefix = errorOf(() => new NetifTunnel({ address: '10.7.0.1/16', peers: ['10.7.3.3'] }));
    report({
      routing: [a.routing, b.routing, everything.routing], netmasks: [a.netmask, b.netmask, everything.netmask],
      before, errors, afterRefusal, after, none, withDefault, peerInPrefix,
    });
    everything.close();
  },

  // close() with a packet's message still on its way: no callback after it, and the process
  // ends by itself (nothing left for the event loop)
  async close() {
    const tunnel = new NetifTunnel({ address: '10.1.0.1/16' });
    let callbacks = 0;
    tunnel.callback = () => {
      callbacks++;
    };
    const sent = udpSend(40000, '10.1.0.9', 7, encoder.encode('in flight'));
    tunnel.close();
    const afterClose = udpSend(40000, '10.1.0.9', 7, encoder.encode('no netif'));
    const readError = errorOf(() => tunnel.read(new Uint8Array(64), 0));
    const writeError = errorOf(() => tunnel.write(new Uint8Array(64), 0, 28));
    const closeAgain = errorOf(() => tunnel.close());
    // closed by its own callback, three packets queued: one callback only
    const second = new NetifTunnel({ address: '10.1.0.1/16' });
    let secondCallbacks = 0;
    second.callback = () => {
      secondCallbacks++;
      second.close();
    };
    const queued = [1, 2, 3].map((i) => udpSend(40000 + i, '10.1.0.9', 7, encoder.encode('queued')));
    await sleep(200);
    report({ sent, afterClose, callbacks, readError, writeError, closeAgain, counters: tunnel.counters, queued, secondCallbacks });
  },
};

const name = argv()[1];
const scenario = scenarios[name];
if (!scenario) throw new Error(`no scenario ${name}`);
await scenario();
