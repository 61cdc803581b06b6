/**
 * IKEv2 payload bodies (RFC 7296 §3.3-§3.15, RFC 7383 §2.5): typed parse and encode of what
 * follows each payload's generic header. The chain of generic headers and the IKE header are
 * in ./message.ts.
 *
 * Parsing checks every length before it reads (DESIGN.md principle 4) and never throws: a
 * body that does not fit its payload gives a string saying why, which ./message.ts turns into
 * an INVALID_SYNTAX error. Encoding takes the typed payload and returns the body's bytes
 * (IKE messages are not the hot path; allocating here is fine).
 */
import { ProtocolId, type WireProposal, type WireTransform } from './types.js';

/** RFC 7296 §3.2 payload types (IANA "IKEv2 Payload Types"), and RFC 7383 §2.5 SKF. */
export const PayloadType = {
  /** "No Next Payload"; as a discriminant, a payload of a type this codec does not know */
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  NOTIFY: 41,
  DELETE: 42,
  VENDOR_ID: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  /** RFC 7383 §2.5 Encrypted and Authenticated Fragment */
  SKF: 53,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/**
 * Notify Message Types: errors (RFC 7296 §3.10.1, 0-16383) and status types (16384-65535)
 * from RFC 7296 §3.10.1, RFC 4555 (MOBIKE), RFC 5685 (redirect), RFC 7383 (fragmentation)
 * and RFC 7427 (signature authentication).
 */
export const NotifyType = {
  // errors, RFC 7296 §3.10.1
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  // errors, RFC 4555 §4
  UNACCEPTABLE_ADDRESSES: 40,
  UNEXPECTED_NAT_DETECTED: 41,
  // errors, RFC 7296 §3.10.1
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  // status, RFC 7296 §3.10.1
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  // status, RFC 4555 §4
  MOBIKE_SUPPORTED: 16396,
  ADDITIONAL_IP4_ADDRESS: 16397,
  ADDITIONAL_IP6_ADDRESS: 16398,
  NO_ADDITIONAL_ADDRESSES: 16399,
  UPDATE_SA_ADDRESSES: 16400,
  COOKIE2: 16401,
  NO_NATS_ALLOWED: 16402,
  // status, RFC 5685 §10
  REDIRECT_SUPPORTED: 16406,
  REDIRECT: 16407,
  REDIRECTED_FROM: 16408,
  // status, RFC 7383 §2.3
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
  // status, RFC 7427 §4
  SIGNATURE_HASH_ALGORITHMS: 16431,
} as const;

/** RFC 7296 §3.13.1 TS Types */
export const TsType = { IPV4_ADDR_RANGE: 7, IPV6_ADDR_RANGE: 8 } as const;

/** RFC 7296 §3.3.5 transform attribute types */
export const TransformAttribute = { KEY_LENGTH: 14 } as const;

/** RFC 7296 §3.3.1, §3.3.2: "Last Substruc" values */
const LAST = 0;
const MORE_PROPOSALS = 2;
const MORE_TRANSFORMS = 3;
/** RFC 7296 §3.3.5: the Attribute Format bit (1 = TV, a 2-byte value in the header) */
const ATTRIBUTE_TV = 0x8000;

/** RFC 7296 §3.9: Nonce Data is 16 to 256 octets */
export const NONCE_MIN = 16;
export const NONCE_MAX = 256;

/** RFC 7296 §3.3: proposals and their transforms */
export interface SaPayload { type: typeof PayloadType.SA; proposals: WireProposal[] }
/** RFC 7296 §3.4: Diffie-Hellman Group Num (Transform Type 4 ID) and Key Exchange Data */
export interface KePayload { type: typeof PayloadType.KE; group: number; data: Uint8Array }
/** RFC 7296 §3.5: ID Type (see IdType in src/config/identity.ts) and Identification Data */
export interface IdPayload { type: typeof PayloadType.IDi | typeof PayloadType.IDr; idType: number; data: Uint8Array }
/** RFC 7296 §3.6, §3.7: Cert Encoding and the certificate (or CA hashes), raw */
export interface CertPayload { type: typeof PayloadType.CERT | typeof PayloadType.CERTREQ; encoding: number; data: Uint8Array }
/** RFC 7296 §3.8: Auth Method and Authentication Data */
export interface AuthPayload { type: typeof PayloadType.AUTH; method: number; data: Uint8Array }
/** RFC 7296 §3.9 */
export interface NoncePayload { type: typeof PayloadType.NONCE; nonce: Uint8Array }
/** RFC 7296 §3.10: the SPI's size is spi.length (0 for the IKE SA or none) */
export interface NotifyPayload { type: typeof PayloadType.NOTIFY; protocol: number; spi: Uint8Array; notifyType: number; data: Uint8Array }
/** RFC 7296 §3.11: spiSize 0 with no SPIs deletes the IKE SA; 4 for AH/ESP */
export interface DeletePayload { type: typeof PayloadType.DELETE; protocol: number; spiSize: number; spis: Uint8Array[] }
/** RFC 7296 §3.12 */
export interface VendorIdPayload { type: typeof PayloadType.VENDOR_ID; data: Uint8Array }
/** RFC 7296 §3.13.1: an address range (4 or 16 bytes each) with a protocol and a port range */
export interface TrafficSelector {
  tsType: number;
  /** IP Protocol ID, 0 for any */
  protocol: number;
  startPort: number;
  endPort: number;
  startAddress: Uint8Array;
  endAddress: Uint8Array;
}
/** RFC 7296 §3.13 */
export interface TsPayload { type: typeof PayloadType.TSi | typeof PayloadType.TSr; selectors: TrafficSelector[] }
/**
 * RFC 7296 §3.14: the Encrypted payload as it is on the wire: IV, ciphertext and ICV in
 * `data`, opaque here; firstPayload is the type of the first payload inside.
 */
export interface SkPayload { type: typeof PayloadType.SK; firstPayload: number; data: Uint8Array }
/** RFC 7296 §3.15: CFG Type and the configuration attributes, raw */
export interface CpPayload { type: typeof PayloadType.CP; cfgType: number; attributes: Uint8Array }
/** RFC 7296 §3.16: the EAP message, raw */
export interface EapPayload { type: typeof PayloadType.EAP; data: Uint8Array }
/**
 * RFC 7383 §2.5: one fragment; `data` is IV, ciphertext and ICV, opaque here; firstPayload
 * is the first inner payload's type in fragment 1 and 0 in the others.
 */
export interface SkfPayload { type: typeof PayloadType.SKF; firstPayload: number; fragmentNumber: number; totalFragments: number; data: Uint8Array }
/** RFC 7296 §3.2: a payload of a type this codec does not know, kept raw (critical bit clear) */
export interface UnknownPayload { type: typeof PayloadType.NONE; payloadType: number; critical: boolean; data: Uint8Array }

export type Payload =
  | SaPayload | KePayload | IdPayload | CertPayload | AuthPayload | NoncePayload | NotifyPayload
  | DeletePayload | VendorIdPayload | TsPayload | SkPayload | CpPayload | EapPayload | SkfPayload
  | UnknownPayload;

/** The payload types whose body parseBody knows. */
export function isKnownPayloadType(type: number): boolean {
  return (type >= PayloadType.SA && type <= PayloadType.EAP) || type === PayloadType.SKF;
}

/** Whether a payload must be the last of its chain: SK (RFC 7296 §3.14) and SKF (RFC 7383 §2.5) */
export function isEncrypted(type: number): boolean {
  return type === PayloadType.SK || type === PayloadType.SKF;
}

/** The payload type as written in the Next Payload field before this payload. */
export function wireType(payload: Payload): number {
  return payload.type === PayloadType.NONE ? payload.payloadType : payload.type;
}

/** Big-endian 16-bit fields (RFC 7296 §2: network byte order). */
export const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** A body of `head` bytes of fixed fields followed by `data`. */
function withHead(head: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/**
 * Parses the body of a payload of a known type (isKnownPayloadType) at b[start..end);
 * `next` is the Next Payload field of its generic header (for SK and SKF, the first inner
 * payload). Returns the payload or why the body is malformed.
 */
export function parseBody(type: number, next: number, b: Uint8Array, start: number, end: number): Payload | string {
  const length = end - start;
  switch (type) {
    case PayloadType.SA:
      return parseSa(b, start, end);
    case PayloadType.KE: // §3.4: Group Num (2), RESERVED (2)
      if (length < 4) return 'KE payload shorter than its fixed fields';
      return { type, group: u16(b, start), data: b.slice(start + 4, end) };
    case PayloadType.IDi:
    case PayloadType.IDr: // §3.5: ID Type (1), RESERVED (3)
      if (length < 4) return 'ID payload shorter than its fixed fields';
      return { type, idType: b[start], data: b.slice(start + 4, end) };
    case PayloadType.CERT:
    case PayloadType.CERTREQ: // §3.6, §3.7: Cert Encoding (1)
      if (length < 1) return 'CERT/CERTREQ payload without its encoding';
      return { type, encoding: b[start], data: b.slice(start + 1, end) };
    case PayloadType.AUTH: // §3.8: Auth Method (1), RESERVED (3)
      if (length < 4) return 'AUTH payload shorter than its fixed fields';
      return { type, method: b[start], data: b.slice(start + 4, end) };
    case PayloadType.NONCE: // §3.9
      if (length < NONCE_MIN || length > NONCE_MAX) return `nonce of ${length} bytes (16 to 256 allowed)`;
      return { type, nonce: b.slice(start, end) };
    case PayloadType.NOTIFY: { // §3.10: Protocol ID (1), SPI Size (1), Type (2), SPI, data
      if (length < 4) return 'Notify payload shorter than its fixed fields';
      const spiSize = b[start + 1];
      if (length < 4 + spiSize) return 'Notify SPI beyond the payload';
      return { type, protocol: b[start], spi: b.slice(start + 4, start + 4 + spiSize), notifyType: u16(b, start + 2), data: b.slice(start + 4 + spiSize, end) };
    }
    case PayloadType.DELETE:
      return parseDelete(b, start, end);
    case PayloadType.VENDOR_ID: // §3.12
      return { type, data: b.slice(start, end) };
    case PayloadType.TSi:
    case PayloadType.TSr:
      return parseTs(type, b, start, end);
    case PayloadType.SK: // §3.14
      return { type, firstPayload: next, data: b.slice(start, end) };
    case PayloadType.CP: // §3.15: CFG Type (1), RESERVED (3)
      if (length < 4) return 'CP payload shorter than its fixed fields';
      return { type, cfgType: b[start], attributes: b.slice(start + 4, end) };
    case PayloadType.EAP: // §3.16
      return { type, data: b.slice(start, end) };
    case PayloadType.SKF: { // RFC 7383 §2.5: Fragment Number (2), Total Fragments (2)
      if (length < 4) return 'SKF payload shorter than its fixed fields';
      const fragmentNumber = u16(b, start);
      const totalFragments = u16(b, start + 2);
      if (fragmentNumber === 0 || fragmentNumber > totalFragments) return `fragment ${fragmentNumber} of ${totalFragments}`;
      return { type, firstPayload: next, fragmentNumber, totalFragments, data: b.slice(start + 4, end) };
    }
    default:
      return `payload type ${type} has no parser`;
  }
}

/**
 * RFC 7296 §3.3.1: proposals fill the SA payload exactly, each marked "more" (2) but the last
 * (0); numbered from one and consecutively when there are several (§3.3.1: the first proposal
 * is 1, each next one more; an accepted proposal comes back alone with its own number).
 */
function parseSa(b: Uint8Array, start: number, end: number): SaPayload | string {
  const proposals: WireProposal[] = [];
  let at = start;
  let last = MORE_PROPOSALS;
  while (last !== LAST) {
    if (end - at < 8) return 'SA proposal header beyond the payload';
    last = b[at];
    if (last !== LAST && last !== MORE_PROPOSALS) return `proposal Last Substruc ${last}`;
    const proposalEnd = at + u16(b, at + 2);
    const spiSize = b[at + 6];
    const count = b[at + 7];
    if (proposalEnd > end || proposalEnd < at + 8 + spiSize) return 'proposal length outside the SA payload';
    const number = b[at + 4];
    const protocol = b[at + 5];
    if (proposals.length > 0 ? number !== proposals[proposals.length - 1].number + 1 : number === 0) return `proposal number ${number} out of sequence`;
    if (protocol === ProtocolId.IKE ? spiSize !== 0 && spiSize !== 8 : (protocol === ProtocolId.AH || protocol === ProtocolId.ESP) && spiSize !== 4) {
      return `SPI size ${spiSize} for protocol ${protocol}`;
    }
    const transforms = parseTransforms(b, at + 8 + spiSize, proposalEnd, count);
    if (typeof transforms === 'string') return transforms;
    proposals.push({ number, protocol, spi: b.slice(at + 8, at + 8 + spiSize), transforms });
    at = proposalEnd;
  }
  if (at !== end) return 'bytes after the last proposal';
  if (proposals.length > 1 && proposals[0].number !== 1) return 'the first of several proposals is not number 1';
  return { type: PayloadType.SA, proposals };
}

/**
 * RFC 7296 §3.3.2: `count` transforms fill b[start..end) exactly, each marked "more" (3) but
 * the last (0). A transform with an attribute other than Key Length (§3.3.5) is left out of
 * the result: this implementation cannot honour it, so it cannot be chosen (§3.3.6).
 */
function parseTransforms(b: Uint8Array, start: number, end: number, count: number): WireTransform[] | string {
  const transforms: WireTransform[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    if (end - at < 8) return 'transform header beyond the proposal';
    const last = b[at];
    if (last !== (i === count - 1 ? LAST : MORE_TRANSFORMS)) return `transform ${i + 1} of ${count} has Last Substruc ${last}`;
    const transformEnd = at + u16(b, at + 2);
    if (transformEnd > end || transformEnd < at + 8) return 'transform length outside the proposal';
    const transform: WireTransform = { type: b[at + 4], id: u16(b, at + 6) };
    let usable = true;
    for (let a = at + 8; a < transformEnd;) {
      if (transformEnd - a < 4) return 'transform attribute beyond the transform';
      const head = u16(b, a);
      const tv = (head & ATTRIBUTE_TV) !== 0;
      const attributeType = head & 0x7fff;
      if (attributeType === TransformAttribute.KEY_LENGTH) {
        if (!tv) return 'Key Length attribute not in TV format';
        if (transform.keyBits !== undefined) return 'Key Length attribute repeated';
        transform.keyBits = u16(b, a + 2);
      } else {
        usable = false;
      }
      const next = tv ? a + 4 : a + 4 + u16(b, a + 2);
      if (next > transformEnd) return 'transform attribute beyond the transform';
      a = next;
    }
    if (usable) transforms.push(transform);
    at = transformEnd;
  }
  if (at !== end) return 'proposal length disagrees with its transforms';
  return transforms;
}

/** RFC 7296 §3.11: Protocol ID (1), SPI Size (1), Num of SPIs (2), the SPIs filling the rest */
function parseDelete(b: Uint8Array, start: number, end: number): DeletePayload | string {
  if (end - start < 4) return 'Delete payload shorter than its fixed fields';
  const protocol = b[start];
  const spiSize = b[start + 1];
  const count = u16(b, start + 2);
  if (protocol === ProtocolId.IKE ? spiSize !== 0 || count !== 0 : spiSize !== 4) return `Delete of protocol ${protocol} with SPI size ${spiSize}`;
  if (end - start - 4 !== spiSize * count) return 'Delete SPIs disagree with the payload length';
  const spis: Uint8Array[] = [];
  for (let i = 0; i < count; i++) spis.push(b.slice(start + 4 + i * spiSize, start + 4 + (i + 1) * spiSize));
  return { type: PayloadType.DELETE, protocol, spiSize, spis };
}

/** RFC 7296 §3.13, §3.13.1: Number of TSs (1), RESERVED (3), the selectors filling the rest */
function parseTs(type: typeof PayloadType.TSi | typeof PayloadType.TSr, b: Uint8Array, start: number, end: number): TsPayload | string {
  if (end - start < 4) return 'TS payload shorter than its fixed fields';
  const count = b[start];
  if (count === 0) return 'TS payload without traffic selectors';
  const selectors: TrafficSelector[] = [];
  let at = start + 4;
  for (let i = 0; i < count; i++) {
    if (end - at < 8) return 'traffic selector beyond the payload';
    const tsType = b[at];
    const size = tsType === TsType.IPV4_ADDR_RANGE ? 4 : tsType === TsType.IPV6_ADDR_RANGE ? 16 : 0;
    if (size === 0) return `TS type ${tsType}`;
    if (u16(b, at + 2) !== 8 + 2 * size) return `selector length ${u16(b, at + 2)} for TS type ${tsType}`;
    if (end - at < 8 + 2 * size) return 'traffic selector beyond the payload';
    selectors.push({
      tsType,
      protocol: b[at + 1],
      startPort: u16(b, at + 4),
      endPort: u16(b, at + 6),
      startAddress: b.slice(at + 8, at + 8 + size),
      endAddress: b.slice(at + 8 + size, at + 8 + 2 * size),
    });
    at += 8 + 2 * size;
  }
  if (at !== end) return 'bytes after the last traffic selector';
  return { type, selectors };
}

/** The body of a payload (what follows its generic header). */
export function encodeBody(payload: Payload): Uint8Array {
  switch (payload.type) {
    case PayloadType.SA:
      return encodeSa(payload.proposals);
    case PayloadType.KE:
      return withHead([payload.group >> 8, payload.group & 0xff, 0, 0], payload.data);
    case PayloadType.IDi:
    case PayloadType.IDr:
      return withHead([payload.idType, 0, 0, 0], payload.data);
    case PayloadType.CERT:
    case PayloadType.CERTREQ:
      return withHead([payload.encoding], payload.data);
    case PayloadType.AUTH:
      return withHead([payload.method, 0, 0, 0], payload.data);
    case PayloadType.NONCE:
      return payload.nonce.slice();
    case PayloadType.NOTIFY: {
      const head = [payload.protocol, payload.spi.length, payload.notifyType >> 8, payload.notifyType & 0xff];
      for (const byte of payload.spi) head.push(byte);
      return withHead(head, payload.data);
    }
    case PayloadType.DELETE: {
      const out = new Uint8Array(4 + payload.spiSize * payload.spis.length);
      out[0] = payload.protocol;
      out[1] = payload.spiSize;
      putU16(out, 2, payload.spis.length);
      payload.spis.forEach((spi, i) => out.set(spi, 4 + i * payload.spiSize));
      return out;
    }
    case PayloadType.TSi:
    case PayloadType.TSr:
      return encodeTs(payload.selectors);
    case PayloadType.CP:
      return withHead([payload.cfgType, 0, 0, 0], payload.attributes);
    case PayloadType.SKF:
      return withHead([payload.fragmentNumber >> 8, payload.fragmentNumber & 0xff, payload.totalFragments >> 8, payload.totalFragments & 0xff], payload.data);
    case PayloadType.VENDOR_ID:
    case PayloadType.SK:
    case PayloadType.EAP:
    case PayloadType.NONE:
      return payload.data.slice();
  }
}

function encodeSa(proposals: WireProposal[]): Uint8Array {
  let size = 0;
  for (const p of proposals) size += 8 + p.spi.length + p.transforms.reduce((n, t) => n + (t.keyBits === undefined ? 8 : 12), 0);
  const out = new Uint8Array(size);
  let at = 0;
  proposals.forEach((p, i) => {
    const proposalStart = at;
    out[at] = i === proposals.length - 1 ? LAST : MORE_PROPOSALS;
    out[at + 4] = p.number;
    out[at + 5] = p.protocol;
    out[at + 6] = p.spi.length;
    out[at + 7] = p.transforms.length;
    out.set(p.spi, at + 8);
    at += 8 + p.spi.length;
    p.transforms.forEach((t, j) => {
      const length = t.keyBits === undefined ? 8 : 12;
      out[at] = j === p.transforms.length - 1 ? LAST : MORE_TRANSFORMS;
      putU16(out, at + 2, length);
      out[at + 4] = t.type;
      putU16(out, at + 6, t.id);
      if (t.keyBits !== undefined) {
        putU16(out, at + 8, ATTRIBUTE_TV | TransformAttribute.KEY_LENGTH);
        putU16(out, at + 10, t.keyBits);
      }
      at += length;
    });
    putU16(out, proposalStart + 2, at - proposalStart);
  });
  return out;
}

function encodeTs(selectors: TrafficSelector[]): Uint8Array {
  let size = 4;
  for (const s of selectors) size += 8 + s.startAddress.length + s.endAddress.length;
  const out = new Uint8Array(size);
  out[0] = selectors.length;
  let at = 4;
  for (const s of selectors) {
    const length = 8 + s.startAddress.length + s.endAddress.length;
    out[at] = s.tsType;
    out[at + 1] = s.protocol;
    putU16(out, at + 2, length);
    putU16(out, at + 4, s.startPort);
    putU16(out, at + 6, s.endPort);
    out.set(s.startAddress, at + 8);
    out.set(s.endAddress, at + 8 + s.startAddress.length);
    at += length;
  }
  return out;
}
