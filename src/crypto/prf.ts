/**
 * IKEv2 pseudorandom functions and prf+ (RFC 7296 §2.13).
 */
import type { Crypto } from './provider.js';
import type { Algorithm } from './registry.js';

export type PrfFunction = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** The PRF of a registry entry (kind 'prf'), computed by `crypto`. */
export function prfFor(crypto: Crypto, algorithm: Algorithm): PrfFunction {
  const p = algorithm.primitive;
  if (p.kind !== 'prf') throw new TypeError(`${algorithm.name} is not a PRF`);
  if (p.mac === 'hmac') {
    const hash = p.hash!;
    return (key, data) => crypto.hmac(hash, key, data);
  }
  // AES-XCBC-PRF-128 (RFC 4434 §2): a shorter key is zero-padded, a longer one reduced with
  // AES-XCBC-MAC under a zero key. AES-CMAC-PRF-128 (RFC 4615 §3): any key that is not 16
  // bytes long is reduced with AES-CMAC under a zero key.
  const mac = p.mac;
  const run = (key: Uint8Array, data: Uint8Array) => {
    const out = new Uint8Array(16);
    crypto.macKey(mac, key).compute(data, 0, data.length, out);
    return out;
  };
  return (key, data) => {
    let k = key;
    if (k.length < 16 && mac === 'aes-xcbc') {
      k = new Uint8Array(16);
      k.set(key);
    } else if (k.length !== 16) {
      k = run(new Uint8Array(16), key);
    }
    return run(k, data);
  };
}

/**
 * prf+ (K, S) = T1 | T2 | T3 | ..., T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n),
 * truncated to `length` bytes. At most 255 iterations (RFC 7296 §2.13).
 */
export function prfPlus(prf: PrfFunction, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  let filled = 0;
  for (let n = 1; filled < length; n++) {
    if (n > 255) throw new RangeError(`prf+ cannot produce ${length} bytes with this PRF (255 iterations at most)`);
    const input = new Uint8Array(previous.length + seed.length + 1);
    input.set(previous);
    input.set(seed, previous.length);
    input[input.length - 1] = n;
    previous = prf(key, input);
    const take = Math.min(previous.length, length - filled);
    out.set(previous.subarray(0, take), filled);
    filled += take;
  }
  return out;
}
