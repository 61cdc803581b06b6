/**
 * IKEv2 key derivation and PSK AUTH (src/ike/keymat.ts) against known answers computed by an
 * independent implementation (test/vectors/ike/generate.py: Python's hmac and hashlib), on
 * every provider slot. AES-XCBC/CMAC-PRF-128 have no Python standard-library answers: for them
 * the tests check the §2.14 rule (64 bits of each nonce) and the key sizes.
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { prfFor, prfPlus } from '../../src/crypto/prf.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import {
  deriveChildKeys, deriveIkeKeys, ikeKeysFromSkeyseed, ikeSkeyseed, KeyDerivationError, prfKeyLength,
  pskAuthData, rekeyIkeKeys, rekeyIkeSkeyseed, signedOctets,
} from '../../src/ike/keymat.js';
import { bytesEqual, equal, throws } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';

const vectors = await loadVectors('ike/keymat');

const alg = (name: string): Algorithm => {
  const a = findAlgorithm(name);
  if (!a) throw new Error(`no algorithm ${name}`);
  return a;
};
const maybe = (name: string | null) => (name ? alg(name) : null);
const h = fromHex;
const KEY_NAMES = ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const;

forEachProvider('IKE SA keys (§2.14): SKEYSEED and SK_* match the Python known answers', (crypto) => {
  equal(vectors.ike.length, 6);
  for (const v of vectors.ike) {
    const algorithms = { prf: alg(v.prf), encryption: alg(v.encryption), integrity: maybe(v.integrity) };
    const inputs = { ni: h(v.ni), nr: h(v.nr), sharedSecret: h(v.sharedSecret), spii: h(v.spii), spir: h(v.spir) };
    bytesEqual(ikeSkeyseed(crypto, algorithms.prf, inputs), h(v.skeyseed), `${v.name} SKEYSEED`);
    const keys = deriveIkeKeys(crypto, algorithms, inputs);
    for (const k of KEY_NAMES) bytesEqual(keys[k], h(v[k]), `${v.name} ${k}`);
    bytesEqual(ikeKeysFromSkeyseed(crypto, algorithms, h(v.skeyseed), inputs).skEr, h(v.skEr), `${v.name} from SKEYSEED`);
  }
});

forEachProvider('IKE SA key sizes: AEAD has no SK_a*, salts appended, PRF keys the preferred size', (crypto) => {
  const byName = new Map<string, any>(vectors.ike.map((v: any) => [v.name, v]));
  const sizes = (name: string) => {
    const v = byName.get(name);
    return KEY_NAMES.map((k) => v[k].length / 2).join(',');
  };
  // d, ai, ar, ei, er, pi, pr
  equal(sizes('aes256-sha256-prfsha256'), '32,32,32,32,32,32,32');
  equal(sizes('aes128gcm16-prfsha384'), '48,0,0,20,20,48,48'); // RFC 5282 §7.1: 16 + 4 salt
  equal(sizes('aes128-sha1-prfsha1'), '20,20,20,16,16,20,20');
  equal(sizes('chacha20poly1305-prfsha512'), '64,0,0,36,36,64,64'); // RFC 7634 §2: 32 + 4 salt
  equal(sizes('aes128ccm16-prfsha256'), '32,0,0,19,19,32,32'); // RFC 5282 §7.1: 16 + 3 salt
  equal(sizes('aes128ctr-sha256-prfsha256'), '32,32,32,20,20,32,32'); // RFC 5930: 16 + 4 nonce
  equal(prfKeyLength(alg('prfaesxcbc')), 16);
  equal(prfKeyLength(alg('prfaescmac')), 16);
  equal(prfKeyLength(alg('prfsha512')), 64);
  void crypto;
});

forEachProvider('IKE SA keys with AES-XCBC/CMAC-PRF-128: 64 bits of each nonce key SKEYSEED (§2.14)', (crypto) => {
  const v = vectors.ike[0];
  const ni = h(v.ni);
  const nr = h(v.nr);
  const inputs = { ni, nr, sharedSecret: h(v.sharedSecret), spii: h(v.spii), spir: h(v.spir) };
  for (const name of ['prfaesxcbc', 'prfaescmac']) {
    const prf = alg(name);
    const f = prfFor(crypto, prf);
    const key = new Uint8Array(16);
    key.set(ni.subarray(0, 8));
    key.set(nr.subarray(0, 8), 8);
    const skeyseed = ikeSkeyseed(crypto, prf, inputs);
    bytesEqual(skeyseed, f(key, inputs.sharedSecret), `${name} SKEYSEED`);
    // the rest of the nonces does not change SKEYSEED, but does change the keys (prf+ uses all)
    const ni2 = ni.slice();
    ni2[20] ^= 1;
    bytesEqual(ikeSkeyseed(crypto, prf, { ...inputs, ni: ni2 }), skeyseed, `${name}: bytes past 8 unused`);
    const keys = deriveIkeKeys(crypto, { prf, encryption: alg('aes128gcm16') }, inputs);
    const other = deriveIkeKeys(crypto, { prf, encryption: alg('aes128gcm16') }, { ...inputs, ni: ni2 });
    equal(toHex(keys.skD) === toHex(other.skD), false, `${name}: prf+ uses all of Ni`);
    const seed = new Uint8Array([...ni, ...nr, ...inputs.spii, ...inputs.spir]);
    const stream = prfPlus(f, skeyseed, seed, 16 + 0 + 0 + 20 + 20 + 16 + 16);
    bytesEqual(keys.skD, stream.subarray(0, 16));
    bytesEqual(keys.skEi, stream.subarray(16, 36));
    bytesEqual(keys.skEr, stream.subarray(36, 56));
    bytesEqual(keys.skPi, stream.subarray(56, 72));
    bytesEqual(keys.skPr, stream.subarray(72, 88));
    equal(keys.skAi.length + keys.skAr.length, 0);
  }
});

forEachProvider('CHILD SA KEYMAT (§2.17) with and without PFS matches the Python known answers', (crypto) => {
  equal(vectors.child.length, 5);
  for (const v of vectors.child) {
    const inputs = { ni: h(v.ni), nr: h(v.nr), ...(v.sharedSecret ? { sharedSecret: h(v.sharedSecret) } : {}) };
    const keys = deriveChildKeys(crypto, h(v.skD), { prf: alg(v.prf), encryption: alg(v.encryption), integrity: maybe(v.integrity) }, inputs);
    for (const k of ['encryptionI', 'integrityI', 'encryptionR', 'integrityR'] as const) bytesEqual(keys[k], h(v[k]), `${v.name} ${k}`);
    bytesEqual(new Uint8Array([...keys.encryptionI, ...keys.integrityI, ...keys.encryptionR, ...keys.integrityR]), h(v.keymat), `${v.name} KEYMAT`);
  }
  // AES-GCM: 16 + 4 salt per direction, no integrity; AES-256-CBC/SHA-256: 32 + 32
  equal(vectors.child[0].encryptionI.length / 2, 20);
  equal(vectors.child[0].integrityI.length, 0);
  equal(vectors.child[1].integrityR.length / 2, 32);
});

forEachProvider('CHILD SA KEYMAT for AH (integrity only) and AES-GMAC', (crypto) => {
  const prf = alg('prfsha256');
  const skD = new Uint8Array(32).fill(7);
  const inputs = { ni: new Uint8Array(16).fill(1), nr: new Uint8Array(16).fill(2) };
  const ah = deriveChildKeys(crypto, skD, { prf, encryption: null, integrity: alg('sha256') }, inputs);
  const stream = prfPlus(prfFor(crypto, prf), skD, new Uint8Array([...inputs.ni, ...inputs.nr]), 64);
  equal(ah.encryptionI.length, 0);
  bytesEqual(ah.integrityI, stream.subarray(0, 32));
  bytesEqual(ah.integrityR, stream.subarray(32, 64));
  const gmac = deriveChildKeys(crypto, skD, { prf, encryption: alg('aes128gmac') }, inputs);
  equal(gmac.encryptionI.length, 20);
  equal(gmac.integrityR.length, 0);
});

forEachProvider('IKE SA rekey (§2.18): SKEYSEED from the old SK_d and PRF, keys from the new SA', (crypto) => {
  equal(vectors.rekey.length, 2);
  for (const v of vectors.rekey) {
    const inputs = { ni: h(v.ni), nr: h(v.nr), sharedSecret: h(v.sharedSecret), spii: h(v.spii), spir: h(v.spir) };
    bytesEqual(rekeyIkeSkeyseed(crypto, alg(v.oldPrf), h(v.skDOld), inputs), h(v.skeyseed), `${v.name} SKEYSEED`);
    const keys = rekeyIkeKeys(crypto, alg(v.oldPrf), h(v.skDOld), { prf: alg(v.prf), encryption: alg(v.encryption), integrity: maybe(v.integrity) }, inputs);
    for (const k of KEY_NAMES) bytesEqual(keys[k], h(v[k]), `${v.name} ${k}`);
  }
});

forEachProvider('PSK AUTH (§2.15): signed octets and prf(prf(PSK, "Key Pad for IKEv2"), octets)', (crypto) => {
  equal(vectors.auth.length, 3);
  for (const v of vectors.auth) {
    const prf = alg(v.prf);
    const octets = signedOctets(crypto, prf, h(v.realMessage), h(v.nonce), h(v.skP), h(v.idPayloadBody));
    bytesEqual(octets, h(v.signedOctets), `${v.prf} signed octets`);
    bytesEqual(pskAuthData(crypto, prf, h(v.psk), octets), h(v.auth), `${v.prf} AUTH`);
  }
});

forEachProvider('wrong sizes and empty inputs: a clear error, never a short key', (crypto) => {
  const v = vectors.ike[0];
  const prf = alg('prfsha256');
  const algorithms = { prf, encryption: alg('aes256'), integrity: alg('sha256') };
  const inputs = { ni: h(v.ni), nr: h(v.nr), sharedSecret: h(v.sharedSecret), spii: h(v.spii), spir: h(v.spir) };
  const empty = new Uint8Array(0);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, ni: empty }), /Ni is empty/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, nr: new Uint8Array(15) }), /Nr is 15 bytes; Nonce Data is 16 to 256/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, ni: new Uint8Array(257) }), /Ni is 257 bytes/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, sharedSecret: empty }), /shared secret g\^ir is empty/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, spii: new Uint8Array(4) }), /SPIi is 4 bytes; an IKE SPI is 8/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, spir: empty }), /SPIr is empty/);
  throws(() => deriveIkeKeys(crypto, algorithms, { ...inputs, ni: 'abc' as unknown as Uint8Array }), /Ni must be a Uint8Array/);
  throws(() => deriveIkeKeys(crypto, { ...algorithms, prf: alg('sha256') }, inputs), /sha256 is not a PRF/);
  throws(() => deriveIkeKeys(crypto, { ...algorithms, integrity: null }, inputs), /aes256 needs an integrity algorithm/);
  throws(() => deriveIkeKeys(crypto, { prf, encryption: alg('aes128gcm16'), integrity: alg('sha256') }, inputs), /AEAD: the IKE SA takes no integrity/);
  throws(() => deriveIkeKeys(crypto, { prf, encryption: alg('null'), integrity: alg('sha256') }, inputs), /null is not an IKE encryption algorithm/);
  throws(() => deriveIkeKeys(crypto, { prf, encryption: alg('aes128gmac') }, inputs), /aes128gmac is not an IKE encryption algorithm/);
  throws(() => deriveIkeKeys(crypto, { ...algorithms, integrity: alg('prfsha256') }, inputs), /prfsha256 is not an integrity algorithm/);
  throws(() => ikeKeysFromSkeyseed(crypto, algorithms, empty, inputs), /SKEYSEED is empty/);
  throws(() => rekeyIkeSkeyseed(crypto, prf, new Uint8Array(20), inputs), /old SK_d is 20 bytes; prfsha256 keys are 32/);
  throws(() => rekeyIkeSkeyseed(crypto, prf, empty, inputs), /old SK_d is empty/);
  throws(() => rekeyIkeKeys(crypto, prf, new Uint8Array(32), algorithms, { ...inputs, spir: new Uint8Array(9) }), /SPIr is 9 bytes/);

  const skD = new Uint8Array(32);
  const child = { ni: h(v.ni), nr: h(v.nr) };
  throws(() => deriveChildKeys(crypto, new Uint8Array(31), { prf, encryption: alg('aes128gcm16') }, child), /SK_d is 31 bytes; prfsha256 keys are 32/);
  throws(() => deriveChildKeys(crypto, skD, { prf, encryption: alg('aes128gcm16') }, { ...child, nr: empty }), /Nr is empty/);
  throws(() => deriveChildKeys(crypto, skD, { prf, encryption: alg('aes128gcm16') }, { ...child, sharedSecret: empty }), /g\^ir \(PFS\) is empty/);
  throws(() => deriveChildKeys(crypto, skD, { prf, encryption: alg('aes128gcm16'), integrity: alg('sha256') }, child), /takes no integrity/);
  throws(() => deriveChildKeys(crypto, skD, { prf, encryption: alg('aes128') }, child), /needs an integrity algorithm/);
  throws(() => deriveChildKeys(crypto, skD, { prf, encryption: alg('prfsha1'), integrity: alg('sha1') }, child), /not an ESP encryption algorithm/);

  const body = new Uint8Array([2, 0, 0, 0, 0x61]);
  throws(() => signedOctets(crypto, prf, empty, h(v.nr), skD, body), /real message is empty/);
  throws(() => signedOctets(crypto, prf, new Uint8Array(40), empty, skD, body), /peer's nonce is empty/);
  throws(() => signedOctets(crypto, prf, new Uint8Array(40), h(v.nr), new Uint8Array(16), body), /SK_p is 16 bytes; prfsha256 keys are 32/);
  throws(() => signedOctets(crypto, prf, new Uint8Array(40), h(v.nr), skD, new Uint8Array(4)), /ID payload body is 4 bytes/);
  throws(() => pskAuthData(crypto, prf, empty, new Uint8Array(10)), /pre-shared key is empty/);
  throws(() => pskAuthData(crypto, prf, new Uint8Array(10), empty), /signed octets is empty/);
  equal(throws(() => pskAuthData(crypto, prf, empty, empty)) instanceof KeyDerivationError, true);
});

forEachProvider('AES-XCBC/CMAC-PRF-128 PSK AUTH: any PSK length, 16-byte result', (crypto) => {
  for (const name of ['prfaesxcbc', 'prfaescmac']) {
    const prf = alg(name);
    const octets = signedOctets(crypto, prf, new Uint8Array(100).fill(3), new Uint8Array(16).fill(4), new Uint8Array(16).fill(5), new Uint8Array([2, 0, 0, 0, 0x62]));
    equal(octets.length, 100 + 16 + 16);
    for (const pskLength of [1, 16, 40]) equal(pskAuthData(crypto, prf, new Uint8Array(pskLength).fill(9), octets).length, 16);
  }
});
