/**
 * IKEv2 cookies and half-open accounting (src/ike/cookies.ts, RFC 7296 §2.6) on every provider
 * slot: cookies are deterministic for the same inputs and bound to each of them, secret
 * rotation keeps the previous secret valid for its grace time and then forgets it, malformed
 * and random cookies are refused without throwing, and the threshold and hard limit behave.
 */
import fc from 'fast-check';
import { concatBytes, fromHex, readU32 } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { COOKIE_LENGTH, CookieJar, type CookieJarOptions } from '../../src/ike/cookies.js';
import { parseAddress } from '../../src/policy/selector.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { engine, forEachProvider } from '../engine.js';

const NI = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
const IP4 = parseAddress('192.0.2.1');
const IP6 = parseAddress('2001:db8::1');
const SPII = fromHex('0123456789abcdef');

function jar(crypto: Crypto, options: Partial<CookieJarOptions> = {}) {
  const clock = { now: 1_000_000 };
  const cookies = new CookieJar(crypto, () => clock.now, { threshold: 2, hardLimit: 4, secretLifetimeMs: 60_000, ...options });
  return { cookies, clock };
}

forEachProvider('cookie (§2.6): same inputs give the same cookie, which checks; version id | SHA-256', (crypto) => {
  const { cookies } = jar(crypto);
  const a = cookies.cookieFor(NI, IP4, SPII);
  equal(a.length, COOKIE_LENGTH);
  equal(COOKIE_LENGTH, 36);
  bytesEqual(cookies.cookieFor(NI, IP4, SPII), a, 'deterministic');
  ok(cookies.check(a, NI, IP4, SPII));
  const six = cookies.cookieFor(NI, IP6, SPII);
  ok(cookies.check(six, NI, IP6, SPII), 'IPv6');
  bytesEqual(six.subarray(0, 4), a.subarray(0, 4), 'same secret, same version id');
  // two jars have different secrets
  const other = jar(crypto).cookies.cookieFor(NI, IP4, SPII);
  ok(!cookies.check(other, NI, IP4, SPII), 'another jar');
});

forEachProvider('cookie (§2.6): any input changed makes it invalid', (crypto) => {
  const { cookies } = jar(crypto);
  const cookie = cookies.cookieFor(NI, IP4, SPII);
  const flip = (b: Uint8Array, i: number) => {
    const c = b.slice();
    c[i] ^= 1;
    return c;
  };
  ok(!cookies.check(cookie, flip(NI, 0), IP4, SPII), 'Ni');
  ok(!cookies.check(cookie, NI.subarray(0, 31), IP4, SPII), 'Ni shorter');
  ok(!cookies.check(cookie, NI, flip(IP4, 3), SPII), 'IPi');
  ok(!cookies.check(cookie, NI, IP6, SPII), 'IPi other family');
  ok(!cookies.check(cookie, NI, IP4, flip(SPII, 7)), 'SPIi');
  for (let i = 0; i < COOKIE_LENGTH; i++) ok(!cookies.check(flip(cookie, i), NI, IP4, SPII), `cookie byte ${i}`);
  ok(cookies.check(cookie, NI, IP4, SPII), 'the original still checks');
});

forEachProvider('cookie rotation: the previous secret verifies for its grace time, then expires', (crypto) => {
  const { cookies, clock } = jar(crypto, { secretLifetimeMs: 60_000, previousGraceMs: 10_000 });
  const first = cookies.cookieFor(NI, IP4, SPII);
  clock.now += 59_999;
  bytesEqual(cookies.cookieFor(NI, IP4, SPII), first, 'same secret within its lifetime');
  clock.now += 1; // the secret is replaced
  const second = cookies.cookieFor(NI, IP4, SPII);
  ok(!sameBytes(second, first), 'a new secret');
  equal(readU32(second, 0), (readU32(first, 0) + 1) >>> 0, 'the next version id');
  ok(cookies.check(first, NI, IP4, SPII), 'previous secret within grace');
  ok(cookies.check(second, NI, IP4, SPII), 'current secret');
  clock.now += 9_999;
  ok(cookies.check(first, NI, IP4, SPII), 'previous, just before the end of grace');
  clock.now += 1;
  ok(!cookies.check(first, NI, IP4, SPII), 'previous expired');
  ok(cookies.check(second, NI, IP4, SPII), 'current still valid');
  // a long idle time: on the next use both the old secrets are gone
  clock.now += 10 * 60_000;
  const third = cookies.cookieFor(NI, IP4, SPII);
  ok(!cookies.check(second, NI, IP4, SPII), 'expired more than grace ago: forgotten at once');
  ok(cookies.check(third, NI, IP4, SPII));
  // and without explicit grace, the previous one lasts one lifetime
  const d = jar(crypto, { secretLifetimeMs: 1000 });
  const c1 = d.cookies.cookieFor(NI, IP4, SPII);
  d.clock.now += 1000;
  ok(d.cookies.check(c1, NI, IP4, SPII));
  d.clock.now += 999;
  ok(d.cookies.check(c1, NI, IP4, SPII));
  d.clock.now += 1;
  ok(!d.cookies.check(c1, NI, IP4, SPII));
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

forEachProvider('cookie: truncated, oversized, empty, unknown-version and garbage cookies are invalid, never throwing', (crypto) => {
  const { cookies } = jar(crypto);
  const cookie = cookies.cookieFor(NI, IP4, SPII);
  ok(!cookies.check(cookie.subarray(0, COOKIE_LENGTH - 1), NI, IP4, SPII), 'truncated');
  ok(!cookies.check(cookie.subarray(0, 4), NI, IP4, SPII), 'version id only');
  ok(!cookies.check(new Uint8Array(0), NI, IP4, SPII), 'empty');
  ok(!cookies.check(concatBytes(cookie, new Uint8Array(1)), NI, IP4, SPII), 'oversized');
  ok(!cookies.check(new Uint8Array(64), NI, IP4, SPII), '64 zero bytes');
  const unknown = cookie.slice();
  unknown[0] ^= 0x80; // another version id, the same digest
  ok(!cookies.check(unknown, NI, IP4, SPII), 'unknown version');
  for (const junk of [null, undefined, 'cookie', 42, {}, [1, 2, 3]]) {
    ok(!cookies.check(junk as unknown as Uint8Array, NI, IP4, SPII), `junk ${String(junk)}`);
    ok(!cookies.check(cookie, junk as unknown as Uint8Array, IP4, SPII), `junk Ni ${String(junk)}`);
  }
});

forEachProvider('cookie: random cookies are rejected (property)', (crypto) => {
  const { cookies } = jar(crypto);
  const real = cookies.cookieFor(NI, IP4, SPII);
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.uint8Array({ minLength: COOKIE_LENGTH, maxLength: COOKIE_LENGTH }),
      // the right version id with a random digest
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((d) => concatBytes(real.subarray(0, 4), d)),
    ),
    fc.uint8Array({ minLength: 16, maxLength: 64 }),
    fc.constantFrom(IP4, IP6),
    (cookie, ni, address) => {
      equal(cookies.check(cookie, ni, address, SPII), false);
      equal(cookies.check(cookie, NI, IP4, SPII), false);
    },
  ), { numRuns: engine === 'xs' ? 150 : 500 });
});

forEachProvider('half-open accounting (§2.6): cookies required at the threshold, nothing admitted beyond the hard limit', (crypto) => {
  const { cookies } = jar(crypto, { threshold: 2, hardLimit: 4 });
  equal(cookies.halfOpen, 0);
  ok(!cookies.required() && cookies.admit());
  ok(cookies.opened());
  ok(!cookies.required(), 'below the threshold');
  ok(cookies.opened());
  ok(cookies.required(), 'at the threshold');
  ok(cookies.opened() && cookies.opened());
  equal(cookies.halfOpen, 4);
  ok(!cookies.admit(), 'at the hard limit');
  for (let i = 0; i < 1000; i++) ok(!cookies.opened(), 'refused beyond the hard limit');
  equal(cookies.halfOpen, 4, 'refusals are not counted');
  cookies.closed();
  ok(cookies.admit() && cookies.required());
  cookies.closed();
  cookies.closed();
  ok(!cookies.required(), 'back below the threshold');
  for (let i = 0; i < 10; i++) cookies.closed();
  equal(cookies.halfOpen, 0, 'never below zero');
  ok(!cookies.required());
  // threshold 0: cookies always required
  ok(jar(crypto, { threshold: 0, hardLimit: 1 }).cookies.required());
});

forEachProvider('cookie jar options are checked', (crypto) => {
  throws(() => jar(crypto, { threshold: -1 }), RangeError);
  throws(() => jar(crypto, { threshold: 1.5 }), RangeError);
  throws(() => jar(crypto, { threshold: 5, hardLimit: 4 }), RangeError);
  throws(() => jar(crypto, { threshold: 0, hardLimit: 0 }), RangeError);
  throws(() => jar(crypto, { secretLifetimeMs: 0 }), RangeError);
  throws(() => jar(crypto, { previousGraceMs: -1 }), RangeError);
});

forEachProvider('cookie secrets are not exposed on the jar', (crypto) => {
  const { cookies } = jar(crypto);
  equal(Object.keys(cookies).length, 0);
  equal(JSON.stringify(cookies), '{}');
});
