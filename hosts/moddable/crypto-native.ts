/**
 * The native provider for XS hosts: the PSA Crypto API module (hosts/native/crypto-psa.c),
 * Mbed TLS on the desktop simulator, hardware-accelerated PSA drivers on an ESP32, and the
 * host's CSPRNG (module "random").
 *
 * Native: hashes, HMAC, AES-CMAC, AES-GCM/CCM, ChaCha20-Poly1305, AES-CBC/CTR, DES/3DES, ECDH
 * (P-256/384/521) and X25519. Built here on native parts: AES-XCBC (on native AES-ECB).
 * Software: the MODP groups (PSA in Mbed TLS 2.28 has no finite-field DH); `implementation()`
 * says so, and the bench table shows it.
 */
import * as psa from 'crypto-psa';
import { fillRandom } from 'random';
import { xcbcFromEcb } from '../../src/crypto/block-modes.js';
import { checkX25519Public, checkX25519Secret, ecpCoordinateBytes, ecpCurve, ecpToSec1, makeKeyExchange, sec1ToEcp } from '../../src/crypto/key-exchange.js';
import { aeadNonceLength, checkAeadKey, checkAesMacKey, checkPrimitive } from '../../src/crypto/policy.js';
import {
  KeyExchangeError,
  type AeadKey, type CipherKey, type Crypto, type CryptoOptions, type EspAeadKey, type EspAeadOptions, type Implementation, type KeyExchange, type MacKey,
} from '../../src/crypto/provider.js';
import { HASH_LENGTH, Ke, type AeadName, type CipherName, type HashName, type MacName } from '../../src/crypto/registry.js';

const PSA_HASH: Readonly<Record<HashName, number>> = {
  md5: psa.HASH_MD5, sha1: psa.HASH_SHA1, sha224: psa.HASH_SHA224, sha256: psa.HASH_SHA256, sha384: psa.HASH_SHA384,
  sha512: psa.HASH_SHA512, ripemd160: psa.HASH_RIPEMD160,
};
const PSA_AEAD: Readonly<Record<AeadName, number>> = {
  'aes-gcm': psa.AEAD_AES_GCM, 'aes-ccm': psa.AEAD_AES_CCM, 'chacha20-poly1305': psa.AEAD_CHACHA20_POLY1305,
};
const PSA_CIPHER: Readonly<Record<CipherName, number>> = {
  'aes-cbc': psa.CIPHER_AES_CBC, 'aes-ctr': psa.CIPHER_AES_CTR, 'aes-ecb': psa.CIPHER_AES_ECB,
  'des-cbc': psa.CIPHER_DES_CBC, '3des-cbc': psa.CIPHER_3DES_CBC,
};
const PSA_CURVE = { p256: psa.CURVE_P256, p384: psa.CURVE_P384, p521: psa.CURVE_P521 } as const;

class NativeAeadKey implements AeadKey {
  readonly #key: psa.PsaKey;
  readonly #nonceLength: number;
  constructor(aead: AeadName, key: Uint8Array, readonly tagLength: number) {
    checkAeadKey(aead, key, tagLength);
    this.#nonceLength = aeadNonceLength(aead);
    this.#key = psa.aeadKey(PSA_AEAD[aead], key, tagLength);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    if (nonce.length !== this.#nonceLength) throw new RangeError(`nonce must be ${this.#nonceLength} bytes, not ${nonce.length}`);
    psa.aeadSeal(this.#key, nonce, aad, buffer, offset, length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean {
    if (nonce.length !== this.#nonceLength) throw new RangeError(`nonce must be ${this.#nonceLength} bytes, not ${nonce.length}`);
    if (offset < 0 || length < 0 || offset + length + this.tagLength > buffer.length) return false;
    return psa.aeadOpen(this.#key, nonce, aad, buffer, offset, length);
  }
}

/** ESP's AEAD construction in one native call per packet (crypto-psa.c, xs_psa_esp_seal). */
class NativeEspAead implements EspAeadKey {
  readonly ivLength: number;
  readonly #key: psa.PsaKey;
  constructor(aead: AeadName, keyAndSalt: Uint8Array, readonly tagLength: number, options: EspAeadOptions) {
    const saltLength = aeadNonceLength(aead) - 8;
    const key = keyAndSalt.subarray(0, keyAndSalt.length - saltLength);
    checkAeadKey(aead, key, tagLength);
    this.ivLength = options.implicitIv ? 0 : 8;
    this.#key = psa.espAeadKey(PSA_AEAD[aead], key, tagLength, keyAndSalt.subarray(key.length), options.esn, options.implicitIv);
  }

  seal(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): void {
    psa.espSeal(this.#key, buffer, esp, length, seqHigh, seqLow);
  }

  open(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): boolean {
    return psa.espOpen(this.#key, buffer, esp, length, seqHigh, seqLow);
  }
}

class NativeCipherKey implements CipherKey {
  readonly #key: psa.PsaKey;
  constructor(cipher: CipherName, key: Uint8Array) {
    this.#key = psa.cipherKey(PSA_CIPHER[cipher], key);
  }

  encrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    psa.cipher(this.#key, true, iv, buffer, offset, length);
  }

  decrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    psa.cipher(this.#key, false, iv, buffer, offset, length);
  }
}

class NativeMacKey implements MacKey {
  readonly #key: psa.PsaKey;
  constructor(kind: number, hash: number, key: Uint8Array, readonly length: number) {
    this.#key = psa.macKey(kind, hash, key);
  }

  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void {
    psa.mac(this.#key, buffer, offset, length, out);
  }
}

/**
 * RFC 7748 §5 decodes an X25519 scalar by clamping it; Mbed TLS's PSA import instead refuses
 * an unclamped scalar, so clamp first (the result of the exchange is the same).
 */
function clampX25519(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
  const k = privateKey.slice();
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  return k;
}

class NativeEcdh implements KeyExchange {
  readonly publicKey: Uint8Array;
  readonly #key: psa.PsaKey;
  readonly #x25519: boolean;
  constructor(readonly group: number, privateKey?: Uint8Array) {
    this.#x25519 = group === Ke.CURVE25519;
    const curve = this.#x25519 ? psa.CURVE_X25519 : PSA_CURVE[ecpCurve(group)!];
    if (curve === undefined) throw new RangeError(`group ${group} is not an ECP group`);
    this.#key = privateKey ? psa.ecdhImport(curve, this.#x25519 ? clampX25519(privateKey) : privateKey) : psa.ecdhGenerate(curve);
    const out = new Uint8Array(this.#x25519 ? 32 : 1 + 2 * ecpCoordinateBytes(group));
    const n = psa.ecdhPublic(this.#key, out);
    this.publicKey = this.#x25519 ? out.slice(0, n) : sec1ToEcp(group, out.subarray(0, n));
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    let peer: Uint8Array;
    if (this.#x25519) {
      checkX25519Public(peerPublicKey);
      peer = peerPublicKey;
    } else {
      peer = ecpToSec1(this.group, peerPublicKey);
    }
    const out = new Uint8Array(this.#x25519 ? 32 : ecpCoordinateBytes(this.group));
    const n = psa.ecdhAgree(this.#key, peer, out); // PSA checks the point is on the curve
    if (n < 0) throw new KeyExchangeError(`group ${this.group}: invalid public value`);
    return this.#x25519 ? checkX25519Secret(out) : out.slice(0, n);
  }
}

export class NativeCrypto implements Crypto {
  readonly name = 'native';
  readonly #allowLegacy: boolean;

  constructor(options: CryptoOptions = {}) {
    this.#allowLegacy = options.allowLegacy ?? false;
    psa.init();
  }

  randomBytes(out: Uint8Array): void {
    fillRandom(out);
  }

  hash(hash: HashName, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    const out = new Uint8Array(HASH_LENGTH[hash]);
    psa.hash(PSA_HASH[hash], data, out);
    return out;
  }

  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    const out = new Uint8Array(HASH_LENGTH[hash]);
    const k = psa.macKey(psa.MAC_HMAC, PSA_HASH[hash], key);
    try {
      psa.mac(k, data, 0, data.length, out);
    } finally {
      psa.destroy(k); // one-shot: don't hold one of PSA's few key slots until the next GC
    }
    return out;
  }

  macKey(mac: MacName, key: Uint8Array, hash?: HashName): MacKey {
    switch (mac) {
      case 'hmac':
        if (!hash) throw new TypeError('HMAC needs a hash');
        checkPrimitive(hash, this.#allowLegacy);
        return new NativeMacKey(psa.MAC_HMAC, PSA_HASH[hash], key, HASH_LENGTH[hash]);
      case 'aes-cmac':
        checkAesMacKey(mac, key);
        return new NativeMacKey(psa.MAC_CMAC, 0, key, 16);
      case 'aes-xcbc':
        checkAesMacKey(mac, key);
        return xcbcFromEcb(key, (k) => new NativeCipherKey('aes-ecb', k));
    }
  }

  aeadKey(aead: AeadName, key: Uint8Array, tagLength: number): AeadKey {
    return new NativeAeadKey(aead, key, tagLength);
  }

  espAeadKey(aead: AeadName, keyAndSalt: Uint8Array, tagLength: number, options: EspAeadOptions): EspAeadKey {
    return new NativeEspAead(aead, keyAndSalt, tagLength, options);
  }

  cipherKey(cipher: CipherName, key: Uint8Array): CipherKey {
    checkPrimitive(cipher, this.#allowLegacy);
    return new NativeCipherKey(cipher, key);
  }

  keyExchange(group: number): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, fillRandom, (g, k) => new NativeEcdh(g, k));
  }

  keyExchangeFromPrivate(group: number, privateKey: Uint8Array): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, fillRandom, (g, k) => new NativeEcdh(g, k), privateKey);
  }

  implementation(algorithm: string): Implementation {
    return /^modp/.test(algorithm) ? 'software' : 'native';
  }
}
