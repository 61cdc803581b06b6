/**
 * ESP's AEAD construction (see EspAeadKey in ./provider.ts) over any provider's plain AEAD:
 * the nonce and AAD are assembled in small per-key buffers, so a packet allocates nothing.
 * The native provider does the same in C (hosts/native/crypto-psa.c, xs_psa_esp_seal).
 */
import { aeadNonceLength } from './policy.js';
import type { AeadKey, Crypto, EspAeadKey, EspAeadOptions } from './provider.js';
import type { AeadName } from './registry.js';

export class GenericEspAead implements EspAeadKey {
  readonly tagLength: number;
  readonly ivLength: number;
  readonly #key: AeadKey;
  readonly #nonce: Uint8Array;
  readonly #nonceView: DataView;
  readonly #saltLength: number;
  readonly #aad: Uint8Array;
  readonly #aadView: DataView;
  readonly #esn: boolean;
  readonly #implicitIv: boolean;
  /** a DataView over the last packet buffer, reused while the caller reuses its buffer */
  #buffer: Uint8Array | null = null;
  #view: DataView | null = null;

  constructor(crypto: Crypto, aead: AeadName, keyAndSalt: Uint8Array, tagLength: number, options: EspAeadOptions) {
    const nonceLength = aeadNonceLength(aead);
    this.#saltLength = nonceLength - 8; // 4 for GCM and ChaCha20-Poly1305, 3 for CCM
    if (keyAndSalt.length <= this.#saltLength) throw new RangeError(`${aead}: no room for the key before the ${this.#saltLength}-byte salt`);
    const keyLength = keyAndSalt.length - this.#saltLength;
    this.#key = crypto.aeadKey(aead, keyAndSalt.subarray(0, keyLength), tagLength);
    this.tagLength = tagLength;
    this.#nonce = new Uint8Array(nonceLength);
    this.#nonce.set(keyAndSalt.subarray(keyLength));
    this.#nonceView = new DataView(this.#nonce.buffer);
    this.#esn = options.esn;
    this.#implicitIv = options.implicitIv;
    this.ivLength = options.implicitIv ? 0 : 8;
    this.#aad = new Uint8Array(options.esn ? 12 : 8);
    this.#aadView = new DataView(this.#aad.buffer);
  }

  #prepare(buffer: Uint8Array, esp: number, seqHigh: number, seqLow: number, sealing: boolean): void {
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    const view = this.#view!;
    const n = this.#nonceView;
    const s = this.#saltLength;
    if (this.#implicitIv) {
      n.setUint32(s, this.#esn ? seqHigh : 0);
      n.setUint32(s + 4, seqLow);
    } else if (sealing) {
      view.setUint32(esp + 8, seqHigh);
      view.setUint32(esp + 12, seqLow);
      n.setUint32(s, seqHigh);
      n.setUint32(s + 4, seqLow);
    } else {
      n.setUint32(s, view.getUint32(esp + 8));
      n.setUint32(s + 4, view.getUint32(esp + 12));
    }
    const a = this.#aadView;
    a.setUint32(0, view.getUint32(esp));
    if (this.#esn) {
      a.setUint32(4, seqHigh);
      a.setUint32(8, seqLow);
    } else {
      a.setUint32(4, seqLow);
    }
  }

  seal(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): void {
    this.#prepare(buffer, esp, seqHigh, seqLow, true);
    this.#key.seal(this.#nonce, this.#aad, buffer, esp + 8 + this.ivLength, length);
  }

  open(buffer: Uint8Array, esp: number, length: number, seqHigh: number, seqLow: number): boolean {
    if (esp < 0 || esp + 8 + this.ivLength + length + this.tagLength > buffer.length) return false;
    this.#prepare(buffer, esp, seqHigh, seqLow, false);
    return this.#key.open(this.#nonce, this.#aad, buffer, esp + 8 + this.ivLength, length);
  }
}
