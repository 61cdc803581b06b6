/**
 * Robustness of the IKEv2 engine (issue 5): malformed messages of every payload type,
 * truncated and with wrong lengths, fed to both engines of an established pair, must never
 * raise an internal error nor change the established SAs. A seeded mutation loop (no
 * fast-check machinery: cheap enough per input for XS; fast-check's shrinking would buy
 * little over printing the seed and the input) makes these families of inputs:
 *
 *   a. plaintext structure: messages made with encodeMessage from templates that hold every
 *      payload type (SA with proposals, transforms and attributes, KE, IDi/IDr, CERT, CERTREQ,
 *      AUTH, Nonce, Notify, Delete, Vendor ID, TSi/TSr, CP, EAP, SK, SKF, unknown payloads
 *      with and without the critical bit), every template truncated at every length, then
 *      mutated: the IKE header, payload, proposal, transform, attribute and selector lengths,
 *      SPI sizes and counts set wrong, bytes flipped, cut, cut out, appended; sent as new
 *      IKE_SA_INIT requests (spiR zero; a third of them unmutated, so that half-open SAs, the
 *      cookie threshold and the hard limit are reached) and with the established or a half-open
 *      SA's SPIs (any exchange, either flag, any Message ID).
 *   b. authenticated but malformed requests: the peer's side of the established SA is forged
 *      with its keys and the Message ID the engine expects, so that the inner payloads are
 *      what gets processed. protect.ts's protectMessage takes typed payloads, so the SK payload
 *      is sealed here with its skCipher around raw (mutated) inner bytes. Deletes with bad SPI
 *      sizes and counts or naming SAs that are not the peer's to name (our inbound SPI, the
 *      right SPI under AH), notifies with huge SPIs, CREATE_CHILD_SA with garbage SA/TS/KE
 *      payloads, REKEY_SA of SAs that do not exist, KE payloads of the wrong group or length,
 *      IKE proposals with bad SPI sizes, INFORMATIONAL with anything, IKE_AUTH again, unknown
 *      exchange types, a bad Pad Length: each template a valid request with one defect, then
 *      mutated. RFC 7296 §2.21.3: every such request with the expected Message ID must be
 *      answered (an error notify, not silence), and nothing else may be.
 *   r. authenticated but malformed responses: the engine starts a CHILD rekey, a new CHILD SA,
 *      an IKE rekey or a liveness check, and forged answers with one defect each (error
 *      notifies, proposals it did not offer, missing or wrong KE, nonce, TS) reach it instead
 *      of the peer's.
 *   c. SKF fragments (RFC 7383): bad numbers and totals, oversized totals, garbage data, and
 *      authenticated fragments of malformed messages, in any order, repeated, for requests
 *      and responses.
 *
 * How state may change (b, r, c): a mutation can repair a template's defect, making a valid
 * request or answer that legitimately changes the SAs (a well-formed Delete of the IKE SA or
 * of the real CHILD SA's SPI; a CREATE_CHILD_SA or an answer with a proposal the engine
 * accepted). After each processed input the SAs are compared with the snapshot; a change is
 * accepted only when the request, or the answer the engine sent or took, proves it legitimate
 * in one of those ways; then both sides are torn down (nothing may stay in either data path)
 * and the pair is established again (counted by reason). Any other change fails the test.
 * Half-open responder SAs from fuzzed IKE_SA_INIT requests are allowed, at most the cookie
 * hard limit, and must be gone once the clock passes the half-open timeout (after each batch).
 *
 * The forged messages move one side's Message ID window without the other knowing: after a
 * forged request was answered, the peer sends a request of the same exchange with that Message
 * ID (a no-op task), answered from the engine's cache; after a forged answer ended one of the
 * engine's exchanges, the peer gets an empty request with that ID. Both windows then agree
 * again; the CHILD rekeys at the end, from each side, prove that they do.
 *
 * Counts and durations are printed per engine; a failure names the seed, the input and its
 * bytes. Replay with the same seed: IKE_FUZZ_SEED=0x... (and IKE_FUZZ_INPUTS=n) on Node, SEEDS
 * and PER_RUN below on XS; IKE_FUZZ_DEBUG=1 prints each legitimate state change's input. The
 * inputs depend only on the seed; the engines' own randomness (SPIs, nonces, cookie secrets)
 * does not change which inputs are made.
 *
 * Cost on XS: most of the time goes to full collections that crypto-psa.c forces when the 32
 * PSA key slots are taken (every SK payload imports its keys), about 0.4 per authenticated
 * message; so the authenticated families get a quarter of the inputs, each valuable one.
 */
import { toHex, writeU32 } from '../../src/crypto/bytes.js';
import type { ConnectionConfig } from '../../src/config/ike-config.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { exchangeName, type IkeSa } from '../../src/ike/ike-sa.js';
import { encodeMessage, encodePayloadChain, ExchangeType, parsePayloadChain, type MessageHeader } from '../../src/ike/message.js';
import { NotifyType, PayloadType, TsType, wireType, type Payload } from '../../src/ike/payloads.js';
import { skCipher, skKeys, unprotectMessage, type SkCipher } from '../../src/ike/protect.js';
import { ChildCreateInitiator } from '../../src/ike/tasks/child-create.js';
import { spiBytes, tsPayload, wireProposals } from '../../src/ike/tasks/common.js';
import { LivenessCheck } from '../../src/ike/tasks/ike-delete.js';
import { IkeRekeyInitiator } from '../../src/ike/tasks/ike-rekey.js';
import type { Task } from '../../src/ike/tasks/task.js';
import { ProtocolId } from '../../src/ike/types.js';
import { Logger } from '../../src/log.js';
import type { XsMemory } from '../../hosts/moddable/memory.js';
import { AssertionError, ok } from '../assert.js';
import { engine, providerSlots } from '../engine.js';
import { test } from '../harness.js';
import { connectionDoc, established, Pair, type Side } from './ike-pair.js';

const host = providerSlots.find((s) => s.slot === 'host')!;

/* ------------------------------------------------------------------ seeded PRNG */

/** xorshift32: a few integer operations per number, the same sequence on V8 and XS. */
class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }

  u32(): number {
    let x = this.#s | 0;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }

  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = this.int(total);
    for (const [w, v] of items) {
      if (r < w) return v;
      r -= w;
    }
    return items[items.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/* ------------------------------------------------------------------ where the length fields are */

/** A field a mutation may set wrong: offset and size in bytes. */
interface Field {
  at: number;
  size: number;
}

const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

/**
 * The structural fields of a payload chain in b[start..end): Next Payload, Payload Length,
 * and inside each body the SPI sizes, counts, proposal/transform/attribute/selector lengths,
 * Last Substruc bytes, fragment numbers (RFC 7296 §3.2-§3.15, RFC 7383 §2.5).
 */
function chainFields(b: Uint8Array, start: number, end: number, first: number, out: Field[]): Field[] {
  let type = first;
  let at = start;
  while (type !== PayloadType.NONE && end - at >= 4) {
    const next = b[at];
    const length = u16(b, at + 2);
    out.push({ at, size: 1 }, { at: at + 1, size: 1 }, { at: at + 2, size: 2 });
    if (length < 4 || at + length > end) break;
    bodyFields(type, b, at + 4, at + length, out);
    at += length;
    if (type === PayloadType.SK || type === PayloadType.SKF) break;
    type = next;
  }
  return out;
}

function bodyFields(type: number, b: Uint8Array, s: number, e: number, out: Field[]): void {
  switch (type) {
    case PayloadType.SA: {
      for (let p = s; e - p >= 8;) {
        out.push({ at: p, size: 1 }, { at: p + 2, size: 2 }, { at: p + 4, size: 1 }, { at: p + 5, size: 1 }, { at: p + 6, size: 1 }, { at: p + 7, size: 1 });
        const pe = p + u16(b, p + 2);
        if (pe < p + 8 || pe > e) break;
        for (let t = p + 8 + b[p + 6]; pe - t >= 8;) {
          out.push({ at: t, size: 1 }, { at: t + 2, size: 2 }, { at: t + 4, size: 1 }, { at: t + 6, size: 2 });
          const te = t + u16(b, t + 2);
          if (te < t + 8 || te > pe) break;
          for (let a = t + 8; te - a >= 4;) {
            out.push({ at: a, size: 2 }, { at: a + 2, size: 2 });
            a += (b[a] & 0x80) !== 0 ? 4 : 4 + u16(b, a + 2);
          }
          t = te;
        }
        p = pe;
      }
      return;
    }
    case PayloadType.KE:
      out.push({ at: s, size: 2 });
      return;
    case PayloadType.IDi: case PayloadType.IDr: case PayloadType.CERT: case PayloadType.CERTREQ: case PayloadType.AUTH: case PayloadType.CP:
      out.push({ at: s, size: 1 });
      return;
    case PayloadType.NOTIFY: case PayloadType.DELETE:
      out.push({ at: s, size: 1 }, { at: s + 1, size: 1 }, { at: s + 2, size: 2 });
      return;
    case PayloadType.TSi: case PayloadType.TSr:
      out.push({ at: s, size: 1 });
      for (let t = s + 4; e - t >= 8;) {
        out.push({ at: t, size: 1 }, { at: t + 1, size: 1 }, { at: t + 2, size: 2 }, { at: t + 4, size: 2 }, { at: t + 6, size: 2 });
        const l = u16(b, t + 2);
        if (l < 8) break;
        t += l;
      }
      return;
    case PayloadType.SKF:
      out.push({ at: s, size: 2 }, { at: s + 2, size: 2 });
      return;
    default:
  }
}

/** The IKE header's fields (§3.1): Next Payload, Version, Exchange Type, Flags, Message ID, Length. */
const HEADER_FIELDS: Field[] = [{ at: 16, size: 1 }, { at: 17, size: 1 }, { at: 18, size: 1 }, { at: 19, size: 1 }, { at: 20, size: 4 }, { at: 24, size: 4 }];

/* ------------------------------------------------------------------ mutations */

function setField(m: Uint8Array, f: Field, rng: Rng): void {
  if (f.at + f.size > m.length) return;
  let v = 0;
  for (let i = 0; i < f.size; i++) v = v * 256 + m[f.at + i];
  const modulus = 2 ** (8 * f.size);
  const choices = [0, 1, v + 1, v - 1, v + 4, v - 4, modulus - 1, rng.u32(), v * 2, rng.int(17), v >> 1, modulus >> 1];
  let n = ((rng.pick(choices) % modulus) + modulus) % modulus;
  for (let i = f.size - 1; i >= 0; i--) {
    m[f.at + i] = n & 0xff;
    n = Math.floor(n / 256);
  }
}

/**
 * One to three of: a structural field set wrong, bytes flipped, a truncation (mostly after
 * `keep` bytes), random bytes appended, a byte set to a boundary value, a range cut out, a
 * range copied over another.
 */
function mutate(rng: Rng, base: Uint8Array, fields: readonly Field[], keep: number): Uint8Array {
  let m = base.slice();
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) {
    const op = rng.int(13);
    if (op < 5 && fields.length > 0) {
      setField(m, rng.pick(fields), rng);
    } else if (op < 7 && m.length > 0) {
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) m[rng.int(m.length)] ^= 1 + rng.int(255);
    } else if (op < 9) {
      const cut = m.length > keep && rng.chance(0.8) ? keep + rng.int(m.length - keep) : rng.int(m.length + 1);
      m = m.slice(0, cut);
    } else if (op < 10) {
      const extra = rng.bytes(1 + rng.int(24));
      const longer = new Uint8Array(m.length + extra.length);
      longer.set(m);
      longer.set(extra, m.length);
      m = longer;
    } else if (op < 11 && m.length > 0) {
      m[rng.int(m.length)] = rng.pick([0, 0xff, 0x80, 0x7f, 1]);
    } else if (op < 12 && m.length > 0) {
      const at = rng.int(m.length);
      const len = Math.min(1 + rng.int(8), m.length - at);
      const shorter = new Uint8Array(m.length - len);
      shorter.set(m.subarray(0, at));
      shorter.set(m.subarray(at + len), at);
      m = shorter;
    } else if (m.length > 1) {
      const from = rng.int(m.length);
      const to = rng.int(m.length);
      const len = Math.min(1 + rng.int(16), m.length - from, m.length - to);
      m.copyWithin(to, from, from + len);
    }
  }
  return m;
}

/* ------------------------------------------------------------------ templates */

const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i * 29) & 0xff);
const none = new Uint8Array(0);
const notify = (notifyType: number, data: Uint8Array = none, protocol = 0, spi: Uint8Array = none): Payload => ({ type: PayloadType.NOTIFY, protocol, spi, notifyType, data });
/** A payload of a known type with a raw body (the codec writes its generic header): a body the typed encoder would not make. */
const raw = (payloadType: number, data: Uint8Array, critical = false): Payload => ({ type: PayloadType.NONE, payloadType, critical, data });
const v4ts = (a: number, b: number) => ({ tsType: TsType.IPV4_ADDR_RANGE, protocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.of(10, a, 0, 0), endAddress: Uint8Array.of(10, a, 255, b) });
const v6ts = { tsType: TsType.IPV6_ADDR_RANGE, protocol: 17, startPort: 500, endPort: 4500, startAddress: fill(16, 3), endAddress: fill(16, 200) };

/** Every payload type (§3.3-§3.16, RFC 7383 §2.5, unknown ones), each alone in a template too. */
function everyPayload(): Payload[] {
  return [
    {
      type: PayloadType.SA,
      proposals: [
        { number: 1, protocol: ProtocolId.IKE, spi: none, transforms: [{ type: 1, id: 20, keyBits: 128 }, { type: 2, id: 5 }, { type: 4, id: 31 }] },
        { number: 2, protocol: ProtocolId.IKE, spi: none, transforms: [{ type: 1, id: 12, keyBits: 256 }, { type: 2, id: 5 }, { type: 3, id: 12 }, { type: 4, id: 14 }] },
        { number: 3, protocol: ProtocolId.ESP, spi: fill(4, 9), transforms: [{ type: 1, id: 20, keyBits: 128 }, { type: 5, id: 0 }] },
      ],
    },
    { type: PayloadType.KE, group: 31, data: fill(32, 1) },
    { type: PayloadType.IDi, idType: 2, data: fill(18, 2) },
    { type: PayloadType.IDr, idType: 1, data: Uint8Array.of(198, 51, 100, 2) },
    { type: PayloadType.CERT, encoding: 4, data: fill(48, 3) },
    { type: PayloadType.CERTREQ, encoding: 4, data: fill(20, 4) },
    { type: PayloadType.AUTH, method: 2, data: fill(32, 5) },
    { type: PayloadType.NONCE, nonce: fill(32, 6) },
    notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, fill(4, 7)),
    notify(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, 19)),
    { type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4, spis: [fill(4, 8), fill(4, 9)] },
    { type: PayloadType.DELETE, protocol: ProtocolId.IKE, spiSize: 0, spis: [] },
    { type: PayloadType.VENDOR_ID, data: fill(16, 10) },
    { type: PayloadType.TSi, selectors: [v4ts(1, 255), v6ts] },
    { type: PayloadType.TSr, selectors: [v4ts(2, 255)] },
    { type: PayloadType.CP, cfgType: 1, attributes: Uint8Array.of(0, 1, 0, 0, 0, 3, 0, 0) },
    { type: PayloadType.EAP, data: Uint8Array.of(2, 1, 0, 5, 1) },
    raw(200, fill(6, 11), true),
    raw(49, fill(6, 12), false),
    { type: PayloadType.SK, firstPayload: PayloadType.IDi, data: fill(64, 13) },
    { type: PayloadType.SKF, firstPayload: PayloadType.IDi, fragmentNumber: 1, totalFragments: 2, data: fill(48, 14) },
  ];
}

interface Template {
  name: string;
  /** the message (family a) or the inner payload chain (family b) */
  bytes: Uint8Array;
  fields: Field[];
  /** family b: the exchange and the first inner payload type */
  exchange: number;
  first: number;
}

const PLACEHOLDER: MessageHeader = { spiI: fill(8, 1), spiR: new Uint8Array(8), exchangeType: ExchangeType.IKE_SA_INIT, initiator: true, higherVersion: false, response: false, messageId: 0 };

function messageTemplate(name: string, payloads: Payload[], exchange: number = ExchangeType.IKE_SA_INIT): Template {
  const bytes = encodeMessage({ ...PLACEHOLDER, exchangeType: exchange }, payloads);
  return { name, bytes, fields: chainFields(bytes, 28, bytes.length, bytes[16], [...HEADER_FIELDS]), exchange, first: bytes[16] };
}

function innerTemplate(name: string, exchange: number, payloads: Payload[]): Template {
  const bytes = encodePayloadChain(payloads);
  const first = payloads.length > 0 ? wireType(payloads[0]) : PayloadType.NONE;
  return { name, bytes, fields: chainFields(bytes, 0, bytes.length, first, []), exchange, first };
}

/** Family a: IKE_SA_INIT-like requests (as the configuration would accept them), the other exchanges' shapes, every payload alone. */
function plainTemplates(proposals: ConnectionConfig['proposals']): { init: Template[]; all: Template[] } {
  const p = everyPayload();
  const [sa, ke, idi, idr, cert, certreq, auth, nonce, rekey, invalidKe, del, delIke, vid, tsi, tsr, cp, eap, critical, unknown, sk, skf] = p;
  // the connection's own offer, so that unmutated requests are admitted (half-open SAs, cookies, the hard limit)
  const ikeOffer: Payload = { type: PayloadType.SA, proposals: wireProposals(proposals, ProtocolId.IKE, none) };
  const natd = [notify(NotifyType.NAT_DETECTION_SOURCE_IP, fill(20, 20)), notify(NotifyType.NAT_DETECTION_DESTINATION_IP, fill(20, 21))];
  const frag = notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
  const sigHash = notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, Uint8Array.of(0, 2, 0, 3, 0, 4));
  const init = [
    messageTemplate('IKE_SA_INIT', [ikeOffer, ke, nonce, ...natd, frag, sigHash]),
    messageTemplate('IKE_SA_INIT, several proposals', [sa, ke, nonce, ...natd, vid]),
    messageTemplate('IKE_SA_INIT with a COOKIE', [notify(NotifyType.COOKIE, fill(36, 22)), ikeOffer, ke, nonce, ...natd]),
    messageTemplate('IKE_SA_INIT, KE of another group', [ikeOffer, { type: PayloadType.KE, group: 19, data: fill(64, 23) }, nonce]),
    messageTemplate('IKE_SA_INIT, critical unknown payload', [ikeOffer, ke, critical, nonce]),
    messageTemplate('IKE_SA_INIT, unknown payload', [unknown, ikeOffer, ke, nonce, ...natd]),
    messageTemplate('IKE_SA_INIT, everything', [ikeOffer, ke, nonce, idi, cert, certreq, auth, vid, cp, eap, tsi, tsr, del, unknown]),
  ];
  const all = [
    ...init,
    messageTemplate('IKE_AUTH shape', [idi, cert, certreq, idr, auth, notify(NotifyType.INITIAL_CONTACT), cp, sa, tsi, tsr, eap], ExchangeType.IKE_AUTH),
    messageTemplate('CREATE_CHILD_SA shape', [rekey, sa, nonce, ke, tsi, tsr], ExchangeType.CREATE_CHILD_SA),
    messageTemplate('INFORMATIONAL shape', [del, delIke, invalidKe, vid, cp], ExchangeType.INFORMATIONAL),
    messageTemplate('SK', [sk], ExchangeType.IKE_AUTH),
    messageTemplate('payloads then SK', [vid, unknown, sk], ExchangeType.INFORMATIONAL),
    messageTemplate('SKF', [skf], ExchangeType.IKE_AUTH),
    messageTemplate('no payloads', [], ExchangeType.INFORMATIONAL),
    ...p.map((one) => messageTemplate(`payload ${wireType(one)} alone`, [one])),
  ];
  return { init, all };
}

/**
 * Family b: requests from the peer that the engine must refuse (or answer without changing an
 * SA): each a valid request with one defect. `sa` is the engine's established IKE SA; the
 * peer names its own inbound SPI (our spiOut) in Deletes and REKEY_SA, so SPIs other than
 * that one, or that one under another protocol, must not touch the CHILD SA.
 */
function authenticatedTemplates(sa: IkeSa, rng: Rng): Template[] {
  const child = sa.children[0];
  const theirs = spiBytes(child.installed.spiOut);
  const ours = spiBytes(child.installed.spiIn);
  let fake = spiBytes(rng.u32());
  while (toHex(fake) === toHex(theirs) || toHex(fake) === toHex(ours)) fake = spiBytes(rng.u32());
  const esp = (spi: Uint8Array = fill(4, 40)): Payload => ({ type: PayloadType.SA, proposals: wireProposals(child.config.esp_proposals, ProtocolId.ESP, spi) });
  const ike = (spi: Uint8Array): Payload => ({ type: PayloadType.SA, proposals: wireProposals(sa.connection.proposals, ProtocolId.IKE, spi) });
  const nonce: Payload = { type: PayloadType.NONCE, nonce: fill(32, 41) };
  // the CREATE_CHILD_SA initiator is the peer: TSi is its side (our remote), TSr ours
  const tsi = tsPayload(PayloadType.TSi, child.tsRemote);
  const tsr = tsPayload(PayloadType.TSr, child.tsLocal);
  const elsewhere = { type: PayloadType.TSr, selectors: [{ ...v4ts(0, 255), startAddress: Uint8Array.of(192, 168, 0, 0), endAddress: Uint8Array.of(192, 168, 0, 255) }] } as Payload;
  const ke = (group: number, n: number): Payload => ({ type: PayloadType.KE, group, data: fill(n, 42) });
  const group = sa.keGroup;
  const pfs = child.config.esp_proposals.some((p) => p.ke.some((t) => t.id !== 0));
  // a KE the CHILD SA request cannot use: with PFS one of the right group but a wrong length, else any
  const badChildKe = pfs ? ke(31, 31) : ke(31, 32);
  const childKe = pfs ? [ke(31, 32)] : [];
  const C = ExchangeType.CREATE_CHILD_SA;
  const I = ExchangeType.INFORMATIONAL;
  const deleteBody = (protocol: number, spiSize: number, count: number, spis: Uint8Array[]) => {
    const out = new Uint8Array(4 + spis.reduce((n, s) => n + s.length, 0));
    out[0] = protocol;
    out[1] = spiSize;
    out[2] = count >> 8;
    out[3] = count & 0xff;
    let at = 4;
    for (const s of spis) {
      out.set(s, at);
      at += s.length;
    }
    return out;
  };
  const del = (protocol: number, spis: Uint8Array[]): Payload => ({ type: PayloadType.DELETE, protocol, spiSize: 4, spis });
  const p = everyPayload();
  return [
    // CREATE_CHILD_SA for a new CHILD SA, one defect each
    innerTemplate('new CHILD SA without a nonce', C, [esp(), ...childKe, tsi, tsr]),
    innerTemplate('new CHILD SA without TSr', C, [esp(), nonce, ...childKe, tsi]),
    innerTemplate('new CHILD SA without TSi', C, [esp(), nonce, ...childKe, tsr]),
    innerTemplate('new CHILD SA, TSr outside our policy', C, [esp(), nonce, ...childKe, tsi, elsewhere]),
    innerTemplate('new CHILD SA, unknown encryption', C, [{ type: PayloadType.SA, proposals: [{ number: 1, protocol: ProtocolId.ESP, spi: fill(4, 43), transforms: [{ type: 1, id: 1000, keyBits: 128 }] }] }, nonce, tsi, tsr]),
    innerTemplate('new CHILD SA, AH proposal', C, [{ type: PayloadType.SA, proposals: wireProposals(child.config.esp_proposals, ProtocolId.AH, fill(4, 44)) }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('new CHILD SA, ESP proposal with an 8-byte SPI', C, [raw(PayloadType.SA, encodePayloadChain([esp(fill(8, 45))]).subarray(4)), nonce, tsi, tsr]),
    innerTemplate('new CHILD SA, KE it cannot use', C, [esp(), nonce, badChildKe, tsi, tsr]),
    innerTemplate('new CHILD SA, KE of another group', C, [esp(), nonce, ke(19, 64), tsi, tsr]),
    innerTemplate('new CHILD SA, empty KE', C, [esp(), nonce, ke(31, 0), tsi, tsr]),
    innerTemplate('new CHILD SA, SA payload without proposals', C, [raw(PayloadType.SA, none), nonce, tsi, tsr]),
    innerTemplate('empty CREATE_CHILD_SA', C, []),
    // CHILD rekeys of SAs that are not there (or not the peer's to name)
    innerTemplate('REKEY_SA of an unknown SPI', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, fake), esp(), nonce, ...childKe, tsi, tsr]),
    innerTemplate('REKEY_SA of our own inbound SPI', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, ours), esp(), nonce, ...childKe, tsi, tsr]),
    innerTemplate('REKEY_SA of the SPI as AH', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.AH, theirs), esp(), nonce, ...childKe, tsi, tsr]),
    innerTemplate('REKEY_SA with an 8-byte SPI', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, Uint8Array.of(...theirs, 0, 0, 0, 0)), esp(), nonce, ...childKe, tsi, tsr]),
    innerTemplate('REKEY_SA with a 255-byte SPI', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, fill(255, 46)), esp(), nonce, ...childKe, tsi, tsr]),
    innerTemplate('REKEY_SA for the IKE SA, no SPI', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.IKE), esp(), nonce, tsi, tsr, badChildKe]),
    innerTemplate('REKEY_SA of the real SPI, garbage TS', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, theirs), esp(), nonce, ...childKe, raw(PayloadType.TSi, fill(12, 47)), tsr]),
    innerTemplate('REKEY_SA of the real SPI, no proposal we accept', C, [notify(NotifyType.REKEY_SA, none, ProtocolId.ESP, theirs), { type: PayloadType.SA, proposals: [{ number: 1, protocol: ProtocolId.ESP, spi: fill(4, 48), transforms: [{ type: 1, id: 12, keyBits: 192 }] }] }, nonce, tsi, tsr]),
    // IKE SA rekeys with one defect
    innerTemplate('IKE rekey, KE of a wrong length', C, [ike(fill(8, 50)), nonce, ke(group, 31)]),
    innerTemplate('IKE rekey, empty KE', C, [ike(fill(8, 51)), nonce, ke(group, 0)]),
    innerTemplate('IKE rekey, KE of another group', C, [ike(fill(8, 52)), nonce, ke(19, 64)]),
    innerTemplate('IKE rekey without KE', C, [ike(fill(8, 53)), nonce]),
    innerTemplate('IKE rekey without nonce', C, [ike(fill(8, 54)), ke(group, 32)]),
    innerTemplate('IKE rekey without a new SPI', C, [ike(none), nonce, ke(group, 32)]),
    innerTemplate('IKE rekey with a 4-byte SPI', C, [raw(PayloadType.SA, encodePayloadChain([ike(fill(4, 55))]).subarray(4)), nonce, ke(group, 32)]),
    innerTemplate('IKE and ESP proposals together, bad KE', C, [{ type: PayloadType.SA, proposals: [...wireProposals(sa.connection.proposals, ProtocolId.IKE, fill(8, 56)), ...wireProposals(child.config.esp_proposals, ProtocolId.ESP, fill(4, 57)).map((x, i) => ({ ...x, number: i + 2 }))] }, nonce, ke(group, 33), tsi, tsr]),
    // INFORMATIONAL: deletes that must not delete, notifies, anything
    innerTemplate('Delete of unknown ESP SPIs', I, [del(ProtocolId.ESP, [fake, fill(4, 60), fill(4, 61)])]),
    innerTemplate('Delete of our own inbound SPI', I, [del(ProtocolId.ESP, [ours])]),
    innerTemplate('Delete of the SPI as AH', I, [del(ProtocolId.AH, [theirs])]),
    innerTemplate('Delete of the SPI under protocol 7', I, [del(7, [theirs])]),
    innerTemplate('Delete of no SPIs', I, [del(ProtocolId.ESP, [])]),
    innerTemplate('Delete with 8-byte SPIs', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.ESP, 8, 1, [theirs, fake]))]),
    innerTemplate('Delete with a count beyond its SPIs', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.ESP, 4, 3, [theirs, fake]))]),
    innerTemplate('Delete with a count of 65535', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.ESP, 4, 65535, [fake]))]),
    innerTemplate('Delete of the IKE SA with an SPI', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.IKE, 4, 1, [theirs]))]),
    innerTemplate('Delete of the IKE SA with an 8-byte SPI', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.IKE, 8, 1, [sa.spiI]))]),
    innerTemplate('Delete with SPI size 0 for ESP', I, [raw(PayloadType.DELETE, deleteBody(ProtocolId.ESP, 0, 1, []))]),
    innerTemplate('Notify with a 255-byte SPI', I, [notify(NotifyType.INVALID_SPI, fill(8, 62), ProtocolId.ESP, fill(255, 63))]),
    innerTemplate('Notify whose SPI size runs past it', I, [raw(PayloadType.NOTIFY, Uint8Array.of(3, 200, 0x40, 0x09, 1, 2, 3))]),
    innerTemplate('error notifies', I, [notify(NotifyType.INVALID_SYNTAX), notify(NotifyType.AUTHENTICATION_FAILED), notify(NotifyType.TEMPORARY_FAILURE), notify(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0))]),
    innerTemplate('status notifies', I, [notify(NotifyType.INITIAL_CONTACT), notify(NotifyType.SET_WINDOW_SIZE, Uint8Array.of(0, 0, 0, 0)), notify(NotifyType.COOKIE2, fill(8, 64)), notify(NotifyType.UPDATE_SA_ADDRESSES)]),
    innerTemplate('critical unknown payload', I, [p[12], raw(201, fill(5, 65), true)]),
    innerTemplate('every payload', I, p.filter((x) => x.type !== PayloadType.SK && x.type !== PayloadType.SKF && !(x.type === PayloadType.NONE && x.critical) && !(x.type === PayloadType.DELETE && x.protocol === ProtocolId.IKE))),
    innerTemplate('liveness check', I, []),
    // the other exchanges
    innerTemplate('IKE_AUTH on an established SA', ExchangeType.IKE_AUTH, [p[2], p[6], esp(), tsi, tsr]),
    innerTemplate('IKE_INTERMEDIATE (RFC 9242)', 43, [p[12], p[1]]),
    innerTemplate('unknown exchange', 200, [notify(NotifyType.COOKIE2, fill(8, 66))]),
  ];
}

/**
 * Family b, responses: what the peer might answer to an exchange the engine started (a CHILD
 * SA rekey or a new one, an IKE SA rekey, a liveness check), each the valid answer with one
 * defect, or an error notify. The engine must refuse them without losing its SAs.
 */
function responseTemplates(sa: IkeSa): { child: Template[]; ike: Template[]; liveness: Template[] } {
  const child = sa.children[0];
  const C = ExchangeType.CREATE_CHILD_SA;
  const I = ExchangeType.INFORMATIONAL;
  const chosen = { ...wireProposals(child.config.esp_proposals, ProtocolId.ESP, fill(4, 70))[0], number: 1 };
  const answer: Payload = { type: PayloadType.SA, proposals: [chosen] };
  const nonce: Payload = { type: PayloadType.NONCE, nonce: fill(32, 71) };
  const ke = (group: number, n: number): Payload => ({ type: PayloadType.KE, group, data: fill(n, 72) });
  const pfs = child.config.esp_proposals.some((p) => p.ke.some((t) => t.id !== 0));
  const childKe = pfs ? [ke(31, 32)] : [];
  // the engine started the exchange: TSi is its side
  const tsi = tsPayload(PayloadType.TSi, child.tsLocal);
  const tsr = tsPayload(PayloadType.TSr, child.tsRemote);
  const error = (type: number, data: Uint8Array = none) => innerTemplate(`error ${type}`, C, [notify(type, data)]);
  const unknownEncr = { ...chosen, transforms: chosen.transforms.map((t) => (t.type === 1 ? { ...t, id: 1000 } : t)) };
  const withEsn = { ...chosen, transforms: [...chosen.transforms.filter((t) => t.type !== 5), { type: 5, id: 1 }] };
  const childTemplates = [
    error(NotifyType.NO_PROPOSAL_CHOSEN), error(NotifyType.TS_UNACCEPTABLE), error(NotifyType.TEMPORARY_FAILURE),
    error(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, 19)), error(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(19)),
    error(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, 31)), error(NotifyType.CHILD_SA_NOT_FOUND), error(NotifyType.INVALID_SYNTAX), error(9999),
    innerTemplate('two proposals', C, [{ type: PayloadType.SA, proposals: [chosen, { ...chosen, number: 2 }] }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('a proposal not offered', C, [{ type: PayloadType.SA, proposals: [unknownEncr] }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('ESN not offered', C, [{ type: PayloadType.SA, proposals: [withEsn] }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('no transforms', C, [{ type: PayloadType.SA, proposals: [{ ...chosen, transforms: [] }] }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('AH answer', C, [{ type: PayloadType.SA, proposals: [{ ...chosen, protocol: ProtocolId.AH }] }, nonce, ...childKe, tsi, tsr]),
    innerTemplate('8-byte SPI', C, [raw(PayloadType.SA, encodePayloadChain([{ type: PayloadType.SA, proposals: [{ ...chosen, spi: fill(8, 73) }] }]).subarray(4)), nonce, ...childKe, tsi, tsr]),
    innerTemplate('no SA', C, [nonce, ...childKe, tsi, tsr]),
    innerTemplate('no nonce', C, [answer, ...childKe, tsi, tsr]),
    innerTemplate('no TSi', C, [answer, nonce, ...childKe, tsr]),
    innerTemplate('no TSr', C, [answer, nonce, ...childKe, tsi]),
    // (a TSi wider than offered is no defect here: the engine installs its intersection with the offer, §2.9)
    innerTemplate('TSi outside the offer', C, [answer, nonce, ...childKe, { type: PayloadType.TSi, selectors: [{ ...v4ts(0, 255), startAddress: Uint8Array.of(192, 168, 7, 0), endAddress: Uint8Array.of(192, 168, 7, 255) }] }, tsr]),
    innerTemplate('TSr of another family', C, [answer, nonce, ...childKe, tsi, { type: PayloadType.TSr, selectors: [v6ts] }]),
    innerTemplate('critical unknown payload', C, [answer, nonce, ...childKe, tsi, tsr, raw(202, fill(3, 74), true)]),
    innerTemplate('empty', C, []),
    ...(pfs ? [
      innerTemplate('no KE', C, [answer, nonce, tsi, tsr]),
      innerTemplate('KE of another group', C, [answer, nonce, ke(19, 64), tsi, tsr]),
      innerTemplate('KE of a wrong length', C, [answer, nonce, ke(31, 31), tsi, tsr]),
      innerTemplate('empty KE', C, [answer, nonce, ke(31, 0), tsi, tsr]),
    ] : []),
  ];
  const ikeChosen = { ...wireProposals(sa.connection.proposals, ProtocolId.IKE, fill(8, 75))[0], number: 1 };
  const ikeAnswer: Payload = { type: PayloadType.SA, proposals: [ikeChosen] };
  const group = sa.keGroup;
  const ikeTemplates = [
    error(NotifyType.NO_PROPOSAL_CHOSEN), error(NotifyType.TEMPORARY_FAILURE), error(NotifyType.INVALID_KE_PAYLOAD, Uint8Array.of(0, 19)),
    innerTemplate('IKE answer with a 4-byte SPI', C, [raw(PayloadType.SA, encodePayloadChain([{ type: PayloadType.SA, proposals: [{ ...ikeChosen, spi: fill(4, 76) }] }]).subarray(4)), nonce, ke(group, 32)]),
    innerTemplate('IKE answer without SPI', C, [{ type: PayloadType.SA, proposals: [{ ...ikeChosen, spi: none }] }, nonce, ke(group, 32)]),
    innerTemplate('IKE answer, two proposals', C, [{ type: PayloadType.SA, proposals: [ikeChosen, { ...ikeChosen, number: 2 }] }, nonce, ke(group, 32)]),
    innerTemplate('IKE answer not offered', C, [{ type: PayloadType.SA, proposals: [{ ...ikeChosen, transforms: ikeChosen.transforms.map((t) => (t.type === 1 ? { ...t, id: 1000 } : t)) }] }, nonce, ke(group, 32)]),
    innerTemplate('IKE answer, ESP proposal', C, [answer, nonce, ke(group, 32)]),
    innerTemplate('IKE answer without KE', C, [ikeAnswer, nonce]),
    innerTemplate('IKE answer without nonce', C, [ikeAnswer, ke(group, 32)]),
    innerTemplate('IKE answer, KE of a wrong length', C, [ikeAnswer, nonce, ke(group, 31)]),
    innerTemplate('IKE answer, KE of another group', C, [ikeAnswer, nonce, ke(19, 64)]),
    innerTemplate('empty', C, []),
  ];
  const p = everyPayload();
  const liveness = [
    innerTemplate('empty', I, []),
    innerTemplate('error notify', I, [notify(NotifyType.INVALID_SYNTAX)]),
    innerTemplate('Delete', I, [{ type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4, spis: [fill(4, 77)] }]),
    innerTemplate('Delete of the IKE SA', I, [p[11]]),
    innerTemplate('anything', I, p.filter((x) => x.type !== PayloadType.SK && x.type !== PayloadType.SKF && !(x.type === PayloadType.NONE && x.critical))),
  ];
  return { child: childTemplates, ike: ikeTemplates, liveness };
}

const noTemplates = () => ({ child: [] as Template[], ike: [] as Template[], liveness: [] as Template[] });

/* ------------------------------------------------------------------ sealing forged messages */

/** The message `header` + SK{inner} sealed with `cipher` (the sender's keys), as protect.ts would, but from raw inner bytes. */
function seal(cipher: SkCipher, header: MessageHeader, first: number, inner: Uint8Array, rng: Rng, badPad = false): Uint8Array {
  const bs = cipher.blockSize;
  const padLength = (bs - ((inner.length + 1) % bs)) % bs;
  const plainLength = inner.length + padLength + 1;
  const m = encodeMessage(header, [{ type: PayloadType.SK, firstPayload: first, data: new Uint8Array(cipher.ivLength + plainLength + cipher.icvLength) }]);
  const ivAt = 28 + 4;
  const plainAt = ivAt + cipher.ivLength;
  for (let i = 0; i < cipher.ivLength; i++) m[ivAt + i] = rng.u32() & 0xff;
  m.set(inner, plainAt);
  // §3.14: a Pad Length beyond the plaintext is a syntax error inside an authentic message
  m[plainAt + plainLength - 1] = badPad && plainLength < 256 ? plainLength + rng.int(256 - plainLength) : padLength;
  cipher.seal(m, ivAt, plainAt, plainLength);
  return m;
}

/** One SKF fragment (RFC 7383 §2.5) sealed with `cipher`, the fragment's own header in the AAD / ICV. */
function sealFragment(cipher: SkCipher, header: MessageHeader, first: number, number: number, total: number, piece: Uint8Array, rng: Rng): Uint8Array {
  const bs = cipher.blockSize;
  const padLength = (bs - ((piece.length + 1) % bs)) % bs;
  const plainLength = piece.length + padLength + 1;
  const m = encodeMessage(header, [{ type: PayloadType.SKF, firstPayload: first, fragmentNumber: number, totalFragments: total, data: new Uint8Array(cipher.ivLength + plainLength + cipher.icvLength) }]);
  const ivAt = 28 + 4 + 4;
  const plainAt = ivAt + cipher.ivLength;
  for (let i = 0; i < cipher.ivLength; i++) m[ivAt + i] = rng.u32() & 0xff;
  m.set(piece, plainAt);
  m[plainAt + plainLength - 1] = padLength;
  cipher.seal(m, ivAt, plainAt, plainLength);
  return m;
}

/* ------------------------------------------------------------------ the fuzzer */

const isResponse = (d: Uint8Array) => d.length >= 28 && (d[19] & 0x20) !== 0;
const messageIdOf = (d: Uint8Array) => d.length >= 28 ? ((d[20] << 24) | (d[21] << 16) | (d[22] << 8) | d[23]) >>> 0 : -1;
const other = (p: Pair, s: Side) => (s === p.a ? p.b : p.a);

/** The established SAs of a side as text: SPIs, state, role, CHILD SAs (SPIs, state); its PF_KEY SAs and SPD entries. */
function fingerprint(side: Side): string {
  const sas = established(side).map((sa) => `${toHex(sa.spiI)}/${toHex(sa.spiR)} ${sa.state} ${sa.initiator ? 'I' : 'R'} [${sa.children.map((c) => `${c.installed.spiIn}:${c.installed.spiOut}:${c.state}`).join(' ')}]`);
  const spd = (['out', 'in'] as const).flatMap((d) => side.spd.entries(d).map((e) => `${e.name}/${e.direction}/${e.action}/${e.spi}`));
  return `${sas.join('; ')} | pfkey ${side.pfkey.size} | spd ${spd.join(' ')}`;
}

interface FuzzOptions {
  name: string;
  seed: number;
  inputs: number;
  docA: unknown;
  docB: unknown;
  /** inputs between full checks (and a clock advance past the half-open timeout) */
  batch?: number;
}

const COOKIES_B = { threshold: 8, hardLimit: 16 };
/** A admits half-open SAs up to the hard limit without cookies: the limit itself is hit */
const COOKIES_A = { threshold: 12, hardLimit: 12 };
const HALF_OPEN_TIMEOUT = 30_000;

class Fuzzer {
  readonly p: Pair;
  readonly rng: Rng;
  readonly crypto: Crypto;
  readonly counts = { a: 0, b: 0, r: 0, c: 0, answered: 0, realigned: 0, legit: 0, halfOpenMax: 0, halfOpenLimit: 0, cookies: 0 };
  /** milliseconds spent per family (with the checks and realignments each input needs) */
  readonly ms = { truncations: 0, a: 0, b: 0, r: 0, c: 0, batches: 0 };
  /** why each legitimate state change was accepted */
  readonly legit = new Map<string, number>();
  /** the next request Message ID each side's responder window expects (the peer's next) */
  readonly expect = { a: 0, b: 0 };
  readonly snap = { a: '', b: '' };
  #plain: { init: Template[]; all: Template[] } = { init: [], all: [] };
  #auth = { a: [] as Template[], b: [] as Template[] };
  #responses = { a: noTemplates(), b: noTemplates() };
  #forging = new Map<IkeSa, SkCipher>();
  /** the last log lines of each side */
  readonly lines = { a: [] as string[], b: [] as string[] };
  /** what is being fed, for failure messages */
  current = '';
  input = 0;

  constructor(crypto: Crypto, readonly options: FuzzOptions) {
    this.crypto = crypto;
    this.rng = new Rng(options.seed);
    // logs go to a short ring (100,000 inputs would keep every line), never rate-limited
    const ring = (lines: string[]) => new Logger((line) => {
      lines.push(line);
      if (lines.length > 400) lines.splice(0, 200);
    }, { logging: { levels: { default: 2 } }, linesPerSecond: Number.MAX_SAFE_INTEGER, now: () => 0 });
    this.p = new Pair(crypto, options.docA, options.docB,
      { cookies: COOKIES_A, halfOpenTimeout: HALF_OPEN_TIMEOUT, log: ring(this.lines.a) },
      { cookies: COOKIES_B, log: ring(this.lines.b) });
    this.establish();
  }

  /* ---------------------------------------------------------------- state */

  establish(): void {
    const p = this.p;
    p.a.engine.startAll();
    p.run();
    this.require(established(p.a).length === 1 && established(p.b).length === 1, 'the pair establishes');
    this.require(this.sa(p.a).children.length === 1 && this.sa(p.b).children.length === 1, 'one CHILD SA each');
    // IKE_SA_INIT (0) and IKE_AUTH (1) came from A; B has sent no request yet
    this.expect.a = 0;
    this.expect.b = 2;
    this.snap.a = fingerprint(p.a);
    this.snap.b = fingerprint(p.b);
    if (this.#plain.all.length === 0) this.#plain = plainTemplates(this.sa(p.b).connection.proposals);
    this.#auth = { a: authenticatedTemplates(this.sa(p.a), this.rng), b: authenticatedTemplates(this.sa(p.b), this.rng) };
    this.#responses = { a: responseTemplates(this.sa(p.a)), b: responseTemplates(this.sa(p.b)) };
    this.#forging = new Map();
  }

  /** Tears both sides down (checking nothing stays in their data paths) and establishes again. */
  reset(): void {
    const p = this.p;
    for (const side of [p.a, p.b]) {
      for (const sa of side.engine.sas) sa.destroy(p.clock.now, 'fuzz reset');
      side.outbox.length = 0;
      this.require(side.engine.sas.length === 0, `${side.name}: no IKE SA left after the reset`);
      this.require(side.pfkey.size === 0, `${side.name}: the data path holds ${side.pfkey.size} SAs after every IKE SA was destroyed`);
      this.require(side.spd.entries('out').length + side.spd.entries('in').length === 0, `${side.name}: SPD entries left after every IKE SA was destroyed`);
    }
    this.establish();
  }

  sa(side: Side): IkeSa {
    const e = established(side);
    this.require(e.length === 1, `${side.name} has ${e.length} established IKE SAs`);
    return e[0];
  }

  /**
   * The peer's sending keys for the engine's SA (what forged messages are sealed with), one
   * per established SA, kept. On XS both engines, their ESP SAs and these share Mbed TLS's 32
   * PSA key slots; every key import beyond them forces a full collection first (crypto-psa.c),
   * which is most of this test's time on XS. Keeping these two saves a fifth of the
   * collections; keeping more (the engines' own keys, below) left the engines too few slots
   * at the peak of a CHILD rekey with PFS.
   */
  cipher(sa: IkeSa): SkCipher {
    let c = this.#forging.get(sa);
    if (!c) {
      c = skCipher(this.crypto, sa.algorithms!, skKeys(sa.keys!, !sa.initiator));
      this.#forging.set(sa, c);
    }
    return c;
  }

  /** The engine's own sending keys (what its requests to the peer are sealed with), made when needed, not kept. */
  ownCipher(sa: IkeSa): SkCipher {
    return skCipher(this.crypto, sa.algorithms!, skKeys(sa.keys!, sa.initiator));
  }

  require(condition: unknown, what: string): asserts condition {
    if (!condition) this.fail(what);
  }

  fail(what: string): never {
    const p = this.p;
    const tail = (s: Side) => this.lines[s.name].slice(-40).join('\n');
    throw new AssertionError(`${this.options.name}: ${what}\nseed 0x${this.options.seed.toString(16)}, input ${this.input}: ${this.current}\n--- A\n${tail(p.a)}\n--- B\n${tail(p.b)}`);
  }

  /** Internal errors, the established SAs against the snapshot, and what else each side holds. */
  check(what: string): void {
    const p = this.p;
    for (const side of [p.a, p.b]) {
      const e = side.engine;
      if (e.counters.internalErrors !== 0) this.fail(`${side.name}: ${e.counters.internalErrors} internal errors (${what})`);
      const fp = fingerprint(side);
      if (fp !== this.snap[side.name]) this.fail(`${side.name}'s established SAs changed (${what}):\n  was ${this.snap[side.name]}\n  now ${fp}`);
      let halfOpen = 0;
      for (const sa of e.sas) {
        if (sa.state === 'established') continue;
        if (sa.state !== 'connecting' || sa.initiator) this.fail(`${side.name}: an IKE SA in state ${sa.state}${sa.initiator ? ' (initiator)' : ''} beside the established one (${what})`);
        halfOpen++;
      }
      const limit = side === p.a ? COOKIES_A.hardLimit : COOKIES_B.hardLimit;
      if (halfOpen > limit || e.halfOpen > limit) this.fail(`${side.name}: ${halfOpen} half-open SAs (${e.halfOpen} counted), above the hard limit ${limit}`);
      if (halfOpen > this.counts.halfOpenMax) this.counts.halfOpenMax = halfOpen;
    }
  }

  /** The established SAs of both sides as in the snapshot (the per-input check; check() is the whole one). */
  unchanged(what: string): void {
    for (const side of [this.p.a, this.p.b]) {
      const fp = fingerprint(side);
      if (fp !== this.snap[side.name]) this.fail(`${side.name}'s established SAs changed (${what}):\n  was ${this.snap[side.name]}\n  now ${fp}`);
    }
  }

  /** The half-open SAs go once the clock passes the half-open timeout (§2.6, strongSwan's half_open_timeout). */
  expireHalfOpen(): void {
    const p = this.p;
    p.a.outbox.length = 0;
    p.b.outbox.length = 0;
    p.advance(HALF_OPEN_TIMEOUT + 1000, HALF_OPEN_TIMEOUT + 1000);
    for (const side of [p.a, p.b]) {
      const left = side.engine.sas.filter((s) => s.state !== 'established');
      if (left.length > 0 || side.engine.halfOpen !== 0) this.fail(`${side.name}: ${left.length} half-open SAs (${side.engine.halfOpen} counted) after the half-open timeout`);
    }
    this.check('after the half-open timeout');
  }

  /**
   * Feeds one datagram to a side; returns what it sent (the answers go to the fuzzer, not to
   * the peer). Internal errors fail at once.
   */
  feed(side: Side, bytes: Uint8Array, from: { address: string; port: number }, localPort: number): Uint8Array[] {
    this.input++;
    side.engine.receive(bytes, from, localPort);
    if (side.engine.counters.internalErrors !== 0) this.fail(`${side.name}: internal error`);
    return side.outbox.splice(0).map((d) => d.bytes);
  }

  /**
   * The engine answered a forged request `id` of `exchange` from its peer: the peer sends its
   * own request with that ID, answered from the engine's cache, and both windows agree again.
   */
  realign(target: Side, exchange: number, id: number): void {
    const peer = other(this.p, target);
    const psa = this.sa(peer);
    let done = false;
    const task: Task = { name: 'fuzz realign', exchange, build: () => 'done', process: () => ((done = true), 'done') };
    psa.queue([task], this.p.clock.now);
    const sent = peer.outbox[0]?.bytes;
    this.require(sent && messageIdOf(sent) === id, `the peer's next request is ${sent ? messageIdOf(sent) : 'not sent'}, the engine answered ${id}`);
    this.p.run();
    this.require(done && !psa.busy, `realigning ${id}: the peer got the cached answer`);
    this.expect[target.name] = id + 1;
    this.counts.realigned++;
  }

  /**
   * After an authenticated input the engine answered: the SAs may have changed only when the
   * request or the answer proves it legitimate; then the pair starts over.
   */
  afterAuthentic(target: Side, exchange: number, first: number, inner: Uint8Array, answer: Uint8Array | undefined, id: number): void {
    const p = this.p;
    const changed = fingerprint(p.a) !== this.snap.a || fingerprint(p.b) !== this.snap.b;
    if (!changed) {
      // the answer's exchange: a reassembled message has its first fragment's header
      if (answer) this.realign(target, answer[18], id);
      this.unchanged('after realigning');
      return;
    }
    const why = this.legitimate(target, exchange, first, inner, answer);
    if (!why) this.fail(`an authenticated request changed the SAs (${target.name} ${fingerprint(target)}; was ${this.snap[target.name]})`);
    if (env?.IKE_FUZZ_DEBUG) console.log(`accepted (${why}): ${this.current}`);
    this.accepted(why);
  }

  /** A legitimate change: counted by reason, and the pair starts over. */
  accepted(why: string): void {
    this.counts.legit++;
    this.legit.set(why, (this.legit.get(why) ?? 0) + 1);
    this.reset();
  }

  /** Why a change is legitimate: the request was a well-formed Delete of the IKE SA or of the real CHILD SA, or the engine accepted a proposal. */
  legitimate(target: Side, exchange: number, first: number, inner: Uint8Array, answer: Uint8Array | undefined): string | null {
    const sa = established(target)[0] ?? target.engine.sas.find((s) => s.state !== 'connecting');
    const chain = parsePayloadChain(inner, 0, inner.length, first);
    if (chain.ok && exchange === ExchangeType.INFORMATIONAL) {
      for (const d of chain.payloads) {
        if (d.type !== PayloadType.DELETE) continue;
        if (d.protocol === ProtocolId.IKE) return 'a Delete of the IKE SA';
        // the snapshot's CHILD SA: its outbound SPI is the peer's inbound one, what a Delete names
        if (d.protocol === ProtocolId.ESP && d.spis.some((s) => this.snap[target.name].includes(`:${(((s[0] << 24) | (s[1] << 16) | (s[2] << 8) | s[3]) >>> 0)}:installed`))) return 'a Delete of the CHILD SA';
      }
    }
    if (answer && sa?.keys && sa.algorithms) {
      const r = unprotectMessage(this.crypto, sa.algorithms, skKeys(sa.keys, sa.initiator), answer);
      if (r.ok && r.payloads.some((x) => x.type === PayloadType.SA)) return 'the engine accepted a proposal';
    }
    return null;
  }

  /* ---------------------------------------------------------------- family a */

  plain(target: Side): void {
    const rng = this.rng;
    const sa = this.sa(target);
    const kind = rng.weighted([[5, 'init'], [4, 'sa'], [1, 'half-open'], [1, 'unknown']] as const);
    const t = kind === 'init' && rng.chance(0.7) ? rng.pick(this.#plain.init) : rng.pick(this.#plain.all);
    const m = t.bytes.slice();
    let expectId = -1;
    if (kind === 'init') {
      m.set(rng.bytes(8), 0);
      m.fill(0, 8, 16);
      m[18] = ExchangeType.IKE_SA_INIT;
      m[19] = 0x08;
      writeU32(m, 20, 0);
    } else {
      const half = kind === 'half-open' ? target.engine.sas.find((s) => s.state === 'connecting') : undefined;
      const spis = kind === 'unknown' ? rng.bytes(16) : Uint8Array.of(...(half ?? sa).spiI, ...(half ?? sa).spiR);
      m.set(spis, 0);
      m[18] = rng.pick([34, 35, 36, 37, 37, 36, rng.u32() & 0xff]);
      const peerFlag = sa.initiator ? 0 : 0x08;
      m[19] = rng.weighted([[6, peerFlag], [2, peerFlag | 0x20], [1, peerFlag ^ 0x08], [1, rng.u32() & 0xff]] as const);
      expectId = this.expect[target.name];
      writeU32(m, 20, rng.pick([expectId, expectId, expectId - 1, expectId + 1, 0, 1, rng.u32(), 0xffffffff]) >>> 0);
    }
    // unmutated IKE_SA_INIT requests often enough to reach the cookie threshold and the hard limit
    const bytes = rng.chance(kind === 'init' ? 0.3 : 0.08) ? m : mutate(rng, m, t.fields, 28);
    if (bytes.length >= 28 && rng.chance(0.7)) writeU32(bytes, 24, bytes.length);
    this.current = `a/${kind} ${t.name}: ${toHex(bytes)}`;
    const from = rng.chance(0.85) ? { ...sa.remote } : { address: rng.pick(['203.0.113.7', '192.0.2.99', '2001:db8::1']), port: rng.pick([500, 4500, 1024 + rng.int(60000)]) };
    const out = this.feed(target, bytes, from, rng.chance(0.9) ? sa.localPort : 4500);
    this.counts.a++;
    for (const d of out) {
      if (!isResponse(d)) this.fail('the engine sent a request in answer to an unauthenticated message');
      // to an established SA, an unauthenticated message gets at most the cached answer again (§2.1)
      if (kind === 'sa' && bytes.length >= 16 && toHex(bytes.subarray(0, 16)) === toHex(Uint8Array.of(...sa.spiI, ...sa.spiR)) && messageIdOf(d) !== this.expect[target.name] - 1) {
        this.fail(`an unauthenticated message to the established SA was answered with Message ID ${messageIdOf(d)}`);
      }
    }
  }

  /**
   * Valid IKE_SA_INIT requests from new SPIs, more than the hard limit: B answers the ones
   * past its threshold with cookies (§2.6), A keeps half-open SAs up to its hard limit and
   * drops the rest; the checks after the batch see both bounds held.
   */
  burst(target: Side): void {
    const sa = this.sa(target);
    const t = this.#plain.init[0];
    const limit = target === this.p.a ? COOKIES_A.hardLimit : COOKIES_B.hardLimit;
    for (let i = 0; i < limit + 4; i++) {
      const m = t.bytes.slice();
      m.set(this.rng.bytes(8), 0);
      this.current = `a/burst: ${toHex(m)}`;
      const out = this.feed(target, m, { ...sa.remote }, sa.localPort);
      this.counts.a++;
      if (out.some((d) => !isResponse(d) || d[18] !== ExchangeType.IKE_SA_INIT)) this.fail('an IKE_SA_INIT request was answered with something else');
    }
  }

  /** Every truncation of every template, as an IKE_SA_INIT request and for the established SA, header Length fixed or not. */
  truncations(target: Side): void {
    const sa = this.sa(target);
    for (const t of this.#plain.all) {
      for (let n = 0; n < t.bytes.length; n++) {
        for (const asInit of [true, false]) {
          const m = t.bytes.slice(0, n);
          if (asInit) {
            if (n >= 16) m.fill(0, 8, 16);
            if (n >= 8) m.set(this.rng.bytes(8), 0);
          } else {
            if (n >= 16) m.set(Uint8Array.of(...sa.spiI, ...sa.spiR), 0);
            if (n >= 20) m[19] = sa.initiator ? 0 : 0x08;
          }
          if (n >= 28 && n % 2 === 0) writeU32(m, 24, n);
          this.current = `a/truncated ${t.name} to ${n}: ${toHex(m)}`;
          const out = this.feed(target, m, { ...sa.remote }, sa.localPort);
          this.counts.a++;
          if (!asInit && out.some((d) => !isResponse(d) || messageIdOf(d) !== this.expect[target.name] - 1)) this.fail('a truncated message to the established SA was answered other than from the cache');
        }
      }
    }
  }

  /* ---------------------------------------------------------------- family b */

  authentic(target: Side): void {
    const rng = this.rng;
    const sa = this.sa(target);
    const t = rng.pick(this.#auth[target.name]);
    const inner = rng.chance(0.15) ? t.bytes : mutate(rng, t.bytes, t.fields, 0);
    const first = rng.chance(0.05) ? rng.pick([0, 33, 34, 41, 42, 46, 53, 200]) : t.first;
    const exchange = rng.chance(0.05) ? rng.pick([34, 35, 36, 37, 43, 0, 255]) : t.exchange;
    const expect = this.expect[target.name];
    const id = rng.weighted([[92, expect], [3, expect - 1], [3, expect + 1], [2, rng.u32()]] as const) >>> 0;
    const response = rng.chance(0.03);
    const badPad = rng.chance(0.02);
    const bytes = seal(this.cipher(sa), { spiI: sa.spiI, spiR: sa.spiR, exchangeType: exchange, initiator: !sa.initiator, higherVersion: false, response, messageId: id }, first, inner, rng, badPad);
    this.current = `b ${t.name}${badPad ? ' (bad Pad Length)' : ''}, exchange ${exchange}, ${response ? 'response' : 'request'} ${id} (expected ${expect}), first payload ${first}: inner ${toHex(inner)}`;
    const out = this.feed(target, bytes, { ...sa.remote }, sa.localPort);
    this.counts.b++;
    const answer = out.find((d) => isResponse(d) && messageIdOf(d) === id);
    const expected = !response && id === expect && exchange !== ExchangeType.IKE_SA_INIT;
    // §2.21.3: once the IKE SA is authenticated, every request with an error gets an answer
    if (expected && !answer) this.fail('an authenticated request with the expected Message ID was not answered');
    if (!expected) {
      if (out.some((d) => !isResponse(d) || (messageIdOf(d) !== id || id !== expect - 1))) this.fail('the engine sent something for a message it had to drop or answer from its cache');
      this.unchanged('after an authenticated message that is not the next request');
      return;
    }
    this.counts.answered++;
    this.afterAuthentic(target, exchange, first, inner, answer, id);
  }

  /* ---------------------------------------------------------------- family b, responses */

  /**
   * The engine starts an exchange (CHILD rekey, new CHILD SA, IKE rekey, liveness check);
   * its request never reaches the peer: forged answers do, authenticated, malformed. Answers
   * that do not parse are dropped (responses are never answered); the first that parses ends
   * the exchange, and the engine must have refused it or (a mutation made it valid) accepted
   * it with an SA payload. Then the peer gets a request with that Message ID so the windows
   * agree again.
   */
  responses(target: Side): void {
    const rng = this.rng;
    const p = this.p;
    const sa = this.sa(target);
    const peer = other(p, target);
    const clock = () => p.clock.now;
    const child = sa.children[0];
    const kind = rng.weighted([[3, 'child rekey'], [2, 'new child'], [3, 'ike rekey'], [1, 'liveness']] as const);
    const task: Task = kind === 'child rekey' ? new ChildCreateInitiator(sa, child.config, clock, { rekey: child })
      : kind === 'new child' ? new ChildCreateInitiator(sa, child.config, clock)
        : kind === 'ike rekey' ? new IkeRekeyInitiator(sa, clock) : new LivenessCheck(sa);
    sa.queue([task], p.clock.now);
    const sent = target.outbox.splice(0).map((d) => d.bytes);
    this.require(sent.length === 1 && !isResponse(sent[0]), `${kind}: one request sent`);
    const id = messageIdOf(sent[0]);
    const exchange = sent[0][18];
    this.require(id === this.expect[peer.name], `the engine's request ${id}, the peer expects ${this.expect[peer.name]}`);
    const templates = this.#responses[target.name][kind === 'liveness' ? 'liveness' : kind === 'ike rekey' ? 'ike' : 'child'];
    const header: MessageHeader = { spiI: sa.spiI, spiR: sa.spiR, exchangeType: exchange, initiator: !sa.initiator, higherVersion: false, response: true, messageId: id };
    let taken: { inner: Uint8Array; first: number } | null = null;
    for (let k = 0; k < 6 && !taken; k++) {
      const t = rng.pick(templates);
      const inner = rng.chance(0.25) ? t.bytes : mutate(rng, t.bytes, t.fields, 0);
      const first = rng.chance(0.03) ? rng.pick([0, 33, 41, 200]) : t.first;
      const bytes = seal(this.cipher(sa), header, first, inner, rng);
      this.current = `r/${kind}: answer ${t.name}, ${exchangeName(exchange)} response ${id}, first payload ${first}: inner ${toHex(inner)}`;
      const out = this.feed(target, bytes, { ...sa.remote }, sa.localPort);
      this.counts.r++;
      if (sa.activeTasks.includes(task)) {
        if (out.length > 0) this.fail('the engine answered a response');
      } else {
        taken = { inner, first };
      }
    }
    if (!taken) {
      // none parsed: end the exchange with an answer the task understands
      const inner = encodePayloadChain(kind === 'liveness' ? [] : [notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
      const first = kind === 'liveness' ? PayloadType.NONE : PayloadType.NOTIFY;
      this.current = `r/${kind}: a refusal to end it`;
      this.feed(target, seal(this.cipher(sa), header, first, inner, rng), { ...sa.remote }, sa.localPort);
      this.require(!sa.activeTasks.includes(task), `${kind}: the refusal ended the exchange`);
      taken = { inner, first };
    }
    // a refused rekey is retried 2-5 s later (RFC 7296 §2.25-style): the harness cancels the
    // retry so that the established SAs stay comparable; the SAs themselves must be as they were
    if (kind === 'child rekey' && sa.children.includes(child) && child.state === 'installed') child.rekeyAt = 0;
    if (kind === 'ike rekey' && sa.state === 'established') sa.rekeyAt = 0;
    const changed = fingerprint(p.a) !== this.snap.a || fingerprint(p.b) !== this.snap.b || target.outbox.length > 0 || sa.busy;
    if (changed) {
      // legitimate only when the answer the engine took carried a proposal it accepted
      const chain = parsePayloadChain(taken.inner, 0, taken.inner.length, taken.first);
      if (!(chain.ok && chain.payloads.some((x) => x.type === PayloadType.SA) && kind !== 'liveness')) {
        this.fail(`an authenticated answer to the engine's ${kind} changed the SAs (${target.name} ${fingerprint(target)}; was ${this.snap[target.name]}; ${target.outbox.length} datagrams queued)`);
      }
      if (env?.IKE_FUZZ_DEBUG) console.log(`accepted: ${this.current}`);
      this.accepted(`the engine accepted an answer to its ${kind}`);
      return;
    }
    // the peer never saw request `id`: an empty one of the same exchange from the engine's keys
    const psa = this.sa(peer);
    const request = seal(this.ownCipher(sa), { ...header, initiator: sa.initiator, response: false }, PayloadType.NONE, none, rng);
    peer.engine.receive(request, { ...psa.remote }, psa.localPort);
    const out = peer.outbox.splice(0).map((d) => d.bytes);
    this.require(out.some((d) => isResponse(d) && messageIdOf(d) === id), `the peer answered the request ${id} it never saw`);
    this.expect[peer.name] = id + 1;
    this.counts.realigned++;
    this.unchanged(`after an answer to the engine's ${kind}`);
  }

  /* ---------------------------------------------------------------- family c */

  fragments(target: Side): void {
    const rng = this.rng;
    const sa = this.sa(target);
    const expect = this.expect[target.name];
    const header = (id: number, response: boolean): MessageHeader => ({ spiI: sa.spiI, spiR: sa.spiR, exchangeType: rng.chance(0.9) ? ExchangeType.INFORMATIONAL : rng.pick([35, 36, 200]), initiator: !sa.initiator, higherVersion: false, response, messageId: id });
    if (rng.chance(0.35)) {
      // unauthenticated: numbers, totals and data anything; most do not parse, the rest do not authenticate
      const total = rng.pick([0, 1, 2, 3, 64, 65, 0xffff, rng.u32() & 0xffff]);
      const number = rng.pick([0, 1, 2, total, total + 1, rng.u32() & 0xffff]) & 0xffff;
      const id = rng.pick([expect, expect, expect - 1, expect + 1, rng.u32()]) >>> 0;
      let m = encodeMessage(header(id, rng.chance(0.1)), [{ type: PayloadType.SKF, firstPayload: rng.pick([0, 37, 41, 42]), fragmentNumber: number, totalFragments: total, data: rng.bytes(rng.int(120)) }]);
      if (rng.chance(0.5)) m = mutate(rng, m, chainFields(m, 28, m.length, m[16], [...HEADER_FIELDS]), 28);
      if (m.length >= 28 && rng.chance(0.7)) writeU32(m, 24, m.length);
      this.current = `c/unauthenticated fragment ${number} of ${total}, id ${id}: ${toHex(m)}`;
      const out = this.feed(target, m, { ...sa.remote }, sa.localPort);
      this.counts.c++;
      for (const d of out) if (!isResponse(d) || messageIdOf(d) !== expect - 1) this.fail('an unauthenticated fragment was answered other than from the cache');
      return;
    }
    // authenticated fragments of one message: an inner chain from family b (mutated) or random bytes
    const t = rng.pick(this.#auth[target.name]);
    const inner = rng.chance(0.3) ? rng.bytes(rng.int(300)) : rng.chance(0.3) ? t.bytes : mutate(rng, t.bytes, t.fields, 0);
    const total = rng.weighted([[4, 1], [6, 2], [6, 3], [3, 5], [1, 64], [1, 65], [1, 200]] as const);
    const oversized = total === 64 && rng.chance(0.5);
    const id = rng.weighted([[85, expect], [5, expect - 1], [5, expect + 1], [5, rng.u32()]] as const) >>> 0;
    const response = rng.chance(0.04);
    const piece = Math.max(1, Math.ceil(inner.length / Math.min(total, 8)));
    const sends = Math.min(total + 2, 3 + rng.int(8));
    let exchange: number = ExchangeType.INFORMATIONAL;
    for (let k = 0; k < sends; k++) {
      // mostly in order, sometimes any number, repeated, out of range, or with another total
      const number = rng.chance(0.7) ? Math.min(k + 1, total) : rng.pick([1, total, 1 + rng.int(total), 0, total + 1]);
      const thisTotal = rng.chance(0.9) ? total : rng.pick([total - 1, total + 1, 0]);
      const data = oversized ? rng.bytes(1100) : inner.subarray(Math.min((number - 1) * piece, inner.length), Math.min(number * piece, inner.length));
      const h = header(id, response);
      if (k === 0) exchange = h.exchangeType;
      const m = sealFragment(this.cipher(sa), { ...h, exchangeType: exchange }, number === 1 ? t.first : 0, number & 0xffff, thisTotal & 0xffff, data, rng);
      this.current = `c/fragment ${number} of ${thisTotal} (${sends} sent of ${total}), ${response ? 'response' : 'request'} ${id} (expected ${expect}): inner ${toHex(inner)}`;
      const out = this.feed(target, m, { ...sa.remote }, sa.localPort);
      this.counts.c++;
      const answer = out.find((d) => isResponse(d) && messageIdOf(d) === id && id === expect && !response);
      if (answer) {
        this.counts.answered++;
        this.afterAuthentic(target, exchange, t.first, inner, answer, id);
        return;
      }
      for (const d of out) if (!isResponse(d) || messageIdOf(d) !== expect - 1) this.fail('a fragment was answered other than from the cache');
    }
    this.unchanged('after fragments');
  }

  /* ---------------------------------------------------------------- the run */

  run(): void {
    const p = this.p;
    const rng = this.rng;
    const batch = this.options.batch ?? 1000;
    // every truncation first, both engines
    let t0 = Date.now();
    this.truncations(p.b);
    this.truncations(p.a);
    this.check('after the truncations');
    this.expireHalfOpen();
    this.ms.truncations = Date.now() - t0;
    while (this.input < this.options.inputs) {
      const end = Math.min(this.options.inputs, this.input + batch);
      this.burst(p.a);
      this.burst(p.b);
      while (this.input < end) {
        const target = rng.chance(0.6) ? p.b : p.a;
        const family = rng.weighted([[50, 'a'], [25, 'b'], [7, 'r'], [18, 'c']] as const);
        const began = Date.now();
        if (family === 'a') this.plain(target);
        else if (family === 'b') this.authentic(target);
        else if (family === 'r') this.responses(target);
        else this.fragments(target);
        this.ms[family] += Date.now() - began;
      }
      t0 = Date.now();
      this.check(`after a batch ending at input ${this.input}`);
      this.counts.halfOpenLimit = p.a.engine.counters.halfOpenLimit + p.b.engine.counters.halfOpenLimit;
      this.counts.cookies = p.a.engine.counters.cookiesSent + p.b.engine.counters.cookiesSent;
      this.expireHalfOpen();
      this.ms.batches += Date.now() - t0;
    }
  }

  /**
   * Lets go of everything that holds native keys: every SA of both sides (their ESP SAs leave
   * the data paths) and the forging ciphers. On XS the tests after this one share the 32 PSA
   * key slots, and the latest instance of each class with private methods stays reachable
   * there (an XS behaviour): the last task of each kind, and through it this pair's engines.
   */
  teardown(): void {
    for (const side of [this.p.a, this.p.b]) {
      for (const sa of side.engine.sas) sa.destroy(this.p.clock.now, 'fuzz done');
      side.outbox.length = 0;
    }
    this.#forging = new Map();
  }

  /** The end: traffic both ways, then a CHILD rekey from each side, then traffic again. */
  finish(): void {
    const p = this.p;
    this.expireHalfOpen();
    p.bothWays(1);
    for (const side of [p.a, p.b]) {
      const sa = this.sa(side);
      const before = sa.children[0].installed.spiIn;
      sa.children[0].rekeyAt = p.clock.now;
      p.advance(3000, 500);
      const after = this.sa(side).children;
      this.require(after.length === 1 && after[0].installed.spiIn !== before && after[0].state === 'installed', `${side.name}'s CHILD rekey: ${fingerprint(side)}`);
      this.require(this.sa(other(p, side)).children.length === 1, `the peer of ${side.name} holds one CHILD SA after the rekey: ${fingerprint(other(p, side))}`);
      this.require(p.a.pfkey.size === 2 && p.b.pfkey.size === 2, `two SAs in each data path after the rekey (${p.a.pfkey.size}, ${p.b.pfkey.size})`);
      p.bothWays(side === p.a ? 2 : 3);
    }
    for (const side of [p.a, p.b]) this.require(side.engine.counters.internalErrors === 0, `${side.name}: internal errors`);
  }
}

/* ------------------------------------------------------------------ the tests */

/** Node: IKE_FUZZ_SEED=0x... replays a seed, IKE_FUZZ_INPUTS=n runs n inputs per configuration (on XS, edit SEEDS and PER_RUN). */
const env = typeof process !== 'undefined' ? process.env : {};
const envSeed = Number(env?.IKE_FUZZ_SEED ?? NaN);
const SEEDS = { aead: 0x5eed0001, cbc: 0x5eed0002 };
/** inputs per configuration: at least 100,000 in all on XS */
const PER_RUN = Number(env?.IKE_FUZZ_INPUTS ?? NaN) || 50_000;

const RUNS: [keyof typeof SEEDS, string, { proposals: string[]; esp: string[] }][] = [
  ['aead', 'aes128gcm16-prfsha256-x25519 / ESP aes128gcm16', { proposals: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'] }],
  // the SK payload with CBC + HMAC (block padding, the ICV), CHILD SAs with PFS (KE payloads in CREATE_CHILD_SA)
  ['cbc', 'aes128-sha256-x25519 / ESP aes128gcm16-x25519 (PFS)', { proposals: ['aes128-sha256-x25519'], esp: ['aes128gcm16-x25519'] }],
];

/** One configuration's run and its summary line. */
function fuzz(label: string, seed: number, options: { proposals: string[]; esp: string[] }, memory: (() => XsMemory) | null): void {
  const before = memory?.();
  const started = Date.now();
  const f = new Fuzzer(host.make(), { name: label, seed, inputs: PER_RUN, docA: connectionDoc('a', options), docB: connectionDoc('b', options) });
  try {
    f.run();
    f.finish();
  } finally {
    f.teardown();
  }
  const ms = Date.now() - started;
  const c = f.counts;
  const after = memory?.();
  console.log(`ike engine fuzz on ${engine} (${label}, seed 0x${seed.toString(16)}): ${f.input} inputs in ${ms} ms (${Math.round(f.input / (ms / 1000))}/s): ` +
    `plaintext ${c.a}, authenticated requests ${c.b}, authenticated answers ${c.r}, fragments ${c.c}; ${c.answered} requests answered, ${c.realigned} windows realigned, ` +
    `${c.legit} legitimate state changes (pair re-established: ${[...f.legit].map(([why, n]) => `${n} ${why}`).join(', ') || 'none'}), ` +
    `at most ${c.halfOpenMax} half-open, ${c.halfOpenLimit} dropped at the hard limit, ${c.cookies} cookies; ms per family: ${JSON.stringify(f.ms)}` +
    (before && after ? `; XS: ${after.garbageCollections - before.garbageCollections} collections, heap ${after.slotsUsed} B slots, ${after.chunksUsed} B chunks` : ''));
  ok(f.input >= PER_RUN, `${f.input} inputs`);
  // the run reached what it is meant to: every family, processed requests, the half-open bounds
  ok(c.a > 0 && c.b > 0 && c.r > 0 && c.c > 0, 'every family fed');
  ok(c.answered > c.b / 2, `${c.answered} of ${c.b} forged requests were processed and answered`);
  ok(c.halfOpenMax > 0 && c.cookies > 0 && c.halfOpenLimit > 0, 'half-open SAs made, cookies sent, the hard limit reached');
  ok(c.legit < f.input / 500, `${c.legit} legitimate state changes: the templates' defects should mostly survive mutation`);
}

for (const [key, label, options] of RUNS) {
  test(`ike engine fuzz (${label}): ${PER_RUN} malformed, truncated and authenticated-but-malformed inputs to both sides leave the established SAs as they were`, async () => {
    const memory = engine === 'xs' ? (await import('../../hosts/moddable/memory.js')).xsMemory : null;
    fuzz(label, Number.isFinite(envSeed) ? envSeed : SEEDS[key], options, memory);
  });
}
