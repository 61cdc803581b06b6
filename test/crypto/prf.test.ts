/**
 * prf+ (RFC 7296 §2.13), the PRFs, and the constant-time compare. The prf+ known answers were
 * computed with Python's hmac module, an implementation independent of ours.
 */
import { asciiBytes, fromHex } from '../../src/crypto/bytes.js';
import { constantTimeEqual, constantTimeEqualAt } from '../../src/crypto/compare.js';
import { prfFor, prfPlus } from '../../src/crypto/prf.js';
import { findAlgorithm } from '../../src/crypto/registry.js';
import { selfTest } from '../../src/crypto/selftest.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { forEachProvider } from '../engine.js';
import { test } from '../harness.js';

forEachProvider('prf+ known answers (HMAC-SHA-256, HMAC-SHA-1)', (crypto) => {
  const sha256 = prfFor(crypto, findAlgorithm('prfsha256')!);
  bytesEqual(
    prfPlus(sha256, new Uint8Array(32).fill(0x0b), asciiBytes('Ni | Nr | SPIi | SPIr'), 100),
    fromHex('1b1a11a8f4cb07a1dbdd3bc800ebfe8e704f8e0afb5dea6b17299cb46576ab8d7036729aed29b51914e009bd1291730fc25a7afa3a478e5d67afb4663c630747b57107df84cf85e6628b53c76c9d64b0b31344cc1c0efe616122f27cad49ec48289a1d4f'),
  );
  const sha1 = prfFor(crypto, findAlgorithm('prfsha1')!);
  bytesEqual(prfPlus(sha1, asciiBytes('key'), new Uint8Array(0), 45), fromHex('66c05750da4d6c6ea859ccb6ce7e9995ee822d36059a68f510f66ad549d00cd8c0878cd6a3cad04d788e62b4b2'));
  // T1 alone is prf(K, S | 0x01); lengths that are not whole blocks are truncated
  bytesEqual(prfPlus(sha256, asciiBytes('k'), asciiBytes('s'), 32), crypto.hmac('sha256', asciiBytes('k'), asciiBytes('s\x01')));
  equal(prfPlus(sha256, asciiBytes('k'), asciiBytes('s'), 7).length, 7);
  equal(prfPlus(sha256, asciiBytes('k'), asciiBytes('s'), 0).length, 0);
  // at most 255 iterations: 255 * 32 bytes for SHA-256
  equal(prfPlus(sha256, asciiBytes('k'), asciiBytes('s'), 255 * 32).length, 255 * 32);
  throws(() => prfPlus(sha256, asciiBytes('k'), asciiBytes('s'), 255 * 32 + 1), /255 iterations/);
  throws(() => prfFor(crypto, findAlgorithm('sha256')!), /not a PRF/);
});

test('constant-time compare: equal, different, different lengths, out of bounds', () => {
  const a = fromHex('00112233445566778899aabbccddeeff');
  ok(constantTimeEqual(a, a.slice()));
  for (let i = 0; i < a.length; i++) {
    const b = a.slice();
    b[i] ^= 0x80;
    ok(!constantTimeEqual(a, b), `difference at byte ${i}`);
  }
  ok(!constantTimeEqual(a, a.subarray(0, 15)));
  ok(!constantTimeEqual(a.subarray(0, 15), a));
  ok(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
  ok(constantTimeEqualAt(a, 4, a.slice(4, 8), 0, 4));
  ok(!constantTimeEqualAt(a, 14, a, 0, 4), 'a range past the end is not equal');
  ok(!constantTimeEqualAt(a, -1, a, 0, 4));
});

forEachProvider('power-on self-test passes', (crypto) => {
  const results = selfTest(crypto);
  equal(results.length, 5);
  for (const r of results) ok(r.ok, `${r.name}: ${r.error ?? 'wrong answer'}`);
});
