/**
 * MODP groups (RFC 3526, RFC 2409): the primes match the RFC text as transcribed in
 * test/vectors/rfc, have the stated size and pass a Fermat test; the exchange agrees between
 * providers and refuses degenerate public values.
 */
import { bigIntToBytes, fromHex } from '../../src/crypto/bytes.js';
import { findModpGroup, modPow } from '../../src/crypto/modp.js';
import { MODP_GROUPS } from '../../src/crypto/modp-groups.js';
import { KeyExchangeError } from '../../src/crypto/provider.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';
import { test } from '../harness.js';

const rfc = await loadVectors('rfc/rfc3526-rfc2409-modp');

test('MODP primes: as in the RFCs, of the stated size, and probable primes (Fermat, base 2 and 3)', () => {
  equal(MODP_GROUPS.length, rfc.groups.length);
  for (const g of rfc.groups) {
    const group = findModpGroup(g.group)!;
    ok(group, `group ${g.group}`);
    equal(group.primeHex, g.prime, `group ${g.group} prime`);
    const p = BigInt('0x' + g.prime);
    equal(p.toString(2).length, g.bits, `group ${g.group} bit length`);
    if (g.bits <= 4096) { // larger ones cost seconds on XS; group 14-16 cover the code
      equal(modPow(2n, p - 1n, p), 1n, `group ${g.group}: 2^(p-1) mod p`);
      equal(modPow(3n, p - 1n, p), 1n, `group ${g.group}: 3^(p-1) mod p`);
    }
    // RFC 3526: p = 2^N - 2^(N-64) - 1 + 2^64 * ( floor(2^(N-130) pi) + k ): the top and bottom 64 bits are all ones
    equal(g.prime.slice(0, 16), 'ffffffffffffffff');
    equal(g.prime.slice(-16), 'ffffffffffffffff');
  }
});

forEachProvider('MODP group 14: exchange, and refusal of 0, 1, p-1, p and wrong lengths', (crypto) => {
  const a = crypto.keyExchange(14);
  const b = crypto.keyExchange(14);
  equal(a.publicKey.length, 256);
  bytesEqual(a.computeSecret(b.publicKey), b.computeSecret(a.publicKey));
  const p = BigInt('0x' + findModpGroup(14)!.primeHex);
  for (const bad of [0n, 1n, p - 1n, p]) {
    throws(() => a.computeSecret(bigIntToBytes(bad, 256)), KeyExchangeError, `public value ${bad === p ? 'p' : bad === p - 1n ? 'p-1' : bad}`);
  }
  throws(() => a.computeSecret(b.publicKey.subarray(0, 255)), KeyExchangeError, 'short');
  throws(() => a.computeSecret(new Uint8Array(257)), KeyExchangeError, 'long');
  // a known private value gives g^x mod p
  const x = fromHex('0102030405060708');
  const k = crypto.keyExchangeFromPrivate(14, x);
  bytesEqual(k.publicKey, bigIntToBytes(modPow(2n, 0x0102030405060708n, p), 256));
});
