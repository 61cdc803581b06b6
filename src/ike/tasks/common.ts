/**
 * What the exchange tasks share: configured proposals as SA payload proposals (RFC 7296
 * §3.3), the algorithms a chosen proposal names, identities and traffic selectors as
 * payloads (§3.5, §3.13), SPIs as bytes.
 */
import { proposalTransforms, type Proposal } from '../../config/proposals.js';
import { IdType, type Identity } from '../../config/identity.js';
import type { TrafficSelector as ConfigTs } from '../../config/ike-config.js';
import { readU32, writeU32 } from '../../crypto/bytes.js';
import { algorithmById, Ke, TransformType, type Algorithm } from '../../crypto/registry.js';
import { formatAddress, parseAddress } from '../../policy/selector.js';
import type { Crypto } from '../../crypto/provider.js';
import type { IkeAlgorithms } from '../keymat.js';
import { PayloadType, type IdPayload, type TrafficSelector, type TsPayload } from '../payloads.js';
import { selectProposal, tsFromConfig, tsType, type TsRange } from '../select.js';
import type { WireProposal, WireTransform } from '../types.js';

/** Fresh random bytes (nonces, SPIs). */
export function randomBytes(crypto: Crypto, n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.randomBytes(b);
  return b;
}

/**
 * A random whole number in [0, below): the random part taken off rekey times (swanctl.conf
 * rand_time), so that both ends do not rekey at the same moment. From the CSPRNG: XS's
 * Math.random is not seeded on every host.
 */
export function jitter(crypto: Crypto, below: number): number {
  if (below <= 0) return 0;
  const b = randomBytes(crypto, 4);
  return (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) % Math.floor(below);
}

/** RFC 7296 §2.10: nonces at least half the PRF's key size and 128 bits; 32 bytes covers every PRF we have. */
export const NONCE_LENGTH = 32;

/** Our proposals for an SA payload (§3.3.1): numbered from 1, with our SPI; KE left out in IKE_AUTH (§1.2). */
export function wireProposals(proposals: readonly Proposal[], protocol: number, spi: Uint8Array, withoutKe = false): WireProposal[] {
  return proposals.map((p, i) => ({
    number: i + 1,
    protocol,
    spi: spi.slice(),
    transforms: proposalTransforms(p)
      .filter((t) => !(withoutKe && t.type === TransformType.KE))
      .map((t): WireTransform => (t.keyBits ? { type: t.type, id: t.id, keyBits: t.keyBits } : { type: t.type, id: t.id })),
  }));
}

/**
 * RFC 7296 §1.2: the CHILD SA negotiated in IKE_AUTH has no key exchange of its own, so the
 * KE transforms of ESP proposals are not negotiated there (strongSwan leaves them out of its
 * IKE_AUTH proposals and ignores them in the peer's). Our proposals without their groups.
 */
export function withoutKe(proposals: readonly Proposal[]): Proposal[] {
  return proposals.map((p) => ({ ...p, ke: [] }));
}

export function stripKe(offered: WireProposal[]): WireProposal[] {
  return offered.map((p) => ({ ...p, transforms: p.transforms.filter((t) => t.type !== TransformType.KE) }));
}

/**
 * Whether the single proposal a responder chose is one we offered (§3.3.6: it must be one of
 * ours, unchanged but for one transform per type): selection against our proposals, with the
 * answer numbered 1 as selection expects.
 */
export function acceptsAnswer(ours: readonly Proposal[], answer: WireProposal, keGroup?: number) {
  return selectProposal(ours, [{ ...answer, number: 1 }], keGroup === undefined ? {} : { keGroup });
}

/** The IKE SA's algorithms from the chosen IKE proposal, or why not. */
export function ikeAlgorithmsOf(p: WireProposal): { algorithms: IkeAlgorithms; group: number } | string {
  let encryption: Algorithm | undefined;
  let prf: Algorithm | undefined;
  let integrity: Algorithm | null = null;
  let group = 0;
  for (const t of p.transforms) {
    if (t.type === TransformType.ENCR) encryption = algorithmById(TransformType.ENCR, t.id, t.keyBits ?? 0);
    else if (t.type === TransformType.PRF) prf = algorithmById(TransformType.PRF, t.id);
    else if (t.type === TransformType.INTEG && t.id !== 0) integrity = algorithmById(TransformType.INTEG, t.id) ?? null;
    else if (t.type === TransformType.KE) group = t.id;
  }
  if (!encryption) return 'no known encryption algorithm chosen';
  if (!prf) return 'no known PRF chosen';
  return { algorithms: { encryption, prf, integrity }, group };
}

/** The KE group of a chosen proposal (0: none). */
export function keGroupOf(p: WireProposal): number {
  return p.transforms.find((t) => t.type === TransformType.KE && t.id !== Ke.NONE)?.id ?? 0;
}

/** The first KE group of our proposals (what the initiator's KE payload uses first, §1.2). */
export function firstKeGroup(proposals: readonly Proposal[]): number {
  for (const p of proposals) for (const t of p.ke) if (t.id !== Ke.NONE) return t.id;
  return 0;
}

/** Whether any of our proposals offers this group. */
export function offersGroup(proposals: readonly Proposal[], group: number): boolean {
  return proposals.some((p) => p.ke.some((t) => t.id === group));
}

export const spiBytes = (spi: number): Uint8Array => {
  const b = new Uint8Array(4);
  writeU32(b, 0, spi);
  return b;
};
export const spiNumber = (b: Uint8Array): number => (b.length === 4 ? readU32(b, 0) : -1);

/** The identity we send: the configured one, or our address when it is %any (strongSwan does the same). */
export function ownIdentity(configured: Identity, address: string): Identity {
  if (configured.type !== IdType.ANY) return configured;
  const data = parseAddress(address);
  return { type: data.length === 4 ? IdType.IPV4_ADDR : IdType.IPV6_ADDR, data, text: formatAddress(data) };
}

export function idPayload(type: typeof PayloadType.IDi | typeof PayloadType.IDr, id: Identity): IdPayload {
  return { type, idType: id.type, data: id.data.slice() };
}

/** §2.15: RestOfInitIDPayload / RestOfRespIDPayload, the ID payload after its generic header. */
export function idBody(p: IdPayload): Uint8Array {
  const out = new Uint8Array(4 + p.data.length);
  out[0] = p.idType;
  out.set(p.data, 4);
  return out;
}

/** A received identity, with a text form for logs. */
export function identityOf(p: IdPayload): Identity {
  let text: string;
  if ((p.idType === IdType.IPV4_ADDR && p.data.length === 4) || (p.idType === IdType.IPV6_ADDR && p.data.length === 16)) text = formatAddress(p.data);
  else if (p.idType === IdType.FQDN || p.idType === IdType.RFC822_ADDR) text = String.fromCharCode(...p.data.subarray(0, 255));
  else text = `${p.idType}:${Array.from(p.data.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  return { type: p.idType, data: p.data.slice(), text };
}

/** Configured selectors as TsRanges, `dynamic` the given IKE address (§2.9). */
export function tsRanges(selectors: readonly ConfigTs[], address: string): TsRange[] {
  const a = parseAddress(address);
  const out: TsRange[] = [];
  for (const s of selectors) {
    const r = tsFromConfig(s, a);
    if (r) out.push(r);
  }
  return out;
}

export function tsPayload(type: typeof PayloadType.TSi | typeof PayloadType.TSr, ranges: readonly TsRange[]): TsPayload {
  return {
    type,
    selectors: ranges.map((r): TrafficSelector => ({
      tsType: tsType(r), protocol: r.protocol, startPort: r.startPort, endPort: r.endPort, startAddress: r.start.slice(), endAddress: r.end.slice(),
    })),
  };
}

export function rangesOf(p: TsPayload | undefined): TsRange[] {
  return (p?.selectors ?? []).map((s) => ({ start: s.startAddress, end: s.endAddress, protocol: s.protocol, startPort: s.startPort, endPort: s.endPort }));
}

/** "10.1.0.0/16" style text of selectors, for logs. */
export function tsText(ranges: readonly TsRange[]): string {
  return ranges.map((r) => {
    const range = formatAddress(r.start) === formatAddress(r.end) ? formatAddress(r.start) : `${formatAddress(r.start)}..${formatAddress(r.end)}`;
    const ports = r.protocol === 0 && r.startPort === 0 && r.endPort === 65535 ? '' : `[${r.protocol}/${r.startPort === r.endPort ? r.startPort : `${r.startPort}-${r.endPort}`}]`;
    return range + ports;
  }).join(' ');
}

/** Bytes compared as unsigned big-endian numbers (§2.8.1: "the lowest of the four nonces"). */
export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function lowest(nonces: Uint8Array[]): Uint8Array {
  return nonces.reduce((m, n) => (compareNonces(n, m) < 0 ? n : m));
}

/**
 * The name of a CHILD SA's SPD entries (and of its trap): connection.child when the
 * connection has one peer, else connection.child[peer address], so that the CHILD SAs of
 * several peers on one connection (a responder for %any) each have their own policies. Stable
 * across CHILD and IKE rekeys, which replace the entries of the same name.
 */
export function policyName(connection: { name: string; remote_addrs: readonly { single: boolean }[] }, child: { name: string }, remoteAddress: string): string {
  const onePeer = connection.remote_addrs.length === 1 && connection.remote_addrs[0].single;
  return onePeer ? `${connection.name}.${child.name}` : `${connection.name}.${child.name}[${remoteAddress}]`;
}

/** An SPI as strongSwan logs it: 8 hex digits. */
export const hex32 = (n: number): string => n.toString(16).padStart(8, '0');
