/**
 * IKEv2 messages (RFC 7296 §3.1, §3.2): the IKE header and the chain of payloads behind it.
 *
 * parseMessage never throws: on any input it returns the header and typed payloads, or an
 * error saying what is wrong and, where RFC 7296 says the receiver may answer, with which
 * notification (INVALID_MAJOR_VERSION §2.5, UNSUPPORTED_CRITICAL_PAYLOAD §3.2,
 * INVALID_SYNTAX §2.21). Whether to answer at all (an unauthenticated IKE_SA_INIT, a
 * response) is the engine's decision, not the codec's.
 */
import { readU32, writeU32 } from '../crypto/bytes.js';
import { encodeBody, isEncrypted, isKnownPayloadType, NotifyType, parseBody, PayloadType, putU16, u16, wireType, type Payload } from './payloads.js';

/** RFC 7296 §3.1 Exchange Types */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
} as const;

/** RFC 7296 §3.1 */
export const IKE_HEADER_LENGTH = 28;
/** RFC 7296 §3.2 */
export const PAYLOAD_HEADER_LENGTH = 4;
/** RFC 7296 §3.1: the version this implementation speaks (major 2, minor 0) */
export const IKE_MAJOR_VERSION = 2;

/** RFC 7296 §3.1 flag bits */
const FLAG_INITIATOR = 0x08;
const FLAG_VERSION = 0x10;
const FLAG_RESPONSE = 0x20;
/** RFC 7296 §3.2: the Critical bit of the generic payload header */
const CRITICAL = 0x80;

/** What encodeMessage takes: the header without what it computes (Next Payload, Length) */
export interface MessageHeader {
  /** 8 bytes each */
  spiI: Uint8Array;
  spiR: Uint8Array;
  exchangeType: number;
  /** the I(nitiator) flag: sent by the original initiator of the IKE SA */
  initiator: boolean;
  /** the V(ersion) flag: the sender can speak a higher major version */
  higherVersion: boolean;
  /** the R(esponse) flag */
  response: boolean;
  messageId: number;
}

/** The header as parsed, with the fields encodeMessage computes. */
export interface ParsedHeader extends MessageHeader {
  nextPayload: number;
  majorVersion: number;
  minorVersion: number;
  length: number;
}

export interface MessageError {
  /** what is wrong, for logs */
  reason: string;
  /** the notification RFC 7296 has for it, if any: type and Notification Data */
  notify?: { type: number; data: Uint8Array };
}

export type ParseResult =
  | { ok: true; header: ParsedHeader; payloads: Payload[] }
  | { ok: false; error: MessageError };

export type ChainResult = { ok: true; payloads: Payload[] } | { ok: false; error: MessageError };

function syntax(reason: string): { ok: false; error: MessageError } {
  return { ok: false, error: { reason, notify: { type: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } } };
}

/**
 * Parses an IKE message: the header (§3.1), whose Length must be the number of bytes given,
 * then the payload chain (§3.2).
 */
export function parseMessage(bytes: Uint8Array): ParseResult {
  if (bytes.length < IKE_HEADER_LENGTH) return { ok: false, error: { reason: `${bytes.length} bytes: shorter than the IKE header` } };
  const version = bytes[17];
  const majorVersion = version >> 4;
  if (majorVersion !== IKE_MAJOR_VERSION) {
    // §2.5: a higher major version is answered with INVALID_MAJOR_VERSION (the version we
    // speak is in the answer's header); a lower one (IKEv1) is dropped.
    const error: MessageError = { reason: `IKE major version ${majorVersion}` };
    if (majorVersion > IKE_MAJOR_VERSION) error.notify = { type: NotifyType.INVALID_MAJOR_VERSION, data: new Uint8Array(0) };
    return { ok: false, error };
  }
  const length = readU32(bytes, 24);
  if (length !== bytes.length) return syntax(`header Length ${length} for a message of ${bytes.length} bytes`);
  const flags = bytes[19];
  const header: ParsedHeader = {
    spiI: bytes.slice(0, 8),
    spiR: bytes.slice(8, 16),
    nextPayload: bytes[16],
    majorVersion,
    minorVersion: version & 0x0f,
    exchangeType: bytes[18],
    initiator: (flags & FLAG_INITIATOR) !== 0,
    higherVersion: (flags & FLAG_VERSION) !== 0,
    response: (flags & FLAG_RESPONSE) !== 0,
    messageId: readU32(bytes, 20),
    length,
  };
  const chain = parsePayloadChain(bytes, IKE_HEADER_LENGTH, bytes.length, header.nextPayload);
  return chain.ok ? { ok: true, header, payloads: chain.payloads } : chain;
}

/**
 * Parses the payloads in bytes[start..end), the first of type `first` (§3.2); also what is
 * inside a decrypted SK payload (§3.14). The chain must fill the range exactly; an SK or SKF
 * payload ends it, and its Next Payload is the first inner payload's. Unknown payloads are
 * kept raw when their Critical bit is clear, refused with UNSUPPORTED_CRITICAL_PAYLOAD
 * (the payload type as data) when set.
 */
export function parsePayloadChain(bytes: Uint8Array, start: number, end: number, first: number): ChainResult {
  const payloads: Payload[] = [];
  let type = first;
  let at = start;
  while (type !== PayloadType.NONE) {
    if (end - at < PAYLOAD_HEADER_LENGTH) return syntax(`payload ${type} header beyond the message`);
    const next = bytes[at];
    const critical = (bytes[at + 1] & CRITICAL) !== 0;
    const length = u16(bytes, at + 2);
    if (length < PAYLOAD_HEADER_LENGTH) return syntax(`payload ${type} length ${length}`);
    if (length > end - at) return syntax(`payload ${type} length ${length} beyond the message`);
    const bodyStart = at + PAYLOAD_HEADER_LENGTH;
    at += length;
    if (isKnownPayloadType(type)) {
      const payload = parseBody(type, next, bytes, bodyStart, at);
      if (typeof payload === 'string') return syntax(payload);
      payloads.push(payload);
    } else if (critical) {
      return { ok: false, error: { reason: `unsupported critical payload ${type}`, notify: { type: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, data: Uint8Array.of(type) } } };
    } else {
      payloads.push({ type: PayloadType.NONE, payloadType: type, critical, data: bytes.slice(bodyStart, at) });
    }
    if (isEncrypted(type)) break;
    type = next;
  }
  if (at !== end) return syntax(`${end - at} bytes after the last payload`);
  return { ok: true, payloads };
}

/**
 * The payload chain for `payloads` (§3.2): generic headers with lengths and Next Payload
 * fields; the first payload's type is wireType(payloads[0]) (0 when there are none). An SK
 * or SKF payload's Next Payload is its firstPayload, and it must come last.
 */
export function encodePayloadChain(payloads: Payload[]): Uint8Array {
  const bodies = payloads.map(encodeBody);
  let size = 0;
  for (const body of bodies) size += PAYLOAD_HEADER_LENGTH + body.length;
  const out = new Uint8Array(size);
  let at = 0;
  payloads.forEach((payload, i) => {
    const body = bodies[i];
    if (isEncrypted(payload.type) && i !== payloads.length - 1) throw new RangeError('an SK or SKF payload must be the last');
    if (PAYLOAD_HEADER_LENGTH + body.length > 0xffff) throw new RangeError(`payload ${wireType(payload)} longer than 65535 bytes`);
    out[at] = payload.type === PayloadType.SK || payload.type === PayloadType.SKF
      ? payload.firstPayload
      : i + 1 < payloads.length ? wireType(payloads[i + 1]) : PayloadType.NONE;
    out[at + 1] = payload.type === PayloadType.NONE && payload.critical ? CRITICAL : 0;
    putU16(out, at + 2, PAYLOAD_HEADER_LENGTH + body.length);
    out.set(body, at + PAYLOAD_HEADER_LENGTH);
    at += PAYLOAD_HEADER_LENGTH + body.length;
  });
  return out;
}

/** An IKE message (§3.1): version 2.0, Next Payload and Length computed. */
export function encodeMessage(header: MessageHeader, payloads: Payload[]): Uint8Array {
  if (header.spiI.length !== 8 || header.spiR.length !== 8) throw new RangeError('IKE SPIs are 8 bytes');
  const chain = encodePayloadChain(payloads);
  const out = new Uint8Array(IKE_HEADER_LENGTH + chain.length);
  out.set(header.spiI, 0);
  out.set(header.spiR, 8);
  out[16] = payloads.length > 0 ? wireType(payloads[0]) : PayloadType.NONE;
  out[17] = IKE_MAJOR_VERSION << 4;
  out[18] = header.exchangeType;
  out[19] = (header.initiator ? FLAG_INITIATOR : 0) | (header.higherVersion ? FLAG_VERSION : 0) | (header.response ? FLAG_RESPONSE : 0);
  writeU32(out, 20, header.messageId);
  writeU32(out, 24, out.length);
  out.set(chain, IKE_HEADER_LENGTH);
  return out;
}
