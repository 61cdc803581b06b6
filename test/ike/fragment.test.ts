/**
 * IKEv2 message fragmentation (src/ike/fragment.ts, RFC 7383 §2.5, §2.6) on every provider
 * slot: round trips at several fragment sizes with every fragment within the limit, any
 * arrival order, duplicates, tampered fragments dropped while the good copy completes,
 * bounds, timeout, and truncated or garbage bytes dropped without throwing.
 */
import { fromHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../../src/crypto/registry.js';
import { keyLengths } from '../../src/esp/transform.js';
import { fragmentMessage, Reassembler, type ReassemblyResult } from '../../src/ike/fragment.js';
import type { IkeAlgorithms } from '../../src/ike/keymat.js';
import { encodePayloadChain, ExchangeType, type MessageHeader } from '../../src/ike/message.js';
import { PayloadType, type Payload } from '../../src/ike/payloads.js';
import type { SkKeys } from '../../src/ike/protect.js';
import { bytesEqual, equal, ok } from '../assert.js';
import { providerSlots } from '../engine.js';
import { test } from '../harness.js';

const alg = (name: string): Algorithm => {
  const a = findAlgorithm(name);
  if (!a) throw new Error(`no algorithm ${name}`);
  return a;
};
const SUITES: [string, string | null][] = [['aes128gcm16', null], ['aes256', 'sha256']];

const HEADER: MessageHeader = {
  spiI: fromHex('0102030405060708'), spiR: fromHex('a1a2a3a4a5a6a7a8'), exchangeType: ExchangeType.IKE_AUTH,
  initiator: true, higherVersion: false, response: false, messageId: 1,
};

function inner(): Payload[] {
  const cert = new Uint8Array(3000);
  for (let i = 0; i < cert.length; i++) cert[i] = (i * 7 + 3) & 0xff;
  return [
    { type: PayloadType.IDi, idType: 2, data: new Uint8Array(12).fill(0x61) },
    { type: PayloadType.CERT, encoding: 4, data: cert },
    { type: PayloadType.AUTH, method: 14, data: new Uint8Array(64).fill(0x33) },
  ];
}

function setup(crypto: Crypto, [e, i]: [string, string | null]) {
  const algorithms: IkeAlgorithms = { prf: alg('prfsha256'), encryption: alg(e), integrity: i ? alg(i) : null };
  const [el, il] = keyLengths(algorithms.encryption, algorithms.integrity ?? null);
  const fresh = (n: number) => {
    const b = new Uint8Array(n);
    if (n > 0) crypto.randomBytes(b);
    return b;
  };
  const keys: SkKeys = { encryption: fresh(el), integrity: fresh(il) };
  return { algorithms, keys, name: i ? `${e}-${i}` : e };
}

function shuffle<T>(a: T[], crypto: Crypto): T[] {
  const out = a.slice();
  const r = new Uint8Array(4);
  for (let k = out.length - 1; k > 0; k--) {
    crypto.randomBytes(r);
    const j = (((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) >>> 0) % (k + 1);
    [out[k], out[j]] = [out[j], out[k]];
  }
  return out;
}

function permutations<T>(a: T[]): T[][] {
  if (a.length <= 1) return [a];
  return a.flatMap((x, i) => permutations([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p]));
}

function feed(r: Reassembler, fragments: Uint8Array[], now = 0): ReassemblyResult[] {
  return fragments.map((f) => r.add(f, now));
}

function checkComplete(result: ReassemblyResult, what: string): void {
  if (result.kind !== 'complete') throw new Error(`${what}: ${result.kind} ${result.kind === 'drop' ? result.reason : ''}`);
  bytesEqual(encodePayloadChain(result.payloads), encodePayloadChain(inner()), what);
  equal(result.header.messageId, HEADER.messageId, what);
}

for (const slot of providerSlots) {
  for (const suite of SUITES) {
    test(`SKF round trips at several sizes, any order [${suite[0]}] [${slot.slot}]`, () => {
      const crypto = slot.make();
      const { algorithms, keys, name } = setup(crypto, suite);
      for (const size of [300, 576, 1280, 1500, 4000]) {
        const fragments = fragmentMessage(crypto, algorithms, keys, HEADER, inner(), size);
        for (const f of fragments) ok(f.length <= size, `${name} ${size}: fragment of ${f.length} bytes`);
        const r = new Reassembler(crypto, algorithms, keys);
        const results = feed(r, fragments);
        for (const x of results.slice(0, -1)) equal(x.kind, 'incomplete', `${name} ${size}`);
        checkComplete(results[results.length - 1], `${name} ${size} in order`);
        equal(r.pending, 0);
        for (let k = 0; k < 5; k++) {
          const res = feed(new Reassembler(crypto, algorithms, keys), shuffle(fragments, crypto));
          checkComplete(res[res.length - 1], `${name} ${size} shuffled`);
        }
      }
      // exactly 3 fragments: every permutation
      const three = fragmentMessage(crypto, algorithms, keys, HEADER, inner(), 1200);
      equal(three.length, 3, `${name}: 3 fragments at 1200`);
      for (const p of permutations(three)) {
        const res = feed(new Reassembler(crypto, algorithms, keys), p);
        checkComplete(res[2], `${name} permutation`);
      }
    });

    test(`SKF duplicates, tampering, bounds, timeout, garbage [${suite[0]}] [${slot.slot}]`, () => {
      const crypto = slot.make();
      const { algorithms, keys, name } = setup(crypto, suite);
      const fragments = fragmentMessage(crypto, algorithms, keys, HEADER, inner(), 576);
      ok(fragments.length > 3, name);
      // duplicates ignored
      let r = new Reassembler(crypto, algorithms, keys);
      equal(r.add(fragments[0], 0).kind, 'incomplete');
      equal(r.add(fragments[0], 0).kind, 'drop');
      let last: ReassemblyResult = { kind: 'incomplete' };
      for (const f of fragments.slice(1)) last = r.add(f, 0);
      checkComplete(last, `${name} after duplicate`);
      // a tampered fragment is dropped, every byte position class; the good copy then completes
      for (const at of [0, 19, 30, 36, 50, fragments[1].length - 1]) {
        r = new Reassembler(crypto, algorithms, keys);
        const bad = fragments[1].slice();
        bad[at] ^= 0x01;
        for (const f of fragments.filter((_, k) => k !== 1)) equal(r.add(f, 0).kind, 'incomplete');
        equal(r.add(bad, 0).kind, 'drop', `${name} tampered at ${at}`);
        checkComplete(r.add(fragments[1], 0), `${name} good copy after tampering at ${at}`);
      }
      // bounds: too many fragments, too many bytes, too many messages
      r = new Reassembler(crypto, algorithms, keys, { maxFragments: fragments.length - 1 });
      equal(r.add(fragments[0], 0).kind, 'drop');
      equal(r.pending, 0);
      r = new Reassembler(crypto, algorithms, keys, { maxBytes: 1000 });
      const kinds = feed(r, fragments).map((x) => x.kind);
      ok(kinds.includes('drop') && !kinds.includes('complete'), `${name} maxBytes: ${kinds}`);
      r = new Reassembler(crypto, algorithms, keys);
      equal(r.add(fragments[0], 0).kind, 'incomplete');
      const other = fragmentMessage(crypto, algorithms, keys, { ...HEADER, messageId: 2 }, inner(), 576);
      equal(r.add(other[0], 0).kind, 'drop', 'second message while one is in reassembly');
      // timeout releases partial state, then the other message may start
      r.expire(29_999);
      equal(r.pending, 1);
      equal(r.add(other[0], 30_000).kind, 'incomplete');
      equal(r.pending, 1);
      // §2.6.1: a higher Total Fragments restarts, a lower one is dropped
      r = new Reassembler(crypto, algorithms, keys);
      const big = fragmentMessage(crypto, algorithms, keys, HEADER, inner(), 1280);
      equal(r.add(big[0], 0).kind, 'incomplete');
      equal(r.add(fragments[0], 0).kind, 'incomplete', 'higher total restarts');
      equal(r.add(big[1], 0).kind, 'drop', 'lower total dropped');
      last = { kind: 'incomplete' };
      for (const f of fragments.slice(1)) last = r.add(f, 0);
      checkComplete(last, `${name} after restart`);
      // truncations and garbage: dropped without throwing, state untouched
      r = new Reassembler(crypto, algorithms, keys);
      const f0 = fragments[0];
      for (let n = 0; n < f0.length; n++) equal(r.add(f0.subarray(0, n), 0).kind, 'drop', `truncated to ${n}`);
      for (let k = 0; k < 50; k++) {
        const g = new Uint8Array(20 + k * 13);
        crypto.randomBytes(g);
        equal(r.add(g, 0).kind, 'drop', 'garbage');
        const h = f0.slice(0, 40 + k);
        crypto.randomBytes(h.subarray(36));
        h.set(f0.subarray(24, 28), 24);
        equal(r.add(h, 0).kind, 'drop', 'garbage after header');
      }
      equal(r.pending, 0);
    });
  }
}

test('SKF: a request and a response with the same Message ID are two messages, reassembled apart (RFC 7296 §2.2, RFC 7383 §2.6)', () => {
  const crypto = providerSlots[1].make();
  const { algorithms, keys } = setup(crypto, SUITES[0]);
  // the peer's request 1 and its response to our request 1, each in three fragments, interleaved
  const request = fragmentMessage(crypto, algorithms, keys, HEADER, inner(), 1200);
  const answer: Payload[] = [{ type: PayloadType.IDr, idType: 2, data: new Uint8Array(2500).fill(0x72) }];
  const response = fragmentMessage(crypto, algorithms, keys, { ...HEADER, response: true }, answer, 1200);
  equal(request.length, 3);
  equal(response.length, 3);
  const r = new Reassembler(crypto, algorithms, keys, { maxMessages: 2 });
  const results = feed(r, [request[0], response[1], response[0], request[1], response[2], request[2]]);
  equal(results[4].kind, 'complete', 'the response completes with its own fragments');
  if (results[4].kind === 'complete') {
    equal(results[4].header.response, true);
    bytesEqual(encodePayloadChain(results[4].payloads), encodePayloadChain(answer));
  }
  checkComplete(results[5], 'the request completes with its own fragments');
  equal(r.pending, 0);
});

test('SKF: authentic fragments whose reassembled payloads do not parse are a drop that says so, with the header and INVALID_SYNTAX (RFC 7296 §2.21.3)', () => {
  const crypto = providerSlots[1].make();
  const { algorithms, keys } = setup(crypto, SUITES[1]);
  // a Delete whose count disagrees with its SPIs (§3.11), big enough to need fragments
  const body = new Uint8Array(4 + 4 * 300);
  body.set([3, 4, 0x01, 0x2d]);
  const fragments = fragmentMessage(crypto, algorithms, keys, { ...HEADER, exchangeType: ExchangeType.INFORMATIONAL }, [{ type: PayloadType.NONE, payloadType: PayloadType.DELETE, critical: false, data: body }], 576);
  ok(fragments.length > 1);
  const results = feed(new Reassembler(crypto, algorithms, keys), fragments);
  const last = results[results.length - 1];
  ok(last.kind === 'drop' && last.authentic !== undefined, `authentic drop: ${JSON.stringify(last)}`);
  equal(last.authentic.header.exchangeType, ExchangeType.INFORMATIONAL);
  equal(last.authentic.header.messageId, HEADER.messageId);
  equal(last.authentic.notify.type, 7, 'INVALID_SYNTAX');
  // fragments that do not authenticate never say authentic
  const forged = fragments[0].slice();
  forged[forged.length - 1] ^= 1;
  const r = new Reassembler(crypto, algorithms, keys);
  const f = r.add(forged, 0);
  ok(f.kind === 'drop' && f.authentic === undefined);
});
