/**
 * Anti-replay window with extended sequence numbers (RFC 4303 §3.4.3 and Appendix A2,
 * RFC 4304). Only the low 32 bits of the sequence number travel in the packet; with ESN the
 * high 32 bits are inferred from where the low bits fall relative to the window.
 *
 * The window is a ring of bits in a Uint32Array, indexed by the low bits of the sequence
 * number (the ring size is a power of two, so the index stays right across a 2^32 boundary).
 * Sequence numbers are kept as (high, low) pairs of unsigned 32-bit numbers: no BigInt and
 * no allocation per packet.
 *
 * Use: `check(low)` before the ICV is verified (cheap rejection of replays, RFC 4303 §3.4.3),
 * then `accept(high, low)` only once the packet has authenticated.
 */

/** `check` results below zero: why the packet is refused. */
export const REPLAYED = -1;
export const TOO_OLD = -2;

const TWO_32 = 0x1_0000_0000;

export class ReplayWindow {
  /** the configured window size W */
  readonly size: number;
  readonly esn: boolean;
  readonly #bits: Uint32Array;
  readonly #mask: number;
  #topHigh = 0;
  #topLow = 0;

  /**
   * @param size window size, 32 to 65536 packets (RFC 4303 §3.4.3: 32 minimum, 64 default)
   * @param esn extended (64-bit) sequence numbers negotiated
   */
  constructor(size: number, esn: boolean) {
    if (!Number.isInteger(size) || size < 32 || size > 65536) throw new RangeError(`replay window must be 32 to 65536, not ${size}`);
    let ring = 32;
    while (ring < size) ring *= 2;
    this.size = size;
    this.esn = esn;
    this.#bits = new Uint32Array(ring / 32);
    this.#mask = ring - 1;
  }

  /** The highest authenticated sequence number so far, as high * 2^32 + low (exact below 2^53). */
  get top(): number {
    return this.#topHigh * TWO_32 + this.#topLow;
  }

  /**
   * Infers the high half for `low` (RFC 4303 A2.2) and checks it against the window without
   * changing it. Returns the inferred high half (0 without ESN), or REPLAYED / TOO_OLD.
   */
  check(low: number): number {
    const w = this.size;
    const tl = this.#topLow;
    let high = 0;
    if (this.esn) {
      const th = this.#topHigh;
      if (tl >= w - 1) {
        // the window lies within one 2^32 subspace
        high = low >= tl - w + 1 ? th : th + 1;
      } else {
        // the window spans two subspaces: a low number near 2^32 belongs to the previous one
        high = low >= ((tl - w + 1) >>> 0) ? th - 1 : th;
      }
      if (high < 0 || high >= TWO_32) return TOO_OLD;
    } else if (low === 0) {
      return TOO_OLD; // sequence numbers start at 1 and never wrap without ESN
    }
    const diff = (this.#topHigh - high) * TWO_32 + (tl - low); // top - seq, exact: |high - topHigh| <= 1
    if (diff < 0) return high; // ahead of the window
    if (diff >= w) return TOO_OLD;
    if (high === 0 && low === 0) return TOO_OLD; // sequence number 0 is never sent
    const index = low & this.#mask;
    return (this.#bits[index >>> 5] >>> (index & 31)) & 1 ? REPLAYED : high;
  }

  /** Records an authenticated packet; returns false (and changes nothing) if it is refused now. */
  accept(high: number, low: number): boolean {
    const result = this.check(low);
    if (result < 0 || result !== high) return false;
    const diff = (high - this.#topHigh) * TWO_32 + (low - this.#topLow); // seq - top
    if (diff > 0) {
      // advance: clear the bits of the sequence numbers the window slides over
      if (diff > this.#mask) {
        this.#bits.fill(0);
      } else {
        for (let i = 1; i <= diff; i++) {
          const index = (this.#topLow + i) & this.#mask;
          this.#bits[index >>> 5] &= ~(1 << (index & 31));
        }
      }
      this.#topHigh = high;
      this.#topLow = low;
    }
    const index = low & this.#mask;
    this.#bits[index >>> 5] |= 1 << (index & 31);
    return true;
  }

  /** Starts the window at a given top (tests; an SA whose state is restored). */
  reset(high: number, low: number): void {
    this.#bits.fill(0);
    this.#topHigh = high >>> 0;
    this.#topLow = low >>> 0;
  }
}
