/**
 * The software provider: every primitive in portable TypeScript on the audited @noble
 * libraries (hashes, ciphers, curves), plus BigInt MODP groups (../modp.ts), CCM, CMAC and
 * XCBC built on noble's AES block (../block-modes.ts) and DES (./des.ts, legacy only).
 *
 * It runs on any engine, and is the fallback for what a host has no native code for. On XS it
 * is slow (pure-JS AES: ~350 packets/s), so a device uses the native provider for packets.
 * Randomness comes from the host (`random`): noble's own randomBytes needs WebCrypto, which
 * XS does not have.
 */
import { GenericEspAead } from '../esp-aead.js';
import { cbc, ctr, ecb, gcm, unsafe } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { md5, ripemd160, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { CcmKey, CmacKey, XcbcKey, type BlockCipher } from '../block-modes.js';
import { constantTimeEqualAt } from '../compare.js';
import { checkX25519Public, checkX25519Secret, ecpCurve, ecpToSec1, makeKeyExchange, sec1ToEcp } from '../key-exchange.js';
import { aeadNonceLength, checkAeadKey, checkAesMacKey, checkPrimitive } from '../policy.js';
import {
  KeyExchangeError,
  type AeadKey, type CipherKey, type Crypto, type CryptoOptions, type EspAeadKey, type EspAeadOptions, type Implementation, type KeyExchange, type MacKey,
} from '../provider.js';
import { Ke, type AeadName, type CipherName, type HashName, type MacName } from '../registry.js';
import { DesCbc } from './des.js';

type Hash = CHash;

const HASHES: Readonly<Record<HashName, Hash>> = { md5, sha1, sha224, sha256, sha384, sha512, ripemd160 };

const CURVES = { p256, p384, p521 };

export interface SoftwareCryptoOptions extends CryptoOptions {
  /** the host's CSPRNG */
  random: (out: Uint8Array) => void;
}

function checkNonce(nonce: Uint8Array, length: number): void {
  if (nonce.length !== length) throw new RangeError(`nonce must be ${length} bytes, not ${nonce.length}`);
}

/** The raw AES block function (noble's `unsafe` API: a mode object may not be reused). */
function aesBlock(key: Uint8Array): BlockCipher {
  const expanded = unsafe.expandKeyLE(key);
  const scratch = new Uint8Array(16); // aligned, as encryptBlock needs
  return (buffer, offset) => {
    scratch.set(buffer.subarray(offset, offset + 16));
    unsafe.encryptBlock(expanded, scratch);
    buffer.set(scratch, offset);
  };
}

/** AES-GCM with 8, 12 or 16-byte tags (RFC 4106 §6): noble checks full tags only, so open
 *  decrypts with CTR from J0+1 and recomputes the tag for a truncated comparison. */
class SoftwareGcmKey implements AeadKey {
  readonly #key: Uint8Array;
  constructor(key: Uint8Array, readonly tagLength: number) {
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    checkNonce(nonce, 12);
    if (offset + length + this.tagLength > buffer.length) throw new RangeError('no room for the GCM tag');
    const sealed = gcm(this.#key, nonce, aad).encrypt(buffer.subarray(offset, offset + length));
    buffer.set(sealed.subarray(0, length + this.tagLength), offset);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean {
    checkNonce(nonce, 12);
    if (offset + length + this.tagLength > buffer.length) return false;
    const counter = new Uint8Array(16);
    counter.set(nonce);
    counter[15] = 2; // J0 = nonce || 1; the payload starts at inc32(J0)
    const plaintext = ctr(this.#key, counter).decrypt(buffer.subarray(offset, offset + length));
    const expected = gcm(this.#key, nonce, aad).encrypt(plaintext);
    if (!constantTimeEqualAt(expected, length, buffer, offset + length, this.tagLength)) return false;
    buffer.set(plaintext, offset);
    return true;
  }
}

class SoftwareChachaKey implements AeadKey {
  readonly tagLength = 16;
  readonly #key: Uint8Array;
  constructor(key: Uint8Array) {
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    checkNonce(nonce, 12);
    if (offset + length + 16 > buffer.length) throw new RangeError('no room for the Poly1305 tag');
    buffer.set(chacha20poly1305(this.#key, nonce, aad).encrypt(buffer.subarray(offset, offset + length)), offset);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean {
    checkNonce(nonce, 12);
    if (offset + length + 16 > buffer.length) return false;
    let plaintext: Uint8Array;
    try {
      plaintext = chacha20poly1305(this.#key, nonce, aad).decrypt(buffer.subarray(offset, offset + length + 16));
    } catch {
      return false;
    }
    buffer.set(plaintext, offset);
    return true;
  }
}

class SoftwareCipherKey implements CipherKey {
  readonly #name: CipherName;
  readonly #key: Uint8Array;
  readonly #des?: DesCbc;
  constructor(name: CipherName, key: Uint8Array) {
    this.#name = name;
    this.#key = key.slice();
    if (name === 'des-cbc' || name === '3des-cbc') {
      if (key.length !== (name === 'des-cbc' ? 8 : 24)) throw new RangeError(`${name} key must be ${name === 'des-cbc' ? 8 : 24} bytes`);
      this.#des = new DesCbc(key);
    } else if (![16, 24, 32].includes(key.length)) {
      throw new RangeError(`AES key must be 16, 24 or 32 bytes, not ${key.length}`);
    }
  }

  #run(encrypt: boolean, iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    if (this.#des) return encrypt ? this.#des.encrypt(iv, buffer, offset, length) : this.#des.decrypt(iv, buffer, offset, length);
    const data = buffer.subarray(offset, offset + length);
    let out: Uint8Array;
    switch (this.#name) {
      case 'aes-cbc': {
        const c = cbc(this.#key, iv, { disablePadding: true });
        out = encrypt ? c.encrypt(data) : c.decrypt(data);
        break;
      }
      case 'aes-ctr':
        out = ctr(this.#key, iv).encrypt(data);
        break;
      default: {
        const c = ecb(this.#key, { disablePadding: true });
        out = encrypt ? c.encrypt(data) : c.decrypt(data);
      }
    }
    buffer.set(out, offset);
  }

  encrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    this.#run(true, iv, buffer, offset, length);
  }

  decrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    this.#run(false, iv, buffer, offset, length);
  }
}

class HmacKey implements MacKey {
  readonly length: number;
  readonly #hash: Hash;
  readonly #key: Uint8Array;
  constructor(hash: Hash, key: Uint8Array) {
    this.#hash = hash;
    this.#key = key.slice();
    this.length = hash.outputLen;
  }

  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void {
    const mac = hmac(this.#hash, this.#key, buffer.subarray(offset, offset + length));
    out.set(mac.subarray(0, Math.min(out.length, mac.length)));
  }
}

class EcpKeyExchange implements KeyExchange {
  readonly publicKey: Uint8Array;
  readonly #private: Uint8Array;
  readonly #curve: typeof p256;
  constructor(readonly group: number, privateKey: Uint8Array) {
    const name = ecpCurve(group);
    if (!name) throw new RangeError(`group ${group} is not an ECP group`);
    this.#curve = CURVES[name];
    this.#private = privateKey.slice();
    this.publicKey = sec1ToEcp(group, this.#curve.getPublicKey(this.#private, false));
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    const sec1 = ecpToSec1(this.group, peerPublicKey);
    let shared: Uint8Array;
    try {
      shared = this.#curve.getSharedSecret(this.#private, sec1, false); // checks the point is on the curve
    } catch (e) {
      throw new KeyExchangeError(`ECP group ${this.group}: invalid public value (${(e as Error).message})`);
    }
    return sec1ToEcp(this.group, shared).slice(0, peerPublicKey.length / 2);
  }
}

class X25519KeyExchange implements KeyExchange {
  readonly group = Ke.CURVE25519;
  readonly publicKey: Uint8Array;
  readonly #private: Uint8Array;
  constructor(privateKey: Uint8Array) {
    if (privateKey.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
    this.#private = privateKey.slice();
    this.publicKey = x25519.getPublicKey(this.#private);
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    checkX25519Public(peerPublicKey);
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(this.#private, peerPublicKey);
    } catch (e) {
      throw new KeyExchangeError(`Curve25519: ${(e as Error).message}`);
    }
    return checkX25519Secret(shared);
  }
}

export class SoftwareCrypto implements Crypto {
  readonly name: string = 'software';
  readonly #random: (out: Uint8Array) => void;
  readonly #allowLegacy: boolean;

  constructor(options: SoftwareCryptoOptions) {
    this.#random = options.random;
    this.#allowLegacy = options.allowLegacy ?? false;
  }

  randomBytes(out: Uint8Array): void {
    this.#random(out);
  }

  hash(hash: HashName, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    return HASHES[hash](data);
  }

  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    return hmac(HASHES[hash], key, data);
  }

  macKey(mac: MacName, key: Uint8Array, hash?: HashName): MacKey {
    switch (mac) {
      case 'hmac':
        if (!hash) throw new TypeError('HMAC needs a hash');
        checkPrimitive(hash, this.#allowLegacy);
        return new HmacKey(HASHES[hash], key);
      case 'aes-cmac':
        checkAesMacKey(mac, key);
        return new CmacKey(aesBlock(key));
      case 'aes-xcbc':
        checkAesMacKey(mac, key);
        return new XcbcKey(aesBlock(key), aesBlock);
    }
  }

  aeadKey(aead: AeadName, key: Uint8Array, tagLength: number): AeadKey {
    checkAeadKey(aead, key, tagLength);
    switch (aead) {
      case 'aes-gcm':
        return new SoftwareGcmKey(key, tagLength);
      case 'aes-ccm':
        return new CcmKey(aesBlock(key), tagLength, aeadNonceLength(aead));
      case 'chacha20-poly1305':
        return new SoftwareChachaKey(key);
    }
  }

  espAeadKey(aead: AeadName, keyAndSalt: Uint8Array, tagLength: number, options: EspAeadOptions): EspAeadKey {
    return new GenericEspAead(this, aead, keyAndSalt, tagLength, options);
  }

  cipherKey(cipher: CipherName, key: Uint8Array): CipherKey {
    checkPrimitive(cipher, this.#allowLegacy);
    return new SoftwareCipherKey(cipher, key);
  }

  keyExchange(group: number): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, this.#random, (g, k) => this.#curve(g, k));
  }

  keyExchangeFromPrivate(group: number, privateKey: Uint8Array): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, this.#random, (g, k) => this.#curve(g, k), privateKey);
  }

  #curve(group: number, privateKey?: Uint8Array): KeyExchange {
    if (group === Ke.CURVE25519) {
      if (privateKey) return new X25519KeyExchange(privateKey);
      const k = new Uint8Array(32);
      this.#random(k);
      return new X25519KeyExchange(k);
    }
    const curve = ecpCurve(group)!;
    if (privateKey) return new EcpKeyExchange(group, privateKey);
    // noble reduces a seed longer than the order modulo n, without bias
    const seed = new Uint8Array(CURVES[curve].lengths.seed ?? 48);
    this.#random(seed);
    return new EcpKeyExchange(group, CURVES[curve].utils.randomSecretKey(seed));
  }

  implementation(_algorithm: string): Implementation {
    return 'software';
  }
}
