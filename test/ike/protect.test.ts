/**
 * The IKEv2 Encrypted (SK) payload (src/ike/protect.ts; RFC 7296 §3.14, RFC 5282, RFC 7634 §3),
 * on every provider slot: known answers from an independent implementation
 * (test/vectors/ike/generate_sk.py: Python's `cryptography` and hmac), round trips, and
 * refusal of tampered, truncated and wrongly keyed messages without throwing.
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { keyLengths } from '../../src/esp/transform.js';
import type { IkeAlgorithms, IkeKeys } from '../../src/ike/keymat.js';
import { encodeMessage, encodePayloadChain, ExchangeType, parsePayloadChain, type MessageHeader } from '../../src/ike/message.js';
import { NotifyType, PayloadType, type Payload } from '../../src/ike/payloads.js';
import { protectMessage, skKeys, unprotectMessage, type SkKeys, type UnprotectResult } from '../../src/ike/protect.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';

const vectors = await loadVectors('ike/sk');

const alg = (name: string): Algorithm => {
  const a = findAlgorithm(name);
  if (!a) throw new Error(`no algorithm ${name}`);
  return a;
};
const algorithmsOf = (encryption: string, integrity: string | null): IkeAlgorithms =>
  ({ prf: alg('prfsha256'), encryption: alg(encryption), integrity: integrity ? alg(integrity) : null });

/** encryption, integrity: the suites the round trips cover */
const SUITES: [string, string | null][] = [
  ['aes128gcm16', null], ['aes256gcm16', null], ['chacha20poly1305', null], ['aes128ccm16', null],
  ['aes256', 'sha256'], ['aes128', 'sha1'], ['aes128ctr', 'sha256'],
];
const suiteName = ([e, i]: [string, string | null]) => (i ? `${e}-${i}` : e);

const HEADER: MessageHeader = {
  spiI: fromHex('0102030405060708'), spiR: fromHex('a1a2a3a4a5a6a7a8'), exchangeType: ExchangeType.IKE_AUTH,
  initiator: true, higherVersion: false, response: false, messageId: 1,
};

const INNER: Payload[] = [
  { type: PayloadType.NONCE, nonce: new Uint8Array(32).fill(0x5a) },
  { type: PayloadType.NOTIFY, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) },
];

function randomKeys(crypto: Crypto, algorithms: IkeAlgorithms): IkeKeys {
  const [e, a] = keyLengths(algorithms.encryption, algorithms.integrity ?? null);
  const fresh = (n: number) => {
    const b = new Uint8Array(n);
    if (n > 0) crypto.randomBytes(b);
    return b;
  };
  return { skD: fresh(32), skAi: fresh(a), skAr: fresh(a), skEi: fresh(e), skEr: fresh(e), skPi: fresh(32), skPr: fresh(32) };
}

/** Calls unprotectMessage, failing the test if it throws. */
function open(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys, bytes: Uint8Array, what: string): UnprotectResult {
  try {
    return unprotectMessage(crypto, algorithms, keys, bytes);
  } catch (e) {
    throw new Error(`${what}: unprotectMessage threw ${(e as Error)?.message}`);
  }
}

function refused(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys, bytes: Uint8Array, what: string): string {
  const r = open(crypto, algorithms, keys, bytes, what);
  if (r.ok) throw new Error(`${what}: accepted`);
  return r.reason;
}

/** A protected message of each suite, with its algorithms and both directions' keys. */
function fixtures(crypto: Crypto) {
  return SUITES.map((suite) => {
    const algorithms = algorithmsOf(suite[0], suite[1]);
    const keys = randomKeys(crypto, algorithms);
    const message = protectMessage(crypto, algorithms, skKeys(keys, true), HEADER, INNER);
    return { name: suiteName(suite), algorithms, keys, message };
  });
}

forEachProvider('SK payload: Python known answers open, and protect with the same IV gives the same bytes', (crypto) => {
  equal(vectors.sk.length, 14);
  for (const v of vectors.sk) {
    const algorithms = algorithmsOf(v.encryption, v.integrity);
    const keys = { encryption: fromHex(v.skE), integrity: fromHex(v.skA) };
    const message = fromHex(v.message);
    const r = open(crypto, algorithms, keys, message, v.name);
    if (!r.ok) throw new Error(`${v.name}: ${r.reason}`);
    equal(toHex(encodePayloadChain(r.payloads)), v.inner, `${v.name} inner payloads`);
    equal(r.payloads.length > 0 ? r.payloads[0].type : 0, v.firstPayload, `${v.name} first payload`);
    equal(r.plain.length, 0);
    equal(r.header.messageId, v.messageId);
    equal(r.header.exchangeType, v.exchangeType);
    equal(r.header.initiator, v.initiator);
    equal(r.header.response, v.response);
    const inner = parsePayloadChain(fromHex(v.inner), 0, v.inner.length / 2, v.firstPayload);
    if (!inner.ok) throw new Error(`${v.name}: vector inner chain does not parse`);
    const header: MessageHeader = {
      spiI: fromHex(v.spiI), spiR: fromHex(v.spiR), exchangeType: v.exchangeType,
      initiator: v.initiator, higherVersion: false, response: v.response, messageId: v.messageId,
    };
    const random = () => { throw new Error('random used with a fixed IV'); };
    bytesEqual(protectMessage(crypto, algorithms, keys, header, inner.payloads, random, fromHex(v.iv)), message, `${v.name} protect`);
  }
});

forEachProvider('SK payload round trips: GCM, CCM, ChaCha20-Poly1305, CBC and CTR with HMAC, both directions', (crypto) => {
  for (const suite of SUITES) {
    const algorithms = algorithmsOf(suite[0], suite[1]);
    const keys = randomKeys(crypto, algorithms);
    for (const fromInitiator of [true, false]) {
      const header = { ...HEADER, initiator: fromInitiator, response: !fromInitiator, messageId: 9 };
      for (const inner of [INNER, [] as Payload[]]) {
        const what = `${suiteName(suite)} ${fromInitiator ? 'I' : 'R'} ${inner.length}`;
        const message = protectMessage(crypto, algorithms, skKeys(keys, fromInitiator), header, inner);
        equal(message[16], PayloadType.SK, `${what} header Next Payload`);
        equal(message[28], inner.length > 0 ? PayloadType.NONCE : PayloadType.NONE, `${what} SK Next Payload`);
        const r = open(crypto, algorithms, skKeys(keys, fromInitiator), message, what);
        if (!r.ok) throw new Error(`${what}: ${r.reason}`);
        bytesEqual(encodePayloadChain(r.payloads), encodePayloadChain(inner), what);
        equal(r.header.initiator, fromInitiator);
        equal(r.header.messageId, 9);
        // the other direction's keys do not open it
        refused(crypto, algorithms, skKeys(keys, !fromInitiator), message, `${what} other direction`);
      }
    }
  }
});

forEachProvider('SK payload sizes: 8-byte IV and tag for AEADs, CBC blocks and truncated HMAC, fresh IVs', (crypto) => {
  const sizes: Record<string, number> = {};
  for (const f of fixtures(crypto)) {
    sizes[f.name] = f.message.length;
    const again = protectMessage(crypto, f.algorithms, skKeys(f.keys, true), HEADER, INNER);
    ok(toHex(again) !== toHex(f.message), `${f.name}: two messages with the same IV`);
  }
  const inner = encodePayloadChain(INNER).length; // 36 + 8
  equal(inner, 44);
  // header 28, SK header 4, IV, inner + padding + Pad Length, ICV
  equal(sizes['aes128gcm16'], 28 + 4 + 8 + inner + 1 + 16);
  equal(sizes['chacha20poly1305'], 28 + 4 + 8 + inner + 1 + 16);
  equal(sizes['aes256-sha256'], 28 + 4 + 16 + 48 + 16); // 44 + 3 zeros + Pad Length = 3 blocks
  equal(sizes['aes128-sha1'], 28 + 4 + 16 + 48 + 12);
  equal(sizes['aes128ctr-sha256'], 28 + 4 + 8 + inner + 1 + 16);
});

forEachProvider('SK payload: a change to any byte is refused', (crypto) => {
  for (const f of fixtures(crypto)) {
    const keys = skKeys(f.keys, true);
    for (let i = 0; i < f.message.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const tampered = f.message.slice();
        tampered[i] ^= flip;
        refused(crypto, f.algorithms, keys, tampered, `${f.name} byte ${i} ^ ${flip}`);
      }
    }
  }
});

forEachProvider('SK payload: every truncation is refused without throwing, lengths fixed up or not', (crypto) => {
  for (const f of fixtures(crypto)) {
    const keys = skKeys(f.keys, true);
    for (let n = 0; n < f.message.length; n++) {
      const cut = f.message.slice(0, n);
      refused(crypto, f.algorithms, keys, cut, `${f.name} first ${n} bytes`);
      if (n >= 32) {
        // lengths that agree with the cut: the SK checks themselves must refuse it
        const fixed = cut.slice();
        new DataView(fixed.buffer).setUint32(24, n);
        new DataView(fixed.buffer).setUint16(30, n - 28);
        refused(crypto, f.algorithms, keys, fixed, `${f.name} first ${n} bytes, lengths fixed`);
      }
    }
  }
});

forEachProvider('SK payload: wrong keys are refused', (crypto) => {
  for (const f of fixtures(crypto)) {
    const keys = skKeys(f.keys, true);
    const badE = { encryption: keys.encryption.slice(), integrity: keys.integrity };
    badE.encryption[0] ^= 1;
    const badSalt = { encryption: keys.encryption.slice(), integrity: keys.integrity };
    badSalt.encryption[badSalt.encryption.length - 1] ^= 1;
    if (f.algorithms.integrity) {
      const badA = { encryption: keys.encryption, integrity: keys.integrity.slice() };
      badA.integrity[0] ^= 1;
      refused(crypto, f.algorithms, badA, f.message, `${f.name} wrong SK_a`);
      // a wrong SK_e behind a right ICV decrypts to garbage: the inner chain or padding must not parse
      const r = open(crypto, f.algorithms, badE, f.message, `${f.name} wrong SK_e`);
      if (r.ok) ok(toHex(encodePayloadChain(r.payloads)) !== toHex(encodePayloadChain(INNER)), `${f.name} wrong SK_e gave the plaintext`);
    } else {
      refused(crypto, f.algorithms, badE, f.message, `${f.name} wrong key`);
      refused(crypto, f.algorithms, badSalt, f.message, `${f.name} wrong salt`);
    }
    refused(crypto, f.algorithms, { encryption: f.keys.skEr, integrity: f.keys.skAr }, f.message, `${f.name} responder keys`);
  }
});

/** Re-authenticates a CBC/HMAC message after an edit, with the sender's SK_a: what only a key holder can do. */
function reMac(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys, message: Uint8Array): void {
  const p = algorithms.integrity!.primitive;
  if (p.kind !== 'mac') throw new Error('not a MAC');
  const at = message.length - p.truncateBytes;
  crypto.macKey(p.mac, keys.integrity, p.hash).compute(message, 0, at, message.subarray(at));
}

forEachProvider('SK payload: authenticated but malformed plaintext (Pad Length, inner chain) is refused', (crypto) => {
  const algorithms = algorithmsOf('aes256', 'sha256');
  const keys = skKeys(randomKeys(crypto, algorithms), true);
  // no inner payloads: one block, 15 zeros and Pad Length 15
  const empty = protectMessage(crypto, algorithms, keys, HEADER, []);
  equal(empty.length, 28 + 4 + 16 + 16 + 16);
  ok(open(crypto, algorithms, keys, empty, 'empty').ok);
  // CBC: flipping the IV's last byte flips the Pad Length byte of the single block
  const pad = empty.slice();
  pad[32 + 15] ^= 15 ^ 200;
  reMac(crypto, algorithms, keys, pad);
  ok(/Pad Length 200/.test(refused(crypto, algorithms, keys, pad, 'Pad Length 200')));
  const pad16 = empty.slice();
  pad16[32 + 15] ^= 15 ^ 16;
  reMac(crypto, algorithms, keys, pad16);
  ok(/Pad Length/.test(refused(crypto, algorithms, keys, pad16, 'Pad Length 16')));
  // the SK payload says a Nonce payload comes first, but the plaintext holds none
  const chain = empty.slice();
  chain[28] = PayloadType.NONCE;
  reMac(crypto, algorithms, keys, chain);
  ok(/inner payloads/.test(refused(crypto, algorithms, keys, chain, 'inner chain')));
  // each says it authenticated: the header, and the notification for the answer (RFC 7296 §2.21.3)
  for (const [m, what] of [[pad, 'Pad Length'], [chain, 'inner chain']] as const) {
    const r = open(crypto, algorithms, keys, m, what);
    ok(!r.ok && r.authentic !== undefined, `${what}: authentic`);
    equal(r.authentic.header.messageId, HEADER.messageId);
    equal(r.authentic.header.exchangeType, HEADER.exchangeType);
    equal(r.authentic.notify.type, NotifyType.INVALID_SYNTAX, what);
  }
  // §3.2: an unknown critical payload inside is answered with its type
  const critical = protectMessage(crypto, algorithms, keys, HEADER, [{ type: PayloadType.NONE, payloadType: 211, critical: true, data: new Uint8Array(3) }]);
  const r = open(crypto, algorithms, keys, critical, 'critical');
  ok(!r.ok && r.authentic?.notify.type === NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, 'UNSUPPORTED_CRITICAL_PAYLOAD');
  bytesEqual(r.authentic.notify.data, Uint8Array.of(211));
  // what does not authenticate never says so
  const forged = chain.slice();
  forged[forged.length - 1] ^= 1;
  const f = open(crypto, algorithms, keys, forged, 'forged');
  ok(!f.ok && f.authentic === undefined, 'a forged message is not authentic');
});

forEachProvider('SK payload: a message without one, or with bytes after it, is refused', (crypto) => {
  const algorithms = algorithmsOf('aes128gcm16', null);
  const keys = skKeys(randomKeys(crypto, algorithms), true);
  ok(/no SK payload/.test(refused(crypto, algorithms, keys, encodeMessage(HEADER, INNER), 'plain message')));
  refused(crypto, algorithms, keys, encodeMessage(HEADER, []), 'no payloads');
  const message = protectMessage(crypto, algorithms, keys, HEADER, INNER);
  // a payload after the SK payload, lengths made to agree
  const after = new Uint8Array(message.length + 4);
  after.set(message);
  after.set([0, 0, 0, 4], message.length);
  new DataView(after.buffer).setUint32(24, after.length);
  refused(crypto, algorithms, keys, after, 'payload after SK');
  refused(crypto, algorithms, keys, new Uint8Array(0), 'nothing');
  refused(crypto, algorithms, keys, new Uint8Array(4096), 'zeros');
});

forEachProvider('SK payload: wrong algorithms and key sizes are the caller\'s error and throw', (crypto) => {
  const gcm = algorithmsOf('aes128gcm16', null);
  const keys = skKeys(randomKeys(crypto, gcm), true);
  throws(() => protectMessage(crypto, { ...gcm, integrity: alg('sha256') }, keys, HEADER, INNER), TypeError);
  throws(() => protectMessage(crypto, algorithmsOf('aes128', null), { encryption: new Uint8Array(16), integrity: new Uint8Array(0) }, HEADER, INNER), TypeError);
  throws(() => protectMessage(crypto, algorithmsOf('null', 'sha256'), { encryption: new Uint8Array(0), integrity: new Uint8Array(32) }, HEADER, INNER), TypeError);
  throws(() => protectMessage(crypto, algorithmsOf('aes128gcm16iiv', null), keys, HEADER, INNER), TypeError);
  throws(() => protectMessage(crypto, gcm, { encryption: keys.encryption.subarray(1), integrity: keys.integrity }, HEADER, INNER), RangeError);
  throws(() => unprotectMessage(crypto, gcm, { encryption: keys.encryption.subarray(1), integrity: keys.integrity }, new Uint8Array(0)), RangeError);
  throws(() => protectMessage(crypto, gcm, keys, HEADER, INNER, undefined, new Uint8Array(16)), RangeError);
});
