/**
 * The IKEv2 Message ID window and retransmission (RFC 7296 §2.1, §2.2, §2.3): strongSwan's
 * retransmission schedule, responses, the request queue and its bound, Message ID
 * exhaustion, and the responder's verdicts against a reference model over random sequences.
 */
import fc from 'fast-check';
import { InitiatorWindow, MAX_MESSAGE_ID, ResponderWindow, retransmitWait, STRONGSWAN_RETRANSMIT, type InitiatorAction, type RequestVerdict } from '../../src/ike/exchange-window.js';
import { deepEqual, equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

/** A request whose bytes are just its Message ID, so actions are easy to check. */
const req = (tag = 0) => (messageId: number): Uint8Array => Uint8Array.of(tag, messageId & 0xff);
const kinds = (actions: InitiatorAction[]): string[] => actions.map((a) => `${a.kind}:${a.messageId}`);

test('exchange-window: strongSwan default waits are 4000, 7200, 12960, 23328, 41990, 75582 ms', () => {
  deepEqual([0, 1, 2, 3, 4, 5].map((n) => retransmitWait(STRONGSWAN_RETRANSMIT, n)), [4000, 7200, 12960, 23328, 41990, 75582]);
  equal(retransmitWait({ ...STRONGSWAN_RETRANSMIT, limit: 20000 }, 4), 20000, 'retransmit_limit caps a wait');
});

test('exchange-window: retransmits at 4000, 11200, 24160, 47488, 89478 ms, gives up at 165060 ms', () => {
  const w = new InitiatorWindow();
  const sent = w.send(req(7), 0);
  ok(sent.ok && !sent.queued);
  equal(sent.action.messageId, 0, 'IKE_SA_INIT is Message ID 0');
  equal(w.nextMessageId, 1);
  const times: number[] = [];
  let gaveUp = -1;
  // Tick only when the window says so, checking nothing happens one ms earlier.
  for (let at = w.nextTimeout(); at !== undefined; at = w.nextTimeout()) {
    deepEqual(w.tick(at - 1), [], `nothing before ${at}`);
    const actions = w.tick(at);
    equal(actions.length, 1);
    const a = actions[0];
    if (a.kind === 'retransmit') {
      times.push(at);
      equal(a.attempt, times.length);
      deepEqual([...a.bytes], [7, 0], 'the same bytes again');
    } else {
      equal(a.kind, 'giveUp');
      gaveUp = at;
    }
  }
  deepEqual(times, [4000, 11200, 24160, 47488, 89478]);
  equal(gaveUp, 165060);
  ok(w.dead);
  equal(w.counters.retransmits, 5);
  equal(w.counters.giveUps, 1);
  deepEqual(w.send(req(), 200000), { ok: false, reason: 'dead' }, 'a dead IKE SA sends nothing');
  deepEqual(w.tick(1e9), []);
});

test('exchange-window: a late tick retransmits once and counts the next wait from then', () => {
  const w = new InitiatorWindow({ timeout: 1000, base: 2, tries: 3 });
  w.send(req(), 0);
  deepEqual(kinds(w.tick(50000)), ['retransmit:0']);
  equal(w.nextTimeout(), 52000);
});

test('exchange-window: the response stops retransmission; a wrong-ID response is dropped and counted', () => {
  const w = new InitiatorWindow();
  w.send(req(), 0);
  w.tick(4000);
  deepEqual(w.response(5, 5000), { ok: false, reason: 'unexpected' });
  deepEqual(w.response(1, 5000), { ok: false, reason: 'unexpected' });
  equal(w.counters.droppedUnexpected, 2);
  deepEqual(w.outstandingIds, [0]);
  deepEqual(w.response(0, 5000), { ok: true, actions: [] });
  equal(w.nextTimeout(), undefined);
  deepEqual(w.tick(1e9), [], 'no retransmission, no giveUp');
  ok(!w.dead);
  deepEqual(w.response(0, 6000), { ok: false, reason: 'unexpected' }, 'a duplicate response');
  equal(w.counters.responses, 1);
  // the next request is Message ID 1, on a fresh schedule
  const next = w.send(req(), 10000);
  ok(next.ok && !next.queued && next.action.messageId === 1);
  equal(w.nextTimeout(), 14000);
});

test('exchange-window: requests queue behind the window of 1, bounded; responses let them out in order', () => {
  const w = new InitiatorWindow({ queueLimit: 2 });
  ok(w.send(req(1), 0).ok);
  deepEqual(w.send(req(2), 10), { ok: true, queued: true, position: 1 });
  deepEqual(w.send(req(3), 20), { ok: true, queued: true, position: 2 });
  deepEqual(w.send(req(4), 30), { ok: false, reason: 'queue-full' });
  equal(w.counters.refusedQueueFull, 1);
  equal(w.queued, 2);
  const r = w.response(0, 1000);
  ok(r.ok);
  deepEqual(r.actions.map((a) => [a.kind, a.messageId, ...(a.kind === 'send' ? [...a.bytes] : [])]), [['send', 1, 2, 1]]);
  equal(w.nextTimeout(), 5000, 'the dequeued request is timed from when it went');
  ok(w.send(req(4), 1100).ok, 'room in the queue again');
  const r2 = w.response(1, 2000);
  ok(r2.ok);
  deepEqual(kinds(r2.actions), ['send:2']);
  deepEqual(w.outstandingIds, [2]);
  equal(w.queued, 1);
});

test('exchange-window: a window of 3 (SET_WINDOW_SIZE) keeps 3 outstanding; request X waits for X - 3', () => {
  const w = new InitiatorWindow({ queueLimit: 4 });
  ok(w.send(req(), 0).ok);
  ok(w.send(req(), 0).ok);
  ok(w.send(req(), 0).ok);
  ok(w.send(req(), 0).ok);
  ok(w.send(req(), 0).ok);
  equal(w.queued, 4);
  deepEqual(kinds(w.setWindowSize(3, 100)), ['send:1', 'send:2']);
  // answering 1 does not let 3 out: 0 is still unanswered (§2.3)
  deepEqual(w.response(1, 200), { ok: true, actions: [] });
  const r = w.response(0, 300);
  ok(r.ok);
  deepEqual(kinds(r.actions), ['send:3', 'send:4']);
  deepEqual(w.outstandingIds, [2, 3, 4]);
  // each outstanding request has its own schedule
  deepEqual(kinds(w.tick(4100)), ['retransmit:2']);
  deepEqual(kinds(w.tick(4300)), ['retransmit:3', 'retransmit:4']);
  throws(() => w.setWindowSize(0, 0), RangeError);
});

test('exchange-window: Message IDs stop at 2^32-1; the SA must be rekeyed before they would wrap (§2.2)', () => {
  const w = new InitiatorWindow({ firstMessageId: MAX_MESSAGE_ID - 1 });
  const a = w.send(req(), 0);
  ok(a.ok && !a.queued && a.action.messageId === MAX_MESSAGE_ID - 1);
  deepEqual(w.send(req(), 0), { ok: true, queued: true, position: 1 }, 'the last ID, once the window frees');
  deepEqual(w.send(req(), 0), { ok: false, reason: 'ids-exhausted' }, 'queued requests count');
  const r = w.response(MAX_MESSAGE_ID - 1, 10);
  ok(r.ok);
  deepEqual(kinds(r.actions), [`send:${MAX_MESSAGE_ID}`]);
  ok(w.response(MAX_MESSAGE_ID, 20).ok);
  deepEqual(w.send(req(), 30), { ok: false, reason: 'ids-exhausted' }, 'no wrap to 0');
  equal(w.counters.refusedIdsExhausted, 2);
  throws(() => new InitiatorWindow({ firstMessageId: MAX_MESSAGE_ID + 1 }), RangeError);
});

test('exchange-window: responder: new, repeated (the same bytes), old and future Message IDs', () => {
  const r = new ResponderWindow();
  equal(r.expected, 0);
  deepEqual(r.request(1), { kind: 'drop', reason: 'ahead' });
  deepEqual(r.request(0), { kind: 'new' });
  deepEqual(r.request(0), { kind: 'drop', reason: 'pending' }, 'still being processed');
  const response0 = Uint8Array.of(0xa0, 1, 2);
  r.responded(0, response0);
  const again = r.request(0);
  ok(again.kind === 'retransmit');
  equal(again.bytes, response0, 'exactly the cached response');
  deepEqual(r.request(2), { kind: 'drop', reason: 'ahead' });
  deepEqual(r.request(1), { kind: 'new' });
  r.responded(1, Uint8Array.of(0xa1));
  deepEqual(r.request(0), { kind: 'drop', reason: 'old' }, 'the peer has had response 0: it sent 1');
  deepEqual(r.request(1), { kind: 'retransmit', bytes: Uint8Array.of(0xa1) });
  equal(r.expected, 2);
  deepEqual(r.counters, { new: 2, retransmitted: 2, droppedOld: 1, droppedAhead: 2, droppedPending: 1 });
  throws(() => r.responded(1, Uint8Array.of(0)), RangeError, 'answered already');
  throws(() => r.responded(5, Uint8Array.of(0)), RangeError, 'never received');
});

test('exchange-window: responder with window 2 takes requests out of order and keeps 2 responses', () => {
  const r = new ResponderWindow({ windowSize: 2 });
  deepEqual(r.request(1), { kind: 'new' });
  deepEqual(r.request(2), { kind: 'drop', reason: 'ahead' });
  deepEqual(r.request(0), { kind: 'new' });
  equal(r.expected, 2);
  r.responded(1, Uint8Array.of(1));
  deepEqual(r.request(3), { kind: 'new' });
  deepEqual(r.request(2), { kind: 'drop', reason: 'ahead' }, '0 is unanswered: the peer cannot have sent 2');
  r.responded(0, Uint8Array.of(0));
  deepEqual(r.request(0), { kind: 'retransmit', bytes: Uint8Array.of(0) });
  deepEqual(r.request(2), { kind: 'new' });
  deepEqual(r.request(0), { kind: 'drop', reason: 'old' });
});

/**
 * Reference model: every request ever received, in a Map. A request is new when not yet
 * received, inside [lowest not received, + window), and the request a window before it is
 * answered (§2.3); a response is kept until the peer sends the request a window later.
 */
class Model {
  readonly seen = new Map<number, Uint8Array | undefined>();
  constructor(readonly n: number) {}
  low(): number {
    let low = 0;
    while (this.seen.has(low)) low++;
    return low;
  }
  request(id: number): RequestVerdict {
    if (this.seen.has(id)) {
      const bytes = this.seen.get(id);
      if (bytes === undefined) return { kind: 'drop', reason: 'pending' };
      return this.seen.has(id + this.n) ? { kind: 'drop', reason: 'old' } : { kind: 'retransmit', bytes };
    }
    const low = this.low();
    if (id < low) return { kind: 'drop', reason: 'old' };
    if (id >= low + this.n || (this.seen.has(id - this.n) && this.seen.get(id - this.n) === undefined)) return { kind: 'drop', reason: 'ahead' };
    this.seen.set(id, undefined);
    return { kind: 'new' };
  }
}

test('exchange-window: responder property: matches the reference model over random requests and responses', () => {
  const step = fc.oneof(
    fc.record({ op: fc.constant('request' as const), id: fc.nat({ max: 20 }) }),
    fc.record({ op: fc.constant('respond' as const), pick: fc.nat() }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 80 }), (n, steps) => {
    const real = new ResponderWindow({ windowSize: n });
    const model = new Model(n);
    for (const s of steps) {
      if (s.op === 'request') {
        const got = real.request(s.id);
        const want = model.request(s.id);
        deepEqual(got, want, `request ${s.id}`);
        if (got.kind === 'retransmit' && want.kind === 'retransmit') equal(got.bytes, want.bytes, 'the same cached bytes');
      } else {
        const pending = [...model.seen].filter(([, v]) => v === undefined).map(([k]) => k);
        if (pending.length === 0) continue;
        const id = pending[s.pick % pending.length];
        const bytes = Uint8Array.of(id, s.pick & 0xff);
        real.responded(id, bytes);
        model.seen.set(id, bytes);
      }
      equal(real.expected, model.low());
    }
  }), { numRuns: 300 });
});
