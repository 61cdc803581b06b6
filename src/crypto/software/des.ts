/**
 * DES and triple DES (FIPS 46-3, NIST SP 800-67) block functions, for the legacy ESP
 * transforms DES-CBC (RFC 2405) and 3DES-CBC (RFC 2451). No @noble library has DES, so this is
 * the one cipher written here; it is checked against Mbed TLS and OpenSSL in the tests. It is
 * refused unless legacy algorithms are enabled (RFC 8221 §5), and it is not constant-time:
 * S-box lookups index tables by key-dependent values.
 *
 * Bits are numbered as in the standard: bit 1 is the most significant bit of the first byte.
 */

// Initial permutation, its inverse, expansion, P, PC-1, PC-2 (FIPS 46-3 tables, 1-based).
const IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7];
const FP = [40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
  36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25];
const E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4];
const PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

/** Bits as an array of 0/1, bit 1 first. Slow and simple: DES is legacy, not a hot path. */
function toBits(bytes: Uint8Array, offset: number, count: number): number[] {
  const bits: number[] = [];
  for (let i = 0; i < count; i++) bits.push((bytes[offset + (i >> 3)] >> (7 - (i & 7))) & 1);
  return bits;
}

function permute(bits: number[], table: number[]): number[] {
  return table.map((position) => bits[position - 1]);
}

/** The 16 round keys of one DES key (8 bytes; parity bits ignored). */
export function desSubkeys(key: Uint8Array, offset = 0): number[][] {
  const cd = permute(toBits(key, offset, 64), PC1);
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  const keys: number[][] = [];
  for (const shift of SHIFTS) {
    c = c.slice(shift).concat(c.slice(0, shift));
    d = d.slice(shift).concat(d.slice(0, shift));
    keys.push(permute(c.concat(d), PC2));
  }
  return keys;
}

/** One DES block in place at block[offset..offset+8); `decrypt` runs the round keys backwards. */
export function desBlock(subkeys: number[][], decrypt: boolean, block: Uint8Array, offset: number): void {
  const bits = permute(toBits(block, offset, 64), IP);
  let l = bits.slice(0, 32);
  let r = bits.slice(32);
  for (let round = 0; round < 16; round++) {
    const k = subkeys[decrypt ? 15 - round : round];
    const x = permute(r, E).map((b, i) => b ^ k[i]);
    const f: number[] = [];
    for (let s = 0; s < 8; s++) {
      const six = x.slice(s * 6, s * 6 + 6);
      const row = (six[0] << 1) | six[5];
      const col = (six[1] << 3) | (six[2] << 2) | (six[3] << 1) | six[4];
      const v = S[s][row * 16 + col];
      f.push((v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1);
    }
    const next = permute(f, P).map((b, i) => b ^ l[i]);
    l = r;
    r = next;
  }
  const out = permute(r.concat(l), FP);
  for (let i = 0; i < 8; i++) {
    let v = 0;
    for (let j = 0; j < 8; j++) v = (v << 1) | out[i * 8 + j];
    block[offset + i] = v;
  }
}

/** DES or 3DES (EDE, three independent keys: RFC 2451 §2.4) in CBC mode, in place, no padding. */
export class DesCbc {
  readonly #keys: number[][][];

  /** key: 8 bytes (DES) or 24 bytes (3DES: K1 || K2 || K3) */
  constructor(key: Uint8Array) {
    if (key.length !== 8 && key.length !== 24) throw new RangeError(`DES key must be 8 or 24 bytes, not ${key.length}`);
    this.#keys = key.length === 8 ? [desSubkeys(key)] : [desSubkeys(key, 0), desSubkeys(key, 8), desSubkeys(key, 16)];
  }

  #block(decrypt: boolean, buffer: Uint8Array, offset: number): void {
    const k = this.#keys;
    if (k.length === 1) return desBlock(k[0], decrypt, buffer, offset);
    if (!decrypt) {
      desBlock(k[0], false, buffer, offset);
      desBlock(k[1], true, buffer, offset);
      desBlock(k[2], false, buffer, offset);
    } else {
      desBlock(k[2], true, buffer, offset);
      desBlock(k[1], false, buffer, offset);
      desBlock(k[0], true, buffer, offset);
    }
  }

  encrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    checkCbc(iv, length);
    for (let b = 0; b < length; b += 8) {
      for (let i = 0; i < 8; i++) buffer[offset + b + i] ^= b === 0 ? iv[i] : buffer[offset + b - 8 + i];
      this.#block(false, buffer, offset + b);
    }
  }

  decrypt(iv: Uint8Array, buffer: Uint8Array, offset: number, length: number): void {
    checkCbc(iv, length);
    const previous = iv.slice(0, 8);
    const current = new Uint8Array(8);
    for (let b = 0; b < length; b += 8) {
      current.set(buffer.subarray(offset + b, offset + b + 8));
      this.#block(true, buffer, offset + b);
      for (let i = 0; i < 8; i++) buffer[offset + b + i] ^= previous[i];
      previous.set(current);
    }
  }
}

function checkCbc(iv: Uint8Array, length: number): void {
  if (iv.length !== 8) throw new RangeError('DES-CBC IV must be 8 bytes');
  if (length % 8) throw new RangeError('DES-CBC length must be a multiple of 8');
}
