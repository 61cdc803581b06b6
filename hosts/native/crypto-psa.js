/*
 * Binding module for hosts/native/crypto-psa.c (PSA Crypto API). The `@` functions are native,
 * as in the Moddable SDK's own modules; hosts/moddable/crypto-native.ts adapts them to the
 * Crypto provider interface of src/crypto.
 */
export function init() @ "xs_psa_init";
export function destroy(key) @ "xs_psa_destroy";
export function hash(alg, data, out) @ "xs_psa_hash";
export function macKey(kind, hash, key) @ "xs_psa_mac_key";
export function mac(key, buffer, offset, length, out) @ "xs_psa_mac";
export function aeadKey(alg, key, tagLength) @ "xs_psa_aead_key";
export function aeadSeal(key, nonce, aad, buffer, offset, length) @ "xs_psa_aead_seal";
export function aeadOpen(key, nonce, aad, buffer, offset, length) @ "xs_psa_aead_open";
export function espAeadKey(alg, key, tagLength, salt, esn, implicitIv) @ "xs_psa_esp_aead_key";
export function espSeal(key, buffer, esp, length, seqHigh, seqLow) @ "xs_psa_esp_seal";
export function espOpen(key, buffer, esp, length, seqHigh, seqLow) @ "xs_psa_esp_open";
export function cipherKey(alg, key) @ "xs_psa_cipher_key";
export function cipher(key, encrypt, iv, buffer, offset, length) @ "xs_psa_cipher";
export function ecdhGenerate(curve) @ "xs_psa_ecdh_generate";
export function ecdhImport(curve, privateKey) @ "xs_psa_ecdh_import";
export function ecdhPublic(key, out) @ "xs_psa_ecdh_public";
export function ecdhAgree(key, peer, out) @ "xs_psa_ecdh_agree";

/* Algorithm numbers, as in crypto-psa.c */
export const HASH_MD5 = 1, HASH_SHA1 = 2, HASH_SHA224 = 3, HASH_SHA256 = 4, HASH_SHA384 = 5, HASH_SHA512 = 6, HASH_RIPEMD160 = 7;
export const AEAD_AES_GCM = 1, AEAD_AES_CCM = 2, AEAD_CHACHA20_POLY1305 = 3;
export const CIPHER_AES_CBC = 1, CIPHER_AES_CTR = 2, CIPHER_DES_CBC = 3, CIPHER_3DES_CBC = 4, CIPHER_AES_ECB = 5;
export const MAC_HMAC = 1, MAC_CMAC = 2;
export const CURVE_P256 = 1, CURVE_P384 = 2, CURVE_P521 = 3, CURVE_X25519 = 4;
