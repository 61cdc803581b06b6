/**
 * IKEv2 negotiation choices, sans IO (RFC 7296): which of the peer's proposals we accept and
 * with which transforms (§2.7, §3.3.6), whether the KE payload's group fits the chosen
 * proposal or the peer must retry with another (INVALID_KE_PAYLOAD, §1.2, §3.4), and how the
 * peer's traffic selectors are narrowed to our policy (§2.9, §3.13).
 *
 * Nothing here throws on what a peer sends: a malformed or unacceptable offer is a failure
 * value naming the notification to send and why.
 */
import type { Proposal, ProposalTransform } from '../config/proposals.js';
import type { TrafficSelector } from '../config/ike-config.js';
import { Esn, Integ, Ke, TransformType } from '../crypto/registry.js';
import type { AddressRange } from '../policy/selector.js';
import { ProtocolId, type WireProposal, type WireTransform } from './types.js';

import { NotifyType, TsType } from './payloads.js';

export { NotifyType, TsType } from './payloads.js';

/* ------------------------------------------------------------------ proposals (§2.7, §3.3) */

export interface SelectOptions {
  /**
   * strongSwan's `prefer_configured_proposals` (default true): walk our proposals in order,
   * for each the peer's in order, and within a transform type take our first algorithm the
   * peer offered. false: the peer's order decides, at both levels.
   */
  preferConfigured?: boolean;
  /**
   * The group of the KE payload that came with the SA (IKE_SA_INIT, or CREATE_CHILD_SA with
   * PFS). When the proposal pair being matched accepts it, it is chosen over our preferred
   * group, so the peer need not retry after INVALID_KE_PAYLOAD (strongSwan does the same);
   * it never changes which proposal pair is chosen.
   */
  keGroup?: number;
}

export type SelectResult =
  | {
      ok: true;
      /** the SA payload of our answer (§3.3.6): the peer's proposal number, protocol and SPI, one transform per type offered */
      proposal: WireProposal;
      /** which of our configured proposals matched */
      configured: Proposal;
      /** ESP/AH: whether extended sequence numbers were chosen (no ESN transform offered means no ESN) */
      esn: boolean;
      /** the chosen KE method; undefined when none (a CHILD SA without PFS) */
      keGroup: number | undefined;
    }
  | {
      ok: false;
      notify: typeof NotifyType.NO_PROPOSAL_CHOSEN;
      /** the SA payload itself is malformed (empty, proposal numbers not 1, 2, 3, ...) */
      malformed: boolean;
      /** one line per reason, for logs */
      reasons: string[];
    };

/** §3.3.3: the transform types each protocol may carry (anything else makes a proposal unacceptable, §3.3.6). */
const ALLOWED_TYPES: Readonly<Record<number, readonly number[]>> = {
  [ProtocolId.IKE]: [TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.KE],
  [ProtocolId.ESP]: [TransformType.ENCR, TransformType.INTEG, TransformType.KE, TransformType.ESN],
};

const TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'ENCR', 2: 'PRF', 3: 'INTEG', 4: 'KE', 5: 'ESN' };

const wireProtocol = (p: Proposal) => (p.protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP);

/** Whether a configured transform is the offered one: type, ID and key length exactly (§3.3.5: AES-128 is not AES-256). */
const same = (ours: Alternative, offered: WireTransform) =>
  ours.type === offered.type && ours.id === offered.id && ours.keyBits === (offered.keyBits ?? 0);

/** A configured transform, or one implied by the configuration (§3.3.3: INTEG NONE with AEAD, KE NONE without PFS). */
type Alternative = Pick<ProposalTransform, 'type' | 'id' | 'keyBits'>;

/** Whether we accept that the peer left a transform type out of a proposal. */
function absentAcceptable(ours: Proposal, type: number): boolean {
  switch (type) {
    case TransformType.INTEG:
      // §3.3.3: an AEAD proposal needs no integrity transform
      return ours.aead;
    case TransformType.KE:
      // §3.3.3: optional for ESP (no PFS); we must have configured "no PFS" (no group, or `none`)
      return ours.protocol === 'esp' && (ours.ke.length === 0 || ours.ke.some((t) => t.id === Ke.NONE));
    case TransformType.ESN:
      // §3.3.2: an ESP proposal without an ESN transform means no ESN
      return ours.protocol === 'esp' && ours.esn.some((t) => t.id === Esn.NO);
    default:
      return false;
  }
}

/** Our alternatives for one transform type, including the implicit ones of §3.3.3. */
function ourAlternatives(ours: Proposal, type: number): readonly Alternative[] {
  switch (type) {
    case TransformType.ENCR:
      return ours.encryption;
    case TransformType.PRF:
      return ours.prf;
    case TransformType.INTEG:
      // an AEAD proposal accepts an explicit "NONE" integrity transform (§3.3.3)
      return ours.aead ? [{ type: TransformType.INTEG, id: Integ.NONE, keyBits: 0 }] : ours.integrity;
    case TransformType.KE:
      // ESP with no configured group means "no PFS": KE method NONE is what we accept
      return ours.protocol === 'esp' && ours.ke.length === 0 ? [{ type: TransformType.KE, id: Ke.NONE, keyBits: 0 }] : ours.ke;
    case TransformType.ESN:
      return ours.esn;
    default:
      return [];
  }
}

/** Why an offered proposal is malformed on its own, or undefined (§3.3.1, §3.3.3, §3.3.6). */
function unacceptable(offered: WireProposal): string | undefined {
  const allowed = ALLOWED_TYPES[offered.protocol];
  if (!allowed) return `protocol ${offered.protocol} is not one we negotiate`;
  if (!offered.transforms || offered.transforms.length === 0) return 'no transforms';
  // §3.3.1: no SPI in an initial IKE SA negotiation, 8 bytes when rekeying; 4 for ESP
  const spiLength = offered.spi?.length ?? -1;
  if (offered.protocol === ProtocolId.IKE ? spiLength !== 0 && spiLength !== 8 : spiLength !== 4) return `SPI of ${spiLength} bytes`;
  for (const t of offered.transforms) {
    // §3.3.6: a transform type we don't understand (or one the protocol doesn't carry) rejects the proposal
    if (!allowed.includes(t.type)) return `transform type ${t.type} is not understood for protocol ${offered.protocol}`;
  }
  return undefined;
}

/** The peer's proposals must be numbered 1, 2, 3, ... (§3.3.1); undefined when they are. */
function malformedPayload(offered: WireProposal[]): string | undefined {
  if (!Array.isArray(offered) || offered.length === 0) return 'the SA payload has no proposals';
  for (let i = 0; i < offered.length; i++) {
    if (offered[i]?.number !== i + 1) return `proposal ${i + 1} is numbered ${offered[i]?.number} (numbers must be 1, 2, 3, ...)`;
  }
  return undefined;
}

/** Matches one of our proposals with one offered (already checked by `unacceptable`). */
function match(ours: Proposal, offered: WireProposal, options: SelectOptions): { transforms: WireTransform[] } | { why: string } {
  const chosen: WireTransform[] = [];
  const types = [TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.KE, TransformType.ESN];
  for (const type of types) {
    const theirs = offered.transforms.filter((t) => t.type === type);
    const mine = ourAlternatives(ours, type);
    if (theirs.length === 0) {
      if (mine.length > 0 && !absentAcceptable(ours, type)) return { why: `no ${TYPE_NAMES[type]} transform offered` };
      continue;
    }
    if (mine.length === 0) return { why: `${TYPE_NAMES[type]} offered, none configured` };
    let pick: WireTransform | undefined;
    // the KE payload's group first, when both sides accept it here (avoids INVALID_KE_PAYLOAD)
    if (type === TransformType.KE && options.keGroup !== undefined) {
      pick = theirs.find((t) => t.id === options.keGroup && mine.some((m) => same(m, t)));
    }
    if (!pick && options.preferConfigured !== false) {
      for (const m of mine) {
        pick = theirs.find((t) => same(m, t));
        if (pick) break;
      }
    } else if (!pick) {
      pick = theirs.find((t) => mine.some((m) => same(m, t)));
    }
    if (!pick) return { why: `no common ${TYPE_NAMES[type]}` };
    chosen.push(pick.keyBits === undefined ? { type: pick.type, id: pick.id } : { type: pick.type, id: pick.id, keyBits: pick.keyBits });
  }
  return { transforms: chosen };
}

/**
 * Chooses one of the peer's proposals (RFC 7296 §2.7): the answer carries exactly one
 * proposal, with the peer's proposal number, protocol and SPI, and one transform of each type
 * the peer offered in it (§3.3.6). Key lengths must match exactly; a proposal with a
 * transform type we do not understand is unacceptable (§3.3.6), as is one missing a mandatory
 * type (§3.3.3); an ESP proposal without ESN transform means no ESN, without KE transform no
 * PFS. Our configured proposals are of one protocol (IKE or ESP); offers of another are skipped.
 */
export function selectProposal(ours: readonly Proposal[], offered: WireProposal[], options: SelectOptions = {}): SelectResult {
  const fail = (malformed: boolean, reasons: string[]): SelectResult => ({ ok: false, notify: NotifyType.NO_PROPOSAL_CHOSEN, malformed, reasons });
  const bad = malformedPayload(offered);
  if (bad) return fail(true, [bad]);
  const reasons: string[] = [];
  const usable: WireProposal[] = [];
  for (const p of offered) {
    const why = unacceptable(p);
    if (why) reasons.push(`proposal ${p.number}: ${why}`);
    else usable.push(p);
  }
  const pairs: [Proposal, WireProposal][] = [];
  if (options.preferConfigured !== false) {
    for (const o of ours) for (const p of usable) pairs.push([o, p]);
  } else {
    for (const p of usable) for (const o of ours) pairs.push([o, p]);
  }
  for (const [o, p] of pairs) {
    if (wireProtocol(o) !== p.protocol) continue;
    const m = match(o, p, options);
    if ('why' in m) {
      reasons.push(`proposal ${p.number} vs ${o.text}: ${m.why}`);
      continue;
    }
    const esn = m.transforms.some((t) => t.type === TransformType.ESN && t.id === Esn.YES);
    const ke = m.transforms.find((t) => t.type === TransformType.KE && t.id !== Ke.NONE);
    return {
      ok: true,
      proposal: { number: p.number, protocol: p.protocol, spi: p.spi.slice(), transforms: m.transforms },
      configured: o,
      esn,
      keGroup: ke?.id,
    };
  }
  if (reasons.length === 0) reasons.push('no proposal of our protocol offered');
  return fail(false, reasons);
}

export type KeChoice =
  | { ok: true; group: number | undefined }
  | { ok: false; notify: typeof NotifyType.INVALID_KE_PAYLOAD; group: number }
  | { ok: false; notify: typeof NotifyType.INVALID_SYNTAX; reason: string };

/**
 * Whether the KE payload fits the chosen proposal (§1.2, §1.3, §3.4). The chosen proposal
 * already holds our preferred group among those the peer offered with it (selectProposal,
 * given the KE payload's group, takes that group when acceptable), so when the KE payload is
 * of another group, INVALID_KE_PAYLOAD names the chosen one: the peer retries with it.
 * `offeredKeGroup` undefined: the message had no KE payload.
 */
export function chooseKeGroup(chosen: WireProposal, offeredKeGroup: number | undefined): KeChoice {
  const ke = chosen.transforms.find((t) => t.type === TransformType.KE && t.id !== Ke.NONE);
  if (!ke) {
    // no key exchange chosen (a CHILD SA without PFS): a KE payload has nothing to go with (§1.3)
    return offeredKeGroup === undefined
      ? { ok: true, group: undefined }
      : { ok: false, notify: NotifyType.INVALID_SYNTAX, reason: `KE payload of group ${offeredKeGroup} without a key exchange in the chosen proposal` };
  }
  if (offeredKeGroup === ke.id) return { ok: true, group: ke.id };
  return { ok: false, notify: NotifyType.INVALID_KE_PAYLOAD, group: ke.id };
}

/* --------------------------------------------------------- traffic selectors (§2.9, §3.13) */

/**
 * One traffic selector as the TS payload carries it (§3.13.1): TS Type 7 (TS_IPV4_ADDR_RANGE)
 * when the addresses are 4 bytes, 8 (TS_IPV6_ADDR_RANGE) when 16; `protocol` is the IP
 * Protocol ID (0 any); `startPort`/`endPort` the Start/End Port fields (0-65535 for any,
 * 65535-0 for OPAQUE; for ICMP/ICMPv6 type in the high byte, code in the low one);
 * `start`/`end` the Starting/Ending Address, inclusive.
 */
export interface TsRange {
  start: Uint8Array;
  end: Uint8Array;
  protocol: number;
  startPort: number;
  endPort: number;
}

/** The TS Type a range is sent as. */
export const tsType = (ts: TsRange) => (ts.start.length === 4 ? TsType.IPV4_ADDR_RANGE : TsType.IPV6_ADDR_RANGE);

const ICMP = 1;
const ICMPV6 = 58;

/**
 * A configured selector as a TsRange; `dynamic` becomes the IKE SA's own address (`address`,
 * ours for local_ts, the peer's for remote_ts). The configuration keeps ICMP message types in
 * its port range; on the wire the type is the port's high byte (§3.13.1), any code.
 */
export function tsFromConfig(ts: TrafficSelector, address?: Uint8Array): TsRange | undefined {
  const range: AddressRange | null = ts.dynamic ? (address ? { start: address, end: address } : null) : ts.range;
  if (!range) return undefined;
  let [startPort, endPort] = ts.ports;
  const any = startPort === 0 && endPort === 65535;
  const opaque = startPort === 65535 && endPort === 0;
  if ((ts.protocol === ICMP || ts.protocol === ICMPV6) && !any && !opaque) {
    startPort = (startPort & 0xff) << 8;
    endPort = ((endPort & 0xff) << 8) | 0xff;
  }
  return { start: range.start.slice(), end: range.end.slice(), protocol: ts.protocol, startPort, endPort };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const isOpaque = (t: TsRange) => t.startPort === 65535 && t.endPort === 0;
const isAnyPort = (t: TsRange) => t.startPort === 0 && t.endPort === 65535;

/** Whether a selector is well formed: one family, start <= end, ports ordered (or OPAQUE), bytes and ports in range. */
function wellFormed(t: TsRange): boolean {
  if (!t || !(t.start instanceof Uint8Array) || !(t.end instanceof Uint8Array)) return false;
  if ((t.start.length !== 4 && t.start.length !== 16) || t.start.length !== t.end.length) return false;
  if (compareBytes(t.start, t.end) > 0) return false;
  const port = (p: number) => Number.isInteger(p) && p >= 0 && p <= 65535;
  if (!Number.isInteger(t.protocol) || t.protocol < 0 || t.protocol > 255 || !port(t.startPort) || !port(t.endPort)) return false;
  return t.startPort <= t.endPort || isOpaque(t);
}

/**
 * The intersection of two selectors, or undefined when it is empty: same family, overlapping
 * addresses, protocol equal or one of them ANY (0), overlapping ports. OPAQUE ports (RFC 4301
 * §4.4.1.1) intersect only OPAQUE and ANY.
 */
export function intersectTs(a: TsRange, b: TsRange): TsRange | undefined {
  if (a.start.length !== b.start.length) return undefined;
  const start = compareBytes(a.start, b.start) >= 0 ? a.start : b.start;
  const end = compareBytes(a.end, b.end) <= 0 ? a.end : b.end;
  if (compareBytes(start, end) > 0) return undefined;
  if (a.protocol !== 0 && b.protocol !== 0 && a.protocol !== b.protocol) return undefined;
  const protocol = a.protocol || b.protocol;
  let startPort: number;
  let endPort: number;
  if (isOpaque(a) || isOpaque(b)) {
    if (!(isOpaque(a) || isAnyPort(a)) || !(isOpaque(b) || isAnyPort(b))) return undefined;
    [startPort, endPort] = [65535, 0];
  } else {
    startPort = Math.max(a.startPort, b.startPort);
    endPort = Math.min(a.endPort, b.endPort);
    if (startPort > endPort) return undefined;
  }
  return { start: start.slice(), end: end.slice(), protocol, startPort, endPort };
}

const sameTs = (a: TsRange, b: TsRange) =>
  a.protocol === b.protocol && a.startPort === b.startPort && a.endPort === b.endPort &&
  a.start.length === b.start.length && compareBytes(a.start, b.start) === 0 && compareBytes(a.end, b.end) === 0;

/** Every non-empty intersection of ours with theirs, ours in order, then theirs; repeats dropped. */
function narrow(ours: readonly TsRange[], theirs: readonly TsRange[]): TsRange[] {
  const out: TsRange[] = [];
  for (const o of ours) {
    if (!wellFormed(o)) continue;
    for (const t of theirs) {
      if (!wellFormed(t)) continue;
      const i = intersectTs(o, t);
      if (i && !out.some((x) => sameTs(x, i))) out.push(i);
    }
  }
  return out;
}

export type NarrowResult =
  | { ok: true; tsi: TsRange[]; tsr: TsRange[] }
  | { ok: false; notify: typeof NotifyType.TS_UNACCEPTABLE; reason: string };

/**
 * Narrows the peer's TSi/TSr to our policy (§2.9): each side becomes the intersections of
 * what was offered with what we configured, so the answer is a subset of the offer (the
 * responder may narrow, never widen), and both sides must keep at least one selector, else
 * TS_UNACCEPTABLE. TSi is the initiator's side of the exchange: when we respond (`role`
 * 'responder'), TSi is matched against our remote selectors and TSr against our local ones;
 * as initiator, checking a responder's answer, the other way round.
 *
 * §2.9 lets an initiator put the packet that triggered the exchange first in TSi and TSr;
 * that selector is intersected like the others, so it is kept when our policy covers it.
 */
export function narrowTrafficSelectors(
  ours: { local: readonly TsRange[]; remote: readonly TsRange[] },
  offered: { tsi: readonly TsRange[]; tsr: readonly TsRange[] },
  role: 'initiator' | 'responder',
): NarrowResult {
  const fail = (reason: string): NarrowResult => ({ ok: false, notify: NotifyType.TS_UNACCEPTABLE, reason });
  const tsiList = Array.isArray(offered?.tsi) ? offered.tsi : [];
  const tsrList = Array.isArray(offered?.tsr) ? offered.tsr : [];
  if (tsiList.length === 0 || tsrList.length === 0) return fail('TSi and TSr each need a selector');
  const [forTsi, forTsr] = role === 'responder' ? [ours.remote, ours.local] : [ours.local, ours.remote];
  const tsi = narrow(forTsi, tsiList);
  if (tsi.length === 0) return fail('no offered TSi selector intersects our policy');
  const tsr = narrow(forTsr, tsrList);
  if (tsr.length === 0) return fail('no offered TSr selector intersects our policy');
  return { ok: true, tsi, tsr };
}
