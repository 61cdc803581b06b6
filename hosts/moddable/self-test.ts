/**
 * The power-on crypto self-test (src/crypto/selftest.ts: known-answer tests of every native
 * primitive) with its report. A device runs it before it sends or accepts a packet: a failure
 * throws, and the firmware stops instead of running with broken crypto.
 */
import { selfTest } from '../../src/crypto/selftest.js';
import type { NativeCrypto } from './crypto-native.js';

/** Runs the self-test on `crypto`, prints the result; throws when any test failed. */
export function runSelfTest(crypto: NativeCrypto, print: (line: string) => void): void {
  const results = selfTest(crypto);
  const failed = results.filter((r) => !r.ok);
  print(`crypto self-test ${failed.length ? 'FAILED' : 'passed'}: ${results.map((r) => `${r.name} ${r.ok ? 'ok' : 'FAIL'}`).join(', ')}`);
  if (failed.length) throw new Error(`crypto self-test failed: ${failed.map((r) => `${r.name}${r.error ? ` (${r.error})` : ''}`).join(', ')}`);
  const groups = ['curve25519', 'ecp256', 'ecp384', 'modp2048'].map((g) => `${g} ${crypto.implementation(g)}`).join(', ');
  print(`crypto provider ${crypto.name}: AES/SHA/ChaCha20 native; key exchange: ${groups}`);
}
