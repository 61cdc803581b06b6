/**
 * The algorithm registry: strongSwan keywords map to the IANA transform IDs, and the legacy
 * switch refuses what RFC 8221/8247 reject, with an error naming the algorithm and the RFC.
 */
import { LegacyAlgorithmError, checkAlgorithm } from '../../src/crypto/policy.js';
import { ALGORITHMS, TransformType, algorithmById, findAlgorithm, knownKeywords } from '../../src/crypto/registry.js';
import { equal, ok, throws } from '../assert.js';
import { forEachProvider } from '../engine.js';
import { test } from '../harness.js';

test('registry: strongSwan keywords map to IANA transform types, IDs and key lengths', () => {
  const expected: [string, number, number, number][] = [
    // keyword, transform type, IANA ID, key length attribute
    ['aes128gcm16', TransformType.ENCR, 20, 128],
    ['aes256gcm16', TransformType.ENCR, 20, 256],
    ['aes128gcm8', TransformType.ENCR, 18, 128],
    ['aes192gcm12', TransformType.ENCR, 19, 192],
    ['aes128ccm16', TransformType.ENCR, 16, 128],
    ['aes256ccm8', TransformType.ENCR, 14, 256],
    ['aes128', TransformType.ENCR, 12, 128],
    ['aes256', TransformType.ENCR, 12, 256],
    ['aes', TransformType.ENCR, 12, 128],
    ['aes128ctr', TransformType.ENCR, 13, 128],
    ['aes256gmac', TransformType.ENCR, 21, 256],
    ['chacha20poly1305', TransformType.ENCR, 28, 0],
    ['null', TransformType.ENCR, 11, 0],
    ['3des', TransformType.ENCR, 3, 0],
    ['des', TransformType.ENCR, 2, 0],
    ['sha1', TransformType.INTEG, 2, 0],
    ['sha', TransformType.INTEG, 2, 0],
    ['sha256', TransformType.INTEG, 12, 0],
    ['sha2_256', TransformType.INTEG, 12, 0],
    ['sha384', TransformType.INTEG, 13, 0],
    ['sha512', TransformType.INTEG, 14, 0],
    ['md5', TransformType.INTEG, 1, 0],
    ['aesxcbc', TransformType.INTEG, 5, 0],
    ['aescmac', TransformType.INTEG, 8, 0],
    ['prfsha1', TransformType.PRF, 2, 0],
    ['prfsha256', TransformType.PRF, 5, 0],
    ['prfsha384', TransformType.PRF, 6, 0],
    ['prfsha512', TransformType.PRF, 7, 0],
    ['prfaesxcbc', TransformType.PRF, 4, 0],
    ['prfaescmac', TransformType.PRF, 8, 0],
    ['prfmd5', TransformType.PRF, 1, 0],
    ['modp1024', TransformType.KE, 2, 0],
    ['modp2048', TransformType.KE, 14, 0],
    ['modp3072', TransformType.KE, 15, 0],
    ['modp4096', TransformType.KE, 16, 0],
    ['modp6144', TransformType.KE, 17, 0],
    ['modp8192', TransformType.KE, 18, 0],
    ['ecp256', TransformType.KE, 19, 0],
    ['ecp384', TransformType.KE, 20, 0],
    ['ecp521', TransformType.KE, 21, 0],
    ['x25519', TransformType.KE, 31, 0],
    ['curve25519', TransformType.KE, 31, 0],
    ['none', TransformType.KE, 0, 0],
    ['esn', TransformType.ESN, 1, 0],
    ['noesn', TransformType.ESN, 0, 0],
  ];
  for (const [keyword, type, id, bits] of expected) {
    const a = findAlgorithm(keyword);
    ok(a, `keyword ${keyword} is known`);
    equal(a.type, type, `${keyword} transform type`);
    equal(a.id, id, `${keyword} transform ID`);
    equal(a.keyBits, bits, `${keyword} key length`);
    if (keyword !== 'none') equal(algorithmById(type as any, id, bits)?.id, id, `${keyword} by ID`);
  }
  equal(findAlgorithm('AES128GCM16')?.name, 'aes128gcm16', 'keywords are case-insensitive');
  equal(findAlgorithm('aes128gcm128')?.name, 'aes128gcm16', 'ICV in bits is an alias');
  equal(findAlgorithm('blowfish'), undefined, 'unimplemented strongSwan keywords are unknown, not ignored');
  equal(findAlgorithm(''), undefined);
  ok(knownKeywords().includes('aes256gcm16'));
});

test('registry: AEAD parameters follow the RFCs (salt, IV, ICV, key length)', () => {
  const gcm = findAlgorithm('aes256gcm16')!.primitive;
  ok(gcm.kind === 'aead' && gcm.keyBytes === 32 && gcm.saltBytes === 4 && gcm.ivBytes === 8 && gcm.tagBytes === 16, 'RFC 4106');
  const ccm = findAlgorithm('aes128ccm8')!.primitive;
  ok(ccm.kind === 'aead' && ccm.keyBytes === 16 && ccm.saltBytes === 3 && ccm.tagBytes === 8, 'RFC 4309');
  const chacha = findAlgorithm('chacha20poly1305')!.primitive;
  ok(chacha.kind === 'aead' && chacha.keyBytes === 32 && chacha.saltBytes === 4, 'RFC 7634');
  const sha256 = findAlgorithm('sha256')!.primitive;
  ok(sha256.kind === 'mac' && sha256.keyBytes === 32 && sha256.truncateBytes === 16, 'RFC 4868: HMAC-SHA-256-128');
  const sha512 = findAlgorithm('sha512')!.primitive;
  ok(sha512.kind === 'mac' && sha512.keyBytes === 64 && sha512.truncateBytes === 32, 'RFC 4868: HMAC-SHA-512-256');
  // every name is unique
  equal(new Set(ALGORITHMS.map((a) => a.name)).size, ALGORITHMS.length);
});

test('legacy algorithms are refused by name, citing RFC 8221/8247, unless enabled', () => {
  for (const name of ['des', '3des', 'md5', 'ripemd160', 'prfmd5', 'modp1024']) {
    const e = throws(() => checkAlgorithm(name, false), LegacyAlgorithmError, name);
    ok(/RFC 82(21|47)/.test(e.message), `${name}: ${e.message}`);
    ok(e.message.toLowerCase().includes(name.replace('prf', '')), `the message names ${name}: ${e.message}`);
    checkAlgorithm(name, true);
  }
  for (const name of ['aes128gcm16', 'sha256', 'modp2048', 'x25519']) checkAlgorithm(name, false);
});

forEachProvider('providers refuse legacy primitives unless legacy is enabled', (crypto) => {
  const e1 = throws(() => crypto.cipherKey('des-cbc', new Uint8Array(8)), LegacyAlgorithmError);
  ok(/DES-CBC.*RFC 8221/.test(e1.message), e1.message);
  throws(() => crypto.cipherKey('3des-cbc', new Uint8Array(24)), /3DES-CBC.*RFC 8221/);
  throws(() => crypto.hash('md5', new Uint8Array(1)), /MD5.*RFC 8221/);
  throws(() => crypto.hmac('md5', new Uint8Array(16), new Uint8Array(1)), /MD5.*RFC 8221/);
  throws(() => crypto.macKey('hmac', new Uint8Array(20), 'ripemd160'), /RIPEMD160.*RFC 8221/);
  throws(() => crypto.keyExchange(2), /MODP group 2.*RFC 8247/);
  // the strong ones are unaffected
  crypto.cipherKey('aes-cbc', new Uint8Array(16));
  crypto.hash('sha256', new Uint8Array(1));
});
