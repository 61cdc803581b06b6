/**
 * The `Crypto` provider interface: every primitive IPsec needs, behind one interface, so the
 * same core runs on V8 (node:crypto), on the desktop XS host (Mbed TLS through PSA) and on an
 * ESP32 (PSA with hardware AES/SHA/MPI), with the software provider (@noble) as the portable
 * fallback. Providers: ./software/provider.ts, hosts/node/crypto-node.ts,
 * hosts/moddable/crypto-native.ts.
 *
 * Packet operations work in place on (buffer, offset, length) so the ESP data path can seal
 * and open without allocating: the caller owns every buffer, including the small nonce and
 * AAD buffers it keeps per SA. Keys are imported once per SA into key objects.
 */
import type { AeadName, CipherName, HashName, MacName } from './registry.js';

/** An AEAD key (AES-GCM, AES-CCM, ChaCha20-Poly1305) with a fixed tag length. */
export interface AeadKey {
  readonly tagLength: number;
  /**
   * Encrypts buffer[offset, offset+length) in place and writes the tag right after it, at
   * buffer[offset+length, offset+length+tagLength): ESP's ciphertext-then-ICV layout.
   */
  seal(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): void;
  /**
   * Verifies the tag that follows buffer[offset, offset+length) and decrypts in place.
   * Returns false (and releases no plaintext the caller may trust) when the tag is wrong.
   */
  open(nonce: Uint8Array, aad: Uint8Array, buffer: Uint8Array, offset: number, length: number): boolean;
}

/**
 * ESP's use of an AEAD (RFC 4106 §4-§5, RFC 4309 §4-§5, RFC 7634 §2, RFC 8750), as the Linux
 * kernel's rfc4106(gcm(aes)) template does it: the nonce is salt || IV where the IV is the
 * 64-bit sequence number, the AAD is SPI || [seq high] || seq low from the ESP header. The
 * packet at `esp` is [SPI][seq][IV: 8 bytes, or none with the implicit IV][length bytes of
 * payload][tag]. One call per packet: on XS the nonce and AAD are built natively.
 */
export interface EspAeadKey {
  readonly tagLength: number;
  /** 8, or 0 for the implicit-IV transforms (RFC 8750) */
  readonly ivLength: number;
  /** Writes the IV (unless implicit), encrypts in place, writes the tag. SPI and seq are in place. */
  seal(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): void;
  /** Verifies and decrypts in place; false when the tag is wrong. */
  open(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): boolean;
}

export interface EspAeadOptions {
  esn: boolean;
  implicitIv: boolean;
}

/** An unauthenticated cipher key, no padding: CBC lengths must be whole blocks. */
export interface CipherKey {
  /** CBC: the IV; CTR: the whole 16-byte initial counter block (RFC 3686 §4). */
  encrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void;
  decrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void;
}

/** A MAC key (HMAC-x, AES-CMAC, AES-XCBC-MAC). */
export interface MacKey {
  /** Full MAC length in bytes. */
  readonly length: number;
  /** Writes the MAC of buffer[offset, offset+length) into out, truncated to out.length. */
  compute(buffer: Uint8Array, offset: number, length: number, out: Uint8Array): void;
}

/** One side of a key exchange, in IKEv2's wire formats. */
export interface KeyExchange {
  /** IKEv2 transform ID (RFC 7296 §3.3.2 / IANA): 14, 19, 31, ... */
  readonly group: number;
  /**
   * The public value as carried in the KE payload: MODP, big-endian padded to the prime's
   * length (RFC 7296 §3.4); ECP, x || y (RFC 5903 §7); Curve25519, 32 bytes (RFC 8031 §3.1).
   */
  readonly publicKey: Uint8Array;
  /**
   * The shared secret: MODP, padded to the prime's length; ECP, the x coordinate (RFC 5903
   * §7); Curve25519, the 32-byte output. Throws KeyExchangeError for a peer value that is not
   * valid in the group (wrong length, not on the curve, 1 or p-1, an all-zero X25519 result).
   */
  computeSecret(peerPublicKey: Uint8Array): Uint8Array;
}

export class KeyExchangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyExchangeError';
  }
}

/** Where a provider's implementation of an algorithm runs (shown in the bench table). */
export type Implementation = 'native' | 'software';

export interface CryptoOptions {
  /**
   * Enable the algorithms RFC 8221/8247 reject (DES, 3DES, HMAC-MD5, HMAC-RIPEMD-160,
   * MODP 1024/1536). Off by default: using one throws LegacyAlgorithmError.
   */
  allowLegacy?: boolean;
}

export interface Crypto {
  /** 'software', 'node' or 'native' */
  readonly name: string;
  /** Fills `out` with bytes from a CSPRNG. */
  randomBytes(out: Uint8Array): void;
  hash(hash: HashName, data: Uint8Array): Uint8Array;
  /** One-shot HMAC (the IKE PRFs, prf+). */
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  macKey(mac: MacName, key: Uint8Array, hash?: HashName): MacKey;
  aeadKey(aead: AeadName, key: Uint8Array, tagLength: number): AeadKey;
  /** ESP's AEAD construction; `keyAndSalt` is the key followed by the salt (RFC 4106 §8.1). */
  espAeadKey(aead: AeadName, keyAndSalt: Uint8Array, tagLength: number, options: EspAeadOptions): EspAeadKey;
  cipherKey(cipher: CipherName, key: Uint8Array): CipherKey;
  /** A fresh key pair for an IKEv2 key exchange method. */
  keyExchange(group: number): KeyExchange;
  /** The same from a given private value (known-answer tests; RFC 5903 §8 vectors). */
  keyExchangeFromPrivate(group: number, privateKey: Uint8Array): KeyExchange;
  /** Whether this provider runs the algorithm natively or falls back to software. */
  implementation(algorithm: string): Implementation;
}
