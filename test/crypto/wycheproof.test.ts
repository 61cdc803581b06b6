/**
 * Wycheproof vectors (test/vectors/wycheproof, Apache-2.0) against every provider on this
 * engine. For each vector: `valid` must give exactly the expected output, `invalid` must be
 * rejected (an exception or a failed open), `acceptable` may go either way but must not give a
 * wrong answer. Vectors whose parameters IPsec never uses (a GCM nonce other than 12 bytes, a
 * 4-byte CCM tag, a 256-bit CMAC key, ...) must be refused by the provider, valid or not.
 */
import { fromHex } from '../../src/crypto/bytes.js';
import { constantTimeEqual } from '../../src/crypto/compare.js';
import { aeadNonceLength } from '../../src/crypto/policy.js';
import type { Crypto } from '../../src/crypto/provider.js';
import type { AeadName, HashName } from '../../src/crypto/registry.js';
import { AssertionError, bytesEqual, ok } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';

interface WycheproofTest { tcId: number; comment: string; flags: string[]; result: 'valid' | 'invalid' | 'acceptable'; [k: string]: any }
interface WycheproofFile { algorithm: string; numberOfTests: number; testGroups: { [k: string]: any; tests: WycheproofTest[] }[] }

/** Runs every test of a file; `check` returns the computed output, or throws / returns null to reject. */
function runAll(file: WycheproofFile, check: (group: any, t: WycheproofTest) => { output: Uint8Array | null; expected?: Uint8Array; inScope: boolean }) {
  let count = 0;
  let refusedOutOfScope = 0;
  for (const group of file.testGroups) {
    for (const t of group.tests) {
      count++;
      let output: Uint8Array | null = null;
      let expected: Uint8Array | undefined;
      let inScope = true;
      let error: unknown;
      try {
        ({ output, expected, inScope } = check(group, t));
      } catch (e) {
        error = e;
        output = null;
        inScope = (e as { inScope?: boolean }).inScope ?? true;
      }
      const where = `${file.algorithm} tcId ${t.tcId} (${t.result}, ${t.comment || t.flags.join(',')})`;
      if (!inScope) {
        if (output !== null) throw new AssertionError(`${where}: parameters outside IPsec were accepted`);
        refusedOutOfScope++;
        continue;
      }
      if (t.result === 'valid') {
        if (output === null) throw new AssertionError(`${where}: rejected a valid vector: ${(error as Error)?.message ?? 'open failed'}`);
        if (expected) bytesEqual(output, expected, where);
      } else if (t.result === 'invalid') {
        if (output !== null) throw new AssertionError(`${where}: accepted an invalid vector`);
      } else if (output !== null && expected) {
        bytesEqual(output, expected, where);
      }
    }
  }
  ok(count === file.numberOfTests, `ran ${count} of ${file.numberOfTests} tests`);
  return { count, refusedOutOfScope };
}

/** An exception that marks a vector as outside IPsec's parameters. */
function outOfScope(message: string): Error {
  return Object.assign(new RangeError(message), { inScope: false });
}

function aeadCheck(crypto: Crypto, aead: AeadName) {
  return (group: any, t: WycheproofTest) => {
    const key = fromHex(t.key);
    const nonce = fromHex(t.iv);
    const aad = fromHex(t.aad);
    const msg = fromHex(t.msg);
    const ct = fromHex(t.ct);
    const tag = fromHex(t.tag);
    const tagLength = group.tagSize / 8;
    const inScope = nonce.length === aeadNonceLength(aead) && [8, 12, 16].includes(tagLength) && tag.length === tagLength &&
      (aead === 'chacha20-poly1305' ? key.length === 32 : [16, 24, 32].includes(key.length));
    let k;
    try {
      k = crypto.aeadKey(aead, key, tagLength);
      // open: ciphertext followed by the tag, in place
      const buffer = new Uint8Array(ct.length + tag.length);
      buffer.set(ct);
      buffer.set(tag, ct.length);
      const opened = k.open(nonce, aad, buffer, 0, ct.length) ? buffer.slice(0, ct.length) : null;
      if (opened && inScope) {
        // and seal must reproduce ciphertext || tag
        const sealed = new Uint8Array(msg.length + tagLength);
        sealed.set(msg);
        k.seal(nonce, aad, sealed, 0, msg.length);
        const want = new Uint8Array(ct.length + tag.length);
        want.set(ct);
        want.set(tag, ct.length);
        bytesEqual(sealed, want, `seal tcId ${t.tcId}`);
      }
      return { output: opened, expected: msg, inScope };
    } catch (e) {
      if (!inScope) throw outOfScope((e as Error).message);
      throw e;
    }
  };
}

const gcm = await loadVectors<WycheproofFile>('wycheproof/aes_gcm_test');
const ccm = await loadVectors<WycheproofFile>('wycheproof/aes_ccm_test');
const chacha = await loadVectors<WycheproofFile>('wycheproof/chacha20_poly1305_test');

forEachProvider('Wycheproof AES-GCM', (crypto) => {
  runAll(gcm, aeadCheck(crypto, 'aes-gcm'));
});
forEachProvider('Wycheproof AES-CCM', (crypto) => {
  runAll(ccm, aeadCheck(crypto, 'aes-ccm'));
});
forEachProvider('Wycheproof ChaCha20-Poly1305', (crypto) => {
  runAll(chacha, aeadCheck(crypto, 'chacha20-poly1305'));
});

const hmacFiles: [HashName, string][] = [['sha1', 'hmac_sha1_test'], ['sha256', 'hmac_sha256_test'], ['sha384', 'hmac_sha384_test'], ['sha512', 'hmac_sha512_test']];
for (const [hash, name] of hmacFiles) {
  const file = await loadVectors<WycheproofFile>(`wycheproof/${name}`);
  forEachProvider(`Wycheproof HMAC-${hash.toUpperCase()}`, (crypto) => {
    runAll(file, (group, t) => {
      const key = crypto.macKey('hmac', fromHex(t.key), hash);
      const msg = fromHex(t.msg);
      const out = new Uint8Array(group.tagSize / 8);
      key.compute(msg, 0, msg.length, out);
      // a MAC is "opened" by comparing in constant time, as the data path does
      return { output: constantTimeEqual(out, fromHex(t.tag)) ? out : null, expected: fromHex(t.tag), inScope: true };
    });
  });
}

const cmac = await loadVectors<WycheproofFile>('wycheproof/aes_cmac_test');
forEachProvider('Wycheproof AES-CMAC', (crypto) => {
  runAll(cmac, (group, t) => {
    const inScope = group.keySize === 128 && group.tagSize <= 128;
    let key;
    try {
      key = crypto.macKey('aes-cmac', fromHex(t.key));
    } catch (e) {
      if (!inScope) throw outOfScope((e as Error).message);
      throw e;
    }
    const msg = fromHex(t.msg);
    const out = new Uint8Array(group.tagSize / 8);
    key.compute(msg, 0, msg.length, out);
    return { output: constantTimeEqual(out, fromHex(t.tag)) ? out : null, expected: fromHex(t.tag), inScope };
  });
});

const x25519 = await loadVectors<WycheproofFile>('wycheproof/x25519_test');
forEachProvider('Wycheproof X25519', (crypto) => {
  runAll(x25519, (_group, t) => {
    const kex = crypto.keyExchangeFromPrivate(31, fromHex(t.private));
    return { output: kex.computeSecret(fromHex(t.public)), expected: fromHex(t.shared), inScope: true };
  });
});

const ecdhFiles: [number, string, number][] = [[19, 'ecdh_secp256r1_ecpoint_test', 32], [20, 'ecdh_secp384r1_ecpoint_test', 48], [21, 'ecdh_secp521r1_ecpoint_test', 66]];
for (const [group, name, size] of ecdhFiles) {
  const file = await loadVectors<WycheproofFile>(`wycheproof/${name}`);
  forEachProvider(`Wycheproof ECDH group ${group}`, (crypto) => {
    runAll(file, (_g, t) => {
      // IKEv2 carries x || y (RFC 5903 §7): only uncompressed points can be expressed at all,
      // so a compressed or otherwise encoded point is refused before any math.
      const pub = fromHex(t.public);
      if (pub.length !== 1 + 2 * size || pub[0] !== 4) throw outOfScope('not an uncompressed point');
      const priv = normalizePrivate(fromHex(t.private), size);
      const kex = crypto.keyExchangeFromPrivate(group, priv);
      return { output: kex.computeSecret(pub.subarray(1)), expected: fromHex(t.shared), inScope: true };
    });
  });
}

/** Wycheproof private keys are minimal big-endian integers (maybe with a 00 sign byte). */
function normalizePrivate(bytes: Uint8Array, size: number): Uint8Array {
  let start = 0;
  while (bytes.length - start > size && bytes[start] === 0) start++;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(start), size - (bytes.length - start));
  return out;
}
