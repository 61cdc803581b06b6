/**
 * PF_KEY v2 (RFC 2367): constants against the RFC and Linux's pfkeyv2.h; the codec's round
 * trips and its refusal of truncated, oversized and malformed messages; the engine's handling
 * of GETSPI, UPDATE, ADD, DELETE, GET, REGISTER, FLUSH, DUMP and its EXPIRE messages; and
 * manual keying from configuration (setkey-style static SAs and policies).
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { Errno, PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { addMessage, applyStatic, type StaticSa } from '../../src/policy/manual.js';
import { Spd } from '../../src/policy/spd.js';
import { parseRange } from '../../src/policy/selector.js';
import { EspSa } from '../../src/esp/sa.js';
import {
  decodePfKey, encodePfKey, IpsecMode, PF_KEY_V2, PfKeyError, SadbAuth, SadbEncrypt, SadbExt, SadbIdentType, SadbMsg,
  SadbSaFlags, SadbSaState, SadbSaType, type PfKeyMessage,
} from '../../src/wire/pfkey.js';
import { bytesEqual, deepEqual, equal, ok, throws } from '../assert.js';
import { providerSlots, runProgram } from '../engine.js';
import { test } from '../harness.js';
import { ipPacket, openSealed } from '../esp/packets.js';

test('PF_KEY constants: RFC 2367 numbers, and every number Linux pfkeyv2.h defines', async () => {
  // RFC 2367 §2.3, §3: the numbers the RFC itself assigns
  deepEqual([SadbMsg.GETSPI, SadbMsg.UPDATE, SadbMsg.ADD, SadbMsg.DELETE, SadbMsg.GET, SadbMsg.ACQUIRE, SadbMsg.REGISTER, SadbMsg.EXPIRE, SadbMsg.FLUSH, SadbMsg.DUMP], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  deepEqual([SadbSaType.UNSPEC, SadbSaType.AH, SadbSaType.ESP, SadbSaType.RSVP, SadbSaType.OSPFV2, SadbSaType.RIPV2, SadbSaType.MIP], [0, 2, 3, 5, 6, 7, 8]);
  deepEqual([SadbExt.SA, SadbExt.LIFETIME_CURRENT, SadbExt.ADDRESS_SRC, SadbExt.KEY_AUTH, SadbExt.IDENTITY_SRC, SadbExt.SENSITIVITY, SadbExt.PROPOSAL, SadbExt.SUPPORTED_AUTH, SadbExt.SPIRANGE], [1, 2, 5, 8, 10, 12, 13, 14, 16]);
  deepEqual([SadbAuth.NONE, SadbAuth.MD5HMAC, SadbAuth.SHA1HMAC, SadbEncrypt.DESCBC, SadbEncrypt.TRIPLE_DESCBC], [0, 2, 3, 2, 3]);
  equal(PF_KEY_V2, 2);
  // Linux's header, read from linux-libc-dev
  const r = await runProgram(['cat', '/usr/include/linux/pfkeyv2.h']);
  equal(r.status, 0, 'linux-libc-dev installs /usr/include/linux/pfkeyv2.h');
  const header = new Map<string, number>();
  for (const m of r.output.matchAll(/^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)L?\b/gm)) header.set(m[1], Number(m[2]));
  const checks: [string, Record<string, number>, (key: string) => string][] = [
    ['message types', SadbMsg, (k) => `SADB_${k}`],
    ['SA types', SadbSaType, (k) => (k.startsWith('X_') ? `SADB_X_SATYPE_${k.slice(2)}` : `SADB_SATYPE_${k}`)],
    ['extensions', SadbExt, (k) => (k.startsWith('X_') ? `SADB_X_EXT_${k.slice(2)}` : `SADB_EXT_${k}`)],
    ['SA states', SadbSaState, (k) => `SADB_SASTATE_${k}`],
    ['SA flags', SadbSaFlags, (k) => `SADB_SAFLAGS_${k}`],
    ['identity types', SadbIdentType, (k) => `SADB_IDENTTYPE_${k}`],
    ['authentication algorithms', SadbAuth, (k) => (k.startsWith('X_') ? `SADB_X_AALG_${k.slice(2)}` : `SADB_AALG_${k}`)],
    ['encryption algorithms', SadbEncrypt, (k) => (k === 'TRIPLE_DESCBC' ? 'SADB_EALG_3DESCBC' : k.startsWith('X_') ? `SADB_X_EALG_${k.slice(2)}` : `SADB_EALG_${k}`)],
  ];
  let compared = 0;
  for (const [what, table, name] of checks) {
    for (const [key, value] of Object.entries(table)) {
      if (key.startsWith('XSIPSEC_')) {
        ok(![...header].some(([n, v]) => v === value && n.includes(what.startsWith('auth') ? 'AALG' : 'EALG')), `our private ${key} = ${value} collides with a Linux number`);
        continue;
      }
      equal(header.get(name(key)), value, `${what}: ${name(key)}`);
      compared++;
    }
  }
  ok(compared >= 80, `${compared} constants compared`);
  equal(header.get('PF_KEY_V2'), PF_KEY_V2);
});

const KEY = fromHex('00112233445566778899aabbccddeeff01020304');

function addEsp(spi: number, src: string, dst: string): PfKeyMessage {
  return addMessage({ spi, protocol: 'esp', mode: 'tunnel', source: src, destination: dst, encryption: 'aes128gcm16', encryptionKey: toHex(KEY) }, 7);
}

test('PF_KEY codec: a known ADD message, byte for byte, and round trips of every extension', () => {
  const add = addEsp(0x12345678, '192.0.2.1', '198.51.100.2');
  const bytes = encodePfKey(add);
  // base header: version 2, ADD, errno 0, ESP; length in 64-bit words; seq 7 (host order, little-endian)
  equal(toHex(bytes.subarray(0, 16)), `0203000${SadbSaType.ESP}${(bytes.length / 8).toString(16).padStart(2, '0')}00000007000000` + '00000000');
  // SA extension: 2 words, type 1, SPI in network order, replay 0, state mature, auth none, encrypt 20 (GCM-16)
  equal(toHex(bytes.subarray(16, 32)), '0200010012345678000100140000' + '0000');
  // source address: 3 words, type 5, proto 0, prefix 32, AF_INET (2, host order), port 0, 192.0.2.1
  equal(toHex(bytes.subarray(32, 56)), '03000500002000000200' + '0000' + 'c0000201' + '0000000000000000');
  deepEqual(decodePfKey(bytes), add);

  const full: PfKeyMessage = {
    type: SadbMsg.ACQUIRE, errno: 0, satype: SadbSaType.ESP, seq: 99, pid: 1234,
    sa: { spi: 0xc0ffee01, replay: 64, state: SadbSaState.DYING, auth: SadbAuth.X_SHA2_256HMAC, encrypt: SadbEncrypt.X_AESCBC, flags: SadbSaFlags.PFS },
    lifetimeCurrent: { allocations: 1, bytes: 2n ** 40n, addtime: 1700000000n, usetime: 1700000100n },
    lifetimeHard: { allocations: 0, bytes: 10n ** 9n, addtime: 3600n, usetime: 0n },
    lifetimeSoft: { allocations: 0, bytes: 9n * 10n ** 8n, addtime: 3000n, usetime: 0n },
    src: { proto: 17, prefixlen: 64, port: 4500, address: fromHex('20010db8000000010000000000000001') },
    dst: { proto: 17, prefixlen: 24, port: 500, address: fromHex('c6336400') },
    proxy: { proto: 0, prefixlen: 32, port: 0, address: fromHex('0a000001') },
    natOa: { proto: 0, prefixlen: 32, port: 0, address: fromHex('0a000002') },
    keyAuth: { bits: 256, key: new Uint8Array(32).fill(0xaa) },
    keyEncrypt: { bits: 128, key: new Uint8Array(16).fill(0xbb) },
    identitySrc: { identType: SadbIdentType.FQDN, id: 0n, value: 'sensor-7.example.org' },
    identityDst: { identType: SadbIdentType.USERFQDN, id: 5n, value: 'gw@example.org' },
    proposal: {
      replay: 32,
      combs: [{
        auth: 3, encrypt: 12, flags: 0, authMinBits: 160, authMaxBits: 160, encryptMinBits: 128, encryptMaxBits: 256, softAllocations: 0,
        hardAllocations: 0, softBytes: 1n, hardBytes: 2n, softAddtime: 3n, hardAddtime: 4n, softUsetime: 5n, hardUsetime: 6n,
      }],
    },
    supportedAuth: [{ id: 3, ivlen: 0, minbits: 160, maxbits: 160 }],
    supportedEncrypt: [{ id: 12, ivlen: 16, minbits: 128, maxbits: 256 }, { id: 20, ivlen: 8, minbits: 160, maxbits: 288 }],
    spirange: { min: 0x100, max: 0xffff },
    sa2: { mode: IpsecMode.TRANSPORT, sequence: 1, reqid: 42 },
    natTType: 2, natTSport: 4500, natTDport: 4501,
    other: new Map([[SadbExt.X_POLICY, fromHex('0200010000000000' + '0000000000000000'.slice(0, 4))]]),
  };
  // the opaque extension comes back padded to a whole number of 64-bit words
  deepEqual(decodePfKey(encodePfKey(full)), { ...full, other: new Map([[SadbExt.X_POLICY, fromHex('020001000000000000000000')]]) });
});

test('PF_KEY codec: truncated, oversized and malformed messages are refused with a reason', () => {
  const good = encodePfKey(addEsp(0x1000, '192.0.2.1', '198.51.100.2'));
  const bad = (mutate: (b: Uint8Array) => Uint8Array, reason: RegExp) => throws(() => decodePfKey(mutate(good.slice())), PfKeyError, String(reason)) && undefined;
  bad((b) => b.subarray(0, 15), /truncated: 15 bytes/);
  bad((b) => b.subarray(0, b.length - 8), /truncated: message length/);
  bad((b) => ((b[0] = 1), b), /version 1/);
  bad((b) => ((b[4] = 1), (b[5] = 0), b), /shorter than the base header/);
  bad((b) => ((b[16] = 0), b), /length 0 is too short/);
  bad((b) => ((b[16] = 0x40), b), /overruns/);
  bad((b) => ((b[32 + 2] = 1), b), /appears twice/); // the address extension relabelled as a second SA extension
  bad((b) => ((b[32 + 8] = 7), b), /address family 7/);
  bad((b) => ((b[32 + 5] = 33), b), /prefix length 33/);
  // every truncation of a good message is refused
  for (let n = 0; n < good.length; n++) {
    const cut = good.slice(0, n);
    let threw = false;
    try {
      decodePfKey(cut);
    } catch (e) {
      threw = e instanceof PfKeyError;
    }
    ok(threw, `truncated to ${n} bytes`);
  }
  const key = encodePfKey({ type: SadbMsg.ADD, errno: 0, satype: 3, seq: 0, pid: 0, keyEncrypt: { bits: 128, key: new Uint8Array(16) } });
  const keyView = new DataView(key.buffer);
  keyView.setUint16(16 + 4, 1024, true); // claims 1024 bits in a 16-byte key
  throws(() => decodePfKey(key), /key bits do not fit/);
  const range = encodePfKey({ type: SadbMsg.GETSPI, errno: 0, satype: 3, seq: 0, pid: 0, spirange: { min: 9, max: 5 } });
  throws(() => decodePfKey(range), /backwards/);
});

test('PF_KEY engine: GETSPI then UPDATE, ADD, GET without keys, DUMP, DELETE, FLUSH, REGISTER, errors', () => {
  const crypto = providerSlots[1].make();
  const engine = new PfKeyEngine(crypto);
  const local = [fromHex('c6336402')]; // 198.51.100.2 is ours
  // GETSPI within a range gives a larval SPI; UPDATE completes it
  const [spiReply] = engine.handle({ type: SadbMsg.GETSPI, errno: 0, satype: SadbSaType.ESP, seq: 1, pid: 9, spirange: { min: 0x5000, max: 0x50ff } }, local);
  equal(spiReply.errno, 0);
  const spi = spiReply.sa!.spi;
  ok(spi >= 0x5000 && spi <= 0x50ff && spiReply.sa!.state === SadbSaState.LARVAL, `SPI 0x${spi.toString(16)}`);
  const update = { ...addEsp(spi, '192.0.2.1', '198.51.100.2'), type: SadbMsg.UPDATE };
  equal(engine.handle(update, local)[0].errno, 0);
  equal(engine.handle({ ...addEsp(0x9999, '192.0.2.1', '198.51.100.2'), type: SadbMsg.UPDATE }, local)[0].errno, Errno.ENOENT, 'UPDATE without GETSPI');
  // ADD the outbound direction; a duplicate is EEXIST
  const added = engine.handle(addEsp(0x6000, '198.51.100.2', '192.0.2.1'), local)[0];
  equal(added.errno, 0);
  equal(added.keyEncrypt, undefined, 'replies carry no keys');
  equal(engine.handle(addEsp(0x6000, '198.51.100.2', '192.0.2.1'), local)[0].errno, Errno.EEXIST);
  // the two SAs protect real traffic: outbound 0x6000 seals, a peer would open with the same keys
  const outbound = engine.sa(0x6000) as EspSa;
  const inbound = engine.sa(spi) as EspSa;
  ok(outbound instanceof EspSa && outbound.direction === 'out' && inbound.direction === 'in');
  // GET: description, current lifetime, no keys
  const [got] = engine.handle({ type: SadbMsg.GET, errno: 0, satype: SadbSaType.ESP, seq: 3, pid: 9, sa: { spi: 0x6000, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 } });
  equal(got.errno, 0);
  equal(got.sa!.encrypt, SadbEncrypt.X_AES_GCM_ICV16);
  equal(got.keyEncrypt, undefined);
  ok(got.lifetimeCurrent !== undefined);
  // DUMP: one message per SA, sequence counting down to 0
  const dump = engine.handle({ type: SadbMsg.DUMP, errno: 0, satype: SadbSaType.UNSPEC, seq: 0, pid: 9 });
  deepEqual(dump.map((d) => d.seq), [1, 0]);
  // REGISTER lists what the data path supports
  const [registered] = engine.handle({ type: SadbMsg.REGISTER, errno: 0, satype: SadbSaType.ESP, seq: 4, pid: 9 });
  ok(registered.supportedEncrypt!.some((a) => a.id === SadbEncrypt.X_AES_GCM_ICV16));
  // unsupported algorithms and malformed messages
  const cast = addEsp(0x7000, '198.51.100.2', '192.0.2.1');
  cast.sa!.encrypt = 6; // CAST-CBC
  equal(engine.handle(cast, local)[0].errno, Errno.EPROTONOSUPPORT);
  const garbage = engine.handleBytes(fromHex('02030003ffff000000000000'));
  equal(decodePfKey(garbage[0]).errno, Errno.EINVAL, 'malformed bytes get an EINVAL reply');
  // DELETE and FLUSH
  equal(engine.handle({ type: SadbMsg.DELETE, errno: 0, satype: 3, seq: 5, pid: 9, sa: { spi: 0x6000, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 } })[0].errno, 0);
  equal(engine.sa(0x6000), undefined);
  equal(engine.handle({ type: SadbMsg.DELETE, errno: 0, satype: 3, seq: 5, pid: 9, sa: { spi: 0x6000, replay: 0, state: 0, auth: 0, encrypt: 0, flags: 0 } })[0].errno, Errno.ENOENT);
  engine.handle({ type: SadbMsg.FLUSH, errno: 0, satype: SadbSaType.UNSPEC, seq: 6, pid: 9 });
  equal(engine.size, 0);
  // ACQUIRE for a policy without an SA: its addresses as prefixes, and a proposal; it encodes
  const spd = new Spd();
  const entry = spd.add({ name: 'p', direction: 'out', action: 0, selector: { local: parseRange('10.1.0.0/16'), remote: parseRange('10.2.3.0/24'), protocol: 0, localPorts: [0, 65535], remotePorts: [0, 65535] } });
  const acquire = decodePfKey(encodePfKey(engine.acquire(entry, 11)));
  equal(acquire.type, SadbMsg.ACQUIRE);
  equal(`${toHex(acquire.src!.address)}/${acquire.src!.prefixlen} ${toHex(acquire.dst!.address)}/${acquire.dst!.prefixlen}`, '0a010000/16 0a020300/24');
  equal(acquire.proposal!.combs[0].encrypt, SadbEncrypt.X_AES_GCM_ICV16);
  // EXPIRE: an SA's soft lifetime event becomes an EXPIRE message with the soft lifetime
  const e2 = new PfKeyEngine(crypto);
  e2.handle(addEsp(0x8000, '198.51.100.2', '192.0.2.1'), local);
  (e2.sa(0x8000) as EspSa).events.push({ type: 'soft-expired', spi: 0x8000, reason: 'packets' });
  const [expire] = e2.expireMessages();
  equal(expire.type, SadbMsg.EXPIRE);
  ok(expire.lifetimeSoft !== undefined && expire.lifetimeHard === undefined);
  equal(e2.expireMessages().length, 0, 'each event is reported once');
});

test('manual keying: static SAs and policies applied through PF_KEY carry traffic; mistakes are reported', () => {
  const crypto = providerSlots[1].make();
  const sa: StaticSa = {
    spi: 0x1001, protocol: 'esp', mode: 'tunnel', source: '192.0.2.1', destination: '198.51.100.2',
    encryption: 'aes256', encryptionKey: '11'.repeat(32), integrity: 'sha256', integrityKey: '22'.repeat(32), replayWindow: 64,
  };
  // the sender (192.0.2.1) and the receiver (198.51.100.2) each install the same SA
  const sender = new PfKeyEngine(crypto);
  const receiver = new PfKeyEngine(crypto);
  const spd = new Spd();
  deepEqual(applyStatic(sender, spd, [sa], [{ name: 'out', direction: 'out', local: '10.1.0.0/16', remote: '10.2.0.0/16', action: 'protect', spi: 0x1001 }], ['192.0.2.1']), []);
  deepEqual(applyStatic(receiver, new Spd(), [sa], [], ['198.51.100.2']), []);
  const out = sender.sa(0x1001) as EspSa;
  const inbound = receiver.sa(0x1001) as EspSa;
  equal(out.direction, 'out');
  equal(inbound.direction, 'in');
  const packet = ipPacket(4, Uint8Array.of(1, 2, 3));
  const original = packet.buffer.slice(packet.offset, packet.offset + packet.length);
  ok(out.seal(packet));
  const opened = openSealed(inbound, packet);
  ok(opened, JSON.stringify(inbound.drops));
  bytesEqual(opened.buffer.slice(opened.offset, opened.offset + opened.length), original);
  equal(spd.entries('out')[0].spi, 0x1001);
  // mistakes: unknown algorithm, wrong key length, a malformed policy
  const errors = applyStatic(new PfKeyEngine(crypto), new Spd(), [
    { ...sa, spi: 0x2001, encryption: 'blowfish' },
    { ...sa, spi: 0x2002, encryptionKey: '11'.repeat(5) },
  ], [{ name: 'bad', direction: 'in', local: '10.0.0.0/40', remote: '0.0.0.0/0', action: 'bypass' }], ['198.51.100.2']);
  equal(errors.length, 3, JSON.stringify(errors));
  ok(/blowfish/.test(errors[0]) && /0x2002: refused \(errno 93\)/.test(errors[1]) && /policy bad/.test(errors[2]), JSON.stringify(errors));
});
