/**
 * The crypto operations the bench table measures, the same on every engine and provider:
 * per-packet symmetric operations on 1400-byte payloads (a full-size ESP packet) and the
 * handshake's key exchanges. Each op is prepared once (keys imported, buffers allocated) and
 * then run repeatedly, as the data path runs it.
 */
import type { Crypto } from '../src/crypto/provider.js';

export const PAYLOAD = 1400;

export interface BenchOp {
  /** row name in the table */
  name: string;
  /** registry keyword, for the provider's implementation() */
  algorithm: string;
  /** the expensive ops (key exchange, software crypto on XS) get fewer iterations */
  heavy?: boolean;
  prepare(crypto: Crypto): () => void;
}

function bytes(crypto: Crypto, n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.randomBytes(b);
  return b;
}

function aead(name: string, algorithm: string, which: 'aes-gcm' | 'aes-ccm' | 'chacha20-poly1305', keyBytes: number): BenchOp {
  return {
    name, algorithm,
    prepare(crypto) {
      const key = crypto.aeadKey(which, bytes(crypto, keyBytes), 16);
      const nonce = bytes(crypto, which === 'aes-ccm' ? 11 : 12);
      const aad = bytes(crypto, 8);
      const buffer = bytes(crypto, PAYLOAD + 16);
      return () => key.seal(nonce, aad, buffer, 0, PAYLOAD);
    },
  };
}

export const OPS: BenchOp[] = [
  aead('AES-128-GCM seal 1400 B', 'aes128gcm16', 'aes-gcm', 16),
  aead('AES-256-GCM seal 1400 B', 'aes256gcm16', 'aes-gcm', 32),
  aead('AES-128-CCM seal 1400 B', 'aes128ccm16', 'aes-ccm', 16),
  aead('ChaCha20-Poly1305 seal 1400 B', 'chacha20poly1305', 'chacha20-poly1305', 32),
  {
    name: 'AES-128-CBC encrypt 1392 B', algorithm: 'aes128',
    prepare(crypto) {
      const key = crypto.cipherKey('aes-cbc', bytes(crypto, 16));
      const iv = bytes(crypto, 16);
      const buffer = bytes(crypto, 1392);
      return () => key.encrypt(iv, buffer, 0, 1392);
    },
  },
  {
    name: 'AES-128-CTR encrypt 1400 B', algorithm: 'aes128ctr',
    prepare(crypto) {
      const key = crypto.cipherKey('aes-ctr', bytes(crypto, 16));
      const iv = bytes(crypto, 16);
      const buffer = bytes(crypto, PAYLOAD);
      return () => key.encrypt(iv, buffer, 0, PAYLOAD);
    },
  },
  ...(['sha1', 'sha256', 'sha384', 'sha512'] as const).map((hash): BenchOp => ({
    name: `HMAC-${hash.toUpperCase()} 1400 B`, algorithm: hash,
    prepare(crypto) {
      const key = crypto.macKey('hmac', bytes(crypto, 32), hash);
      const buffer = bytes(crypto, PAYLOAD);
      const out = new Uint8Array(32);
      return () => key.compute(buffer, 0, PAYLOAD, out);
    },
  })),
  {
    name: 'AES-XCBC-MAC 1400 B', algorithm: 'aesxcbc',
    prepare(crypto) {
      const key = crypto.macKey('aes-xcbc', bytes(crypto, 16));
      const buffer = bytes(crypto, PAYLOAD);
      const out = new Uint8Array(12);
      return () => key.compute(buffer, 0, PAYLOAD, out);
    },
  },
  {
    name: 'SHA-256 1400 B', algorithm: 'sha256',
    prepare(crypto) {
      const buffer = bytes(crypto, PAYLOAD);
      return () => crypto.hash('sha256', buffer);
    },
  },
  ...([[31, 'X25519 (keygen + shared secret)', 'curve25519'], [19, 'ECDH P-256 (keygen + shared secret)', 'ecp256'],
    [20, 'ECDH P-384 (keygen + shared secret)', 'ecp384'], [14, 'MODP-2048 (keygen + shared secret)', 'modp2048']] as const)
    .map(([group, name, algorithm]): BenchOp => ({
      name, algorithm, heavy: true,
      prepare(crypto) {
        const peer = crypto.keyExchange(group).publicKey;
        return () => crypto.keyExchange(group).computeSecret(peer);
      },
    })),
];

/** Runs `op` for about `ms` milliseconds (at least `min` times); returns ops per second. */
export function timeOp(run: () => void, ms: number, now: () => number, min = 3): number {
  run(); // warm-up
  let n = 0;
  const start = now();
  let elapsed = 0;
  while (elapsed < ms || n < min) {
    run();
    n++;
    if ((n & 7) === 0 || n < 8) elapsed = now() - start;
  }
  return n / ((now() - start) / 1000);
}
