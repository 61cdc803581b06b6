/**
 * Modes built on the AES block function, for providers whose library lacks them:
 *   - CMAC (RFC 4493; AES-CMAC-96 for ESP, RFC 4494; AES-CMAC-PRF-128, RFC 4615),
 *   - XCBC-MAC (RFC 3566; AES-XCBC-MAC-96, and AES-XCBC-PRF-128, RFC 4434),
 *   - CCM (RFC 3610, NIST SP 800-38C; for ESP, RFC 4309).
 * Each takes a `BlockCipher` (AES-ECB in place) from a provider, so the block operations run
 * natively wherever the provider has native AES.
 */
import { constantTimeEqualAt } from './compare.js';
import type { AeadKey, CipherKey, MacKey } from './provider.js';

const NO_IV = new Uint8Array(0);

/** Encrypts 16-byte blocks in place. */
export type BlockCipher = (buffer: Uint8Array, offset: number) => void;

export function blockCipherFrom(ecb: CipherKey): BlockCipher {
  return (buffer, offset) => ecb.encrypt(NO_IV, buffer, offset, 16);
}

/** GF(2^128) doubling as in RFC 4493 §2.3 (shift left one bit, xor 0x87 on carry). */
function double(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  const carry = block[0] >> 7;
  for (let i = 0; i < 15; i++) out[i] = ((block[i] << 1) | (block[i + 1] >> 7)) & 0xff;
  out[15] = ((block[15] << 1) & 0xff) ^ (carry ? 0x87 : 0);
  return out;
}

/** CBC-MAC with a special last block: the core of CMAC and XCBC. */
function cbcMacLast(encrypt: BlockCipher, data: Uint8Array, offset: number, length: number, completeKey: Uint8Array, partialKey: Uint8Array): Uint8Array {
  const state = new Uint8Array(16);
  const blocks = Math.max(1, Math.ceil(length / 16));
  for (let b = 0; b < blocks; b++) {
    const start = b * 16;
    const last = b === blocks - 1;
    const n = Math.min(16, length - start);
    for (let i = 0; i < n; i++) state[i] ^= data[offset + start + i];
    if (last) {
      if (n === 16) {
        for (let i = 0; i < 16; i++) state[i] ^= completeKey[i];
      } else {
        state[n] ^= 0x80; // pad 10*
        for (let i = 0; i < 16; i++) state[i] ^= partialKey[i];
      }
    }
    encrypt(state, 0);
  }
  return state;
}

/** AES-XCBC-MAC from a provider's AES-ECB: the user key and the derived K1 each need one. */
export function xcbcFromEcb(key: Uint8Array, ecb: (key: Uint8Array) => CipherKey): XcbcKey {
  return new XcbcKey(blockCipherFrom(ecb(key)), (k) => blockCipherFrom(ecb(k)));
}

/** AES-CMAC (RFC 4493) over a 16-byte-key block cipher. */
export class CmacKey implements MacKey {
  readonly length = 16;
  readonly #encrypt: BlockCipher;
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;

  constructor(encrypt: BlockCipher) {
    const l = new Uint8Array(16);
    encrypt(l, 0);
    this.#encrypt = encrypt;
    this.#k1 = double(l);
    this.#k2 = double(this.#k1);
  }

  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void {
    const tag = cbcMacLast(this.#encrypt, buffer, offset, length, this.#k1, this.#k2);
    out.set(tag.subarray(0, Math.min(out.length, 16)));
  }
}

/** AES-XCBC-MAC (RFC 3566 §4): three keys derived from K with the block cipher itself. */
export class XcbcKey implements MacKey {
  readonly length = 16;
  readonly #encrypt: BlockCipher;
  readonly #k2: Uint8Array;
  readonly #k3: Uint8Array;

  /** `encryptWithK` uses the user key K; `makeCipher` builds a block cipher for the derived K1. */
  constructor(encryptWithK: BlockCipher, makeCipher: (key: Uint8Array) => BlockCipher) {
    const derive = (byte: number) => {
      const b = new Uint8Array(16).fill(byte);
      encryptWithK(b, 0);
      return b;
    };
    this.#encrypt = makeCipher(derive(0x01));
    this.#k2 = derive(0x02);
    this.#k3 = derive(0x03);
  }

  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void {
    const tag = cbcMacLast(this.#encrypt, buffer, offset, length, this.#k2, this.#k3);
    out.set(tag.subarray(0, Math.min(out.length, 16)));
  }
}

/** AES-CCM (RFC 3610) with a fixed tag length; nonces of 7 to 13 bytes. */
export class CcmKey implements AeadKey {
  readonly tagLength: number;
  readonly #encrypt: BlockCipher;
  readonly #nonceLength: number;

  constructor(encrypt: BlockCipher, tagLength: number, nonceLength: number) {
    if (tagLength < 4 || tagLength > 16 || tagLength % 2) throw new RangeError(`CCM tag length ${tagLength} is not 4, 6, ..., 16`);
    if (nonceLength < 7 || nonceLength > 13) throw new RangeError('CCM nonce must be 7 to 13 bytes');
    this.#encrypt = encrypt;
    this.tagLength = tagLength;
    this.#nonceLength = nonceLength;
  }

  /** CBC-MAC over B0, the encoded AAD and the plaintext (RFC 3610 §2.2), then masked with S0. */
  #tag(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, offset: number, length: number): Uint8Array {
    const q = 15 - nonce.length;
    if (nonce.length !== this.#nonceLength) throw new RangeError(`CCM nonce must be ${this.#nonceLength} bytes, not ${nonce.length}`);
    if (q < 4 && length >= 2 ** (8 * q)) throw new RangeError('CCM message too long for the nonce length');
    const x = new Uint8Array(16);
    x[0] = (aad.length > 0 ? 64 : 0) | (((this.tagLength - 2) / 2) << 3) | (q - 1);
    x.set(nonce, 1);
    for (let i = 0, n = length; i < q; i++, n = Math.floor(n / 256)) x[15 - i] = n & 0xff;
    this.#encrypt(x, 0);
    const absorb = (data: Uint8Array, start: number, n: number, prefix?: Uint8Array) => {
      const all = prefix ? new Uint8Array(prefix.length + n) : null;
      if (all && prefix) {
        all.set(prefix);
        all.set(data.subarray(start, start + n), prefix.length);
      }
      const src = all ?? data;
      const s = all ? 0 : start;
      const total = all ? all.length : n;
      for (let b = 0; b < total; b += 16) {
        for (let i = 0; i < 16 && b + i < total; i++) x[i] ^= src[s + b + i];
        this.#encrypt(x, 0);
      }
    };
    if (aad.length > 0) {
      // RFC 3610 §2.2: 2-byte length below 2^16 - 2^8, else 0xfffe and 4 bytes
      const prefix = aad.length < 0xff00
        ? new Uint8Array([aad.length >> 8, aad.length & 0xff])
        : new Uint8Array([0xff, 0xfe, (aad.length >>> 24) & 0xff, (aad.length >> 16) & 0xff, (aad.length >> 8) & 0xff, aad.length & 0xff]);
      absorb(aad, 0, aad.length, prefix);
    }
    absorb(plaintext, offset, length);
    const s0 = this.#counterBlock(nonce, 0);
    this.#encrypt(s0, 0);
    for (let i = 0; i < this.tagLength; i++) x[i] ^= s0[i];
    return x.subarray(0, this.tagLength);
  }

  #counterBlock(nonce: Uint8Array, counter: number): Uint8Array {
    const q = 15 - nonce.length;
    const a = new Uint8Array(16);
    a[0] = q - 1;
    a.set(nonce, 1);
    for (let i = 0, n = counter; i < q; i++, n = Math.floor(n / 256)) a[15 - i] = n & 0xff;
    return a;
  }

  #ctr(nonce: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    for (let b = 0, counter = 1; b < length; b += 16, counter++) {
      const s = this.#counterBlock(nonce, counter);
      this.#encrypt(s, 0);
      for (let i = 0; i < 16 && b + i < length; i++) buffer[offset + b + i] ^= s[i];
    }
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    if (offset + length + this.tagLength > buffer.length) throw new RangeError('no room for the CCM tag');
    const tag = this.#tag(nonce, aad, buffer, offset, length);
    buffer.set(tag, offset + length);
    this.#ctr(nonce, buffer, offset, length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean {
    if (offset + length + this.tagLength > buffer.length) return false;
    this.#ctr(nonce, buffer, offset, length);
    const tag = this.#tag(nonce, aad, buffer, offset, length);
    if (constantTimeEqualAt(tag, 0, buffer, offset + length, this.tagLength)) return true;
    this.#ctr(nonce, buffer, offset, length); // restore the ciphertext: release no plaintext
    return false;
  }
}
