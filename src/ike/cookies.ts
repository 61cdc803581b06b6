/**
 * IKEv2 cookies and half-open SA accounting (RFC 7296 §2.6), sans-IO: the responder's defence
 * against IKE_SA_INIT floods from forged source addresses. While the number of half-open IKE
 * SAs is at or above a threshold, the responder answers an IKE_SA_INIT request without a valid
 * COOKIE notify (16390) with just a COOKIE notify and keeps no state; the initiator repeats
 * its request with that cookie first, which proves it receives at its source address.
 *
 * §2.6's suggested construction is used: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi |
 * <secret>), with SHA-256 and a 4-byte version id, so a cookie is 36 bytes (within the 1-64
 * bytes §2.6 allows). The secret is random, regenerated after its lifetime, and "the responder
 * should remember the previous secret for a short time" so that cookies issued just before the
 * change still verify; this jar keeps exactly one previous secret.
 *
 * Memory is bounded regardless of load: two secrets and a counter, never per-request state.
 * The engine reports half-open SAs with opened()/closed(); beyond a hard limit, admit() is
 * false and new IKE_SA_INIT requests are dropped even with a valid cookie.
 */
import { concatBytes, readU32, writeU32 } from '../crypto/bytes.js';
import { constantTimeEqual } from '../crypto/compare.js';
import type { Crypto } from '../crypto/provider.js';

/** 4-byte version id followed by a SHA-256 digest. */
export const COOKIE_LENGTH = 4 + 32;
const SECRET_LENGTH = 32;

export interface CookieJarOptions {
  /** half-open IKE SAs at which cookies become required (§2.6); 0 requires them always */
  threshold: number;
  /** half-open IKE SAs beyond which no new one is admitted, cookie or not (≥ threshold, ≥ 1) */
  hardLimit: number;
  /** how long a secret is used to make cookies, in ms */
  secretLifetimeMs: number;
  /** how long the previous secret still verifies after it is replaced, in ms (default: secretLifetimeMs) */
  previousGraceMs?: number;
}

interface Secret {
  readonly version: number;
  readonly bytes: Uint8Array;
  /** when it stops making cookies (current) or stops verifying them (previous) */
  readonly until: number;
}

export class CookieJar {
  readonly #crypto: Crypto;
  readonly #now: () => number;
  readonly #threshold: number;
  readonly #hardLimit: number;
  readonly #lifetime: number;
  readonly #grace: number;
  #current: Secret;
  #previous: Secret | null = null;
  #halfOpen = 0;

  /** `now` is the clock in milliseconds (monotonic preferred). */
  constructor(crypto: Crypto, now: () => number, options: CookieJarOptions) {
    const { threshold, hardLimit, secretLifetimeMs } = options;
    const grace = options.previousGraceMs ?? secretLifetimeMs;
    if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError('threshold must be an integer ≥ 0');
    if (!Number.isInteger(hardLimit) || hardLimit < 1 || hardLimit < threshold) throw new RangeError('hardLimit must be an integer ≥ 1 and ≥ threshold');
    if (!(secretLifetimeMs > 0) || !(grace >= 0)) throw new RangeError('secretLifetimeMs must be > 0 and previousGraceMs ≥ 0');
    this.#crypto = crypto;
    this.#now = now;
    this.#threshold = threshold;
    this.#hardLimit = hardLimit;
    this.#lifetime = secretLifetimeMs;
    this.#grace = grace;
    // a random first version id, so cookies from before a restart name an unknown secret
    const id = new Uint8Array(4);
    crypto.randomBytes(id);
    this.#current = this.#newSecret(readU32(id, 0), now());
  }

  #newSecret(version: number, now: number): Secret {
    const bytes = new Uint8Array(SECRET_LENGTH);
    this.#crypto.randomBytes(bytes);
    return { version: version >>> 0, bytes, until: now + this.#lifetime };
  }

  /** Replaces an expired secret (keeping it as the previous one for the grace time) and forgets an expired previous one. */
  #rotate(): void {
    const now = this.#now();
    if (now >= this.#current.until) {
      const old = this.#current;
      // one that expired more than the grace time ago is dropped at once
      this.#previous = { ...old, until: old.until + this.#grace };
      this.#current = this.#newSecret(old.version + 1, now);
    }
    if (this.#previous && now >= this.#previous.until) this.#previous = null;
  }

  #digest(secret: Secret, ni: Uint8Array, address: Uint8Array, spii: Uint8Array): Uint8Array {
    // §2.6: Hash(Ni | IPi | SPIi | <secret>)
    return this.#crypto.hash('sha256', concatBytes(ni, address, spii, secret.bytes));
  }

  /**
   * The cookie for an IKE_SA_INIT request (§2.6): <VersionIDofSecret> | Hash(Ni | IPi | SPIi |
   * <secret>), where `address` is the request's source IP address (4 or 16 bytes).
   */
  cookieFor(ni: Uint8Array, address: Uint8Array, spii: Uint8Array): Uint8Array {
    this.#rotate();
    const cookie = new Uint8Array(COOKIE_LENGTH);
    writeU32(cookie, 0, this.#current.version);
    cookie.set(this.#digest(this.#current, ni, address, spii), 4);
    return cookie;
  }

  /**
   * Whether `cookie` (the data of the COOKIE notify that came first in the request) was made by
   * this jar for these Ni, source address and SPIi, with the current secret or the previous one
   * within its grace time. Anything malformed (wrong length, unknown version id, not bytes) is
   * simply invalid; this never throws. The digest is compared in constant time.
   */
  check(cookie: Uint8Array, ni: Uint8Array, address: Uint8Array, spii: Uint8Array): boolean {
    if (!(cookie instanceof Uint8Array) || cookie.length !== COOKIE_LENGTH) return false;
    if (!(ni instanceof Uint8Array) || !(address instanceof Uint8Array) || !(spii instanceof Uint8Array)) return false;
    this.#rotate();
    const version = readU32(cookie, 0);
    const secret = version === this.#current.version ? this.#current
      : this.#previous && version === this.#previous.version ? this.#previous : null;
    if (!secret) return false;
    return constantTimeEqual(cookie.subarray(4), this.#digest(secret, ni, address, spii));
  }

  /** The number of half-open IKE SAs the engine has reported. */
  get halfOpen(): number {
    return this.#halfOpen;
  }

  /** §2.6: true while half-open SAs are at or above the threshold: requests need a valid cookie. */
  required(): boolean {
    return this.#halfOpen >= this.#threshold;
  }

  /** Whether one more half-open IKE SA may be created (below the hard limit). */
  admit(): boolean {
    return this.#halfOpen < this.#hardLimit;
  }

  /**
   * The engine created a half-open IKE SA (it answered an IKE_SA_INIT request). Returns false,
   * and counts nothing, when the hard limit is reached: the request must be dropped.
   */
  opened(): boolean {
    if (!this.admit()) return false;
    this.#halfOpen++;
    return true;
  }

  /** A half-open IKE SA completed IKE_AUTH, failed or timed out. Never goes below zero. */
  closed(): void {
    if (this.#halfOpen > 0) this.#halfOpen--;
  }
}
