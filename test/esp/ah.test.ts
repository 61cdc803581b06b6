/**
 * AH (RFC 4302): every integrity algorithm round-trips in tunnel and transport mode, IPv4 and
 * IPv6, with and without ESN; changes to mutable IP fields in transit are tolerated, changes
 * to anything else are authentication failures; truncations and replays are counted; and
 * scapy (an independent AH) agrees in both directions.
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { AhSa } from '../../src/esp/ah.js';
import { SEAL_HEADROOM } from '../../src/esp/sa.js';
import { bytesEqual, equal, ok } from '../assert.js';
import { forEachProvider, runProgram, testDirectory } from '../engine.js';
import { ESP_INTEGRITIES, ipPacket, V4, V6 } from './packets.js';

interface Options {
  mode: 'tunnel' | 'transport';
  family: 4 | 6;
  esn?: boolean;
}

function ahPair(crypto: Crypto, integrity: Algorithm, options: Options) {
  const p = integrity.primitive;
  const key = new Uint8Array(p.kind === 'mac' ? p.keyBytes : 0);
  crypto.randomBytes(key);
  const common = { spi: 0x2000, mode: options.mode, integrity, key, esn: options.esn ?? false, tunnel: options.family === 4 ? V4 : V6 };
  return { out: new AhSa(crypto, { ...common, direction: 'out' }), in: new AhSa(crypto, { ...common, direction: 'in' }), key };
}

function sealOne(sa: AhSa, family: 4 | 6, payload: Uint8Array) {
  const packet = ipPacket(family, payload, 8);
  const original = packet.buffer.slice(packet.offset, packet.offset + packet.length);
  ok(sa.seal(packet), `seal: ${JSON.stringify(sa.drops)}`);
  return { packet, original };
}

forEachProvider('AH: every integrity algorithm round-trips (tunnel/transport, IPv4/IPv6, ESN)', (crypto) => {
  for (const integrity of ESP_INTEGRITIES) {
    for (const options of [{ mode: 'tunnel', family: 4 }, { mode: 'transport', family: 4, esn: true }, { mode: 'tunnel', family: 6, esn: true }, { mode: 'transport', family: 6 }] as Options[]) {
      const { out, in: inbound } = ahPair(crypto, integrity, options);
      const { packet, original } = sealOne(out, options.family, Uint8Array.from({ length: 33 }, (_, i) => i));
      ok(inbound.open(packet), `${integrity.name} ${JSON.stringify(options)}: ${JSON.stringify(inbound.drops)}`);
      bytesEqual(packet.buffer.slice(packet.offset, packet.offset + packet.length), original, `${integrity.name} ${JSON.stringify(options)}`);
    }
  }
}, { allowLegacy: true });

forEachProvider('AH: mutable fields may change in transit; every other bit may not; truncations and replays are dropped', (crypto) => {
  for (const family of [4, 6] as const) {
    const { out, in: inbound } = ahPair(crypto, findAlgorithm('sha256')!, { mode: 'tunnel', family });
    const { packet } = sealOne(out, family, Uint8Array.from({ length: 20 }, (_, i) => i * 3));
    const sealed = packet.buffer.slice();
    const o = packet.offset;
    const end = o + packet.length;
    // routers change these: IPv4 TOS, flags/fragment offset, TTL, checksum; IPv6 traffic class, flow label, hop limit
    const mutable = family === 4 ? [o + 1, o + 6, o + 7, o + 8, o + 10, o + 11] : [o + 1, o + 2, o + 3, o + 7];
    const changed = sealed.slice();
    for (const i of mutable) changed[i] ^= 0x55;
    if (family === 6) changed[o] = (changed[o] & 0xf0) | ((changed[o] + 3) & 0x0f); // traffic class high bits
    ok(inbound.open({ buffer: changed, offset: o, length: end - o }), `IPv${family}: mutable fields changed: ${JSON.stringify(inbound.drops)}`);
    // every bit of everything else (after the mutable fields), one at a time
    const immutable: number[] = [];
    for (let i = o; i < end; i++) if (!mutable.includes(i) && !(family === 6 && i === o)) immutable.push(i);
    let rejected = 0;
    for (const i of immutable) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = sealed.slice();
        copy[i] ^= 1 << bit;
        if (!inbound.open({ buffer: copy, offset: o, length: end - o })) rejected++;
      }
    }
    equal(rejected, immutable.length * 8, `IPv${family}: every immutable bit flip rejected`);
    for (let length = 0; length < end - o; length++) {
      ok(!inbound.open({ buffer: sealed.slice(), offset: o, length }), `truncated to ${length}`);
    }
    // replay: the first open above accepted sequence number 1
    ok(!inbound.open({ buffer: sealed.slice(), offset: o, length: end - o }), 'replayed');
    ok(inbound.drops.replay >= 1);
  }
});

const SCRIPT = `${testDirectory}/interop/scapy_esp.py`;

async function scapy(command: 'seal' | 'open', spec: object, data: Uint8Array): Promise<Uint8Array> {
  const r = await runProgram(['/usr/bin/python3', SCRIPT, command, JSON.stringify(spec), toHex(data)]);
  if (r.status !== 0) throw new Error(`scapy ${command} failed (${r.status}): ${r.output}`);
  return fromHex(r.output.trim());
}

forEachProvider('AH scapy cross-check: HMAC-SHA1-96 and HMAC-SHA-256-128, tunnel/transport, IPv4/IPv6', async (crypto) => {
  for (const [ours, theirs] of [['sha1', 'HMAC-SHA1-96'], ['sha256', 'SHA2-256-128']]) {
    for (const options of [{ mode: 'tunnel', family: 4 }, { mode: 'transport', family: 4 }, { mode: 'tunnel', family: 6 }] as Options[]) {
      const { out, in: inbound, key } = ahPair(crypto, findAlgorithm(ours)!, options);
      const a = options.family === 4 ? V4 : V6;
      const address = (b: Uint8Array) => (b.length === 4 ? Array.from(b).join('.') : Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16)).join(':'));
      const spec = { proto: 'AH', auth: theirs, auth_key: toHex(key), spi: 0x2000, seq: 1, mode: options.mode, family: options.family, local: address(a.local), remote: address(a.remote) };
      const label = `${ours} ${options.mode} IPv${options.family}`;
      const { packet, original } = sealOne(out, options.family, Uint8Array.from({ length: 21 }, (_, i) => i));
      bytesEqual(await scapy('open', spec, packet.buffer.slice(packet.offset, packet.offset + packet.length)), original, `${label}: scapy verifies ours`);
      const theirsSealed = await scapy('seal', spec, original);
      const buffer = new Uint8Array(SEAL_HEADROOM + theirsSealed.length + 8);
      buffer.set(theirsSealed, SEAL_HEADROOM);
      const received = { buffer, offset: SEAL_HEADROOM, length: theirsSealed.length };
      ok(inbound.open(received), `${label}: we verify scapy's: ${JSON.stringify(inbound.drops)}`);
      bytesEqual(buffer.slice(received.offset, received.offset + received.length), original, `${label}: scapy's packet`);
    }
  }
});
