/**
 * The node:crypto provider (OpenSSL), for tests, tools and the Node benchmarks.
 * Everything is native except what OpenSSL 3 in Node lacks or hides:
 *   - AES-CMAC and AES-XCBC are built on native AES-ECB (src/crypto/block-modes.ts);
 *   - single DES: OpenSSL 3 moved it to the legacy provider, so DES-CBC runs as 3DES-EDE
 *     with K1 = K2 = K3, which is DES by construction;
 *   - MODP groups use the shared BigInt code (src/crypto/modp.ts), for one code path.
 */
import { GenericEspAead } from '../../src/crypto/esp-aead.js';
import * as nodeCrypto from 'node:crypto';
import { blockCipherFrom, CmacKey, xcbcFromEcb } from '../../src/crypto/block-modes.js';
import { checkX25519Public, checkX25519Secret, ecpCoordinateBytes, ecpCurve, ecpToSec1, makeKeyExchange, sec1ToEcp } from '../../src/crypto/key-exchange.js';
import { aeadNonceLength, checkAeadKey, checkAesMacKey, checkPrimitive } from '../../src/crypto/policy.js';
import {
  KeyExchangeError,
  type AeadKey, type CipherKey, type Crypto, type CryptoOptions, type EspAeadKey, type EspAeadOptions, type Implementation, type KeyExchange, type MacKey,
} from '../../src/crypto/provider.js';
import { Ke, type AeadName, type CipherName, type HashName, type MacName } from '../../src/crypto/registry.js';

const OPENSSL_HASH: Readonly<Record<HashName, string>> = {
  md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', ripemd160: 'ripemd160',
};
const OPENSSL_CURVE = { p256: 'prime256v1', p384: 'secp384r1', p521: 'secp521r1' } as const;

function aesName(key: Uint8Array, mode: string): string {
  if (![16, 24, 32].includes(key.length)) throw new RangeError(`AES key must be 16, 24 or 32 bytes, not ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

class NodeAeadKey implements AeadKey {
  readonly #algorithm: string;
  readonly #key: Uint8Array;
  readonly #nonceLength: number;
  constructor(aead: AeadName, key: Uint8Array, readonly tagLength: number) {
    checkAeadKey(aead, key, tagLength);
    this.#nonceLength = aeadNonceLength(aead);
    if (aead === 'chacha20-poly1305') {
      this.#algorithm = 'chacha20-poly1305';
    } else {
      this.#algorithm = aesName(key, aead === 'aes-gcm' ? 'gcm' : 'ccm');
    }
    this.#key = key.slice();
  }

  #checkNonce(nonce: Uint8Array): void {
    if (nonce.length !== this.#nonceLength) throw new RangeError(`nonce must be ${this.#nonceLength} bytes, not ${nonce.length}`);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    this.#checkNonce(nonce);
    if (offset + length + this.tagLength > buffer.length) throw new RangeError('no room for the tag');
    const c = nodeCrypto.createCipheriv(this.#algorithm as nodeCrypto.CipherGCMTypes, this.#key, nonce, { authTagLength: this.tagLength });
    c.setAAD(aad, { plaintextLength: length });
    const out = c.update(buffer.subarray(offset, offset + length));
    c.final();
    buffer.set(out, offset);
    buffer.set(c.getAuthTag(), offset + length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean {
    this.#checkNonce(nonce);
    if (offset + length + this.tagLength > buffer.length) return false;
    const d = nodeCrypto.createDecipheriv(this.#algorithm as nodeCrypto.CipherGCMTypes, this.#key, nonce, { authTagLength: this.tagLength });
    d.setAuthTag(buffer.subarray(offset + length, offset + length + this.tagLength));
    d.setAAD(aad, { plaintextLength: length });
    try {
      const out = d.update(buffer.subarray(offset, offset + length));
      d.final();
      buffer.set(out, offset);
      return true;
    } catch {
      return false;
    }
  }
}

class NodeCipherKey implements CipherKey {
  readonly #algorithm: string;
  readonly #key: Uint8Array;
  constructor(cipher: CipherName, key: Uint8Array) {
    switch (cipher) {
      case 'aes-cbc': this.#algorithm = aesName(key, 'cbc'); break;
      case 'aes-ctr': this.#algorithm = aesName(key, 'ctr'); break;
      case 'aes-ecb': this.#algorithm = aesName(key, 'ecb'); break;
      case 'des-cbc':
        if (key.length !== 8) throw new RangeError('DES key must be 8 bytes');
        this.#algorithm = 'des-ede3-cbc';
        key = Uint8Array.from([...key, ...key, ...key]);
        break;
      case '3des-cbc':
        if (key.length !== 24) throw new RangeError('3DES key must be 24 bytes');
        this.#algorithm = 'des-ede3-cbc';
        break;
    }
    this.#key = key.slice();
  }

  #run(encrypt: boolean, iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    const ivArg = this.#algorithm.endsWith('ecb') ? null : iv;
    const c = encrypt
      ? nodeCrypto.createCipheriv(this.#algorithm, this.#key, ivArg)
      : nodeCrypto.createDecipheriv(this.#algorithm, this.#key, ivArg);
    c.setAutoPadding(false);
    const out = Buffer.concat([c.update(buffer.subarray(offset, offset + length)), c.final()]);
    buffer.set(out, offset);
  }

  encrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    this.#run(true, iv, buffer, offset, length);
  }

  decrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    this.#run(false, iv, buffer, offset, length);
  }
}

class NodeHmacKey implements MacKey {
  readonly length: number;
  readonly #hash: string;
  readonly #key: Uint8Array;
  constructor(hash: HashName, key: Uint8Array) {
    this.#hash = OPENSSL_HASH[hash];
    this.#key = key.slice();
    this.length = nodeCrypto.createHash(this.#hash).digest().length;
  }

  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void {
    const mac = nodeCrypto.createHmac(this.#hash, this.#key).update(buffer.subarray(offset, offset + length)).digest();
    out.set(mac.subarray(0, Math.min(out.length, mac.length)));
  }
}

class NodeEcdh implements KeyExchange {
  readonly publicKey: Uint8Array;
  readonly #ecdh: nodeCrypto.ECDH;
  constructor(readonly group: number, privateKey?: Uint8Array) {
    const curve = ecpCurve(group);
    if (!curve) throw new RangeError(`group ${group} is not an ECP group`);
    this.#ecdh = nodeCrypto.createECDH(OPENSSL_CURVE[curve]);
    if (privateKey) this.#ecdh.setPrivateKey(privateKey);
    else this.#ecdh.generateKeys();
    this.publicKey = sec1ToEcp(group, this.#ecdh.getPublicKey());
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    const sec1 = ecpToSec1(this.group, peerPublicKey);
    try {
      const secret = this.#ecdh.computeSecret(sec1); // OpenSSL checks the point is on the curve
      return new Uint8Array(secret.buffer, secret.byteOffset, ecpCoordinateBytes(this.group)).slice();
    } catch (e) {
      throw new KeyExchangeError(`ECP group ${this.group}: invalid public value (${(e as Error).message})`);
    }
  }
}

/** X25519 through KeyObjects: raw keys are wrapped in their fixed DER prefixes (RFC 8410). */
const X25519_PRIVATE_DER = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
const X25519_PUBLIC_DER = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]);

class NodeX25519 implements KeyExchange {
  readonly group = Ke.CURVE25519;
  readonly publicKey: Uint8Array;
  readonly #private: nodeCrypto.KeyObject;
  constructor(privateKey?: Uint8Array) {
    this.#private = privateKey
      ? nodeCrypto.createPrivateKey({ key: Buffer.concat([X25519_PRIVATE_DER, privateKey]), format: 'der', type: 'pkcs8' })
      : nodeCrypto.generateKeyPairSync('x25519').privateKey;
    const der = nodeCrypto.createPublicKey(this.#private).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(der.subarray(der.length - 32));
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    checkX25519Public(peerPublicKey);
    let secret: Buffer;
    try {
      const publicKey = nodeCrypto.createPublicKey({ key: Buffer.concat([X25519_PUBLIC_DER, peerPublicKey]), format: 'der', type: 'spki' });
      secret = nodeCrypto.diffieHellman({ privateKey: this.#private, publicKey });
    } catch (e) {
      throw new KeyExchangeError(`Curve25519: ${(e as Error).message}`);
    }
    return checkX25519Secret(new Uint8Array(secret));
  }
}

export class NodeCrypto implements Crypto {
  readonly name = 'node';
  readonly #allowLegacy: boolean;

  constructor(options: CryptoOptions = {}) {
    this.#allowLegacy = options.allowLegacy ?? false;
  }

  randomBytes(out: Uint8Array): void {
    nodeCrypto.randomFillSync(out);
  }

  hash(hash: HashName, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    return new Uint8Array(nodeCrypto.createHash(OPENSSL_HASH[hash]).update(data).digest());
  }

  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    checkPrimitive(hash, this.#allowLegacy);
    return new Uint8Array(nodeCrypto.createHmac(OPENSSL_HASH[hash], key).update(data).digest());
  }

  macKey(mac: MacName, key: Uint8Array, hash?: HashName): MacKey {
    switch (mac) {
      case 'hmac':
        if (!hash) throw new TypeError('HMAC needs a hash');
        checkPrimitive(hash, this.#allowLegacy);
        return new NodeHmacKey(hash, key);
      case 'aes-cmac':
        checkAesMacKey(mac, key);
        return new CmacKey(blockCipherFrom(new NodeCipherKey('aes-ecb', key)));
      case 'aes-xcbc':
        checkAesMacKey(mac, key);
        return xcbcFromEcb(key, (k) => new NodeCipherKey('aes-ecb', k));
    }
  }

  aeadKey(aead: AeadName, key: Uint8Array, tagLength: number): AeadKey {
    return new NodeAeadKey(aead, key, tagLength);
  }

  espAeadKey(aead: AeadName, keyAndSalt: Uint8Array, tagLength: number, options: EspAeadOptions): EspAeadKey {
    return new GenericEspAead(this, aead, keyAndSalt, tagLength, options);
  }

  cipherKey(cipher: CipherName, key: Uint8Array): CipherKey {
    checkPrimitive(cipher, this.#allowLegacy);
    return new NodeCipherKey(cipher, key);
  }

  keyExchange(group: number): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, (out) => this.randomBytes(out), (g, k) => (g === Ke.CURVE25519 ? new NodeX25519(k) : new NodeEcdh(g, k)));
  }

  keyExchangeFromPrivate(group: number, privateKey: Uint8Array): KeyExchange {
    return makeKeyExchange(group, this.#allowLegacy, (out) => this.randomBytes(out), (g, k) => (g === Ke.CURVE25519 ? new NodeX25519(k) : new NodeEcdh(g, k)), privateKey);
  }

  implementation(algorithm: string): Implementation {
    return /^modp/.test(algorithm) ? 'software' : 'native';
  }
}
