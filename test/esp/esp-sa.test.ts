/**
 * ESP SAs (RFC 4303) on every provider: every transform round-trips in tunnel and transport
 * mode, IPv4 and IPv6, with and without ESN and UDP encapsulation; tampering, truncation,
 * replays and bad padding are dropped and counted under their reason; sequence numbers never
 * wrap; TFC padding and dummy packets work.
 */
import fc from 'fast-check';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { EspSa, type DropReason } from '../../src/esp/sa.js';
import { IpProtocol } from '../../src/wire/ip.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { engine, forEachProvider } from '../engine.js';
import { createEspTransform } from '../../src/esp/transform.js';
import { onesComplementSum } from '../../src/wire/checksum.js';
import { udpChecksumOk } from '../../src/wire/udp.js';
import type { Packet } from '../../src/esp/sa.js';
import { allTransforms, espStart, ipPacket, openSealed, saPair, V4, V6, type PairOptions } from './packets.js';

const legacy = { allowLegacy: true };
const name = (e: Algorithm, i: Algorithm | null) => (i ? `${e.name}-${i.name}` : e.name);
/** XS runs the software provider at ~1/500 of native speed: fewer property runs there. */
const runs = (n: number) => (engine === 'xs' ? Math.ceil(n / 3) : n);

function roundTrip(crypto: Crypto, e: Algorithm, i: Algorithm | null, payload: Uint8Array, options: PairOptions): void {
  const { out, in: inbound } = saPair(crypto, e, i, options);
  const packet = ipPacket(options.family ?? 4, payload, options.tfcPadding ?? 0);
  const original = packet.buffer.slice(packet.offset, packet.offset + packet.length);
  ok(out.seal(packet), `${name(e, i)} seal: ${JSON.stringify(out.drops)}`);
  checkOuter(packet, options);
  const opened = openSealed(inbound, packet);
  ok(opened, `${name(e, i)} ${JSON.stringify(options)} open: ${JSON.stringify(inbound.drops)}`);
  bytesEqual(opened.buffer.slice(opened.offset, opened.offset + opened.length), original, `${name(e, i)} ${JSON.stringify(options)}`);
}

/** The outer header: the tunnel's family and addresses (or the original ones), protocol ESP or UDP. */
function checkOuter(packet: Packet, options: PairOptions): void {
  const b = packet.buffer;
  const o = packet.offset;
  const family = options.family ?? 4;
  equal(b[o] >> 4, family, 'outer IP version');
  const addresses = family === 4 ? b.slice(o + 12, o + 20) : b.slice(o + 8, o + 40);
  const t = family === 4 ? V4 : V6;
  bytesEqual(addresses, Uint8Array.from([...t.local, ...t.remote]), 'outer addresses');
  const protocol = family === 4 ? b[o + 9] : b[o + 6];
  equal(protocol, options.encapsulation ? IpProtocol.UDP : IpProtocol.ESP, 'outer protocol');
  const total = family === 4 ? (b[o + 2] << 8) | b[o + 3] : 40 + ((b[o + 4] << 8) | b[o + 5]);
  equal(total, packet.length, 'outer length field');
  if (family === 4) equal(onesComplementSum(b, o, 20), 0xffff, 'outer IPv4 header checksum');
  if (options.encapsulation) {
    const udp = o + (family === 4 ? 20 : 40);
    equal((b[udp + 2] << 8) | b[udp + 3], 4500, 'UDP destination port');
    ok(udpChecksumOk(b, o, udp, packet.length - (udp - o)), 'UDP checksum (zero on IPv4, computed on IPv6)');
  }
}

forEachProvider('ESP: every transform round-trips (tunnel/transport, IPv4/IPv6, ESN, UDP encapsulation)', (crypto) => {
  const configs: PairOptions[] = [
    { mode: 'tunnel', family: 4 },
    { mode: 'transport', family: 6, esn: true },
    { mode: 'tunnel', family: 6, encapsulation: true, esn: true, tfcPadding: 300 },
    { mode: 'transport', family: 4, encapsulation: true },
  ];
  const transforms = allTransforms();
  ok(transforms.length > 100, `${transforms.length} transforms`);
  transforms.forEach(([e, i], n) => {
    const config = configs[n % configs.length];
    roundTrip(crypto, e, i, Uint8Array.from({ length: n % 37 }, (_, k) => k * 7), config);
  });
}, legacy);

forEachProvider('ESP property: seal then open round-trips for random transforms, packets and options', (crypto) => {
  const transforms = allTransforms();
  fc.assert(fc.property(
    fc.integer({ min: 0, max: transforms.length - 1 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.record({
      mode: fc.constantFrom('tunnel' as const, 'transport' as const),
      family: fc.constantFrom(4 as const, 6 as const),
      esn: fc.boolean(),
      encapsulation: fc.boolean(),
      tfcPadding: fc.constantFrom(0, 0, 64, 1400),
    }),
    (index, payload, options) => {
      const [e, i] = transforms[index];
      roundTrip(crypto, e, i, payload, options);
    },
  ), { numRuns: runs(150) });
}, legacy);

/** One representative per encryption family, and every integrity algorithm with AES-CBC. */
function representatives(): [Algorithm, Algorithm | null][] {
  const pick = (e: string, i: string | null): [Algorithm, Algorithm | null] => [findAlgorithm(e)!, i ? findAlgorithm(i)! : null];
  return [
    pick('aes128gcm16', null), pick('aes256gcm8', null), pick('aes128ccm12', null), pick('chacha20poly1305', null),
    pick('aes128gmac', null), pick('aes128gcm16iiv', null), pick('aes256ctr', 'sha256'), pick('null', 'sha1'),
    pick('3des', 'sha256'), pick('des', 'md5'),
    ...['sha1', 'sha256', 'sha384', 'sha512', 'md5', 'ripemd160', 'aesxcbc', 'aescmac'].map((i) => pick('aes128', i)),
  ];
}

const REJECTIONS: DropReason[] = ['auth failure', 'bad spi', 'replay', 'too old', 'bad length', 'truncated'];

forEachProvider('ESP: every single-bit flip of a sealed packet is rejected', (crypto) => {
  for (const [e, i] of representatives()) {
    for (const esn of [false, true]) {
      const { out, in: inbound } = saPair(crypto, e, i, { esn });
      const packet = ipPacket(4, Uint8Array.from({ length: 23 }, (_, k) => k));
      ok(out.seal(packet));
      const { esp } = espStart(packet);
      const end = packet.offset + packet.length;
      const sealed = packet.buffer.slice();
      for (let byte = esp; byte < end; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = sealed.slice();
          copy[byte] ^= 1 << bit;
          const p = { buffer: copy, offset: esp, length: end - esp };
          ok(!inbound.open(p, packet.offset), `${name(e, i)} esn=${esn}: flip of bit ${bit} of byte ${byte - esp} accepted`);
        }
      }
      const rejected = REJECTIONS.reduce((n, r) => n + inbound.drops[r], 0);
      equal(rejected, (end - esp) * 8, `${name(e, i)}: every flip counted under a rejection reason`);
      equal(inbound.drops['auth failure'] > 0, true);
      // the rejected copies did not move the replay window: the genuine packet still opens
      ok(inbound.open({ buffer: sealed.slice(), offset: esp, length: end - esp }, packet.offset), `${name(e, i)}: genuine packet after the flips`);
    }
  }
}, legacy);

forEachProvider('ESP: every truncation of a sealed packet is rejected, none throws', (crypto) => {
  for (const [e, i] of representatives()) {
    const { out, in: inbound } = saPair(crypto, e, i, {});
    const packet = ipPacket(4, Uint8Array.from({ length: 40 }, (_, k) => k));
    ok(out.seal(packet));
    const { esp } = espStart(packet);
    const full = packet.offset + packet.length - esp;
    for (let length = 0; length < full; length++) {
      ok(!inbound.open({ buffer: packet.buffer.slice(), offset: esp, length }, packet.offset), `${name(e, i)}: truncated to ${length} accepted`);
    }
    const total = Object.values(inbound.drops).reduce((a, b) => a + b, 0);
    equal(total, full, `${name(e, i)}: every truncation counted`);
  }
}, legacy);

forEachProvider('ESP: replays and old packets are dropped and counted; the window slides', (crypto) => {
  const { out, in: inbound } = saPair(crypto, 'aes128gcm16', null, { replayWindow: 64 });
  const sealed: Uint8Array[] = [];
  for (let n = 0; n < 100; n++) {
    const p = ipPacket(4, Uint8Array.of(n));
    ok(out.seal(p));
    sealed.push(p.buffer.slice(p.offset, p.offset + p.length));
  }
  const open = (k: number) => openSealed(inbound, { buffer: sealed[k].slice(), offset: 0, length: sealed[k].length }) !== null;
  ok(open(99), 'seq 100');
  ok(open(50), 'seq 51 is inside the window');
  ok(!open(50), 'seq 51 again: replay');
  ok(!open(10), 'seq 11: left of the window');
  ok(open(98), 'seq 99');
  equal(inbound.drops.replay, 1);
  equal(inbound.drops['too old'], 1);
  equal(inbound.packets, 3);
});

forEachProvider('ESP: the sequence number never wraps; with ESN it crosses 2^32', (crypto) => {
  const plain = saPair(crypto, 'aes128gcm16', null, {});
  plain.out.setSequence(0, 0xfffffffe);
  ok(plain.out.seal(ipPacket(4, Uint8Array.of(1))), 'seq 2^32 - 1 is the last');
  ok(!plain.out.seal(ipPacket(4, Uint8Array.of(2))), 'no wrap to 0');
  equal(plain.out.drops['sequence exhausted'], 1);
  equal(plain.out.events.filter((e) => e.type === 'sequence-exhausted').length, 1);

  const esn = saPair(crypto, 'aes128', 'sha256', { esn: true });
  esn.out.setSequence(0, 0xfffffffd);
  esn.in.replay!.reset(0, 0xfffffff0);
  for (let n = 0; n < 5; n++) {
    const p = ipPacket(4, Uint8Array.of(n));
    ok(esn.out.seal(p), `ESN seal ${n}`);
    ok(openSealed(esn.in, p), `ESN open ${n}: ${JSON.stringify(esn.in.drops)}`);
  }
  equal(esn.out.sequence.high, 1, 'the high half counted up');
  equal(esn.in.replay!.top, 2 ** 32 + 2);
});

forEachProvider('ESP: bad padding, dummy packets, non-IP inner packets, lifetimes', (crypto) => {
  // hand-built packets: ESP header + payload + trailer, sealed by the transform itself
  const { in: inbound } = saPair(crypto, 'null', 'sha256', { spi: 0x1000 });
  const build = (payload: Uint8Array, padding: number[], nextHeader: number, seq: number) => {
    const t = inbound.transform;
    const encrypted = payload.length + padding.length + 2;
    const buffer = new Uint8Array(8 + encrypted + t.icvLength);
    buffer.set([0, 0, 0x10, 0, 0, 0, 0, seq]);
    buffer.set(payload, 8);
    buffer.set(padding, 8 + payload.length);
    buffer[8 + encrypted - 2] = padding.length;
    buffer[8 + encrypted - 1] = nextHeader;
    t.seal(buffer, new DataView(buffer.buffer), 0, encrypted, 0, seq);
    return { buffer, offset: 0, length: buffer.length };
  };
  const inner = ipPacket(4, Uint8Array.of(1, 2, 3));
  const innerBytes = inner.buffer.slice(inner.offset, inner.offset + inner.length);
  ok(!inbound.open(build(innerBytes, [1, 2, 4], IpProtocol.IPV4, 1)), 'padding 1, 2, 4');
  equal(inbound.drops['bad padding'], 1);
  ok(!inbound.open(build(innerBytes, [], IpProtocol.NO_NEXT_HEADER, 2)), 'dummy');
  equal(inbound.drops.dummy, 1);
  ok(!inbound.open(build(innerBytes, [], IpProtocol.IPV6, 3)), 'IPv4 bytes labelled IPv6');
  ok(!inbound.open(build(Uint8Array.of(0x45, 0), [], IpProtocol.IPV4, 4)), 'a truncated inner IPv4 header');
  equal(inbound.drops['bad inner packet'], 2);
  ok(inbound.open(build(innerBytes, [1, 2, 3], IpProtocol.IPV4, 5)), 'good padding');

  // dummy packets from the sender are dropped, and counted as such, by the receiver
  const pair = saPair(crypto, 'aes128gcm16', null, {});
  const dummy = ipPacket(4, new Uint8Array(0), 100);
  ok(pair.out.sealDummy(dummy, 60), `dummy: ${JSON.stringify(pair.out.drops)}`);
  ok(!openSealed(pair.in, dummy));
  equal(pair.in.drops.dummy, 1);

  // lifetimes: soft raises an event, hard stops the SA
  const limited = saPair(crypto, 'aes128gcm16', null, {});
  const sender = new EspSa({ ...limitedConfig(limited.out), soft: { packets: 2 }, hard: { packets: 3 } });
  for (let n = 0; n < 3; n++) ok(sender.seal(ipPacket(4, Uint8Array.of(n))));
  ok(!sender.seal(ipPacket(4, Uint8Array.of(9))));
  equal(sender.drops.expired, 1);
  equal(sender.events.map((e) => e.type).join(','), 'soft-expired,hard-expired');
});

function limitedConfig(sa: EspSa) {
  return { spi: sa.spi, direction: 'out' as const, mode: sa.mode, esn: sa.esn, transform: sa.transform, tunnel: { local: Uint8Array.of(10, 0, 0, 1), remote: Uint8Array.of(10, 0, 0, 2) } };
}

forEachProvider('ESP: a cipher without integrity, an AEAD with one, or short keys are refused', (crypto) => {
  throws(() => saPair(crypto, 'aes128', null, {}), /needs an integrity algorithm/);
  throws(() => saPair(crypto, 'aes128gcm16', 'sha256', {}), /combined-mode/);
  const e = findAlgorithm('aes128gcm16')!;
  throws(() => createEspTransform(crypto, e, null, { encryption: new Uint8Array(16), integrity: new Uint8Array(0) }, false), /20 bytes of key material/);
  throws(() => new EspSa({ spi: 255, direction: 'in', mode: 'tunnel', esn: false, transform: saPair(crypto, e, null).in.transform }), /reserved/);
});

forEachProvider('ESP property: a single flipped bit anywhere in a sealed packet of any transform is rejected', (crypto) => {
  const transforms = allTransforms();
  fc.assert(fc.property(
    fc.integer({ min: 0, max: transforms.length - 1 }),
    fc.uint8Array({ maxLength: 100 }),
    fc.boolean(),
    fc.nat(),
    (index, payload, esn, position) => {
      const [e, i] = transforms[index];
      const { out, in: inbound } = saPair(crypto, e, i, { esn });
      const packet = ipPacket(4, payload);
      ok(out.seal(packet));
      const { ip, esp } = espStart(packet);
      const end = packet.offset + packet.length;
      const bit = position % ((end - esp) * 8);
      packet.buffer[esp + (bit >> 3)] ^= 1 << (bit & 7);
      ok(!inbound.open({ buffer: packet.buffer, offset: esp, length: end - esp }, ip), `${name(e, i)} esn=${esn}: bit ${bit} flipped and accepted`);
    },
  ), { numRuns: runs(300) });
}, legacy);
