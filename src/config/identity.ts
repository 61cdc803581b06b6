/**
 * IKE identities (RFC 7296 §3.5) from the strings swanctl.conf takes for `local.id`,
 * `remote.id` and a secret's `id`, typed the way strongSwan types them:
 *
 *   192.0.2.1, 2001:db8::1        ID_IPV4_ADDR, ID_IPV6_ADDR (4 or 16 bytes)
 *   user@example.com              ID_RFC822_ADDR
 *   @@user@example.com            ID_RFC822_ADDR (the "@@" is dropped)
 *   gw.example.com, @gw.example   ID_FQDN (a leading "@" keeps the rest a name, even if it
 *                                 looks like an address, and is dropped)
 *   @#0123abcd                    ID_KEY_ID, bytes in hex
 *   fqdn: dns: email: rfc822: userfqdn: keyid: ipv4: ipv6:   the type named explicitly;
 *                                 "prefix:#hex" gives the bytes in hex
 *   %any                          any identity (a remote id to accept; never sent)
 *
 * One difference from strongSwan: "ipv4:10.0.0.1" is converted to its 4 bytes. strongSwan
 * takes the text after a prefix as-is (its documentation warns that ipv4:10.0.0.1 is then
 * not a valid ID_IPV4_ADDR); here a prefixed address must be an address.
 * Distinguished names (C=CH, O=..., CN=...) and asn1dn:/asn1gn: go with certificates, which
 * are not supported yet: they are refused with that reason.
 */
import { asciiBytes, fromHex, toHex } from '../crypto/bytes.js';
import { formatAddress, parseAddress } from '../policy/selector.js';

/** RFC 7296 §3.5 ID types; ANY (0, reserved on the wire) is strongSwan's ID_ANY, "%any". */
export const IdType = {
  ANY: 0,
  IPV4_ADDR: 1,
  FQDN: 2,
  RFC822_ADDR: 3,
  IPV6_ADDR: 5,
  DER_ASN1_DN: 9,
  DER_ASN1_GN: 10,
  KEY_ID: 11,
} as const;

export interface Identity {
  /** RFC 7296 §3.5 ID type (IdType) */
  readonly type: number;
  /** the Identification Data as sent in an IDi/IDr payload */
  readonly data: Uint8Array;
  /** a text form for logs, which parseIdentity reads back to the same identity */
  readonly text: string;
}

/** Identification data longer than this is refused (no real identity comes near it). */
export const MAX_IDENTITY_BYTES = 255;

export const ANY_IDENTITY: Identity = { type: IdType.ANY, data: new Uint8Array(0), text: '%any' };

const EXPECTED = 'an identity: an address, a name, user@domain, @#hex or type:value';

const PREFIXES: Readonly<Record<string, number>> = {
  ipv4: IdType.IPV4_ADDR,
  ipv6: IdType.IPV6_ADDR,
  fqdn: IdType.FQDN,
  dns: IdType.FQDN,
  rfc822: IdType.RFC822_ADDR,
  email: IdType.RFC822_ADDR,
  userfqdn: IdType.RFC822_ADDR,
  keyid: IdType.KEY_ID,
};

const CERTIFICATES = 'certificates are not supported yet';

/** A host name: labels of letters, digits, "-" and "_", separated by single dots. */
const NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** The part of an email address before the "@": printable ASCII but blanks and "@". */
const LOCAL_PART = /^[\x21-\x3f\x41-\x7e]+$/;

function fail(expected: string): never {
  throw new RangeError(expected);
}

function bounded(type: number, data: Uint8Array, text: string): Identity {
  if (data.length === 0) fail(EXPECTED);
  if (data.length > MAX_IDENTITY_BYTES) fail(`an identity of at most ${MAX_IDENTITY_BYTES} bytes`);
  return { type, data, text };
}

function fqdn(name: string): Identity {
  if (name.length > MAX_IDENTITY_BYTES) fail(`an identity of at most ${MAX_IDENTITY_BYTES} bytes`);
  if (!NAME.test(name)) fail('a host name: letters, digits, "-" and "_" in labels separated by single dots');
  return bounded(IdType.FQDN, asciiBytes(name), name);
}

function email(address: string): Identity {
  if (address.length > MAX_IDENTITY_BYTES) fail(`an identity of at most ${MAX_IDENTITY_BYTES} bytes`);
  const at = address.indexOf('@');
  if (at <= 0 || !LOCAL_PART.test(address.slice(0, at)) || !NAME.test(address.slice(at + 1))) {
    fail('an email address: user@domain, no blanks, one "@"');
  }
  return bounded(IdType.RFC822_ADDR, asciiBytes(address), address);
}

function hexData(type: number, hex: string, prefix: string): Identity {
  if (hex.length > MAX_IDENTITY_BYTES * 2) fail(`an identity of at most ${MAX_IDENTITY_BYTES} bytes`);
  if (hex.length === 0 || hex.length % 2 || !/^[0-9a-fA-F]+$/.test(hex)) fail(`an even number of hex digits after "${prefix}"`);
  const data = fromHex(hex);
  if (type === IdType.IPV4_ADDR && data.length !== 4) fail('4 bytes (8 hex digits) for an IPv4 address');
  if (type === IdType.IPV6_ADDR && data.length !== 16) fail('16 bytes (32 hex digits) for an IPv6 address');
  const text = type === IdType.IPV4_ADDR || type === IdType.IPV6_ADDR ? formatAddress(data) : type === IdType.KEY_ID ? `@#${toHex(data)}` : `${prefix}${toHex(data)}`;
  return bounded(type, data, text);
}

function address(type: number, text: string): Identity {
  let data: Uint8Array | undefined;
  try {
    data = parseAddress(text);
  } catch {
    // reported below
  }
  const want = type === IdType.IPV4_ADDR ? 4 : 16;
  if (!data || data.length !== want) fail(want === 4 ? 'an IPv4 address after "ipv4:"' : 'an IPv6 address after "ipv6:"');
  return bounded(type, data, formatAddress(data));
}

/** Parses an identity string; throws a RangeError saying what was expected. */
export function parseIdentity(value: unknown): Identity {
  if (typeof value !== 'string' || value.length === 0) fail(EXPECTED);
  const text = value;
  if (text.length > 4 * MAX_IDENTITY_BYTES) fail(`an identity of at most ${MAX_IDENTITY_BYTES} bytes`);
  if (text === '%any') return ANY_IDENTITY;

  const colon = /^([A-Za-z0-9]+):/.exec(text);
  if (colon) {
    const prefix = colon[1].toLowerCase();
    const rest = text.slice(colon[0].length);
    if (prefix === 'asn1dn' || prefix === 'asn1gn') fail(`no ${prefix}: identity (${CERTIFICATES})`);
    const type = PREFIXES[prefix];
    if (type !== undefined) {
      if (rest.startsWith('#')) return hexData(type, rest.slice(1), `${prefix}:#`);
      if (type === IdType.IPV4_ADDR || type === IdType.IPV6_ADDR) return address(type, rest);
      if (type === IdType.FQDN) return fqdn(rest);
      if (type === IdType.RFC822_ADDR) return email(rest);
      return bounded(IdType.KEY_ID, asciiBytes(rest), `keyid:${rest}`);
    }
    // not a known prefix: an IPv6 address such as 2001:db8::1, or an error below
  }
  if (text.startsWith('@#')) return hexData(IdType.KEY_ID, text.slice(2), '@#');
  if (text.startsWith('@@')) return email(text.slice(2));
  if (text.startsWith('@')) return fqdn(text.slice(1));
  if (text.includes('=')) fail(`no distinguished name (${CERTIFICATES})`);
  if (text.includes('@')) return email(text);
  if (/^[0-9.]+$/.test(text) || (text.includes(':') && /^[0-9A-Fa-f:.]+$/.test(text))) {
    let data: Uint8Array;
    try {
      data = parseAddress(text);
    } catch {
      return fail('an IPv4 or IPv6 address');
    }
    return bounded(data.length === 4 ? IdType.IPV4_ADDR : IdType.IPV6_ADDR, data, formatAddress(data));
  }
  if (text.includes(':')) fail(`a known type prefix (${Object.keys(PREFIXES).join(', ')}) before ":"`);
  return fqdn(text);
}

/** Same type and same bytes. */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.type === b.type && a.data.length === b.data.length && a.data.every((x, i) => x === b.data[i]);
}

/** Whether `id` is acceptable where `pattern` is configured: %any accepts every identity. */
export function identityMatches(pattern: Identity, id: Identity): boolean {
  return pattern.type === IdType.ANY || sameIdentity(pattern, id);
}
