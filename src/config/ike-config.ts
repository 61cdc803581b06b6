/**
 * The IKE-facing sections of the configuration document, in swanctl.conf's vocabulary (key
 * names, value syntax and defaults as strongSwan's swanctl/vici apply them), validated with
 * precise problems and returned typed and normalised for the IKE engine:
 *
 *   connections  name -> IKE connection: addresses, ports, proposals, identities and PSK
 *                authentication, lifetimes, DPD, NAT-T keepalive; `children` name -> CHILD_SA:
 *                traffic selectors, ESP proposals, mode, lifetimes, actions
 *   secrets      { ike: [{ id, secret }] }, the pre-shared keys
 *   logging      per-subsystem levels, keylog (./logging.ts)
 *   allowLegacy  accept the algorithms RFC 8221/8247 reject in proposals
 *
 * Times come back in seconds, proposals parsed (./proposals.ts), identities parsed
 * (./identity.ts), addresses and traffic selectors as ranges, every default filled in.
 * A secret never appears in a problem: its value is shown as "<secret>".
 */
import { parseRange, type AddressRange } from '../policy/selector.js';
import { ANY_IDENTITY, IdType, parseIdentity, sameIdentity, type Identity } from './identity.js';
import { loggingSection, type LoggingConfig } from './logging.js';
import { proposalList, type Proposal, type ProposalOptions } from './proposals.js';
import { amount, BYTES, PACKETS, plusTenPercent, TIME } from './units.js';
import {
  array, boolean, describe, integer, keyPath, list, named, object, oneOf, optional, parsed, redacted, validate, yesNo,
  type Problem, type Schema,
} from './validate.js';
import { fromBase64, fromHex, utf8Bytes } from '../crypto/bytes.js';

/** One entry of local_addrs/remote_addrs. */
export interface IkeAddress {
  /** as written */
  readonly text: string;
  /** null for %any: any IPv4 or IPv6 address */
  readonly range: AddressRange | null;
  /** a single address: the one an initiator sends from (local) or to (remote) */
  readonly single: boolean;
}

/** One entry of local_ts/remote_ts (RFC 7296 §3.13.1). */
export interface TrafficSelector {
  /** as written */
  readonly text: string;
  /** `dynamic`: the IKE SA's own address, known at negotiation; range is null */
  readonly dynamic: boolean;
  readonly range: AddressRange | null;
  /** IP protocol; 0 for any */
  readonly protocol: number;
  /**
   * inclusive port range, [0, 65535] for any; OPAQUE is [65535, 0] (RFC 4301 §4.4.1.1). For
   * ICMP and ICMPv6 it is the message type range, as strongSwan's [icmp/8] means type 8.
   */
  readonly ports: readonly [number, number];
}

export interface AuthRound {
  /** pre-shared key; the only method so far */
  readonly auth: 'psk';
  readonly id: Identity;
}

/** Soft (rekey) and hard (life) limits, and the random amount taken off the soft one. */
export interface ChildLimits {
  readonly rekey: number;
  readonly life: number;
  readonly rand: number;
}

export interface ChildConfig {
  readonly name: string;
  readonly local_ts: readonly TrafficSelector[];
  readonly remote_ts: readonly TrafficSelector[];
  readonly esp_proposals: readonly Proposal[];
  readonly mode: 'tunnel' | 'transport';
  /** seconds */
  readonly rekey_time: number;
  readonly life_time: number;
  readonly rand_time: number;
  readonly rekey_bytes: number;
  readonly life_bytes: number;
  readonly rand_bytes: number;
  readonly rekey_packets: number;
  readonly life_packets: number;
  readonly rand_packets: number;
  readonly start_action: 'none' | 'trap' | 'start';
  readonly dpd_action: 'clear' | 'trap' | 'restart';
  readonly close_action: 'none' | 'trap' | 'start';
}

export interface ConnectionConfig {
  readonly name: string;
  readonly version: 2;
  readonly local_addrs: readonly IkeAddress[];
  readonly remote_addrs: readonly IkeAddress[];
  readonly local_port: number;
  readonly remote_port: number;
  readonly proposals: readonly Proposal[];
  /** force UDP encapsulation by faking NAT detection */
  readonly encap: boolean;
  /** seconds; 0: no DPD */
  readonly dpd_delay: number;
  /** NAT-T keepalive interval in seconds (strongswan.conf charon.keep_alive); 0: none */
  readonly keep_alive: number;
  /** 0: retry for ever */
  readonly keyingtries: number;
  /** seconds; 0 disables */
  readonly rekey_time: number;
  readonly reauth_time: number;
  readonly over_time: number;
  readonly rand_time: number;
  readonly fragmentation: 'yes' | 'accept' | 'no';
  readonly unique: 'no' | 'never' | 'keep' | 'replace';
  readonly local: AuthRound;
  readonly remote: AuthRound;
  readonly children: readonly ChildConfig[];
}

export interface IkeSecret {
  /** the identities the key belongs to; empty: any peer (strongSwan's secret without id) */
  readonly ids: readonly Identity[];
  readonly secret: Uint8Array;
}

export interface IkeConfig {
  readonly allowLegacy: boolean;
  readonly connections: readonly ConnectionConfig[];
  readonly secrets: { readonly ike: readonly IkeSecret[] };
  readonly logging: LoggingConfig;
}

export const IKE_DEFAULTS = {
  local_port: 500,
  remote_port: 500,
  /** 4 h */
  ike_rekey_time: 4 * 3600,
  /** 1 h */
  child_rekey_time: 3600,
  keep_alive: 20,
  keyingtries: 1,
} as const;

const NAME = { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, expected: 'a name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit' };

const ANY4 = parseRange('0.0.0.0/0');
const ANY6 = parseRange('::/0');

const ikeAddress = parsed((v): IkeAddress => {
  const expected = 'an IPv4 or IPv6 address, prefix or range, or %any (names are not resolved)';
  if (typeof v !== 'string') throw new RangeError(expected);
  if (v === '%any') return { text: v, range: null, single: false };
  if (v === '%any4' || v === '%any6') return { text: v, range: v === '%any4' ? ANY4 : ANY6, single: false };
  try {
    return { text: v, range: parseRange(v), single: !v.includes('/') && !v.includes('-') };
  } catch {
    throw new RangeError(expected);
  }
}, { text: '', range: null, single: false });

const PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, udplite: 136 };
const WITH_PORTS = new Set([1, 6, 17, 58, 132, 136]);

const trafficSelector = parsed((v): TrafficSelector => {
  const expected = 'a traffic selector: dynamic, or an address, prefix or range, optionally with [protocol/port], e.g. 10.1.0.0/16[tcp/443]';
  const m = typeof v === 'string' ? /^([^[\]]+?)\s*(?:\[([^/\]]*)(?:\/([^\]]*))?\])?$/.exec(v) : null;
  if (typeof v !== 'string' || !m) throw new RangeError(expected);
  const [, where, proto = '', port = ''] = m;
  let range: AddressRange | null = null;
  if (where !== 'dynamic') {
    try {
      range = parseRange(where);
    } catch {
      throw new RangeError(expected);
    }
  }
  let protocol = 0;
  if (proto !== '' && proto !== '%any') {
    protocol = /^\d{1,3}$/.test(proto) ? Number(proto) : PROTOCOLS[proto.toLowerCase()] ?? -1;
    if (protocol < 0 || protocol > 255) throw new RangeError(`a protocol number 0-255 or one of ${Object.keys(PROTOCOLS).join(', ')}`);
  }
  let ports: [number, number] = [0, 65535];
  if (port !== '' && port !== '%any') {
    if (!WITH_PORTS.has(protocol)) throw new RangeError('ports only with tcp, udp, sctp, udplite, or icmp/icmpv6 (the type)');
    const p = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(port);
    if (port === 'opaque') ports = [65535, 0];
    else if (!p || Number(p[1]) > 65535 || Number(p[2] ?? p[1]) > 65535 || Number(p[2] ?? p[1]) < Number(p[1])) {
      throw new RangeError('a port, a port range low-high (0-65535) or opaque');
    } else ports = [Number(p[1]), Number(p[2] ?? p[1])];
  }
  return { text: v, dynamic: where === 'dynamic', range, protocol, ports };
}, { text: '', dynamic: true, range: null, protocol: 0, ports: [0, 65535] });

const identity = parsed(parseIdentity, ANY_IDENTITY);

const authMethod: Schema<'psk'> = (v, path, problems) => {
  if (v === 'psk') return 'psk';
  const why = v === undefined
    ? "swanctl.conf's default is pubkey, and certificates are not supported yet"
    : typeof v === 'string' && /^(eap|xauth)/.test(v) ? 'EAP and XAuth are not supported' : 'certificates and raw public keys are not supported yet';
  problems.push({ path, expected: `"psk" (${why})`, got: describe(v) });
  return 'psk';
};

const authRound = object({ auth: authMethod, id: optional(identity) });

/**
 * Keys swanctl.conf has that mean nothing for an IKEv2-only gateway, refused with the reason
 * (other unknown keys get the generic "no such key" with the known ones listed).
 */
const REFUSED: Readonly<Record<string, string>> = {
  dpd_timeout: 'swanctl.conf applies dpd_timeout to IKEv1 only; an IKEv2 peer that does not answer a DPD request after its retransmissions is dead',
};

/** `schema` over the object without the REFUSED keys, each of them a problem. */
const refusing = <T>(schema: Schema<T>): Schema<T> => (v, path, problems) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return schema(v, path, problems);
  const rest: Record<string, unknown> = { ...v };
  for (const [key, why] of Object.entries(REFUSED)) {
    if (!(key in rest)) continue;
    problems.push({ path: keyPath(path, key), expected: `no such key (${why})`, got: describe(rest[key]) });
    delete rest[key];
  }
  return schema(rest, path, problems);
};

const fragmentation: Schema<'yes' | 'accept' | 'no'> = (v, path, problems) =>
  v === true ? 'yes' : v === false ? 'no' : oneOf('yes', 'accept', 'no')(v, path, problems);

const addresses = list(ikeAddress, 'addresses: a comma-separated string or a non-empty array, e.g. "192.0.2.1" or ["%any"]', 16);
const selectors = list(trafficSelector, 'traffic selectors: a comma-separated string or a non-empty array, e.g. "10.1.0.0/16"', 32);
const time = optional(amount(TIME));
const bytes = optional(amount(BYTES));
const packets = optional(amount(PACKETS));

const childShape = (options: ProposalOptions) => object({
  local_ts: optional(selectors),
  remote_ts: optional(selectors),
  esp_proposals: optional(proposalList('esp', options)),
  mode: optional(oneOf('tunnel', 'transport'), 'tunnel'),
  rekey_time: time,
  life_time: time,
  rand_time: time,
  rekey_bytes: bytes,
  life_bytes: bytes,
  rand_bytes: bytes,
  rekey_packets: packets,
  life_packets: packets,
  rand_packets: packets,
  start_action: optional(oneOf('none', 'trap', 'start'), 'none'),
  dpd_action: optional(oneOf('clear', 'trap', 'restart'), 'clear'),
  close_action: optional(oneOf('none', 'trap', 'start'), 'none'),
});

/**
 * swanctl's CHILD_SA limits: rekey defaults to `rekeyDefault` (or life / 1.1 when only life
 * is set), life to rekey + 10%, rand to life - rekey. An explicit life must exceed rekey,
 * an explicit rand must stay below rekey (when rekeying is on).
 */
function limits(
  what: 'time' | 'bytes' | 'packets', given: { rekey?: number; life?: number; rand?: number },
  rekeyDefault: number, max: number, path: string, problems: Problem[],
): ChildLimits {
  const rekey = given.rekey ?? (given.life !== undefined ? Math.floor((given.life * 10) / 11) : rekeyDefault);
  const life = given.life ?? plusTenPercent(rekey, max);
  const rand = given.rand ?? life - Math.min(life, rekey);
  const unit = what === 'time' ? ' s' : what === 'bytes' ? ' bytes' : ' packets';
  if (given.life !== undefined && rekey > 0 && life > 0 && life <= rekey) {
    problems.push({ path: `${path}.life_${what}`, expected: `more than rekey_${what} (${rekey}${unit}): the SA must be rekeyed before it expires`, got: String(life) });
  }
  if (given.rand !== undefined && rekey > 0 && rand >= rekey) {
    problems.push({ path: `${path}.rand_${what}`, expected: `less than rekey_${what} (${rekey}${unit})`, got: String(rand) });
  }
  return { rekey, life, rand };
}

const childSchema = (options: ProposalOptions): Schema<Omit<ChildConfig, 'name'>> => {
  const shape = childShape(options);
  return (v, path, problems) => {
    const c = shape(v, path, problems);
    const t = limits('time', { rekey: c.rekey_time, life: c.life_time, rand: c.rand_time }, IKE_DEFAULTS.child_rekey_time, TIME.max, path, problems);
    const b = limits('bytes', { rekey: c.rekey_bytes, life: c.life_bytes, rand: c.rand_bytes }, 0, BYTES.max, path, problems);
    const p = limits('packets', { rekey: c.rekey_packets, life: c.life_packets, rand: c.rand_packets }, 0, PACKETS.max, path, problems);
    const dynamic = [trafficSelector('dynamic', path, problems)];
    return {
      local_ts: c.local_ts ?? dynamic,
      remote_ts: c.remote_ts ?? dynamic,
      esp_proposals: c.esp_proposals ?? proposalList('esp')('default', path, problems),
      mode: c.mode ?? 'tunnel',
      rekey_time: t.rekey, life_time: t.life, rand_time: t.rand,
      rekey_bytes: b.rekey, life_bytes: b.life, rand_bytes: b.rand,
      rekey_packets: p.rekey, life_packets: p.life, rand_packets: p.rand,
      start_action: c.start_action ?? 'none',
      dpd_action: c.dpd_action ?? 'clear',
      close_action: c.close_action ?? 'none',
    };
  };
};

const connectionShape = (options: ProposalOptions) => object({
  version: optional(integer(2, 2, '2 (IKEv2; IKEv1 is not supported)'), 2),
  local_addrs: optional(addresses),
  remote_addrs: optional(addresses),
  local_port: optional(integer(1, 65535), IKE_DEFAULTS.local_port),
  remote_port: optional(integer(1, 65535), IKE_DEFAULTS.remote_port),
  proposals: optional(proposalList('ike', options)),
  encap: optional(yesNo(), false),
  dpd_delay: time,
  keep_alive: time,
  keyingtries: optional(integer(0, 0x7fffffff, 'a number of tries, 0 for no limit'), IKE_DEFAULTS.keyingtries),
  rekey_time: time,
  reauth_time: time,
  over_time: time,
  rand_time: time,
  fragmentation: optional(fragmentation, 'yes'),
  unique: optional(oneOf('no', 'never', 'keep', 'replace'), 'no'),
  local: authRound,
  remote: authRound,
  children: optional(named(childSchema(options), NAME, 'children: an object of named CHILD_SA sections'), []),
});

const connectionSchema = (options: ProposalOptions): Schema<Omit<ConnectionConfig, 'name'>> => {
  const shape = refusing(connectionShape(options));
  return (v, path, problems) => {
    const c = shape(v, path, problems);
    const local_addrs = c.local_addrs ?? [ikeAddress('%any', path, problems)];
    const remote_addrs = c.remote_addrs ?? [ikeAddress('%any', path, problems)];
    // vici: 4 h of rekeying unless only reauthentication is asked for; over and rand from them
    const reauth_time = c.reauth_time ?? 0;
    const rekey_time = c.rekey_time ?? (c.reauth_time === undefined ? IKE_DEFAULTS.ike_rekey_time : 0);
    const over_time = c.over_time ?? Math.floor(Math.max(rekey_time, reauth_time) / 10);
    const base = rekey_time && reauth_time ? Math.min(rekey_time, reauth_time) : Math.max(rekey_time, reauth_time);
    const rand_time = c.rand_time ?? Math.min(over_time, Math.floor(base / 2));
    if (c.rand_time !== undefined && base > 0 && rand_time >= base) {
      problems.push({ path: `${path}.rand_time`, expected: `less than ${rekey_time && (!reauth_time || rekey_time <= reauth_time) ? 'rekey_time' : 'reauth_time'} (${base} s)`, got: String(rand_time) });
    }
    // swanctl: the local id defaults to the IKE address; that is only known when there is one
    const firstSingle = local_addrs.find((a) => a.single);
    let localId = c.local?.id;
    if (!localId && firstSingle?.range) localId = parseIdentity(firstSingle.text.trim());
    if (!localId && c.local) {
      problems.push({ path: `${path}.local.id`, expected: 'an identity (the default, the local address, needs one address in local_addrs)', got: 'nothing' });
    }
    if (localId?.type === IdType.ANY) problems.push({ path: `${path}.local.id`, expected: 'an identity of our own, not %any', got: '"%any"' });
    const children = (c.children ?? []).map(([name, child]) => ({ name, ...child }));
    for (const child of children) {
      if (child.start_action !== 'none' && !remote_addrs.some((a) => a.single)) {
        problems.push({
          path: `${keyPath(`${path}.children`, child.name)}.start_action`,
          expected: `"none" unless remote_addrs has an address to initiate to (${child.start_action} initiates)`,
          got: JSON.stringify(child.start_action),
        });
      }
    }
    return {
      version: 2,
      local_addrs,
      remote_addrs,
      local_port: c.local_port ?? IKE_DEFAULTS.local_port,
      remote_port: c.remote_port ?? IKE_DEFAULTS.remote_port,
      proposals: c.proposals ?? proposalList('ike')('default', path, problems),
      encap: c.encap ?? false,
      dpd_delay: c.dpd_delay ?? 0,
      keep_alive: c.keep_alive ?? IKE_DEFAULTS.keep_alive,
      keyingtries: c.keyingtries ?? IKE_DEFAULTS.keyingtries,
      rekey_time, reauth_time, over_time, rand_time,
      fragmentation: c.fragmentation ?? 'yes',
      unique: c.unique ?? 'no',
      local: { auth: 'psk', id: localId ?? ANY_IDENTITY },
      remote: { auth: 'psk', id: c.remote?.id ?? ANY_IDENTITY },
      children,
    };
  };
};

/**
 * A secret's value as swanctl.conf writes it: text (its UTF-8 bytes), 0x followed by hex, or
 * 0s followed by base64. Problems never show it.
 */
const ENCODINGS: readonly [string, (s: string) => Uint8Array, string][] = [
  ['0x', fromHex, 'an even number of hex digits after 0x'],
  ['0s', fromBase64, 'base64 after 0s'],
];

/** A secret's bytes from its swanctl.conf form; throws a RangeError saying what was expected, never showing the value. */
export function parseSecret(v: unknown): Uint8Array {
  if (typeof v !== 'string' || v.length === 0) throw new RangeError('a secret: text, 0x followed by hex, or 0s followed by base64');
  for (const [prefix, decode, expected] of ENCODINGS) {
    if (!v.startsWith(prefix)) continue;
    let bytes: Uint8Array = new Uint8Array(0);
    try {
      bytes = decode(v.slice(2));
    } catch {
      // refused below, without the decoder's message
    }
    if (bytes.length === 0) throw new RangeError(expected);
    return bytes;
  }
  return utf8Bytes(v);
}

const secretValue = parsed(parseSecret, new Uint8Array(0));

const ikeSecret = object({
  id: optional((v, path, problems) => (typeof v === 'string' ? [identity(v, path, problems)] : array(identity, 'an identity or an array of identities')(v, path, problems))),
  secret: secretValue,
});

const secretsShape = redacted(
  object({ ike: optional(array(ikeSecret, 'an array of { "id": ..., "secret": ... }'), []) }),
  (path) => /\.id(\[\d+\])?$/.test(path),
);

const document = object({
  allowLegacy: optional(boolean(), false),
  connections: optional((v) => v),
  secrets: optional((v) => v),
  logging: optional((v) => v),
});

const CONNECTIONS = 'connections: an object of named connection sections';

/** Validates connections, secrets, logging and allowLegacy; throws ConfigError with every problem. */
export function validateIkeConfig(value: unknown): IkeConfig {
  return validate((v, path, problems): IkeConfig => {
    const doc = document(v, path, problems);
    const options: ProposalOptions = { allowLegacy: doc.allowLegacy ?? false };
    const connections = (doc.connections === undefined ? [] : named(connectionSchema(options), NAME, CONNECTIONS)(doc.connections, `${path}.connections`, problems))
      .map(([name, c]): ConnectionConfig => ({ name, ...c }));
    const secrets: ReturnType<typeof secretsShape> = doc.secrets === undefined ? { ike: [] } : secretsShape(doc.secrets, `${path}.secrets`, problems);
    const ike: IkeSecret[] = (secrets.ike ?? []).map((s) => ({ ids: s.id ?? [], secret: s.secret }));
    // where each secret's ids were written: "id" alone or an array
    const idPaths = ike.map((s, i) => {
      const raw = (doc.secrets as { ike?: { id?: unknown }[] }).ike?.[i]?.id;
      return s.ids.map((_, j) => `${path}.secrets.ike[${i}].id${Array.isArray(raw) ? `[${j}]` : ''}`);
    });
    crossCheck(connections, ike, idPaths, path, problems);
    return {
      allowLegacy: options.allowLegacy ?? false,
      connections,
      secrets: { ike },
      logging: loggingSection(doc.logging, `${path}.logging`, problems),
    };
  }, value);
}

/** Whether a secret serves a connection: it has no id, or an id is one of the two sides'. */
function serves(secret: IkeSecret, c: ConnectionConfig): boolean {
  return secret.ids.length === 0 || secret.ids.some((id) => id.type === IdType.ANY || sameIdentity(id, c.local.id) || sameIdentity(id, c.remote.id));
}

function crossCheck(connections: ConnectionConfig[], secrets: IkeSecret[], idPaths: string[][], path: string, problems: Problem[]): void {
  const owners = new Map<string, string>();
  for (const c of connections) {
    const at = keyPath(`${path}.connections`, c.name);
    if ((c.local.auth === 'psk' || c.remote.auth === 'psk') && !secrets.some((s) => serves(s, c))) {
      const ids = [c.local.id, c.remote.id].filter((id) => id.type !== IdType.ANY).map((id) => JSON.stringify(id.text));
      problems.push({ path: `${at}.local.auth`, expected: `a pre-shared key in secrets.ike for ${ids.join(' or ') || 'this connection'}`, got: 'no such secret' });
    }
    for (const child of c.children) {
      const other = owners.get(child.name);
      if (other !== undefined) {
        problems.push({ path: keyPath(`${at}.children`, child.name), expected: `a child name used once across connections (also in ${other})`, got: JSON.stringify(child.name) });
      } else owners.set(child.name, c.name);
    }
  }
  const seen: { id: Identity; at: string }[] = [];
  secrets.forEach((s, i) => s.ids.forEach((id, j) => {
    const first = seen.find((x) => sameIdentity(x.id, id));
    if (first) problems.push({ path: idPaths[i][j], expected: `an id with one secret only (also in ${first.at})`, got: JSON.stringify(id.text) });
    else seen.push({ id, at: `${path}.secrets.ike[${i}]` });
  }));
}
