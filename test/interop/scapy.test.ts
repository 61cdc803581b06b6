/**
 * Cross-check of our ESP against an independent implementation, scapy's
 * (scapy.layers.ipsec, Debian's python3-scapy): packets we seal open in scapy, and packets
 * scapy seals open with ours, for AES-GCM, AES-CBC + HMAC-SHA-256 and NULL + HMAC-SHA-1, in
 * tunnel and transport mode, plain and UDP-encapsulated (RFC 3948), on both engines and with
 * both providers.
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm } from '../../src/crypto/registry.js';
import { EspSa } from '../../src/esp/sa.js';
import { createEspTransform, keyLengths } from '../../src/esp/transform.js';
import { bytesEqual, equal, ok } from '../assert.js';
import { forEachProvider, runProgram, testDirectory } from '../engine.js';
import { espStart, ipPacket, V4, V6 } from '../esp/packets.js';

const SCRIPT = `${testDirectory}/interop/scapy_esp.py`;

interface Case {
  encryption: string;
  integrity: string | null;
  scapyCrypt: string;
  scapyAuth: string;
  mode: 'tunnel' | 'transport';
  family: 4 | 6;
  encap: boolean;
}

const CASES: Case[] = [];
for (const [encryption, integrity, scapyCrypt, scapyAuth] of [
  ['aes128gcm16', null, 'AES-GCM', 'NULL'],
  ['aes128', 'sha256', 'AES-CBC', 'SHA2-256-128'],
  ['null', 'sha1', 'NULL', 'HMAC-SHA1-96'],
] as const) {
  for (const [mode, family, encap] of [['tunnel', 4, false], ['transport', 4, false], ['tunnel', 4, true], ['transport', 4, true], ['tunnel', 6, false]] as const) {
    CASES.push({ encryption, integrity, scapyCrypt, scapyAuth, mode, family, encap });
  }
}

function address(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}

async function scapy(command: 'seal' | 'open', spec: object, data: Uint8Array): Promise<Uint8Array> {
  const r = await runProgram(['/usr/bin/python3', SCRIPT, command, JSON.stringify(spec), toHex(data)]);
  if (r.status !== 0) throw new Error(`scapy ${command} failed (${r.status}): ${r.output}`);
  return fromHex(r.output.trim());
}

async function crossCheck(crypto: Crypto, c: Case): Promise<void> {
  const e = findAlgorithm(c.encryption)!;
  const i = c.integrity ? findAlgorithm(c.integrity)! : null;
  const [encLength, integLength] = keyLengths(e, i);
  const keys = { encryption: new Uint8Array(encLength), integrity: new Uint8Array(integLength) };
  crypto.randomBytes(keys.encryption);
  crypto.randomBytes(keys.integrity);
  const spi = 0x0a0b0c0d;
  const addresses = c.family === 4 ? V4 : V6;
  const common = {
    spi, mode: c.mode, esn: false, tunnel: addresses,
    encapsulation: c.encap ? { localPort: 4500, remotePort: 4500 } : undefined,
  };
  const out = new EspSa({ ...common, direction: 'out', transform: createEspTransform(crypto, e, i, keys, false) });
  const inbound = new EspSa({ ...common, direction: 'in', transform: createEspTransform(crypto, e, i, keys, false) });
  const spec = {
    crypt: c.scapyCrypt, crypt_key: toHex(keys.encryption), icv: e.primitive.kind === 'aead' ? e.primitive.tagBytes : null,
    auth: c.scapyAuth, auth_key: toHex(keys.integrity), spi, seq: 1, mode: c.mode, family: c.family,
    local: address(addresses.local), remote: address(addresses.remote), encap: c.encap,
  };
  const label = `${c.encryption}${c.integrity ? '-' + c.integrity : ''} ${c.mode} IPv${c.family}${c.encap ? ' UDP-encapsulated' : ''}`;
  const payload = Uint8Array.from({ length: 45 }, (_, k) => (k * 13) & 0xff);

  // ours -> scapy
  const packet = ipPacket(c.family, payload);
  const original = packet.buffer.slice(packet.offset, packet.offset + packet.length);
  ok(out.seal(packet), `${label}: seal`);
  const sealed = packet.buffer.slice(packet.offset, packet.offset + packet.length);
  const openedByScapy = await scapy('open', spec, sealed);
  bytesEqual(openedByScapy, original, `${label}: scapy opens what we sealed`);

  // scapy -> ours
  const sealedByScapy = await scapy('seal', spec, original);
  const buffer = new Uint8Array(sealedByScapy.length + 64);
  buffer.set(sealedByScapy, 32);
  const received = { buffer, offset: 32, length: sealedByScapy.length };
  const { ip, esp } = espStart(received);
  const p = { buffer, offset: esp, length: received.offset + received.length - esp };
  ok(inbound.open(p, ip), `${label}: we open what scapy sealed; drops ${JSON.stringify(inbound.drops)}`);
  bytesEqual(buffer.slice(p.offset, p.offset + p.length), original, `${label}: the packet scapy sealed`);
  equal(inbound.packets, 1);
}

forEachProvider('scapy cross-check: AES-GCM, AES-CBC+HMAC-SHA256, NULL+HMAC-SHA1; tunnel/transport; plain/UDP; IPv4/IPv6', async (crypto) => {
  for (const c of CASES) await crossCheck(crypto, c);
});
