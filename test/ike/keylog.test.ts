/**
 * Wireshark decryption tables (src/ike/keylog.ts). The expected lines are written out from the
 * UATs' field definitions (packet-isakmp.c's IKEv2 decryption table: bare-hex SPIs and keys,
 * quoted algorithm names; packet-esp.c's esp_sa: every field quoted, keys "0x"-prefixed),
 * with keys of one repeated byte so that their hex is plain to read. When tshark is installed,
 * it loads the tables we write (it checks names and key lengths) and decrypts a packet an
 * EspSa sealed.
 */
import { toHex } from '../../src/crypto/bytes.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { EspSa, type Packet } from '../../src/esp/sa.js';
import { createEspTransform, keyLengths } from '../../src/esp/transform.js';
import {
  ESP_TABLE_FILE, espEncryptionName, espSaLine, IKEV2_TABLE_FILE, ikeDecryptionTableLine, ikeEncryptionName, KeyLog,
} from '../../src/ike/keylog.js';
import type { IkeKeys } from '../../src/ike/keymat.js';
import { Logger } from '../../src/log.js';
import { deepEqual, equal, ok, throws } from '../assert.js';
import { engine, providerSlots, runProgram, withTemporaryDirectory } from '../engine.js';
import { test } from '../harness.js';
import { ipPacket, V4 } from '../esp/packets.js';
import { writeIpv4Header } from '../../src/wire/ip.js';
import { writeUdpHeader } from '../../src/wire/udp.js';
import { connectionDoc, Pair } from './ike-pair.js';

const alg = (name: string): Algorithm => {
  const a = findAlgorithm(name);
  if (!a) throw new Error(`no algorithm ${name}`);
  return a;
};
const filled = (n: number, byte: number) => new Uint8Array(n).fill(byte);
const SPII = Uint8Array.of(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef);
const SPIR = Uint8Array.of(0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10);

/** IKE keys of the sizes the algorithms take: SK_ei 0x11.., SK_er 0x22.., SK_ai 0x33.., SK_ar 0x44... */
function ikeKeys(encryption: string, integrity: string | null): IkeKeys {
  const [e, a] = keyLengths(alg(encryption), integrity ? alg(integrity) : null);
  return {
    skD: filled(32, 0x99), skEi: filled(e, 0x11), skEr: filled(e, 0x22), skAi: filled(a, 0x33), skAr: filled(a, 0x44),
    skPi: filled(32, 0x99), skPr: filled(32, 0x99),
  };
}
function ikeLine(encryption: string, integrity: string | null) {
  const algorithms = { prf: alg('prfsha256'), encryption: alg(encryption), integrity: integrity ? alg(integrity) : null };
  return ikeDecryptionTableLine(SPII, SPIR, ikeKeys(encryption, integrity), algorithms);
}
function espLine(encryption: string, integrity: string | null) {
  const [e, a] = keyLengths(alg(encryption), integrity ? alg(integrity) : null);
  const sa = { source: V4.local, destination: V4.remote, spi: 0xc0ffee01, encryption: alg(encryption), integrity: integrity ? alg(integrity) : null };
  return espSaLine(sa, { encryption: filled(e, 0x55), integrity: filled(a, 0x66) });
}
const line = (r: { ok: boolean; line?: string; reason?: string }): string => {
  ok(r.ok, `no line: ${(r as { reason?: string }).reason}`);
  return (r as { line: string }).line;
};

test('ikev2_decryption_table: aes128gcm16 (16-byte key + 4-byte salt, no SK_a*, "NONE")', () => {
  equal(line(ikeLine('aes128gcm16', null)),
    `0123456789abcdef,fedcba9876543210,${'11'.repeat(20)},${'22'.repeat(20)},"AES-GCM-128 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"`);
});

test('ikev2_decryption_table: aes256-sha256 (32-byte SK_e*, 32-byte SK_a*)', () => {
  equal(line(ikeLine('aes256', 'sha256')),
    `0123456789abcdef,fedcba9876543210,${'11'.repeat(32)},${'22'.repeat(32)},"AES-CBC-256 [RFC3602]",${'33'.repeat(32)},${'44'.repeat(32)},"HMAC_SHA2_256_128 [RFC4868]"`);
  equal(line(ikeLine('aes128ctr', 'sha1')),
    `0123456789abcdef,fedcba9876543210,${'11'.repeat(20)},${'22'.repeat(20)},"AES-CTR-128 [RFC5930]",${'33'.repeat(20)},${'44'.repeat(20)},"HMAC_SHA1_96 [RFC2404]"`);
});

test('ikev2_decryption_table: what Wireshark cannot decrypt gets no line but a reason', () => {
  for (const [e, i] of [['chacha20poly1305', null], ['aes128', 'aesxcbc'], ['aes128gcm16iiv', null]] as const) {
    const r = ikeLine(e, i);
    ok(!r.ok && /Wireshark cannot/.test(r.reason), `${e}/${i}: ${JSON.stringify(r)}`);
  }
  equal(ikeEncryptionName(alg('chacha20poly1305')), null);
  const r = ikeDecryptionTableLine(SPII.subarray(0, 4), SPIR, ikeKeys('aes128', 'sha1'), { prf: alg('prfsha1'), encryption: alg('aes128'), integrity: alg('sha1') });
  ok(!r.ok);
});

test('esp_sa: aes128gcm16 (key with salt, authentication "NULL" and an empty key)', () => {
  equal(line(espLine('aes128gcm16', null)),
    `"IPv4","192.0.2.1","198.51.100.2","0xc0ffee01","AES-GCM with 16 octet ICV [RFC4106]","0x${'55'.repeat(20)}","NULL","0x"`);
});

test('esp_sa: aes256-sha256, null-sha1, and IPv6 addresses written in full', () => {
  equal(line(espLine('aes256', 'sha256')),
    `"IPv4","192.0.2.1","198.51.100.2","0xc0ffee01","AES-CBC [RFC3602]","0x${'55'.repeat(32)}","HMAC-SHA-256-128 [RFC4868]","0x${'66'.repeat(32)}"`);
  equal(line(espLine('null', 'sha1')),
    `"IPv4","192.0.2.1","198.51.100.2","0xc0ffee01","NULL","0x","HMAC-SHA-1-96 [RFC2404]","0x${'66'.repeat(20)}"`);
  const v6 = espSaLine(
    { source: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), destination: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a), spi: 0x100, encryption: alg('aes128'), integrity: alg('sha512') },
    { encryption: filled(16, 0x55), integrity: filled(64, 0x66) },
  );
  equal(line(v6),
    `"IPv6","2001:0db8:0000:0000:0000:0000:0000:0001","2001:0db8:0000:0000:0000:0000:0000:002a","0x00000100","AES-CBC [RFC3602]","0x${'55'.repeat(16)}","HMAC-SHA-512-256 [RFC4868]","0x${'66'.repeat(64)}"`);
});

test('esp_sa: chacha20poly1305 has the newer Wireshark name; AES-CCM and GMAC get no line', () => {
  equal(line(espLine('chacha20poly1305', null)),
    `"IPv4","192.0.2.1","198.51.100.2","0xc0ffee01","ChaCha20 with Poly1305 [RFC7634]","0x${'55'.repeat(36)}","NULL","0x"`);
  for (const e of ['aes128ccm16', 'aes128gmac']) {
    const r = espLine(e, null);
    ok(!r.ok && /Wireshark cannot decrypt ESP/.test(r.reason), `${e}: ${JSON.stringify(r)}`);
    equal(espEncryptionName(alg(e)), null);
  }
  ok(!espSaLine({ source: V4.local, destination: new Uint8Array(16), spi: 1, encryption: alg('aes128') , integrity: alg('sha1') }, { encryption: filled(16, 0), integrity: filled(20, 0) }).ok);
});

test('KeyLog: null unless keylog is on; with it, lines go to the sink by table', () => {
  const written: string[] = [];
  const sink = (table: string, l: string) => written.push(`${table}: ${l}`);
  equal(KeyLog.create(undefined, sink), null);
  equal(KeyLog.create({}, sink), null);
  equal(KeyLog.create({ keylog: false }, sink), null);
  equal(KeyLog.create(new Logger(() => {}), sink), null);
  equal(KeyLog.create(new Logger(() => {}, { logging: { levels: { default: 4 } } }), sink), null);
  throws(() => new (KeyLog as any)(Symbol('KeyLog.create'), sink), TypeError);
  equal(written.length, 0);

  const log = KeyLog.create(new Logger(() => {}, { logging: { keylog: true } }), sink);
  ok(log);
  const ike = log.ike(SPII, SPIR, ikeKeys('aes128gcm16', null), { prf: alg('prfsha256'), encryption: alg('aes128gcm16') });
  ok(ike.ok);
  const unsupported = log.esp({ source: V4.local, destination: V4.remote, spi: 0x1000, encryption: alg('aes128ccm8') }, { encryption: filled(19, 0), integrity: new Uint8Array(0) });
  ok(!unsupported.ok);
  const esp = log.esp({ source: '192.0.2.1', destination: '198.51.100.2', spi: 0x1000, encryption: alg('aes128'), integrity: alg('sha1') }, { encryption: filled(16, 0x55), integrity: filled(20, 0x66) });
  ok(esp.ok);
  deepEqual(written, [`${IKEV2_TABLE_FILE}: ${ike.line}`, `${ESP_TABLE_FILE}: ${esp.line}`]);
  deepEqual(log.lines.map((l) => l.table), ['ikev2_decryption_table', 'esp_sa']);
});

test('KeyLog: a Logger sink writes nothing without keylog', () => {
  const out: string[] = [];
  const logger = new Logger((l) => out.push(l), { logging: { levels: { default: 4 } } });
  const log = KeyLog.create(logger, (table, l) => logger.log('ike', 4, `${table} ${l}`));
  equal(log, null);
  log?.ike(SPII, SPIR, ikeKeys('aes128gcm16', null), { prf: alg('prfsha256'), encryption: alg('aes128gcm16') });
  deepEqual(out, []);
});

// -- tshark: it loads the tables and decrypts what an EspSa sealed ------------------------------

const tshark = (await runProgram(['sh', '-c', 'command -v tshark && command -v xxd'])).status === 0;

/** A classic pcap (microsecond, little-endian) with one record, link type 228 (raw IPv4). */
function pcap(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(24 + 16 + packet.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 228, true);
  v.setUint32(24, 1_700_000_000, true);
  v.setUint32(32, packet.length, true);
  v.setUint32(36, packet.length, true);
  out.set(packet, 40);
  return out;
}

async function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  const r = await runProgram(['sh', '-c', `printf '%s' "$1" | xxd -r -p > "$2"`, 'sh', toHex(bytes), path]);
  if (r.status !== 0) throw new Error(`writing ${path}: ${r.output}`);
}
const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

if (tshark) {
  test(`tshark loads our ikev2_decryption_table lines (algorithm names and key lengths) [${engine}]`, async () => {
    const combos: [string, string | null][] = [
      ['aes128gcm16', null], ['aes256gcm8', null], ['aes192ccm12', null], ['aes256', 'sha256'],
      ['aes128ctr', 'sha384'], ['aes192', 'sha512'], ['3des', 'md5'], ['aes128', 'sha1'],
    ];
    const lines = combos.map(([e, i]) => line(ikeLine(e, i)));
    await withTemporaryDirectory(async (dir) => {
      await writeFile(`${dir}/${IKEV2_TABLE_FILE}`, text(`${lines.join('\n')}\n`));
      await writeFile(`${dir}/empty.pcap`, pcap(new Uint8Array(0)).subarray(0, 24));
      const r = await runProgram(['sh', '-c', `WIRESHARK_CONFIG_DIR=${dir} tshark -r ${dir}/empty.pcap 2>&1`]);
      ok(r.status === 0 && !/error|invalid/i.test(r.output), r.output);
    });
  });

  for (const [e, i] of [['aes128gcm16', null], ['aes256', 'sha256'], ['null', 'sha1']] as const) {
    test(`tshark decrypts an ESP packet our EspSa sealed with ${e}${i ? `-${i}` : ''}, from our esp_sa line [${engine}]`, async () => {
      const crypto = providerSlots[0].make();
      const encryption = alg(e);
      const integrity = i ? alg(i) : null;
      const [el, al] = keyLengths(encryption, integrity);
      const keys = { encryption: filled(el, 0x5a), integrity: filled(al, 0xa5) };
      for (let k = 0; k < el; k++) keys.encryption[k] = k * 7 + 1;
      const sa = new EspSa({ spi: 0xc0ffee01, direction: 'out', mode: 'tunnel', esn: false, tunnel: V4, transform: createEspTransform(crypto, encryption, integrity, keys, false) });
      const packet: Packet = ipPacket(4, text('keylog-check'));
      ok(sa.seal(packet), 'seal');
      const sealed = packet.buffer.subarray(packet.offset, packet.offset + packet.length);
      const esp = line(espSaLine({ source: V4.local, destination: V4.remote, spi: sa.spi, encryption, integrity }, keys));
      await withTemporaryDirectory(async (dir) => {
        await writeFile(`${dir}/${ESP_TABLE_FILE}`, text(`${esp}\n`));
        await writeFile(`${dir}/esp.pcap`, pcap(sealed));
        const r = await runProgram(['sh', '-c',
          `WIRESHARK_CONFIG_DIR=${dir} tshark -r ${dir}/esp.pcap -o esp.enable_encryption_decode:TRUE -T fields -e esp.spi -e udp.srcport -e udp.dstport 2>&1`]);
        ok(r.status === 0, r.output);
        // the inner UDP packet (12345 -> 53, test/esp/packets.ts) is visible only when decrypted
        ok(/12345\s+53/.test(r.output), `not decrypted:\n${r.output}\n${esp}`);
      });
    });
  }

  test(`tshark decrypts our engine's IKE_AUTH request with the ikev2_decryption_table line our key log wrote [${engine}]`, async () => {
    const lines: string[] = [];
    const p = new Pair(providerSlots[1].make(), connectionDoc('a', { proposals: ['aes256-sha256-modp2048'] }), connectionDoc('b', { proposals: ['aes256-sha256-modp2048'] }),
      { keylog: KeyLog.create({ keylog: true }, (table, l) => { if (table === IKEV2_TABLE_FILE) lines.push(l); }) }, { keylog: null });
    p.a.engine.startAll();
    let auth: Uint8Array | undefined;
    p.run((d) => {
      if (d.bytes[18] === 35 && (d.bytes[19] & 0x20) === 0) auth = d.bytes;
      return true;
    });
    ok(auth !== undefined && lines.length === 1, `an IKE_AUTH request and one table line: ${lines.length}\n${p.logs()}`);
    // the request in IPv4 and UDP 500 -> 500, from 192.0.2.1 to 198.51.100.2
    const packet = new Uint8Array(28 + auth!.length);
    writeIpv4Header(packet, 0, packet.length, 17, 1, 64, Uint8Array.of(192, 0, 2, 1, 198, 51, 100, 2), 0, 4);
    writeUdpHeader(packet, 0, 20, 500, 500, 8 + auth!.length);
    packet.set(auth!, 28);
    await withTemporaryDirectory(async (dir) => {
      await writeFile(`${dir}/${IKEV2_TABLE_FILE}`, text(`${lines[0]}\n`));
      await writeFile(`${dir}/ike.pcap`, pcap(packet));
      const r = await runProgram(['sh', '-c', `WIRESHARK_CONFIG_DIR=${dir} tshark -r ${dir}/ike.pcap -V 2>&1`]);
      ok(r.status === 0, r.output);
      // the identity inside the SK payload is readable only when decrypted with our keys
      ok(/Decrypted Data/.test(r.output) && /sensor\.example\.com/.test(r.output), `not decrypted:\n${r.output}\n${lines[0]}`);
    });
  });
}
