/**
 * Installing a negotiated CHILD SA into the data path (sans-IO): what IKEv2 agreed on (the chosen
 * ESP proposal, RFC 7296 §3.3; the KEYMAT split, §2.17; SPIs; traffic selectors, §2.9; the mode,
 * §1.3.1; UDP encapsulation after NAT detection, §2.23 and RFC 3948) becomes PF_KEY v2 messages
 * (RFC 2367 §3.1.2 UPDATE, §3.1.3 ADD, §3.1.4 DELETE) for the PfKeyEngine and entries of the SPD
 * (RFC 4301 §4.4.1). Each SA goes through the same message builder as a static SA
 * (src/policy/manual.ts `addMessage`), so negotiated and manual keys share one code path.
 *
 * A CHILD SA is a pair of SAs (RFC 7296 §1.3, RFC 4301 §4.1): the inbound one carries our SPI
 * and the keys the peer sends with; the outbound one the peer's SPI and our sending keys.
 * Either both SAs and all policies are installed, or nothing is (what was added is rolled back).
 */
import { toHex } from '../crypto/bytes.js';
import { algorithmById, Esn, TransformType, type Algorithm } from '../crypto/registry.js';
import { addMessage, type StaticSa } from '../policy/manual.js';
import { Errno, type PfKeyEngine } from '../policy/pfkey-engine.js';
import type { Selector } from '../policy/selector.js';
import { Action, type Spd, type SpdEntry } from '../policy/spd.js';
import { SadbMsg, SadbSaType, type PfKeyMessage, type SadbLifetime } from '../wire/pfkey.js';
import type { ChildKeys } from './keymat.js';
import type { TsRange } from './select.js';
import { ProtocolId, type WireProposal } from './types.js';

/** SA lifetimes (RFC 2367 §2.3.3), as PF_KEY soft and hard limits; 0 means none */
export interface ChildLifetimes {
  softBytes?: number;
  hardBytes?: number;
  /** seconds after installation */
  softSeconds?: number;
  hardSeconds?: number;
}

export interface NegotiatedChild {
  /** the CHILD SA's name (the configuration's); SPD entries are named after it */
  name: string;
  /** our role in the IKE SA that keyed this CHILD SA (RFC 7296 §2.17 decides the key order) */
  role: 'initiator' | 'responder';
  /** the chosen ESP proposal (one transform per type) */
  proposal: WireProposal;
  keys: ChildKeys;
  /** our SPI (the peer sends to it; RFC 7296 §3.3.1) */
  spiIn: number;
  /** the peer's SPI */
  spiOut: number;
  /** outer addresses: ours and the peer's ("1.2.3.4" style strings, as in the configuration) */
  local: string;
  remote: string;
  /** the narrowed traffic selectors (RFC 7296 §2.9): TSi/TSr seen from our side */
  tsLocal: TsRange[];
  tsRemote: TsRange[];
  mode: 'tunnel' | 'transport';
  /** UDP encapsulation (RFC 7296 §2.23, RFC 3948): our port and the peer's */
  encapsulation?: { localPort: number; remotePort: number };
  lifetimes?: ChildLifetimes;
  /** anti-replay window in packets (RFC 4303 §3.4.3); default 64 */
  replayWindow?: number;
}

export interface InstalledChild {
  name: string;
  spiIn: number;
  spiOut: number;
  local: string;
  remote: string;
  /** the SPD entries added for this CHILD SA */
  policies: string[];
}

export type InstallResult = { ok: true; installed: InstalledChild } | { ok: false; reason: string };

/** The SA pair's transforms, as registry algorithms. */
interface ChildTransforms {
  encryption: Algorithm;
  integrity: Algorithm | null;
}

/** Reads the chosen proposal's transforms (RFC 7296 §3.3.2); a reason when unusable. */
export function childTransforms(proposal: WireProposal): ChildTransforms | string {
  if (proposal.protocol !== ProtocolId.ESP) return `protocol ${proposal.protocol}: only ESP CHILD SAs are installed`;
  let encryption: Algorithm | null = null;
  let integrity: Algorithm | null = null;
  for (const t of proposal.transforms) {
    if (t.type === TransformType.ENCR) {
      const a = algorithmById(TransformType.ENCR, t.id, t.keyBits ?? 0);
      if (!a) return `encryption transform ${t.id}${t.keyBits ? ` (${t.keyBits} bits)` : ''} is unknown`;
      encryption = a;
    } else if (t.type === TransformType.INTEG) {
      if (t.id === 0) continue; // NONE (with an AEAD)
      const a = algorithmById(TransformType.INTEG, t.id);
      if (!a) return `integrity transform ${t.id} is unknown`;
      integrity = a;
    } else if (t.type === TransformType.ESN) {
      // RFC 7296 §3.3.2 / RFC 4304: the data path keeps 32-bit sequence numbers only
      if (t.id !== Esn.NO) return 'extended sequence numbers are not supported by the data path';
    }
  }
  if (!encryption) return 'the proposal has no encryption transform';
  return { encryption, integrity };
}

/** Our keys and the peer's (RFC 7296 §2.17: the initiator sends with the "I" keys). */
function directionKeys(child: NegotiatedChild) {
  const k = child.keys;
  const initiatorKeys = { encryption: k.encryptionI, integrity: k.integrityI };
  const responderKeys = { encryption: k.encryptionR, integrity: k.integrityR };
  return child.role === 'initiator'
    ? { outbound: initiatorKeys, inbound: responderKeys }
    : { outbound: responderKeys, inbound: initiatorKeys };
}

function lifetime(bytes: number | undefined, seconds: number | undefined): SadbLifetime | undefined {
  if (!bytes && !seconds) return undefined;
  return { allocations: 0, bytes: BigInt(bytes ?? 0), addtime: BigInt(seconds ?? 0), usetime: 0n };
}

/** The PF_KEY messages (ADD) for both SAs of a CHILD SA; throws with what is wrong. */
export function childSaMessages(child: NegotiatedChild, seq = 0): { inbound: PfKeyMessage; outbound: PfKeyMessage } {
  const transforms = childTransforms(child.proposal);
  if (typeof transforms === 'string') throw new RangeError(transforms);
  const keys = directionKeys(child);
  const e = child.encapsulation;
  const make = (spi: number, source: string, destination: string, k: { encryption: Uint8Array; integrity: Uint8Array }, natT?: StaticSa['natT']) => {
    const m = addMessage({
      spi, protocol: 'esp', mode: child.mode, source, destination,
      encryption: transforms.encryption.name, encryptionKey: toHex(k.encryption),
      integrity: transforms.integrity?.name, integrityKey: transforms.integrity ? toHex(k.integrity) : undefined,
      replayWindow: child.replayWindow ?? 64, natT,
    }, seq);
    const soft = lifetime(child.lifetimes?.softBytes, child.lifetimes?.softSeconds);
    const hard = lifetime(child.lifetimes?.hardBytes, child.lifetimes?.hardSeconds);
    if (soft) m.lifetimeSoft = soft;
    if (hard) m.lifetimeHard = hard;
    return m;
  };
  return {
    // the peer sends from its address to ours: the SA's source is the peer (RFC 2367 §2.3.4)
    inbound: make(child.spiIn, child.remote, child.local, keys.inbound, e && { sourcePort: e.remotePort, destinationPort: e.localPort }),
    outbound: make(child.spiOut, child.local, child.remote, keys.outbound, e && { sourcePort: e.localPort, destinationPort: e.remotePort }),
  };
}

const ICMP = 1;
const ICMPV6 = 58;

/** The SPD selector for a pair of traffic selectors (RFC 4301 §4.4.1.1), or null if none can match. */
export function selectorFor(local: TsRange, remote: TsRange): Selector | null {
  if (local.start.length !== remote.start.length) return null;
  if (local.protocol !== 0 && remote.protocol !== 0 && local.protocol !== remote.protocol) return null;
  const protocol = local.protocol || remote.protocol;
  const ports = (ts: TsRange): [number, number] | null => {
    if (ts.startPort === 65535 && ts.endPort === 0) return null; // OPAQUE (RFC 7296 §3.13.1): not representable
    if (ts.startPort === 0 && ts.endPort === 65535) return [0, 65535];
    // ICMP: the type is the port's high byte (RFC 7296 §3.13.1); the SPD keeps the type range
    // as the "local port" (RFC 4301 §4.4.1.1)
    if (protocol === ICMP || protocol === ICMPV6) return [ts.startPort >> 8, ts.endPort >> 8];
    return [ts.startPort, ts.endPort];
  };
  const localPorts = ports(local);
  const remotePorts = ports(remote);
  if (!localPorts || !remotePorts) return null;
  const icmp = protocol === ICMP || protocol === ICMPV6;
  return {
    local: { start: local.start.slice(), end: local.end.slice() },
    remote: { start: remote.start.slice(), end: remote.end.slice() },
    protocol,
    // ICMP: the type (from either side's selector: both name the same messages) and any code
    localPorts: icmp ? intersect(localPorts, remotePorts) : localPorts,
    remotePorts: icmp ? [0, 65535] : remotePorts,
  };
}

function intersect(a: [number, number], b: [number, number]): [number, number] {
  return [Math.max(a[0], b[0]), Math.min(a[1], b[1])];
}

/** Sends one message; the reply's errno (0: done). */
function send(engine: PfKeyEngine, m: PfKeyMessage, locals: Uint8Array[]): number {
  return engine.handle(m, locals)[0].errno;
}

function deleteSa(engine: PfKeyEngine, spi: number, source: string, destination: string, locals: Uint8Array[]): number {
  const m = addMessage({ spi, protocol: 'esp', mode: 'tunnel', source, destination, encryption: 'null' });
  const message: PfKeyMessage = { type: SadbMsg.DELETE, errno: 0, satype: SadbSaType.ESP, seq: 0, pid: 0, sa: m.sa, src: m.src, dst: m.dst };
  return engine.handle(message, locals)[0].errno;
}

/**
 * GETSPI (RFC 2367 §3.1.1): a larval inbound SA for an SPI of ours, to offer in the SA payload
 * (RFC 7296 §3.3.1); installChild then completes it with UPDATE.
 */
export function allocateSpi(engine: PfKeyEngine, local: string, remote: string): number | undefined {
  const m = addMessage({ spi: 0, protocol: 'esp', mode: 'tunnel', source: remote, destination: local, encryption: 'null' });
  const [reply] = engine.handle({ type: SadbMsg.GETSPI, errno: 0, satype: SadbSaType.ESP, seq: 0, pid: 0, src: m.src, dst: m.dst });
  return reply.errno === 0 && reply.sa ? reply.sa.spi : undefined;
}

/** Deletes a larval SA GETSPI made when the negotiation it was for failed (RFC 2367 §3.1.4). */
export function releaseSpi(engine: PfKeyEngine, spi: number, local: string, remote: string): void {
  const locals = [addMessage({ spi: 1, protocol: 'esp', mode: 'tunnel', source: local, destination: remote, encryption: 'null' }).src!.address];
  deleteSa(engine, spi, remote, local, locals);
}

/** One SPD selector per pair of traffic selectors that can match (RFC 4301 §4.4.1.1). */
function selectorPairs(tsLocal: readonly TsRange[], tsRemote: readonly TsRange[]): Selector[] {
  const pairs: Selector[] = [];
  for (const l of tsLocal) {
    for (const r of tsRemote) {
      const s = selectorFor(l, r);
      if (s) pairs.push(s);
    }
  }
  return pairs;
}

/** The entries of a CHILD config's SAs in one direction ("name/out/0", "name/in/<spi>/0", ...). */
function entriesOf(spd: Spd, name: string, direction: 'out' | 'in'): SpdEntry[] {
  const prefix = `${name}/${direction}/`;
  return spd.entries(direction).filter((e) => e.name.startsWith(prefix));
}

/**
 * The outbound SPD entries of a CHILD config (RFC 4301 §4.4.1): one PROTECT entry per selector
 * pair, "name/out/i", pointing at the SA that sends. An earlier SA's entries (a rekey, RFC
 * 7296 §2.8) are replaced where they stood, so traffic moves at once.
 */
function pointOutbound(spd: Spd, name: string, pairs: Selector[], spiOut: number): string[] {
  const old = entriesOf(spd, name, 'out');
  const at = old.length ? spd.entries('out').indexOf(old[0]) : undefined;
  for (const e of old) spd.remove(e.name);
  return pairs.map((selector, i) => {
    const entry = `${name}/out/${i}`;
    spd.add({ name: entry, direction: 'out', selector, action: Action.PROTECT, spi: spiOut }, at === undefined ? undefined : at + i);
    return entry;
  });
}

/**
 * The inbound SPD entries of one SA, "name/in/<spi>/i": each SA of a CHILD config has its own
 * (RFC 4301 §5.2: what arrives on an SA is checked against that SA's selectors), so the old
 * SA of a rekey keeps receiving until it is deleted (RFC 7296 §2.8). They go in before the
 * config's other inbound entries, or last.
 */
function addInbound(spd: Spd, name: string, pairs: Selector[], spiIn: number): string[] {
  const siblings = entriesOf(spd, name, 'in');
  const at = siblings.length ? spd.entries('in').indexOf(siblings[0]) : undefined;
  return pairs.map((selector, i) => {
    const entry = `${name}/in/${spiIn.toString(16)}/${i}`;
    spd.add({ name: entry, direction: 'in', selector, action: Action.PROTECT, spi: spiIn }, at === undefined ? undefined : at + i);
    return entry;
  });
}

/**
 * Points the outbound SPD entries of a CHILD config at one of its SAs: when the rekey's
 * responder starts sending on the new SA (after the initiator deleted the old one), or after
 * the SA they pointed at was deleted while another of the same config lives on (a redundant
 * SA of a rekey collision, RFC 7296 §2.8.1). Returns the entry names.
 */
export function repointOutbound(spd: Spd, installed: InstalledChild, tsLocal: readonly TsRange[], tsRemote: readonly TsRange[]): string[] {
  const names = pointOutbound(spd, installed.name, selectorPairs(tsLocal, tsRemote), installed.spiOut);
  for (const n of names) if (!installed.policies.includes(n)) installed.policies.push(n);
  return names;
}

/**
 * A trap policy (strongSwan's start_action = trap): the CHILD config's outbound entries
 * PROTECT with no SA yet (SPI 0), so that its first packet raises an ACQUIRE (RFC 2367
 * §3.1.6) and the IKE engine negotiates the SA; installChild replaces them. Returns the
 * entry names, none when no pair of selectors makes an entry.
 */
export function installTrap(spd: Spd, name: string, tsLocal: readonly TsRange[], tsRemote: readonly TsRange[]): string[] {
  const pairs = selectorPairs(tsLocal, tsRemote);
  return pairs.length ? pointOutbound(spd, name, pairs, 0) : [];
}

/** Whether the outbound entries of a CHILD config send on this SA. */
export function sendsOn(spd: Spd, installed: InstalledChild): boolean {
  return entriesOf(spd, installed.name, 'out').some((e) => e.spi === installed.spiOut);
}

/**
 * Installs a negotiated CHILD SA: the inbound SA (UPDATE of the larval SA GETSPI made, or ADD
 * when there is none), the outbound SA (ADD), then one outbound and one inbound PROTECT entry per
 * pair of traffic selectors. The outbound entries of an earlier CHILD SA with the same name (a
 * rekey, RFC 7296 §2.8) are replaced in place, so traffic moves to the new SA at once, unless
 * `keepOutbound` (the rekey's responder: it moves when the old SA is deleted, see
 * repointOutbound); the old SAs and their inbound entries stay until removeChild deletes them
 * (§2.8: the old inbound SA may still receive for a while).
 */
export function installChild(engine: PfKeyEngine, spd: Spd, child: NegotiatedChild, options: { keepOutbound?: boolean } = {}): InstallResult {
  let messages: { inbound: PfKeyMessage; outbound: PfKeyMessage };
  let locals: Uint8Array[];
  try {
    messages = childSaMessages(child);
    locals = [messages.outbound.src!.address];
  } catch (e) {
    return { ok: false, reason: `${child.name}: ${(e as Error).message}` };
  }
  if (child.spiIn === child.spiOut) return { ok: false, reason: `${child.name}: inbound and outbound SPI are both 0x${child.spiIn.toString(16)}` };

  // the selectors first: nothing is installed when none of the pairs can match
  const pairs = selectorPairs(child.tsLocal, child.tsRemote);
  if (pairs.length === 0) return { ok: false, reason: `${child.name}: no pair of traffic selectors makes an SPD entry` };

  // inbound: UPDATE the larval SA (RFC 2367 §3.1.2); without one (ENOENT), ADD (§3.1.3)
  let errno = send(engine, { ...messages.inbound, type: SadbMsg.UPDATE }, locals);
  if (errno === Errno.ENOENT) errno = send(engine, messages.inbound, locals);
  if (errno !== 0) return { ok: false, reason: `${child.name}: inbound SA 0x${child.spiIn.toString(16)} refused (errno ${errno})` };
  errno = send(engine, messages.outbound, locals);
  if (errno !== 0) {
    deleteSa(engine, child.spiIn, child.remote, child.local, locals);
    return { ok: false, reason: `${child.name}: outbound SA 0x${child.spiOut.toString(16)} refused (errno ${errno})` };
  }

  // RFC 7296 §2.8: the responder of a rekey keeps sending on the old SA until the initiator,
  // which has the new one installed by then, deletes the old one
  const keepOld = options.keepOutbound === true && entriesOf(spd, child.name, 'out').length > 0;
  const policies = [...(keepOld ? [] : pointOutbound(spd, child.name, pairs, child.spiOut)), ...addInbound(spd, child.name, pairs, child.spiIn)];
  return {
    ok: true,
    installed: { name: child.name, spiIn: child.spiIn, spiOut: child.spiOut, local: child.local, remote: child.remote, policies },
  };
}

/**
 * Removes a CHILD SA (RFC 7296 §1.4.1 after a DELETE, or the old SAs after a rekey, §2.8):
 * PF_KEY DELETE for both SAs, and its SPD entries unless a newer CHILD SA of the same name took
 * them over (their SPIs are not these). Returns what could not be removed.
 */
export function removeChild(engine: PfKeyEngine, spd: Spd, installed: InstalledChild): string[] {
  const problems: string[] = [];
  const locals = [addMessage({ spi: 1, protocol: 'esp', mode: 'tunnel', source: installed.local, destination: installed.remote, encryption: 'null' }).src!.address];
  const errnoIn = deleteSa(engine, installed.spiIn, installed.remote, installed.local, locals);
  if (errnoIn !== 0) problems.push(`inbound SA 0x${installed.spiIn.toString(16)}: errno ${errnoIn}`);
  const errnoOut = deleteSa(engine, installed.spiOut, installed.local, installed.remote, locals);
  if (errnoOut !== 0) problems.push(`outbound SA 0x${installed.spiOut.toString(16)}: errno ${errnoOut}`);
  for (const name of installed.policies) {
    const entry = spd.find(name);
    if (entry && (entry.spi === installed.spiIn || entry.spi === installed.spiOut)) spd.remove(name);
  }
  return problems;
}
