/**
 * Power-on self-test: known answers for the primitives the firmware depends on, run by a
 * provider at boot (as FIPS 140 modules do) so a broken native build or a miswired hardware
 * accelerator stops the device instead of sending garbage or accepting forgeries.
 */
import { asciiBytes, fromHex } from './bytes.js';
import { constantTimeEqual } from './compare.js';
import type { Crypto } from './provider.js';

export interface SelfTestResult {
  name: string;
  ok: boolean;
  error?: string;
}

const KNOWN_ANSWERS: { name: string; run: (crypto: Crypto) => boolean }[] = [
  {
    // FIPS 180-2 appendix B.1
    name: 'SHA-256',
    run: (c) => constantTimeEqual(c.hash('sha256', asciiBytes('abc')), fromHex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')),
  },
  {
    // RFC 4231 §4.2, test case 1
    name: 'HMAC-SHA-256',
    run: (c) => constantTimeEqual(
      c.hmac('sha256', new Uint8Array(20).fill(0x0b), asciiBytes('Hi There')),
      fromHex('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'),
    ),
  },
  {
    // Wycheproof aes_gcm_test tcId 1; and a flipped tag must fail
    name: 'AES-128-GCM',
    run: (c) => {
      const key = c.aeadKey('aes-gcm', fromHex('5b9604fe14eadba931b0ccf34843dab9'), 16);
      const nonce = fromHex('028318abc1824029138141a2');
      const buffer = new Uint8Array(32);
      buffer.set(fromHex('001d0c231287c1182784554ca3a21908'));
      key.seal(nonce, new Uint8Array(0), buffer, 0, 16);
      const sealed = constantTimeEqual(buffer, fromHex('26073cc1d851beff176384dc9896d5ff0a3ea7a5487cb5f7d70fb6c58d038554'));
      buffer[31] ^= 1;
      return sealed && !key.open(nonce, new Uint8Array(0), buffer, 0, 16);
    },
  },
  {
    // RFC 7748 §6.1
    name: 'X25519',
    run: (c) => constantTimeEqual(
      c.keyExchangeFromPrivate(31, fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
        .computeSecret(fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')),
      fromHex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'),
    ),
  },
  {
    // two draws of the CSPRNG differ (a stuck source would repeat)
    name: 'random',
    run: (c) => {
      const a = new Uint8Array(16);
      const b = new Uint8Array(16);
      c.randomBytes(a);
      c.randomBytes(b);
      return !constantTimeEqual(a, b);
    },
  },
];

/** Runs every known-answer test; never throws. */
export function selfTest(crypto: Crypto): SelfTestResult[] {
  return KNOWN_ANSWERS.map(({ name, run }) => {
    try {
      return { name, ok: run(crypto) };
    } catch (e) {
      return { name, ok: false, error: String((e as Error)?.message ?? e) };
    }
  });
}
