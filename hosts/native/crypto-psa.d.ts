/** Types of the binding module hosts/native/crypto-psa.js (native part: crypto-psa.c). */
declare module 'crypto-psa' {
  type Bytes = ArrayBuffer | ArrayBufferView;
  /** An opaque PSA key slot; destroyed when the object is collected. */
  export interface PsaKey { readonly __psaKey: unique symbol }
  export function init(): void;
  /** Frees the key slot now; the key object is unusable afterwards. */
  export function destroy(key: PsaKey): void;
  export function hash(alg: number, data: Bytes, out: Bytes): number;
  export function macKey(kind: number, hash: number, key: Bytes): PsaKey;
  export function mac(key: PsaKey, buffer: Bytes, offset: number, length: number, out: Bytes): number;
  export function aeadKey(alg: number, key: Bytes, tagLength: number): PsaKey;
  export function aeadSeal(key: PsaKey, nonce: Bytes, aad: Bytes, buffer: Bytes, offset: number, length: number): void;
  export function aeadOpen(key: PsaKey, nonce: Bytes, aad: Bytes, buffer: Bytes, offset: number, length: number): boolean;
  /** ESP AEAD (rfc4106-style): nonce = salt || IV (= seq64), AAD from the ESP header. */
  export function espAeadKey(alg: number, key: Bytes, tagLength: number, salt: Bytes, esn: boolean, implicitIv: boolean): PsaKey;
  export function espSeal(key: PsaKey, buffer: Bytes, esp: number, length: number, seqHigh: number, seqLow: number): void;
  export function espOpen(key: PsaKey, buffer: Bytes, esp: number, length: number, seqHigh: number, seqLow: number): boolean;
  export function cipherKey(alg: number, key: Bytes): PsaKey;
  export function cipher(key: PsaKey, encrypt: boolean, iv: Bytes, buffer: Bytes, offset: number, length: number): void;
  export function ecdhGenerate(curve: number): PsaKey;
  export function ecdhImport(curve: number, privateKey: Bytes): PsaKey;
  export function ecdhPublic(key: PsaKey, out: Bytes): number;
  export function ecdhAgree(key: PsaKey, peer: Bytes, out: Bytes): number;
  export const HASH_MD5: number, HASH_SHA1: number, HASH_SHA224: number, HASH_SHA256: number, HASH_SHA384: number,
    HASH_SHA512: number, HASH_RIPEMD160: number;
  export const AEAD_AES_GCM: number, AEAD_AES_CCM: number, AEAD_CHACHA20_POLY1305: number;
  export const CIPHER_AES_CBC: number, CIPHER_AES_CTR: number, CIPHER_DES_CBC: number, CIPHER_3DES_CBC: number, CIPHER_AES_ECB: number;
  export const MAC_HMAC: number, MAC_CMAC: number;
  export const CURVE_P256: number, CURVE_P384: number, CURVE_P521: number, CURVE_X25519: number;
}
