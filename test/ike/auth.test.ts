/**
 * IKEv2 PSK authentication (src/ike/auth.ts, RFC 7296 §2.15) and the SIGNATURE_HASH_ALGORITHMS
 * codec (RFC 7427 §4, RFC 8420): a whole exchange of AUTH values between an initiator and a
 * responder, keyed by deriveIkeKeys and checked against known answers from an independent
 * implementation (test/vectors/ike/generate_auth.py: Python's hmac and hashlib), on every
 * provider slot; tampering of each input; strongSwan's choice of shared key; the notify codec.
 */
import { asciiBytes, fromHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { parseIdentity, type Identity } from '../../src/config/identity.js';
import type { IkeSecret } from '../../src/config/ike-config.js';
import {
  AuthMethod, buildPskAuth, encodeSignatureHashAlgorithms, findPsk, HashAlgorithm, parseSignatureHashAlgorithms,
  verifyPskAuth, type AuthResult, type PskAuthInputs,
} from '../../src/ike/auth.js';
import { deriveIkeKeys } from '../../src/ike/keymat.js';
import { NotifyType, PayloadType } from '../../src/ike/payloads.js';
import { bytesEqual, deepEqual, equal, ok, throws } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';
import { test } from '../harness.js';

const vectors = await loadVectors('ike/auth');
const h = fromHex;

const alg = (name: string | null): Algorithm | null => {
  if (!name) return null;
  const a = findAlgorithm(name);
  if (!a) throw new Error(`no algorithm ${name}`);
  return a;
};

/** Both sides' views of one exchange, the keys from deriveIkeKeys. */
function exchange(crypto: Crypto, v: any) {
  const prf = alg(v.prf)!;
  const keys = deriveIkeKeys(crypto, { prf, encryption: alg(v.encryption)!, integrity: alg(v.integrity) }, {
    ni: h(v.ni), nr: h(v.nr), sharedSecret: h(v.sharedSecret), spii: h(v.spii), spir: h(v.spir),
  });
  // §2.15: each side MACs its own first message, the other's nonce and its own ID with its SK_p
  const initiator: PskAuthInputs = { realMessage: h(v.message1), peerNonce: h(v.nr), skP: keys.skPi, idPayloadBody: h(v.idiBody) };
  const responder: PskAuthInputs = { realMessage: h(v.message2), peerNonce: h(v.ni), skP: keys.skPr, idPayloadBody: h(v.idrBody) };
  return { prf, keys, initiator, responder, psk: h(v.psk) };
}

function failed(result: AuthResult, what: string): void {
  ok(!result.ok, `${what}: expected AUTHENTICATION_FAILED`);
  if (!result.ok) {
    equal(result.notify, NotifyType.AUTHENTICATION_FAILED, what);
    ok(result.reason.length > 0, what);
  }
}

forEachProvider('PSK AUTH exchange (§2.15): both sides match the Python known answers and verify each other', (crypto) => {
  equal(vectors.exchanges.length, 2);
  for (const v of vectors.exchanges) {
    const x = exchange(crypto, v);
    bytesEqual(x.keys.skPi, h(v.skPi), `${v.name} SK_pi`);
    bytesEqual(x.keys.skPr, h(v.skPr), `${v.name} SK_pr`);
    const authI = buildPskAuth(crypto, x.prf, x.psk, x.initiator);
    const authR = buildPskAuth(crypto, x.prf, x.psk, x.responder);
    equal(authI.type, PayloadType.AUTH);
    equal(authI.method, AuthMethod.SHARED_KEY_MIC);
    equal(authI.method, 2);
    bytesEqual(authI.data, h(v.authI), `${v.name} AUTH of the initiator`);
    bytesEqual(authR.data, h(v.authR), `${v.name} AUTH of the responder`);
    // the responder checks the initiator's AUTH with the initiator's inputs, and back
    deepEqual(verifyPskAuth(crypto, x.prf, x.psk, authI, x.initiator), { ok: true }, v.name);
    deepEqual(verifyPskAuth(crypto, x.prf, x.psk, authR, x.responder), { ok: true }, v.name);
    // the known answers themselves verify
    deepEqual(verifyPskAuth(crypto, x.prf, x.psk, { method: 2, data: h(v.authI) }, x.initiator), { ok: true }, v.name);
  }
});

forEachProvider('PSK AUTH (§2.15): wrong PSK, a changed message byte, another ID, swapped nonce: AUTHENTICATION_FAILED', (crypto) => {
  for (const v of vectors.exchanges) {
    const x = exchange(crypto, v);
    const authI = buildPskAuth(crypto, x.prf, x.psk, x.initiator);
    const authR = buildPskAuth(crypto, x.prf, x.psk, x.responder);
    const wrongPsk = x.psk.slice();
    wrongPsk[0] ^= 1;
    failed(verifyPskAuth(crypto, x.prf, wrongPsk, authI, x.initiator), `${v.name} wrong PSK`);
    failed(verifyPskAuth(crypto, x.prf, asciiBytes('a different key'), authR, x.responder), `${v.name} other PSK`);
    for (const at of [0, 17, x.initiator.realMessage.length - 1]) {
      const m = x.initiator.realMessage.slice();
      m[at] ^= 0x80;
      failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, realMessage: m }), `${v.name} message byte ${at}`);
    }
    const longer = new Uint8Array(x.initiator.realMessage.length + 1);
    longer.set(x.initiator.realMessage);
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, realMessage: longer }), `${v.name} message extended`);
    // another identity: a changed data byte, a changed ID type, or the responder's ID
    const id = x.initiator.idPayloadBody.slice();
    id[id.length - 1] ^= 1;
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, idPayloadBody: id }), `${v.name} ID data`);
    const type = x.initiator.idPayloadBody.slice();
    type[0] = 11;
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, idPayloadBody: type }), `${v.name} ID type`);
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, idPayloadBody: x.responder.idPayloadBody }), `${v.name} responder's ID`);
    // the nonce: the initiator's own instead of the responder's, and the other way round
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, peerNonce: h(v.ni) }), `${v.name} Ni for Nr`);
    failed(verifyPskAuth(crypto, x.prf, x.psk, authR, { ...x.responder, peerNonce: h(v.nr) }), `${v.name} Nr for Ni`);
    // the wrong side's key or role: SK_pr for SK_pi, the responder's AUTH as the initiator's
    failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, skP: x.keys.skPr }), `${v.name} SK_pr for SK_pi`);
    failed(verifyPskAuth(crypto, x.prf, x.psk, authR, x.initiator), `${v.name} reflected AUTH`);
    // every single bit of the received AUTH data
    for (let i = 0; i < authI.data.length * 8; i += 7) {
      const d = authI.data.slice();
      d[i >> 3] ^= 1 << (i & 7);
      failed(verifyPskAuth(crypto, x.prf, x.psk, { method: 2, data: d }, x.initiator), `${v.name} AUTH bit ${i}`);
    }
  }
});

forEachProvider('PSK AUTH: wrong method, wrong length, unusable inputs: a failure, never an exception; no PSK in reasons', (crypto) => {
  const v = vectors.exchanges[0];
  const x = exchange(crypto, v);
  const authI = buildPskAuth(crypto, x.prf, x.psk, x.initiator);
  for (const method of [0, 1, 3, 9, 14, 255]) {
    failed(verifyPskAuth(crypto, x.prf, x.psk, { method, data: authI.data }, x.initiator), `method ${method}`);
  }
  for (const n of [0, 1, 16, 31, 33, 48, 64]) {
    const d = new Uint8Array(n);
    d.set(authI.data.subarray(0, Math.min(n, authI.data.length)));
    failed(verifyPskAuth(crypto, x.prf, x.psk, { method: 2, data: d }, x.initiator), `${n} bytes`);
  }
  failed(verifyPskAuth(crypto, x.prf, x.psk, { method: 2, data: undefined as unknown as Uint8Array }, x.initiator), 'no data');
  failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, idPayloadBody: new Uint8Array(4) }), 'short ID body');
  failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, peerNonce: new Uint8Array(8) }), 'short nonce');
  failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, realMessage: new Uint8Array(0) }), 'empty message');
  failed(verifyPskAuth(crypto, x.prf, x.psk, authI, { ...x.initiator, skP: x.keys.skPi.subarray(1) }), 'short SK_pi');
  failed(verifyPskAuth(crypto, x.prf, new Uint8Array(0), authI, x.initiator), 'empty PSK');
  failed(verifyPskAuth(crypto, alg('aes256')!, x.psk, authI, x.initiator), 'not a PRF');
  // the reasons carry no key: neither the PSK's text nor its hex
  const pskText = 'wrong horse battery staple';
  const result = verifyPskAuth(crypto, x.prf, asciiBytes(pskText), authI, x.initiator);
  failed(result, 'other PSK');
  const real = String.fromCharCode(...x.psk);
  if (!result.ok) ok(![pskText, real, v.psk].some((k) => result.reason.includes(k)), 'no PSK in the reason');
  // our own unusable inputs throw when building (a configuration error, not the peer's)
  throws(() => buildPskAuth(crypto, x.prf, new Uint8Array(0), x.initiator), RangeError);
});

const id = (text: string): Identity => parseIdentity(text);
const secret = (name: string, ...ids: string[]): IkeSecret => ({ ids: ids.map(id), secret: asciiBytes(name) });
const chosen = (secrets: IkeSecret[], local: string, remote: string): string | null => {
  const s = findPsk(secrets, id(local), id(remote));
  return s ? String.fromCharCode(...s.secret) : null;
};

test('findPsk: strongSwan\'s choice (both ids 5+5 > one id 5 > %any 1+1; first wins a tie; none)', () => {
  const moon = 'moon.example.org';
  const sun = 'sun.example.org';
  const carol = 'carol@example.org';
  // two ids apply between them, in either order
  equal(chosen([secret('ms', moon, sun)], moon, sun), 'ms');
  equal(chosen([secret('ms', moon, sun)], sun, moon), 'ms');
  // one id: the secret is that identity's, whichever side it is on
  equal(chosen([secret('s', sun)], moon, sun), 's');
  equal(chosen([secret('m', moon)], moon, sun), 'm');
  // no id, and %any: any pair
  equal(chosen([secret('any')], moon, carol), 'any');
  equal(chosen([secret('any', '%any')], moon, carol), 'any');
  // none
  equal(chosen([], moon, sun), null);
  equal(chosen([secret('c', carol)], moon, sun), null);
  equal(chosen([secret('cx', carol, 'x.example.org')], moon, sun), null);
  // several: the most specific wins whatever the order
  const all = [secret('any'), secret('s', sun), secret('ms', moon, sun), secret('c', carol)];
  equal(chosen(all, moon, sun), 'ms');
  equal(chosen(all.slice().reverse(), moon, sun), 'ms');
  equal(chosen([secret('any'), secret('s', sun)], moon, sun), 's');
  equal(chosen([secret('s', sun), secret('any')], moon, sun), 's');
  // moon with carol: [moon, sun] scores 5 + 0 and [carol] 0 + 5, a tie the first listed wins
  equal(chosen(all, moon, carol), 'ms');
  equal(chosen([secret('any'), secret('s', sun), secret('c', carol)], moon, carol), 'c');
  equal(chosen(all, 'x.example.org', 'y.example.org'), 'any');
  // one named id and %any in the same secret: 5 + 1 beats a single id (5)
  equal(chosen([secret('s', sun), secret('s-any', sun, '%any')], moon, sun), 's-any');
  // a tie: the first listed
  equal(chosen([secret('m', moon), secret('s', sun)], moon, sun), 'm');
  equal(chosen([secret('s', sun), secret('m', moon)], moon, sun), 's');
  // a secret for [moon, carol] still applies between moon and sun through moon (5), as in strongSwan
  equal(chosen([secret('mc', moon, carol)], moon, sun), 'mc');
  // the same text as another type is another identity
  equal(chosen([secret('k', 'keyid:736f6d65')], 'some', sun), null);
  // addresses
  equal(chosen([secret('ip', '192.0.2.1', '2001:db8::1')], '192.0.2.1', '2001:db8::1'), 'ip');
});

test('SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): encode and parse 2-byte ids', () => {
  const ids = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512, HashAlgorithm.IDENTITY];
  deepEqual(ids, [2, 3, 4, 5]);
  const data = encodeSignatureHashAlgorithms(ids);
  bytesEqual(data, h('0002000300040005'));
  deepEqual(parseSignatureHashAlgorithms(data), { ok: true, ids: [2, 3, 4, 5] });
  equal(NotifyType.SIGNATURE_HASH_ALGORITHMS, 16431);
  // unknown and private-use ids are kept for the caller to skip
  deepEqual(parseSignatureHashAlgorithms(h('0001ffff0400')), { ok: true, ids: [1, 0xffff, 0x400] });
  bytesEqual(encodeSignatureHashAlgorithms([0xffff, 0]), h('ffff0000'));
  // truncated: odd lengths; empty
  for (const n of [1, 3, 7]) {
    const r = parseSignatureHashAlgorithms(data.subarray(0, n));
    ok(!r.ok, `${n} bytes`);
  }
  ok(!parseSignatureHashAlgorithms(new Uint8Array(0)).ok, 'empty');
  ok(!parseSignatureHashAlgorithms(undefined as unknown as Uint8Array).ok, 'absent');
  // oversized: beyond what a Notify payload can hold (65535 - 8 bytes)
  ok(!parseSignatureHashAlgorithms(new Uint8Array(65528)).ok, 'oversized');
  const most = parseSignatureHashAlgorithms(new Uint8Array(65526));
  ok(most.ok && most.ids.length === 32763, 'the largest list');
  // our own list: 16-bit integers, at least one, not more than fits
  throws(() => encodeSignatureHashAlgorithms([]), RangeError);
  throws(() => encodeSignatureHashAlgorithms([65536]), RangeError);
  throws(() => encodeSignatureHashAlgorithms([-1]), RangeError);
  throws(() => encodeSignatureHashAlgorithms([2.5]), RangeError);
  throws(() => encodeSignatureHashAlgorithms(new Array(32764).fill(2)), RangeError);
  equal(encodeSignatureHashAlgorithms(new Array(32763).fill(2)).length, 65526);
});
