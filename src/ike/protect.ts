/**
 * IKEv2 message protection: the Encrypted (SK) payload (RFC 7296 §3.14), sans-IO.
 *
 *   SK payload:  [generic header 4][IV][encrypted: inner payloads | padding | Pad Length][ICV]
 *
 * Two families, from the registry's primitives:
 *   - cipher + MAC (RFC 7296 §3.14): AES-CBC (RFC 3602), AES-CTR (RFC 5930: the counter block
 *     is nonce | IV | 1, the nonce the last 4 bytes of SK_e), 3DES-CBC; the ICV is the MAC,
 *     truncated to the integrity algorithm's length, over the whole message from the first byte
 *     of the IKE header to the last byte of the ciphertext, with the header Length and the SK
 *     payload length already counting the ICV. The receiver checks it, in constant time,
 *     before it decrypts anything.
 *   - AEAD: AES-GCM and AES-CCM (RFC 5282), ChaCha20-Poly1305 (RFC 7634 §3): an 8-byte IV,
 *     the nonce salt | IV (the salt is the end of SK_e, RFC 5282 §7.1, RFC 7634 §2), the AAD
 *     the IKE header through the SK payload's generic header (RFC 5282 §5.1), the tag the ICV.
 *
 * Padding (§3.14): for CBC the encrypted part is a whole number of blocks; the receiver
 * accepts any padding content and we send zeros. Stream modes and AEADs need none: only
 * the Pad Length byte, 0 (RFC 5282 §3, RFC 7634 §3).
 *
 * unprotectMessage never throws on the bytes it is given; a message that does not
 * authenticate or decode is { ok: false, reason }. Keys are never logged nor put in a reason:
 * only lengths and algorithm names. Wrong algorithms or keys of the wrong size are the
 * caller's error and throw (TypeError, RangeError), from both functions.
 */
import { constantTimeEqualAt } from '../crypto/compare.js';
import type { Crypto } from '../crypto/provider.js';
import type { Algorithm, Primitive } from '../crypto/registry.js';
import { keyLengths, type EspKeys } from '../esp/transform.js';
import type { IkeAlgorithms, IkeKeys } from './keymat.js';
import { encodeMessage, encodePayloadChain, IKE_HEADER_LENGTH, PAYLOAD_HEADER_LENGTH, parseMessage, parsePayloadChain, type MessageHeader, type ParsedHeader } from './message.js';
import { NotifyType, PayloadType, wireType, type Payload } from './payloads.js';

/**
 * One direction's keys: SK_ei + SK_ai for what the original initiator sends, SK_er + SK_ar
 * for what the responder sends (§2.14). The same shape as an ESP SA's keys.
 */
export type SkKeys = EspKeys;

/** The sender's keys of an IKE SA: `fromInitiator` is the I flag of the message (§3.1). */
export function skKeys(keys: IkeKeys, fromInitiator: boolean): SkKeys {
  return fromInitiator ? { encryption: keys.skEi, integrity: keys.skAi } : { encryption: keys.skEr, integrity: keys.skAr };
}

export type UnprotectResult =
  | {
    ok: true;
    header: ParsedHeader;
    /** the payloads inside the SK payload (§3.14), decrypted and parsed */
    payloads: Payload[];
    /** payloads in the clear before the SK payload (authenticated, not encrypted); usually none */
    plain: Payload[];
  }
  | {
    ok: false;
    reason: string;
    /**
     * Set when the message authenticated but what it carries is malformed (Pad Length, the
     * inner payload chain): its header and the notification for the answer (INVALID_SYNTAX,
     * or UNSUPPORTED_CRITICAL_PAYLOAD with the payload type, §3.2). RFC 7296 §2.21.3: after
     * the IKE SA is authenticated, a request with an error gets a response notifying it.
     */
    authentic?: AuthenticError;
  };

/** An authenticated message that does not decode (see UnprotectResult). */
export interface AuthenticError {
  header: ParsedHeader;
  notify: { type: number; data: Uint8Array };
}

type AeadPrimitive = Extract<Primitive, { kind: 'aead' }>;
type CipherPrimitive = Extract<Primitive, { kind: 'cipher' }>;
type MacPrimitive = Extract<Primitive, { kind: 'mac' }>;

/** The SK payload's shape for a pair of algorithms, keys checked against it. */
type Suite =
  | { kind: 'aead'; p: AeadPrimitive; ivLength: number; icvLength: number; blockSize: 1 }
  | { kind: 'cipher'; p: CipherPrimitive; mac: MacPrimitive; ivLength: number; icvLength: number; blockSize: number };

function suiteFor(algorithms: IkeAlgorithms, keys: SkKeys): Suite {
  const { encryption } = algorithms;
  const integrity = algorithms.integrity ?? null;
  const e = encryption.primitive;
  if (e.kind !== 'aead' && e.kind !== 'cipher') throw new TypeError(`${encryption.name} is not an IKE encryption algorithm`);
  if (e.kind === 'aead' && integrity) throw new TypeError(`${encryption.name} is combined-mode: no integrity algorithm (RFC 5282 §8)`);
  if (e.kind === 'cipher' && (!integrity || integrity.primitive.kind !== 'mac')) throw new TypeError(`${encryption.name} needs an integrity algorithm`);
  const [encLength, intLength] = keyLengths(encryption, integrity);
  if (keys.encryption.length !== encLength) throw new RangeError(`${encryption.name} needs ${encLength} bytes of SK_e, got ${keys.encryption.length}`);
  if (keys.integrity.length !== intLength) throw new RangeError(`${(integrity as Algorithm | null)?.name ?? encryption.name} needs ${intLength} bytes of SK_a, got ${keys.integrity.length}`);
  if (e.kind === 'aead') {
    if (/iiv$/.test(encryption.name)) throw new TypeError(`${encryption.name}: implicit IVs are for ESP only (RFC 8750 §1)`);
    return { kind: 'aead', p: e, ivLength: e.ivBytes, icvLength: e.tagBytes, blockSize: 1 };
  }
  const mac = integrity!.primitive as MacPrimitive;
  return { kind: 'cipher', p: e, mac, ivLength: e.ivBytes, icvLength: mac.truncateBytes, blockSize: e.blockBytes };
}

/** AEAD nonce (RFC 5282 §4 and §5, RFC 7634 §3): salt | IV. */
function aeadNonce(p: AeadPrimitive, key: Uint8Array, iv: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(p.saltBytes + iv.length);
  nonce.set(key.subarray(p.keyBytes));
  nonce.set(iv, p.saltBytes);
  return nonce;
}

/** What the cipher takes as IV: CBC the IV itself; CTR the counter block nonce | IV | 1 (RFC 5930 §2, RFC 3686 §4). */
function cipherIv(p: CipherPrimitive, key: Uint8Array, iv: Uint8Array): Uint8Array {
  if (p.cipher !== 'aes-ctr') return iv;
  const block = new Uint8Array(16);
  block.set(key.subarray(p.keyBytes));
  block.set(iv, p.nonceBytes);
  block[15] = 1;
  return block;
}

/**
 * The cryptography of one SK or SKF payload (RFC 7296 §3.14, RFC 5282 §5.1, RFC 7383 §2.5.3)
 * over a whole message buffer: the IV at `ivAt`, the plaintext at `plainAt` (right after the
 * IV), the ICV after the ciphertext. AEAD: AAD = message[0, ivAt) (the IKE header, payloads
 * in the clear, and the SK/SKF payload's own header), nonce = salt | IV. Cipher + MAC: the ICV
 * covers message[0, end of ciphertext) and is checked in constant time before decrypting.
 */
export interface SkCipher {
  readonly ivLength: number;
  readonly icvLength: number;
  /** 1 for AEADs; the cipher's block for CBC: the plaintext must fill whole blocks */
  readonly blockSize: number;
  /** encrypts message[plainAt, plainAt+length) in place and writes the ICV after it */
  seal(message: Uint8Array, ivAt: number, plainAt: number, length: number): void;
  /** checks the ICV after message[plainAt, plainAt+length), then decrypts in place; false if it does not authenticate */
  open(message: Uint8Array, ivAt: number, plainAt: number, length: number): boolean;
}

/** The SK payload's cryptography for a pair of algorithms and one direction's keys (throws on wrong ones). */
export function skCipher(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys): SkCipher {
  const suite = suiteFor(algorithms, keys);
  const { ivLength, icvLength, blockSize } = suite;
  if (suite.kind === 'aead') {
    const p = suite.p;
    const key = crypto.aeadKey(p.aead, keys.encryption.subarray(0, p.keyBytes), p.tagBytes);
    const nonce = (m: Uint8Array, ivAt: number) => aeadNonce(p, keys.encryption, m.subarray(ivAt, ivAt + ivLength));
    return {
      ivLength, icvLength, blockSize,
      seal: (m, ivAt, plainAt, length) => key.seal(nonce(m, ivAt), m.slice(0, ivAt), m, plainAt, length),
      open: (m, ivAt, plainAt, length) => key.open(nonce(m, ivAt), m.slice(0, ivAt), m, plainAt, length),
    };
  }
  const p = suite.p;
  const cipher = crypto.cipherKey(p.cipher, keys.encryption.subarray(0, p.keyBytes));
  const mac = crypto.macKey(suite.mac.mac, keys.integrity, suite.mac.hash);
  const iv = (m: Uint8Array, ivAt: number) => cipherIv(p, keys.encryption, m.slice(ivAt, ivAt + ivLength));
  return {
    ivLength, icvLength, blockSize,
    seal(m, ivAt, plainAt, length) {
      cipher.encrypt(iv(m, ivAt), m, plainAt, length);
      mac.compute(m, 0, plainAt + length, m.subarray(plainAt + length, plainAt + length + icvLength));
    },
    open(m, ivAt, plainAt, length) {
      const icv = new Uint8Array(icvLength);
      mac.compute(m, 0, plainAt + length, icv);
      if (!constantTimeEqualAt(icv, 0, m, plainAt + length, icvLength)) return false;
      cipher.decrypt(iv(m, ivAt), m, plainAt, length);
      return true;
    },
  };
}

/**
 * The message for `header` with one SK payload carrying `innerPayloads` (§3.14): the SK
 * payload's Next Payload is the first inner payload's type (0 when there are none, as in a
 * liveness check). `keys` are the sender's (skKeys). The IV comes from `random` (CBC: MUST
 * be unpredictable, §3.14); `fixedIv` replaces it and is for tests and known-answer vectors
 * only: reusing an IV with a key breaks CBC's secrecy and GCM's and ChaCha20-Poly1305's
 * integrity.
 */
export function protectMessage(
  crypto: Crypto,
  algorithms: IkeAlgorithms,
  keys: SkKeys,
  header: MessageHeader,
  innerPayloads: Payload[],
  random: (out: Uint8Array) => void = (out) => crypto.randomBytes(out),
  fixedIv?: Uint8Array,
): Uint8Array {
  const suite = skCipher(crypto, algorithms, keys);
  const inner = encodePayloadChain(innerPayloads);
  // §3.14: Pad Length counts the padding bytes before it; inner | padding | Pad Length fills whole blocks
  const padLength = (suite.blockSize - ((inner.length + 1) % suite.blockSize)) % suite.blockSize;
  const plainLength = inner.length + padLength + 1;
  const iv = new Uint8Array(suite.ivLength);
  if (fixedIv) {
    if (fixedIv.length !== suite.ivLength) throw new RangeError(`${algorithms.encryption.name} takes a ${suite.ivLength}-byte IV, got ${fixedIv.length}`);
    iv.set(fixedIv);
  } else {
    random(iv);
  }
  const sk: Payload = {
    type: PayloadType.SK,
    firstPayload: innerPayloads.length > 0 ? wireType(innerPayloads[0]) : PayloadType.NONE,
    data: new Uint8Array(suite.ivLength + plainLength + suite.icvLength),
  };
  // the header Length and the SK payload length count the ICV (§3.14): encode them now, fill in place
  const message = encodeMessage(header, [sk]);
  const ivAt = IKE_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH;
  const plainAt = ivAt + suite.ivLength;
  message.set(iv, ivAt);
  message.set(inner, plainAt);
  // padding bytes are already zero
  message[plainAt + plainLength - 1] = padLength;
  suite.seal(message, ivAt, plainAt, plainLength);
  return message;
}

/**
 * Authenticates and decrypts a message whose last payload is SK (§3.14) with the peer's keys
 * (skKeys with the peer's I flag), and parses the inner payloads (parsePayloadChain). Cipher +
 * MAC: the ICV is checked in constant time before anything is decrypted; AEAD: the tag is
 * checked by the AEAD's open. Never throws on `bytes`.
 */
export function unprotectMessage(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys, bytes: Uint8Array): UnprotectResult {
  const cipher = skCipher(crypto, algorithms, keys);
  const suite = cipher;
  const parsed = parseMessage(bytes);
  if (!parsed.ok) return { ok: false, reason: parsed.error.reason };
  const payloads = parsed.payloads;
  const sk = payloads[payloads.length - 1];
  // parsePayloadChain ends the chain at an SK payload and refuses bytes after it: SK is last or absent
  if (!sk || sk.type !== PayloadType.SK) return { ok: false, reason: 'no SK payload' };
  const dataLength = sk.data.length;
  const ivAt = bytes.length - dataLength;
  const plainAt = ivAt + suite.ivLength;
  const cipherLength = dataLength - suite.ivLength - suite.icvLength;
  if (cipherLength < 1) return { ok: false, reason: `SK payload of ${dataLength} bytes: no room for IV, Pad Length and ICV` };
  if (cipherLength % suite.blockSize !== 0) return { ok: false, reason: `${cipherLength} bytes of ciphertext: not whole ${suite.blockSize}-byte blocks` };
  // decrypt a copy: the caller's bytes stay as received
  const buffer = bytes.slice();
  if (!cipher.open(buffer, ivAt, plainAt, cipherLength)) {
    return { ok: false, reason: cipher.blockSize === 1 ? 'SK payload does not authenticate (AEAD tag)' : 'SK payload does not authenticate (ICV)' };
  }
  const padLength = buffer[plainAt + cipherLength - 1];
  if (padLength > cipherLength - 1) {
    return { ok: false, reason: `Pad Length ${padLength} beyond ${cipherLength - 1} bytes of plaintext`, authentic: { header: parsed.header, notify: { type: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } } };
  }
  const chain = parsePayloadChain(buffer, plainAt, plainAt + cipherLength - 1 - padLength, sk.firstPayload);
  if (!chain.ok) return { ok: false, reason: `inner payloads: ${chain.error.reason}`, authentic: { header: parsed.header, notify: chain.error.notify ?? { type: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } } };
  return { ok: true, header: parsed.header, payloads: chain.payloads, plain: payloads.slice(0, -1) };
}
