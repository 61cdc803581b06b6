/**
 * IKEv2 key derivation and the PSK authentication data (RFC 7296 §2.13-§2.15, §2.17, §2.18),
 * sans-IO: bytes in, bytes out, the PRFs computed by a `Crypto` provider.
 *
 *   §2.14  SKEYSEED = prf(Ni | Nr, g^ir)
 *          {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 *   §2.18  SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)          (IKE SA rekey)
 *   §2.17  KEYMAT = prf+(SK_d, Ni | Nr)  or  prf+(SK_d, g^ir (new) | Ni | Nr)   (CHILD SA)
 *   §2.15  AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 *          SignedOctets = RealMessage | NonceData of the peer | prf(SK_p, RestOfIDPayload)
 *
 * Every key is a fresh Uint8Array the caller owns (and may zero when done). Nothing here logs,
 * and no error message carries key bytes: only lengths and algorithm names.
 */
import { asciiBytes, concatBytes } from '../crypto/bytes.js';
import type { Crypto } from '../crypto/provider.js';
import { prfFor, prfPlus, type PrfFunction } from '../crypto/prf.js';
import type { Algorithm } from '../crypto/registry.js';
import { keyLengths } from '../esp/transform.js';

/** The transforms of a negotiated IKE SA that decide the key sizes. */
export interface IkeAlgorithms {
  prf: Algorithm;
  /** an IKE encryption algorithm: a cipher (AES-CBC, AES-CTR, 3DES) or an AEAD */
  encryption: Algorithm;
  /** null (or absent) with an AEAD (RFC 5282 §8), required otherwise */
  integrity?: Algorithm | null;
}

/** The transforms of a negotiated CHILD SA that decide its KEYMAT's split. */
export interface ChildAlgorithms {
  /** the IKE SA's PRF, which SK_d belongs to */
  prf: Algorithm;
  /** ESP encryption; null for AH (integrity only) */
  encryption: Algorithm | null;
  /** null (or absent) with an AEAD or AES-GMAC */
  integrity?: Algorithm | null;
}

/** What IKE_SA_INIT (or the CREATE_CHILD_SA that rekeys the IKE SA) exchanged. */
export interface IkeKeyInputs {
  /** Nonce Data of the initiator's Ni payload, without the payload header (§2.14) */
  ni: Uint8Array;
  /** Nonce Data of the responder's Nr payload */
  nr: Uint8Array;
  /** g^ir, the key exchange's shared secret (as KeyExchange.computeSecret returns it) */
  sharedSecret: Uint8Array;
  /** the new IKE SA's initiator SPI, 8 bytes */
  spii: Uint8Array;
  /** the new IKE SA's responder SPI, 8 bytes */
  spir: Uint8Array;
}

/** RFC 7296 §2.14: the seven secrets of an IKE SA. */
export interface IkeKeys {
  /** SK_d: keys CHILD SAs (§2.17) and the next IKE SA (§2.18) */
  skD: Uint8Array;
  /** SK_ai / SK_ar: integrity keys for each direction; empty with an AEAD */
  skAi: Uint8Array;
  skAr: Uint8Array;
  /** SK_ei / SK_er: encryption keys, the salt appended for AEADs (RFC 5282 §7.1, RFC 7634 §2) */
  skEi: Uint8Array;
  skEr: Uint8Array;
  /** SK_pi / SK_pr: for the AUTH payloads (§2.15) */
  skPi: Uint8Array;
  skPr: Uint8Array;
}

/** RFC 7296 §2.17: one CHILD SA's keys, one pair per direction. */
export interface ChildKeys {
  /** initiator to responder: encryption (+ salt/nonce) and integrity (empty with an AEAD) */
  encryptionI: Uint8Array;
  integrityI: Uint8Array;
  /** responder to initiator */
  encryptionR: Uint8Array;
  integrityR: Uint8Array;
}

/** What keying a CHILD SA takes: the CREATE_CHILD_SA (or IKE_AUTH) nonces, and g^ir with PFS. */
export interface ChildKeyInputs {
  ni: Uint8Array;
  nr: Uint8Array;
  /** g^ir (new) of the CREATE_CHILD_SA's KE payloads; absent without PFS */
  sharedSecret?: Uint8Array;
}

/** Inputs that cannot be keyed: wrong algorithm kinds, empty or mis-sized values. */
export class KeyDerivationError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDerivationError';
  }
}

/** RFC 7296 §3.9 (and §2.10): Nonce Data is 16 to 256 bytes. */
const NONCE_MIN = 16;
const NONCE_MAX = 256;
/** RFC 7296 §3.1: IKE SPIs are 8 bytes. */
const IKE_SPI_LENGTH = 8;

/** "Key Pad for IKEv2", 17 ASCII bytes without a terminating NUL (RFC 7296 §2.15). */
const KEY_PAD = asciiBytes('Key Pad for IKEv2');

function requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new KeyDerivationError(`${what} must be a Uint8Array`);
  if (value.length === 0) throw new KeyDerivationError(`${what} is empty`);
}

function requireNonce(nonce: unknown, what: string): asserts nonce is Uint8Array {
  requireBytes(nonce, what);
  if (nonce.length < NONCE_MIN || nonce.length > NONCE_MAX) {
    throw new KeyDerivationError(`${what} is ${nonce.length} bytes; Nonce Data is ${NONCE_MIN} to ${NONCE_MAX} bytes (RFC 7296 §3.9)`);
  }
}

function requireSpi(spi: unknown, what: string): asserts spi is Uint8Array {
  requireBytes(spi, what);
  if (spi.length !== IKE_SPI_LENGTH) throw new KeyDerivationError(`${what} is ${spi.length} bytes; an IKE SPI is ${IKE_SPI_LENGTH} (RFC 7296 §3.1)`);
}

function prfPrimitive(algorithm: Algorithm) {
  const p = algorithm?.primitive;
  if (!p || p.kind !== 'prf') throw new KeyDerivationError(`${algorithm?.name ?? String(algorithm)} is not a PRF`);
  return p;
}

/**
 * RFC 7296 §2.13: SK_d, SK_pi and SK_pr are the PRF's preferred key size: for HMAC the hash's
 * output length, for AES-XCBC-PRF-128 (RFC 4434) and AES-CMAC-PRF-128 (RFC 4615) 16 bytes.
 */
export function prfKeyLength(prf: Algorithm): number {
  return prfPrimitive(prf).keyBytes;
}

/** Cuts `stream` into fresh arrays of the given lengths, in order; all of it must be used. */
function split(stream: Uint8Array, lengths: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of lengths) {
    out.push(stream.slice(at, at + n));
    at += n;
  }
  if (at !== stream.length) throw new KeyDerivationError(`key material is ${stream.length} bytes, ${at} expected`);
  stream.fill(0);
  return out;
}

/**
 * [encryption (+salt/nonce), integrity] key sizes of the IKE SA's SK_e* and SK_a*, checked:
 * the encryption must encrypt (no ENCR_NULL, no AES-GMAC: RFC 7296 §3.3.2, RFC 4543), an AEAD
 * takes no integrity (RFC 5282 §8) and any other cipher needs one.
 */
function ikeCipherLengths(encryption: Algorithm, integrity: Algorithm | null | undefined): [number, number] {
  const e = encryption?.primitive;
  if (!e || (e.kind !== 'aead' && e.kind !== 'cipher')) {
    throw new KeyDerivationError(`${encryption?.name ?? String(encryption)} is not an IKE encryption algorithm`);
  }
  if (e.kind === 'aead' && integrity) throw new KeyDerivationError(`${encryption.name} is an AEAD: the IKE SA takes no integrity algorithm (RFC 5282 §8)`);
  if (e.kind === 'cipher' && !integrity) throw new KeyDerivationError(`${encryption.name} needs an integrity algorithm`);
  if (integrity && integrity.primitive.kind !== 'mac') throw new KeyDerivationError(`${integrity.name} is not an integrity algorithm`);
  // RFC 5282 §7.1 (GCM: key + 4-byte salt, CCM: key + 3), RFC 7634 §2 (ChaCha20-Poly1305:
  // 32 + 4), RFC 5930 §2 / RFC 3686 §5.1 (CTR: key + 4-byte nonce): the registry's sizes.
  return keyLengths(encryption, integrity ?? null);
}

/**
 * RFC 7296 §2.14: SKEYSEED = prf(Ni | Nr, g^ir), Ni and Nr the Nonce Data without headers.
 * With AES-XCBC-PRF-128 or AES-CMAC-PRF-128 only the first 64 bits of Ni and of Nr make the
 * key (§2.14), so the key is exactly the 16 bytes those PRFs take (RFC 4434 §2, RFC 4615 §3).
 */
export function ikeSkeyseed(crypto: Crypto, prf: Algorithm, inputs: { ni: Uint8Array; nr: Uint8Array; sharedSecret: Uint8Array }): Uint8Array {
  const p = prfPrimitive(prf);
  requireNonce(inputs.ni, 'Ni');
  requireNonce(inputs.nr, 'Nr');
  requireBytes(inputs.sharedSecret, 'the shared secret g^ir');
  const fixedKey = p.mac === 'aes-xcbc' || p.mac === 'aes-cmac';
  const key = fixedKey
    ? concatBytes(inputs.ni.subarray(0, 8), inputs.nr.subarray(0, 8))
    : concatBytes(inputs.ni, inputs.nr);
  return prfFor(crypto, prf)(key, inputs.sharedSecret);
}

/**
 * RFC 7296 §2.18: the SKEYSEED of an IKE SA made by rekeying, SKEYSEED = prf(SK_d (old),
 * g^ir (new) | Ni | Nr), computed with the OLD IKE SA's PRF (the exchange belongs to it); the
 * nonces and g^ir are those of the rekeying CREATE_CHILD_SA. All bits of the nonces are used.
 */
export function rekeyIkeSkeyseed(
  crypto: Crypto,
  oldPrf: Algorithm,
  oldSkD: Uint8Array,
  inputs: { ni: Uint8Array; nr: Uint8Array; sharedSecret: Uint8Array },
): Uint8Array {
  prfPrimitive(oldPrf);
  requireBytes(oldSkD, 'the old SK_d');
  if (oldSkD.length !== prfKeyLength(oldPrf)) throw new KeyDerivationError(`the old SK_d is ${oldSkD.length} bytes; ${oldPrf.name} keys are ${prfKeyLength(oldPrf)}`);
  requireNonce(inputs.ni, 'Ni');
  requireNonce(inputs.nr, 'Nr');
  requireBytes(inputs.sharedSecret, 'the shared secret g^ir');
  return prfFor(crypto, oldPrf)(oldSkD, concatBytes(inputs.sharedSecret, inputs.ni, inputs.nr));
}

/**
 * RFC 7296 §2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 * = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), with the (new) SA's PRF, in that order and with
 * the negotiated sizes: SK_d, SK_p* the PRF's preferred key size (§2.13), SK_a* the integrity
 * key size (none with an AEAD), SK_e* the encryption key plus salt or nonce.
 */
export function ikeKeysFromSkeyseed(
  crypto: Crypto,
  algorithms: IkeAlgorithms,
  skeyseed: Uint8Array,
  inputs: { ni: Uint8Array; nr: Uint8Array; spii: Uint8Array; spir: Uint8Array },
): IkeKeys {
  const prfLength = prfKeyLength(algorithms.prf);
  const [e, a] = ikeCipherLengths(algorithms.encryption, algorithms.integrity);
  requireBytes(skeyseed, 'SKEYSEED');
  requireNonce(inputs.ni, 'Ni');
  requireNonce(inputs.nr, 'Nr');
  requireSpi(inputs.spii, 'SPIi');
  requireSpi(inputs.spir, 'SPIr');
  const lengths = [prfLength, a, a, e, e, prfLength, prfLength];
  const total = lengths.reduce((s, n) => s + n, 0);
  const stream = prfPlus(prfFor(crypto, algorithms.prf), skeyseed, concatBytes(inputs.ni, inputs.nr, inputs.spii, inputs.spir), total);
  const [skD, skAi, skAr, skEi, skEr, skPi, skPr] = split(stream, lengths);
  return { skD, skAi, skAr, skEi, skEr, skPi, skPr };
}

/** Checks every input, makes SKEYSEED, derives the seven keys from it and zeroes SKEYSEED. */
function ikeKeys(crypto: Crypto, algorithms: IkeAlgorithms, inputs: IkeKeyInputs, skeyseedOf: () => Uint8Array): IkeKeys {
  // check every input before computing anything
  prfPrimitive(algorithms.prf);
  ikeCipherLengths(algorithms.encryption, algorithms.integrity);
  requireSpi(inputs.spii, 'SPIi');
  requireSpi(inputs.spir, 'SPIr');
  const skeyseed = skeyseedOf();
  try {
    return ikeKeysFromSkeyseed(crypto, algorithms, skeyseed, inputs);
  } finally {
    skeyseed.fill(0);
  }
}

/** RFC 7296 §2.14: the keys of an IKE SA made by IKE_SA_INIT (SKEYSEED, then prf+). */
export function deriveIkeKeys(crypto: Crypto, algorithms: IkeAlgorithms, inputs: IkeKeyInputs): IkeKeys {
  return ikeKeys(crypto, algorithms, inputs, () => ikeSkeyseed(crypto, algorithms.prf, inputs));
}

/**
 * RFC 7296 §2.18: the keys of the IKE SA that replaces the old one. SKEYSEED from the old SA's
 * PRF and SK_d; the seven keys from the new SA's algorithms, the rekeying exchange's nonces and
 * the new SPIs.
 */
export function rekeyIkeKeys(
  crypto: Crypto,
  oldPrf: Algorithm,
  oldSkD: Uint8Array,
  algorithms: IkeAlgorithms,
  inputs: IkeKeyInputs,
): IkeKeys {
  return ikeKeys(crypto, algorithms, inputs, () => rekeyIkeSkeyseed(crypto, oldPrf, oldSkD, inputs));
}

/**
 * RFC 7296 §2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with PFS prf+(SK_d, g^ir (new) | Ni | Nr),
 * with the IKE SA's PRF; Ni and Nr the nonces of the exchange that creates the CHILD SA. Keys
 * are taken in order: initiator-to-responder encryption then integrity, then responder-to-
 * initiator encryption then integrity. Encryption keys carry their salt or nonce (RFC 4106
 * §8.1, RFC 4309 §7.1, RFC 7634 §2, RFC 3686 §5.1), sizes as `keyLengths` gives them.
 */
export function deriveChildKeys(
  crypto: Crypto,
  skD: Uint8Array,
  algorithms: ChildAlgorithms,
  inputs: ChildKeyInputs,
): ChildKeys {
  const { prf, encryption, integrity = null } = algorithms;
  prfPrimitive(prf);
  requireBytes(skD, 'SK_d');
  if (skD.length !== prfKeyLength(prf)) throw new KeyDerivationError(`SK_d is ${skD.length} bytes; ${prf.name} keys are ${prfKeyLength(prf)}`);
  requireNonce(inputs.ni, 'Ni');
  requireNonce(inputs.nr, 'Nr');
  if (inputs.sharedSecret !== undefined) requireBytes(inputs.sharedSecret, 'the shared secret g^ir (PFS)');
  const e = encryption?.primitive;
  const combined = e?.kind === 'aead' || e?.kind === 'gmac';
  if (combined && integrity) throw new KeyDerivationError(`${encryption!.name} authenticates itself: the CHILD SA takes no integrity algorithm`);
  if (!combined && !integrity) throw new KeyDerivationError('a CHILD SA needs an integrity algorithm unless its encryption is an AEAD or AES-GMAC');
  if (integrity && integrity.primitive.kind !== 'mac') throw new KeyDerivationError(`${integrity.name} is not an integrity algorithm`);
  let enc = 0;
  let mac = 0;
  try {
    [enc, mac] = encryption ? keyLengths(encryption, integrity) : [0, (integrity!.primitive as { keyBytes: number }).keyBytes];
  } catch (error) {
    throw new KeyDerivationError((error as Error).message);
  }
  const seed = inputs.sharedSecret ? concatBytes(inputs.sharedSecret, inputs.ni, inputs.nr) : concatBytes(inputs.ni, inputs.nr);
  const stream = prfPlus(prfFor(crypto, prf), skD, seed, 2 * (enc + mac));
  seed.fill(0);
  const [encryptionI, integrityI, encryptionR, integrityR] = split(stream, [enc, mac, enc, mac]);
  return { encryptionI, integrityI, encryptionR, integrityR };
}

/**
 * RFC 7296 §2.15: the octets an AUTH payload signs or MACs,
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI,  MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 *   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR,  MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
 * `realMessage` is the sender's whole first message (IKE_SA_INIT request or response, from the
 * IKE header on), `peerNonce` the other side's Nonce Data, `skP` the sender's SK_pi or SK_pr,
 * `idPayloadBody` the sender's ID payload after its generic header: ID Type | RESERVED (3) |
 * Identification Data.
 */
export function signedOctets(
  crypto: Crypto,
  prf: Algorithm,
  realMessage: Uint8Array,
  peerNonce: Uint8Array,
  skP: Uint8Array,
  idPayloadBody: Uint8Array,
): Uint8Array {
  prfPrimitive(prf);
  requireBytes(realMessage, 'the real message');
  requireNonce(peerNonce, "the peer's nonce");
  requireBytes(skP, 'SK_p');
  if (skP.length !== prfKeyLength(prf)) throw new KeyDerivationError(`SK_p is ${skP.length} bytes; ${prf.name} keys are ${prfKeyLength(prf)}`);
  requireBytes(idPayloadBody, 'the ID payload body');
  // ID Type (1) and RESERVED (3) come before the Identification Data (§3.5)
  if (idPayloadBody.length < 5) throw new KeyDerivationError(`the ID payload body is ${idPayloadBody.length} bytes; it is ID Type, 3 reserved bytes and the identification data`);
  return concatBytes(realMessage, peerNonce, prfFor(crypto, prf)(skP, idPayloadBody));
}

/**
 * RFC 7296 §2.15, shared key authentication:
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 * The PRF takes a key of any length (HMAC; AES-XCBC/CMAC-PRF-128 reduce it: RFC 4434 §2,
 * RFC 4615 §3). The caller compares a received AUTH with constantTimeEqual.
 */
export function pskAuthData(crypto: Crypto, prf: Algorithm, psk: Uint8Array, octets: Uint8Array): Uint8Array {
  prfPrimitive(prf);
  requireBytes(psk, 'the pre-shared key');
  requireBytes(octets, 'the signed octets');
  const f: PrfFunction = prfFor(crypto, prf);
  const padded = f(psk, KEY_PAD);
  try {
    return f(padded, octets);
  } finally {
    padded.fill(0);
  }
}
