/**
 * strongSwan proposal strings (swanctl.conf `proposals` and `esp_proposals`): algorithm
 * keywords joined by "-", e.g. aes128gcm16-prfsha256-x25519 (IKE), aes256-sha256-modp2048
 * (IKE, or ESP with PFS), aes256gcm16-ecp384 (ESP with PFS), chacha20poly1305 (ESP), and the
 * keyword `default`. Keywords map to transforms through the algorithm registry
 * (../crypto/registry.ts); the rules are the ones strongSwan applies when it reads a proposal
 * (libstrongswan/crypto/proposal/proposal.c, check_proposal), made stricter where strongSwan
 * silently drops what was written:
 *
 *   IKE: encryption, a PRF, integrity (none with AEAD) and a key exchange method. Without a
 *        PRF, one PRF per integrity algorithm is derived from it (sha256 -> prfsha256), as
 *        strongSwan does; an AEAD proposal has no integrity to derive from, so it needs one.
 *   ESP: encryption, integrity unless the encryption is AEAD (or AES-GMAC), optional key
 *        exchange methods (PFS; `none` offers "no PFS" too), optional esn/noesn (noesn when
 *        neither is given).
 *   both: AEAD and classic encryption never in one proposal (strongSwan refuses that too);
 *        no integrity with AEAD (strongSwan drops it silently; here it is a mistake to fix);
 *        legacy algorithms (RFC 8221/8247, ../crypto/policy.ts) only with allowLegacy.
 *
 * Several algorithms of one kind in a proposal are alternatives, the first preferred (IKEv2).
 */
import { LegacyAlgorithmError, checkAlgorithm } from '../crypto/policy.js';
import { findAlgorithm, knownKeywords, TransformType, type Algorithm } from '../crypto/registry.js';
import { describe, list, type Schema } from './validate.js';

export type ProposalProtocol = 'ike' | 'esp';

export interface ProposalTransform {
  readonly type: TransformType;
  /** IANA transform ID */
  readonly id: number;
  /** key length attribute in bits (RFC 7296 §3.3.5); 0 when the transform has none */
  readonly keyBits: number;
  /** the registry entry: canonical name and the primitive a Crypto provider implements */
  readonly algorithm: Algorithm;
}

export interface Proposal {
  readonly protocol: ProposalProtocol;
  /** canonical keywords joined by "-", for logs: aes128gcm16-prfsha256-curve25519 */
  readonly text: string;
  /** combined-mode encryption (AES-GCM/CCM, ChaCha20-Poly1305, AES-GMAC): no integrity */
  readonly aead: boolean;
  readonly encryption: readonly ProposalTransform[];
  /** IKE only; empty for ESP */
  readonly prf: readonly ProposalTransform[];
  /** empty when aead */
  readonly integrity: readonly ProposalTransform[];
  /** IKE: at least one; ESP: none (no PFS), or the PFS groups, `none` included when offered */
  readonly ke: readonly ProposalTransform[];
  /** ESP only: noesn and/or esn, noesn when neither was written; empty for IKE */
  readonly esn: readonly ProposalTransform[];
}

export interface ProposalOptions {
  /** accept the algorithms RFC 8221/8247 reject (DES, 3DES, HMAC-MD5, MODP-1024, ...) */
  allowLegacy?: boolean;
}

/** A problem with a proposal: what was expected, what was found. */
export interface ProposalIssue {
  expected: string;
  got: string;
}

export class ProposalError extends RangeError {
  constructor(readonly issues: ProposalIssue[]) {
    super(issues.map((i) => `expected ${i.expected}, got ${i.got}`).join('; '));
    this.name = 'ProposalError';
  }
}

/** At most this many keywords in one proposal, and proposals in one list (bounded input). */
export const MAX_KEYWORDS = 64;
export const MAX_PROPOSALS = 16;

/**
 * What `default` stands for: algorithms considered safe, no legacy one; AEAD first (it is one
 * provider call per packet on XS), then classic. Like strongSwan's default, the classic IKE
 * proposal offers AES-CBC/CTR with SHA-2/AES-XCBC/AES-CMAC/SHA-1 and ECP, Curve25519 and
 * MODP >= 2048 groups; unlike strongSwan's, the ESP default offers AES-GCM and
 * ChaCha20-Poly1305 too (strongSwan leaves AEAD out of its ESP default for kernels without it).
 */
const DEFAULT_KE = 'curve25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp6144-modp8192-modp2048';
const DEFAULT_PRF = 'prfsha256-prfsha384-prfsha512-prfaesxcbc-prfaescmac-prfsha1';
export const DEFAULT_PROPOSALS: Readonly<Record<ProposalProtocol, readonly string[]>> = {
  ike: [
    `aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305-aes128ccm16-aes192ccm16-aes256ccm16-${DEFAULT_PRF}-${DEFAULT_KE}`,
    `aes128-aes192-aes256-aes128ctr-aes192ctr-aes256ctr-sha256-sha384-sha512-aesxcbc-aescmac-sha1-${DEFAULT_PRF}-${DEFAULT_KE}`,
  ],
  esp: [
    'aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305-noesn',
    'aes128-aes192-aes256-sha256-sha384-sha512-sha1-aesxcbc-noesn',
  ],
};

/** The PRF strongSwan derives from an integrity algorithm when an IKE proposal names none. */
const PRF_FOR_INTEGRITY: Readonly<Record<string, string>> = {
  sha1: 'prfsha1',
  sha256: 'prfsha256',
  sha384: 'prfsha384',
  sha512: 'prfsha512',
  md5: 'prfmd5',
  aesxcbc: 'prfaesxcbc',
  aescmac: 'prfaescmac',
};

const isAead = (a: Algorithm) => a.primitive.kind === 'aead' || a.primitive.kind === 'gmac';

/** Why an ESP encryption algorithm cannot protect an IKE SA, or undefined when it can. */
function notForIke(a: Algorithm): string | undefined {
  if (a.primitive.kind === 'null') return 'IKE messages must be encrypted (RFC 7296 §3.3.2)';
  if (a.primitive.kind === 'gmac') return 'AES-GMAC authenticates without encrypting; it is for ESP only (RFC 4543)';
  if (a.rfc === 'RFC 8750') return 'implicit IVs are for ESP only (RFC 8750 §1)';
  return undefined;
}

/** Edit distance, for suggesting keywords close to a misspelt one. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

/** Up to three known keywords close to `keyword`, nearest first. */
export function closeKeywords(keyword: string): string[] {
  const k = keyword.toLowerCase();
  if (k.length > 40) return [];
  const limit = Math.max(2, Math.floor(k.length / 3));
  return knownKeywords()
    .map((known) => ({ known, d: known.startsWith(k) ? Math.min(distance(k, known), limit) : distance(k, known) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.known.length - y.known.length || (x.known < y.known ? -1 : 1))
    .slice(0, 3)
    .map((x) => x.known);
}

function transform(a: Algorithm): ProposalTransform {
  return { type: a.type, id: a.id as number, keyBits: a.keyBits, algorithm: a };
}

/** Adds `a` unless an entry of the same type, ID and key length is there (aliases, repeats). */
function add(list: ProposalTransform[], a: Algorithm): void {
  if (!list.some((t) => t.type === a.type && t.id === a.id && t.keyBits === a.keyBits)) list.push(transform(a));
}

/** Parses one proposal (not `default`); throws ProposalError listing every issue found. */
export function parseProposal(protocol: ProposalProtocol, text: string, options: ProposalOptions = {}): Proposal {
  const issues: ProposalIssue[] = [];
  const whole = describe(text);
  // a keyword, and the proposal it is in when there is more to it
  const at = (keyword: string) => (keyword === text.trim() ? whole : `${describe(keyword)} (in ${whole})`);
  if (text.trim() === '') throw new ProposalError([{ expected: 'algorithm keywords joined by "-", e.g. aes128gcm16-prfsha256-x25519', got: whole }]);
  const keywords = text.split('-').map((k) => k.trim());
  if (keywords.length > MAX_KEYWORDS) throw new ProposalError([{ expected: `at most ${MAX_KEYWORDS} keywords in a proposal`, got: `${keywords.length} keywords` }]);
  if (keywords.includes('')) issues.push({ expected: 'one keyword between each "-"', got: whole });

  const lists: Record<number, ProposalTransform[]> = { 1: [], 2: [], 3: [], 4: [], 5: [] };
  for (const keyword of keywords) {
    if (keyword === '') continue;
    if (keyword.toLowerCase() === 'default') {
      issues.push({ expected: '"default" alone, as a proposal of its own', got: at(keyword) });
      continue;
    }
    const a = findAlgorithm(keyword);
    if (!a) {
      const close = closeKeywords(keyword);
      issues.push({
        expected: `an algorithm keyword (${close.length ? `close: ${close.join(', ')}` : 'see "xs-ipsec algorithms"'})`,
        got: at(keyword),
      });
      continue;
    }
    if (a.id === null) {
      issues.push({ expected: `an algorithm IKEv2 can negotiate (${a.name} has no IKEv2 transform ID; manual keying only)`, got: at(keyword) });
      continue;
    }
    try {
      checkAlgorithm(a.name, options.allowLegacy);
    } catch (e) {
      if (!(e instanceof LegacyAlgorithmError)) throw e;
      issues.push({ expected: `no legacy algorithm unless "allowLegacy": true (${a.legacy})`, got: at(keyword) });
      continue;
    }
    if (protocol === 'ike') {
      const why = a.type === TransformType.ENCR ? notForIke(a) : undefined;
      if (why) issues.push({ expected: `an IKE encryption algorithm (${why})`, got: at(keyword) });
      else if (a.type === TransformType.ESN) issues.push({ expected: 'no esn/noesn in an IKE proposal (they are for ESP)', got: at(keyword) });
      else if (a.type === TransformType.KE && a.id === 0) issues.push({ expected: 'a key exchange method other than "none" (an IKE SA always has one)', got: at(keyword) });
      else add(lists[a.type], a);
    } else if (a.type === TransformType.PRF) {
      issues.push({ expected: `no PRF in an ESP proposal (${a.name} is for IKE proposals)`, got: at(keyword) });
    } else {
      add(lists[a.type], a);
    }
  }

  const encryption = lists[TransformType.ENCR];
  const integrity = lists[TransformType.INTEG];
  const prf = lists[TransformType.PRF];
  const ke = lists[TransformType.KE];
  const esn = lists[TransformType.ESN];
  const aead = encryption.length > 0 && encryption.every((t) => isAead(t.algorithm));
  if (issues.length === 0) {
    const names = (ts: ProposalTransform[]) => ts.map((t) => t.algorithm.name).join(', ');
    if (encryption.length === 0) {
      issues.push({ expected: 'an encryption algorithm (e.g. aes128gcm16 or aes128)', got: whole });
    } else if (!aead && encryption.some((t) => isAead(t.algorithm))) {
      issues.push({ expected: 'AEAD or classic encryption, not both in one proposal (write two proposals)', got: whole });
    } else if (aead && integrity.length) {
      issues.push({ expected: `no integrity algorithm with AEAD encryption (${names(encryption)} authenticates itself)`, got: at(integrity[0].algorithm.name) });
    } else if (!aead && integrity.length === 0) {
      issues.push({ expected: `an integrity algorithm (e.g. sha256) to go with ${names(encryption)}`, got: whole });
    }
    if (protocol === 'ike') {
      if (prf.length === 0 && aead) issues.push({ expected: 'a PRF (e.g. prfsha256): an AEAD proposal has no integrity algorithm to derive one from', got: whole });
      if (prf.length === 0 && !aead) for (const t of integrity) add(prf, findAlgorithm(PRF_FOR_INTEGRITY[t.algorithm.name]) as Algorithm);
      if (ke.length === 0) issues.push({ expected: 'a key exchange method (e.g. x25519, ecp256, modp2048) in an IKE proposal', got: whole });
    } else if (esn.length === 0) {
      add(esn, findAlgorithm('noesn') as Algorithm);
    }
  }
  if (issues.length) throw new ProposalError(issues);

  const all = [...encryption, ...prf, ...integrity, ...ke, ...esn];
  return { protocol, text: all.map((t) => t.algorithm.name).join('-'), aead, encryption, prf, integrity, ke, esn };
}

/** Every transform of a proposal in RFC 7296 type order (ENCR, PRF, INTEG, KE, ESN), for an SA payload. */
export function proposalTransforms(p: Proposal): ProposalTransform[] {
  return [...p.encryption, ...p.prf, ...p.integrity, ...p.ke, ...p.esn];
}

/** The proposals `default` stands for. */
export function defaultProposals(protocol: ProposalProtocol): Proposal[] {
  return DEFAULT_PROPOSALS[protocol].map((text) => parseProposal(protocol, text));
}

/**
 * A proposal list: an array of proposal strings, or one string of comma-separated proposals
 * as swanctl.conf writes it; `default` among them expands to the default proposals. Each
 * problem has the path of the array item, or of the string.
 */
export const proposalList = (protocol: ProposalProtocol, options: ProposalOptions = {}): Schema<Proposal[]> => {
  const one: Schema<Proposal[]> = (v, path, problems) => {
    if (typeof v !== 'string') {
      problems.push({ path, expected: 'a proposal string, e.g. "aes128gcm16-prfsha256-x25519"', got: describe(v) });
      return [];
    }
    if (v.trim().toLowerCase() === 'default') return defaultProposals(protocol);
    try {
      return [parseProposal(protocol, v.trim(), options)];
    } catch (e) {
      if (!(e instanceof ProposalError)) throw e;
      for (const issue of e.issues) problems.push({ path, ...issue });
      return [];
    }
  };
  const all = list(one, 'proposals: a comma-separated string or a non-empty array of strings, e.g. "aes128gcm16-prfsha256-x25519"', MAX_PROPOSALS);
  return (v, path, problems) => all(v, path, problems).flat();
};
