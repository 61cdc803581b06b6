/**
 * ESP transforms: how one SA encrypts and authenticates a packet in place, for every
 * algorithm of the registry (RFC 8221 §5-§6).
 *
 * Packet layout (RFC 4303 §2), offsets relative to the ESP header at `esp`:
 *   [SPI 4][Seq 4][IV ivLength][payload | padding | pad length | next header][ICV icvLength]
 *    esp           esp+8        esp+8+ivLength                                 ...
 * `length` below is the length of the encrypted part (payload through next header).
 *
 * Two families:
 *   - AeadTransform: AES-GCM (RFC 4106), AES-CCM (RFC 4309), ChaCha20-Poly1305 (RFC 7634),
 *     their implicit-IV forms (RFC 8750), and AES-GMAC (RFC 4543, authentication only);
 *   - CipherMacTransform: AES-CBC (RFC 3602), AES-CTR (RFC 3686), DES/3DES-CBC (RFC 2405,
 *     RFC 2451), ENCR_NULL (RFC 2410), each with an HMAC (RFC 2404, RFC 4868, RFC 2403,
 *     RFC 2857), AES-XCBC-MAC-96 (RFC 3566) or AES-CMAC-96 (RFC 4494).
 * Each holds its keys (imported once) and small per-SA scratch buffers, so seal and open
 * allocate nothing.
 */
import type { AeadKey, CipherKey, Crypto, EspAeadKey, MacKey } from '../crypto/provider.js';
import type { Algorithm } from '../crypto/registry.js';

export interface EspTransform {
  /** e.g. "aes128gcm16" or "aes128-sha256" */
  readonly name: string;
  /** bytes of IV carried in each packet */
  readonly ivLength: number;
  /** bytes of ICV after the encrypted part */
  readonly icvLength: number;
  /** the encrypted part is padded to a multiple of this (at least 4: RFC 4303 §2.4) */
  readonly blockSize: number;
  /**
   * Fills the IV, encrypts buffer[esp+8+ivLength, +length) in place and writes the ICV after it.
   * The ESP header (SPI, low sequence number) is already written. `view` is a DataView over
   * the same bytes as `buffer` (same indices): on XS a DataView access costs a fraction of
   * four typed-array element accesses.
   */
  seal(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): void;
  /** Verifies the ICV and decrypts in place; false when the packet does not authenticate. */
  open(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): boolean;
  /** AEAD transforms: the provider's ESP AEAD, which the SA may call directly instead of seal/open */
  readonly espAead?: EspAeadKey;
  /** Frees native key slots (an SA that is deleted). */
  dispose?(): void;
}

/** The key material an ESP SA takes from IKE's KEYMAT (RFC 7296 §2.17) or from manual keying. */
export interface EspKeys {
  /** encryption key, with its salt/nonce appended for AEADs and CTR (RFC 4106 §8.1, RFC 3686 §5.1) */
  encryption: Uint8Array;
  /** integrity key; empty for AEADs */
  integrity: Uint8Array;
}

/** How many bytes of key material a transform takes: [encryption (+salt), integrity]. */
export function keyLengths(encryption: Algorithm, integrity: Algorithm | null): [number, number] {
  const e = encryption.primitive;
  let enc = 0;
  if (e.kind === 'aead' || e.kind === 'gmac') enc = e.keyBytes + e.saltBytes;
  else if (e.kind === 'cipher') enc = e.keyBytes + e.nonceBytes;
  else if (e.kind !== 'null') throw new TypeError(`${encryption.name} is not an ESP encryption algorithm`);
  const i = integrity?.primitive;
  return [enc, i && i.kind === 'mac' ? i.keyBytes : 0];
}

/**
 * Per-packet scratch shared by every transform: the data path is single-threaded and each of
 * these is used within one seal or open only, so the SAs need not each hold their own (on XS a
 * typed array with its buffer and view costs about ten slots and a chunk, per SA).
 */
interface IcvScratch {
  /** the full MAC */
  icv: Uint8Array;
  view: DataView;
  /** its truncation as sent */
  out: Uint8Array;
}
const icvScratch = new Map<number, IcvScratch>();
/** The ICV scratch for a MAC of `macLength` bytes truncated to `icvLength`. */
function icvScratchFor(macLength: number, icvLength: number): IcvScratch {
  const key = macLength * 256 + icvLength;
  let scratch = icvScratch.get(key);
  if (!scratch) {
    const icv = new Uint8Array(macLength);
    scratch = { icv, view: new DataView(icv.buffer), out: icv.subarray(0, icvLength) };
    icvScratch.set(key, scratch);
  }
  return scratch;
}
const cbcIvScratch = new Map<number, { iv: Uint8Array; view: DataView }>();
/** The IV scratch of a CBC (or null) cipher: filled for each packet (CTR's holds the key's nonce: its own). */
function cbcIvFor(ivLength: number): { iv: Uint8Array; view: DataView } {
  let scratch = cbcIvScratch.get(ivLength);
  if (!scratch) {
    const iv = new Uint8Array(ivLength);
    scratch = { iv, view: new DataView(iv.buffer) };
    cbcIvScratch.set(ivLength, scratch);
  }
  return scratch;
}
/** GMAC's authenticated data, gathered for one packet; grows to the largest packet seen. */
let gmacScratch: Uint8Array | null = null;
let gmacScratchView: DataView | null = null;

/** AEAD transforms: one provider call per packet (ESP's AEAD construction, EspAeadKey). */
class AeadTransform implements EspTransform {
  readonly ivLength: number;
  readonly icvLength: number;
  readonly blockSize = 4;
  readonly espAead: EspAeadKey;
  readonly #key: EspAeadKey;

  constructor(readonly name: string, crypto: Crypto, algorithm: Algorithm, key: Uint8Array, esn: boolean) {
    const p = algorithm.primitive;
    if (p.kind !== 'aead') throw new TypeError(`${algorithm.name} is not an AEAD`);
    if (key.length !== p.keyBytes + p.saltBytes) throw new RangeError(`${algorithm.name} needs ${p.keyBytes + p.saltBytes} bytes of key material, got ${key.length}`);
    // RFC 8750: the implicit-IV transforms carry no IV, the sequence number is the IV
    const implicitIv = /iiv$/.test(algorithm.name);
    this.#key = crypto.espAeadKey(p.aead, key, p.tagBytes, { esn, implicitIv });
    this.espAead = this.#key;
    this.ivLength = this.#key.ivLength;
    this.icvLength = p.tagBytes;
  }

  seal(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): void {
    this.#key.seal(buffer, esp, length, seqHigh, seqLow);
  }

  open(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): boolean {
    return this.#key.open(buffer, esp, length, seqHigh, seqLow);
  }
}

/**
 * AES-GMAC (RFC 4543): AES-GCM over an empty plaintext, with SPI, [seq high,] seq, IV and the
 * whole payload as AAD; the payload travels in the clear.
 */
class GmacTransform implements EspTransform {
  readonly ivLength = 8;
  readonly icvLength: number;
  readonly blockSize = 4;
  readonly #key: AeadKey;
  readonly #nonce: Uint8Array;
  readonly #nonceView: DataView;
  readonly #esn: boolean;

  constructor(readonly name: string, crypto: Crypto, algorithm: Algorithm, key: Uint8Array, esn: boolean) {
    const p = algorithm.primitive;
    if (p.kind !== 'gmac') throw new TypeError(`${algorithm.name} is not GMAC`);
    if (key.length !== p.keyBytes + p.saltBytes) throw new RangeError(`${algorithm.name} needs ${p.keyBytes + p.saltBytes} bytes of key material, got ${key.length}`);
    this.#key = crypto.aeadKey('aes-gcm', key.subarray(0, p.keyBytes), p.tagBytes);
    this.#nonce = new Uint8Array(12);
    this.#nonce.set(key.subarray(p.keyBytes));
    this.#nonceView = new DataView(this.#nonce.buffer);
    this.icvLength = p.tagBytes;
    this.#esn = esn;
    if (!gmacScratch) {
      gmacScratch = new Uint8Array(2048);
      gmacScratchView = new DataView(gmacScratch.buffer);
    }
  }

  /** Nonce = salt || IV; the AAD: SPI, [seq high,] seq, IV, payload (RFC 4543 §3.2, §5). */
  private gather(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number): Uint8Array {
    this.#nonceView.setUint32(4, view.getUint32(esp + 8));
    this.#nonceView.setUint32(8, view.getUint32(esp + 12));
    const head = this.#esn ? 12 : 8;
    const total = head + 8 + length;
    if (gmacScratch!.length < total) {
      gmacScratch = new Uint8Array(total);
      gmacScratchView = new DataView(gmacScratch.buffer);
    }
    const data = gmacScratch!;
    data.set(buffer.subarray(esp, esp + 4));
    if (this.#esn) {
      gmacScratchView!.setUint32(4, seqHigh);
      data.set(buffer.subarray(esp + 4, esp + 8), 8);
    } else {
      data.set(buffer.subarray(esp + 4, esp + 8), 4);
    }
    data.set(buffer.subarray(esp + 8, esp + 16 + length), head);
    return data.subarray(0, total);
  }

  seal(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): void {
    view.setUint32(esp + 8, seqHigh);
    view.setUint32(esp + 12, seqLow);
    // the tag of an empty plaintext lands right after the payload: the ICV position
    this.#key.seal(this.#nonce, this.gather(buffer, view, esp, length, seqHigh), buffer, esp + 16 + length, 0);
  }

  open(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): boolean {
    return this.#key.open(this.#nonce, this.gather(buffer, view, esp, length, seqHigh), buffer, esp + 16 + length, 0);
  }
}

/** Cipher + MAC transforms (encrypt-then-MAC, RFC 4303 §3.3.2); ENCR_NULL for integrity only. */
class CipherMacTransform implements EspTransform {
  readonly ivLength: number;
  readonly icvLength: number;
  readonly blockSize: number;
  readonly #cipher: CipherKey | null;
  readonly #mac: MacKey;
  readonly #ctr: boolean;
  readonly #crypto: Crypto;
  /** CBC: the IV (shared scratch); CTR: the counter block nonce || IV || 1 (RFC 3686 §4), this key's own */
  readonly #iv: Uint8Array;
  readonly #ivView: DataView;
  /** the computed ICV (full MAC) and its truncation as sent (shared scratch) */
  readonly #icv: Uint8Array;
  readonly #icvView: DataView;
  readonly #icvOut: Uint8Array;
  readonly #esn: boolean;

  constructor(readonly name: string, crypto: Crypto, encryption: Algorithm, integrity: Algorithm, keys: EspKeys, esn: boolean) {
    const e = encryption.primitive;
    const i = integrity.primitive;
    if (i.kind !== 'mac') throw new TypeError(`${integrity.name} is not an integrity algorithm`);
    if (keys.integrity.length !== i.keyBytes) throw new RangeError(`${integrity.name} needs a ${i.keyBytes}-byte key, got ${keys.integrity.length}`);
    this.#crypto = crypto;
    this.#esn = esn;
    this.#mac = crypto.macKey(i.mac, keys.integrity, i.hash);
    this.icvLength = i.truncateBytes;
    const icv = icvScratchFor(this.#mac.length, this.icvLength);
    this.#icv = icv.icv;
    this.#icvView = icv.view;
    this.#icvOut = icv.out;
    if (e.kind === 'null') {
      if (keys.encryption.length !== 0) throw new RangeError('ENCR_NULL takes no key');
      this.#cipher = null;
      this.#ctr = false;
      this.ivLength = 0;
      this.blockSize = 4;
      const iv = cbcIvFor(0);
      this.#iv = iv.iv;
      this.#ivView = iv.view;
    } else if (e.kind === 'cipher') {
      if (keys.encryption.length !== e.keyBytes + e.nonceBytes) {
        throw new RangeError(`${encryption.name} needs ${e.keyBytes + e.nonceBytes} bytes of key material, got ${keys.encryption.length}`);
      }
      this.#cipher = crypto.cipherKey(e.cipher, keys.encryption.subarray(0, e.keyBytes));
      this.#ctr = e.cipher === 'aes-ctr';
      this.ivLength = e.ivBytes;
      this.blockSize = Math.max(4, e.blockBytes);
      const iv = this.#ctr ? { iv: new Uint8Array(16), view: null } : cbcIvFor(e.ivBytes);
      this.#iv = iv.iv;
      this.#ivView = iv.view ?? new DataView(iv.iv.buffer);
      if (this.#ctr) {
        this.#iv.set(keys.encryption.subarray(e.keyBytes));
        this.#iv[15] = 1;
      }
    } else {
      throw new TypeError(`${encryption.name} is not a cipher`);
    }
  }

  /** MAC over ESP header, IV and ciphertext, with the ESN high half appended (RFC 4303 §2.2.1, §3.3.2.1). */
  private computeIcv(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number): void {
    const end = esp + 8 + this.ivLength + length;
    if (this.#esn) {
      // the high half is authenticated but not sent: borrow the ICV's place for it
      view.setUint32(end, seqHigh);
      this.#mac.compute(buffer, esp, end + 4 - esp, this.#icv);
    } else {
      this.#mac.compute(buffer, esp, end - esp, this.#icv);
    }
  }

  seal(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): void {
    const start = esp + 8 + this.ivLength;
    if (this.#cipher) {
      const iv = this.#iv;
      if (this.#ctr) {
        // RFC 3686 §3: the IV must not repeat for a key; the 64-bit sequence number never does
        view.setUint32(esp + 8, seqHigh);
        view.setUint32(esp + 12, seqLow);
        this.#ivView.setUint32(4, seqHigh);
        this.#ivView.setUint32(8, seqLow);
      } else {
        // RFC 3602 §3: CBC IVs must be unpredictable
        this.#crypto.randomBytes(iv);
        buffer.set(iv, esp + 8);
      }
      this.#cipher.encrypt(iv, buffer, start, length);
    }
    this.computeIcv(buffer, view, esp, length, seqHigh);
    buffer.set(this.#icvOut, start + length);
  }

  open(buffer: Uint8Array, view: DataView, esp: number, length: number, seqHigh: number, seqLow: number): boolean {
    const start = esp + 8 + this.ivLength;
    const icv = start + length;
    // with ESN the high half takes the ICV's first word while the MAC runs: keep that word
    const head = this.#esn ? view.getUint32(icv) : 0;
    this.computeIcv(buffer, view, esp, length, seqHigh);
    if (this.#esn) view.setUint32(icv, head);
    // constant time, a word at a time (every ICV length is a multiple of 4)
    let diff = 0;
    for (let i = 0; i < this.icvLength; i += 4) diff |= view.getUint32(icv + i) ^ this.#icvView.getUint32(i);
    if (diff !== 0) return false;
    if (this.#cipher) {
      const iv = this.#iv;
      if (this.#ctr) {
        this.#ivView.setUint32(4, view.getUint32(esp + 8));
        this.#ivView.setUint32(8, view.getUint32(esp + 12));
      } else {
        for (let i = 0; i < iv.length; i += 4) this.#ivView.setUint32(i, view.getUint32(esp + 8 + i));
      }
      this.#cipher.decrypt(iv, buffer, start, length);
    }
    return true;
  }
}

/**
 * Builds the transform for an SA. AEADs and GMAC take no integrity algorithm; everything else
 * needs one (RFC 8221 §6 and RFC 7296 §3.3: encryption without integrity is not offered).
 */
export function createEspTransform(crypto: Crypto, encryption: Algorithm, integrity: Algorithm | null, keys: EspKeys, esn: boolean): EspTransform {
  const p = encryption.primitive;
  if (p.kind === 'aead' || p.kind === 'gmac') {
    if (integrity && integrity.primitive.kind === 'mac') throw new TypeError(`${encryption.name} is combined-mode: no integrity algorithm`);
    return p.kind === 'aead'
      ? new AeadTransform(encryption.name, crypto, encryption, keys.encryption, esn)
      : new GmacTransform(encryption.name, crypto, encryption, keys.encryption, esn);
  }
  if (!integrity) throw new TypeError(`${encryption.name} needs an integrity algorithm`);
  return new CipherMacTransform(`${encryption.name}-${integrity.name}`, crypto, encryption, integrity, keys, esn);
}
