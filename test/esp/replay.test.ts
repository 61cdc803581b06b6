/**
 * The anti-replay window against a simple reference model (RFC 4303 §3.4.3): a set of
 * accepted 64-bit sequence numbers and the highest one. The window only ever sees the low 32
 * bits and infers the high half with ESN (Appendix A2); random walks start anywhere,
 * including just below 2^32, so the inference across the wrap is exercised.
 *
 * With ESN, a number left of the window is inferred to be in the next 2^32 subspace
 * (Appendix A2.2): it passes the window check and is then refused because its ICV, computed
 * with that high half, does not verify. The test plays the ICV's part: a packet
 * "authenticates" only when the inferred high half is the true one.
 */
import fc from 'fast-check';
import { ReplayWindow, TOO_OLD, REPLAYED } from '../../src/esp/replay.js';

import { equal, ok, throws } from '../assert.js';
import { engine } from '../engine.js';
import { test } from '../harness.js';

const TWO_32 = 2 ** 32;

function model(size: number, start: number) {
  const seen = new Set<number>();
  let top = start;
  return {
    /** true when the packet is new and not left of the window */
    accepts(seq: number): boolean {
      if (seq <= 0) return false;
      if (seq > top) return true;
      return top - seq < size && !seen.has(seq);
    },
    record(seq: number): void {
      seen.add(seq);
      if (seq > top) top = seq;
    },
  };
}

test('replay window agrees with the reference model over random sequences, ESN on and off, across 2^32', () => {
  fc.assert(fc.property(
    fc.constantFrom(32, 64, 100, 1024, 4096),
    fc.boolean(),
    fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: TWO_32 - 5000, max: TWO_32 + 5000 }), fc.integer({ min: 0, max: 2 ** 40 })),
    fc.array(fc.integer({ min: -6000, max: 200 }), { minLength: 1, maxLength: 300 }),
    (size, esn, startRaw, steps) => {
      // without ESN the sequence space is 32 bits
      const start = esn ? startRaw : startRaw % (TWO_32 - 10000);
      const window = new ReplayWindow(size, esn);
      window.reset(Math.floor(start / TWO_32), start % TWO_32);
      const m = model(size, start);
      let cursor = start;
      for (const step of steps) {
        const seq = Math.max(0, cursor + step);
        if (!esn && seq >= TWO_32) continue;
        const low = seq % TWO_32;
        const high = window.check(low);
        const authentic = high >= 0 && high === Math.floor(seq / TWO_32);
        const accepted = authentic && window.accept(high, low);
        const expected = m.accepts(seq);
        equal(accepted, expected, `seq ${seq} (size ${size}, esn ${esn}, check ${high})`);
        if (expected) m.record(seq);
        if (step > 0) cursor = seq;
      }
    },
  ), { numRuns: engine === 'xs' ? 150 : 500 });
});

test('replay window: sizes, duplicates, far jumps, and bounds', () => {
  throws(() => new ReplayWindow(16, false), /32 to 65536/);
  throws(() => new ReplayWindow(70000, false), /32 to 65536/);
  const w = new ReplayWindow(4096, false);
  equal(w.check(0), TOO_OLD, 'sequence number 0');
  ok(w.accept(0, 1));
  equal(w.check(1), REPLAYED);
  ok(w.accept(0, 5000));
  equal(w.check(1), TOO_OLD, '4999 behind a 4096 window');
  equal(w.check(905), 0, 'the oldest number inside the window (top - W + 1)');
  equal(w.check(904), TOO_OLD, 'one past the edge');
  ok(w.accept(0, 1_000_000), 'a jump far beyond the ring clears it');
  equal(w.check(999_999), 0);
  ok(!w.accept(0, 1_000_000), 'accept refuses a replay');
  equal(w.top, 1_000_000);

  // ESN: left of the window means "next subspace" (then the ICV fails); right at the wrap,
  // a low number after a top near 2^32 belongs to the next subspace, a high one to this one
  const e = new ReplayWindow(64, true);
  e.reset(0, 10_000);
  equal(e.check(1), 1, 'inferred as 2^32 + 1');
  e.reset(0, TWO_32 - 10);
  equal(e.check(5), 1, 'just past the wrap');
  equal(e.check(TWO_32 - 20), 0, 'just before the top, same subspace');
  e.reset(1, 5);
  equal(e.check(TWO_32 - 20), 0, 'the window spans the wrap: this is in subspace 0');
  e.reset(0, 3);
  equal(e.check(TWO_32 - 20), TOO_OLD, 'nothing lies below subspace 0');
});
