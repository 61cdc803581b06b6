/**
 * Finite-field Diffie-Hellman over the MODP groups (RFC 3526, RFC 2409), in BigInt. Used by
 * every provider: PSA in Mbed TLS 2.28 has no FFDH, and on the device the ECP groups are the
 * recommended ones (the bench table shows MODP as software).
 */
import { bigIntToBytes, bytesToBigInt } from './bytes.js';
import { MODP_GROUPS, type ModpGroup } from './modp-groups.js';
import { KeyExchangeError, type KeyExchange } from './provider.js';

/**
 * Private exponent length in bits per group: twice the group's security strength (RFC 3526
 * §8, NIST SP 800-57), rounded up to whole 32-bit words.
 */
const EXPONENT_BITS: Readonly<Record<number, number>> = { 2: 160, 14: 256, 15: 256, 16: 320, 17: 384, 18: 512 };

export function findModpGroup(group: number): ModpGroup | undefined {
  return MODP_GROUPS.find((g) => g.group === group);
}

/** base^exponent mod modulus, left-to-right square and multiply. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (let bit = BigInt(exponent.toString(2).length - 1); bit >= 0n; bit--) {
    result = (result * result) % modulus;
    if ((exponent >> bit) & 1n) result = (result * base) % modulus;
  }
  return result;
}

export class ModpKeyExchange implements KeyExchange {
  readonly group: number;
  readonly publicKey: Uint8Array;
  readonly #prime: bigint;
  readonly #private: bigint;
  readonly #length: number;

  /** `privateKey`: the exponent, big-endian. */
  constructor(group: ModpGroup, privateKey: Uint8Array) {
    this.group = group.group;
    this.#prime = BigInt('0x' + group.primeHex);
    this.#length = group.bits / 8;
    this.#private = bytesToBigInt(privateKey);
    if (this.#private < 2n || this.#private >= this.#prime - 1n) throw new RangeError('MODP private exponent out of range');
    this.publicKey = bigIntToBytes(modPow(BigInt(group.generator), this.#private, this.#prime), this.#length);
  }

  /** A fresh exponent of the group's recommended length from `random`. */
  static generate(group: ModpGroup, random: (out: Uint8Array) => void): ModpKeyExchange {
    const bytes = new Uint8Array((EXPONENT_BITS[group.group] ?? 512) / 8);
    random(bytes);
    bytes[0] |= 0x80; // full length, and never 0 or 1
    return new ModpKeyExchange(group, bytes);
  }

  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    // RFC 7296 §3.4: the value is padded to the prime's length. Reject 0, 1 and p-1, whose
    // powers are trivial (small-subgroup confinement), and anything not below p.
    if (peerPublicKey.length !== this.#length) {
      throw new KeyExchangeError(`MODP group ${this.group}: public value is ${peerPublicKey.length} bytes, expected ${this.#length}`);
    }
    const y = bytesToBigInt(peerPublicKey);
    if (y <= 1n || y >= this.#prime - 1n) throw new KeyExchangeError(`MODP group ${this.group}: public value out of range`);
    return bigIntToBytes(modPow(y, this.#private, this.#prime), this.#length);
  }
}
