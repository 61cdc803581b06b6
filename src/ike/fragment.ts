/**
 * IKEv2 message fragmentation (RFC 7383), sans-IO.
 *
 *   SKF payload (§2.5): [generic header 4][Fragment Number 2][Total Fragments 2][IV][encrypted: piece | padding | Pad Length][ICV]
 *
 * fragmentMessage encodes the inner payload chain once and cuts it into pieces so that each
 * whole fragment message (IKE header, SKF header, IV, padding, Pad Length, ICV) fits in
 * maxFragmentSize (§2.5.1); each piece is encrypted and integrity-protected on its own, the
 * AAD / ICV covering that fragment's own IKE header and SKF header (§2.5.3, RFC 5282 §5.1).
 *
 * Reassembler verifies each fragment before keeping it (§2.6: fragments that do not
 * authenticate are dropped, so a forged fragment cannot poison reassembly), ignores
 * duplicates, restarts on a higher Total Fragments and drops a lower one (§2.6.1), and bounds
 * what it keeps: fragments per message, bytes per message, messages in progress, and age.
 * add never throws on the bytes it is given.
 *
 * Each fragment's cryptography is protect.ts's skCipher over the fragment message, the SKF
 * header (4 more bytes than SK's) inside the AAD / ICV coverage.
 */
import type { Crypto } from '../crypto/provider.js';
import type { IkeAlgorithms } from './keymat.js';
import { encodeMessage, encodePayloadChain, IKE_HEADER_LENGTH, PAYLOAD_HEADER_LENGTH, parseMessage, parsePayloadChain, type MessageHeader, type ParsedHeader } from './message.js';
import { NotifyType, PayloadType, wireType, type Payload } from './payloads.js';
import { skCipher, type AuthenticError, type SkKeys } from './protect.js';

/** §2.5: the SKF payload's fixed fields after the generic header */
const SKF_FIXED = 4;
/** where the IV starts in a fragment message */
const IV_AT = IKE_HEADER_LENGTH + PAYLOAD_HEADER_LENGTH + SKF_FIXED;

/**
 * The messages carrying `innerPayloads` as SKF fragments (RFC 7383 §2.5), each at most
 * `maxFragmentSize` bytes as a whole IKE message. `keys` are the sender's (skKeys). The first
 * fragment's Next Payload is the first inner payload's type, the others' 0 (§2.5); Fragment
 * Numbers run 1..N and every fragment carries Total Fragments N. Throws RangeError when
 * maxFragmentSize leaves no room for a byte of data, or more than 65535 fragments are needed.
 */
export function fragmentMessage(
  crypto: Crypto,
  algorithms: IkeAlgorithms,
  keys: SkKeys,
  header: MessageHeader,
  innerPayloads: Payload[],
  maxFragmentSize: number,
  random: (out: Uint8Array) => void = (out) => crypto.randomBytes(out),
): Uint8Array[] {
  const suite = skCipher(crypto, algorithms, keys);
  const inner = encodePayloadChain(innerPayloads);
  // §2.5.1: the largest encrypted part that fits; it holds piece | padding | Pad Length (RFC 7296 §3.14)
  const room = maxFragmentSize - IV_AT - suite.ivLength - suite.icvLength;
  const maxPiece = Math.floor(room / suite.blockSize) * suite.blockSize - 1;
  if (maxPiece < 1) throw new RangeError(`a ${maxFragmentSize}-byte fragment has no room for data with ${algorithms.encryption.name}`);
  const total = Math.max(1, Math.ceil(inner.length / maxPiece));
  if (total > 0xffff) throw new RangeError(`${total} fragments: Total Fragments is 16 bits (§2.5)`);
  const first = innerPayloads.length > 0 ? wireType(innerPayloads[0]) : PayloadType.NONE;
  const out: Uint8Array[] = [];
  for (let n = 1; n <= total; n++) {
    const piece = inner.subarray((n - 1) * maxPiece, Math.min(inner.length, n * maxPiece));
    const padLength = (suite.blockSize - ((piece.length + 1) % suite.blockSize)) % suite.blockSize;
    const plainLength = piece.length + padLength + 1;
    const skf: Payload = {
      type: PayloadType.SKF, firstPayload: n === 1 ? first : PayloadType.NONE,
      fragmentNumber: n, totalFragments: total,
      data: new Uint8Array(suite.ivLength + plainLength + suite.icvLength),
    };
    // lengths count the ICV: encode now, fill in place
    const message = encodeMessage(header, [skf]);
    const iv = new Uint8Array(suite.ivLength);
    random(iv);
    message.set(iv, IV_AT);
    const plainAt = IV_AT + suite.ivLength;
    message.set(piece, plainAt);
    message[plainAt + plainLength - 1] = padLength;
    suite.seal(message, IV_AT, plainAt, plainLength);
    out.push(message);
  }
  return out;
}

export type ReassemblyResult =
  | { kind: 'incomplete' }
  | { kind: 'complete'; header: ParsedHeader; payloads: Payload[] }
  /** `authentic`: every fragment authenticated but the reassembled payloads do not parse (see protect.ts UnprotectResult) */
  | { kind: 'drop'; reason: string; authentic?: AuthenticError };

export interface ReassemblerOptions {
  /** most fragments a message may have (Total Fragments above it is dropped); default 64 */
  maxFragments?: number;
  /** most decrypted bytes kept for one message; default 65536 */
  maxBytes?: number;
  /** most messages in reassembly at once; default 1 (a request and a response with the same Message ID are two) */
  maxMessages?: number;
  /** milliseconds after a message's first kept fragment when its partial state is dropped; default 30000 */
  timeoutMs?: number;
}

interface Partial {
  total: number;
  started: number;
  bytes: number;
  firstPayload: number;
  header: ParsedHeader | null;
  pieces: (Uint8Array | undefined)[];
  count: number;
}

/**
 * Reassembles fragmented messages of one IKE SA and direction (RFC 7383 §2.6), keyed by
 * Message ID and R flag. `keys` are the peer's (skKeys with the peer's I flag). `now` is a time in
 * milliseconds, passed in so that the caller owns the clock.
 */
export class Reassembler {
  readonly #crypto: Crypto;
  readonly #algorithms: IkeAlgorithms;
  readonly #keys: SkKeys;
  readonly #maxFragments: number;
  readonly #maxBytes: number;
  readonly #maxMessages: number;
  readonly #timeoutMs: number;
  readonly #partials = new Map<number, Partial>();

  constructor(crypto: Crypto, algorithms: IkeAlgorithms, keys: SkKeys, options: ReassemblerOptions = {}) {
    this.#crypto = crypto;
    this.#algorithms = algorithms;
    this.#keys = keys;
    this.#maxFragments = options.maxFragments ?? 64;
    this.#maxBytes = options.maxBytes ?? 65536;
    this.#maxMessages = options.maxMessages ?? 1;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    skCipher(crypto, algorithms, keys); // wrong algorithms or keys are the caller's error: throw now
  }

  /** Messages with partial state (for tests and monitoring). */
  get pending(): number {
    return this.#partials.size;
  }

  /** Drops partial state older than the timeout. */
  expire(now: number): void {
    for (const [id, p] of this.#partials) if (now - p.started >= this.#timeoutMs) this.#partials.delete(id);
  }

  add(bytes: Uint8Array, now: number): ReassemblyResult {
    this.expire(now);
    try {
      return this.#add(bytes, now);
    } catch (e) {
      return { kind: 'drop', reason: `malformed fragment: ${(e as Error)?.message}` };
    }
  }

  #add(bytes: Uint8Array, now: number): ReassemblyResult {
    const parsed = parseMessage(bytes);
    if (!parsed.ok) return { kind: 'drop', reason: parsed.error.reason };
    const skf = parsed.payloads[parsed.payloads.length - 1];
    if (parsed.payloads.length !== 1 || !skf || skf.type !== PayloadType.SKF) return { kind: 'drop', reason: 'not a lone SKF payload' };
    const { fragmentNumber: number, totalFragments: total } = skf;
    if (total > this.#maxFragments) return { kind: 'drop', reason: `Total Fragments ${total} above ${this.#maxFragments}` };
    // RFC 7296 §2.2: the peer's requests and its responses to ours number their Message IDs
    // apart, so request m and response m are two messages: fragments are kept by both the
    // Message ID and the R flag (strongSwan keeps one reassembly per direction)
    const id = parsed.header.messageId * 2 + (parsed.header.response ? 1 : 0);
    let partial = this.#partials.get(id);
    // §2.6.1: a lower Total Fragments than kept is stale (the sender has re-fragmented smaller): drop it
    if (partial && total < partial.total) return { kind: 'drop', reason: `Total Fragments ${total} below ${partial.total} of this message` };
    if (partial && total === partial.total && partial.pieces[number - 1]) return { kind: 'drop', reason: `duplicate fragment ${number}` };
    if (!partial && this.#partials.size >= this.#maxMessages) return { kind: 'drop', reason: `${this.#partials.size} messages already in reassembly` };
    // §2.6: authenticate before keeping anything
    const suite = skCipher(this.#crypto, this.#algorithms, this.#keys);
    const dataLength = skf.data.length;
    const cipherLength = dataLength - suite.ivLength - suite.icvLength;
    if (cipherLength < 1) return { kind: 'drop', reason: `SKF payload of ${dataLength} bytes: no room for IV, Pad Length and ICV` };
    if (cipherLength % suite.blockSize !== 0) return { kind: 'drop', reason: `${cipherLength} bytes of ciphertext: not whole blocks` };
    const buffer = bytes.slice();
    const plainAt = IV_AT + suite.ivLength;
    if (!suite.open(buffer, IV_AT, plainAt, cipherLength)) return { kind: 'drop', reason: `fragment ${number} does not authenticate` };
    const padLength = buffer[plainAt + cipherLength - 1];
    if (padLength > cipherLength - 1) return { kind: 'drop', reason: `Pad Length ${padLength} beyond the plaintext` };
    const piece = buffer.slice(plainAt, plainAt + cipherLength - 1 - padLength);
    // §2.6.1: a higher Total Fragments (authenticated) means the sender re-fragmented: start over with it
    if (partial && total > partial.total) {
      this.#partials.delete(id);
      partial = undefined;
    }
    if (!partial) {
      partial = { total, started: now, bytes: 0, firstPayload: PayloadType.NONE, header: null, pieces: new Array(total), count: 0 };
      this.#partials.set(id, partial);
    }
    if (partial.bytes + piece.length > this.#maxBytes) {
      this.#partials.delete(id);
      return { kind: 'drop', reason: `message beyond ${this.#maxBytes} bytes: reassembly abandoned` };
    }
    partial.pieces[number - 1] = piece;
    partial.bytes += piece.length;
    partial.count++;
    if (number === 1) {
      // §2.5: the first fragment's Next Payload is the first inner payload's type
      partial.firstPayload = skf.firstPayload;
      partial.header = parsed.header;
    }
    if (partial.count < partial.total) return { kind: 'incomplete' };
    this.#partials.delete(id);
    const inner = new Uint8Array(partial.bytes);
    let at = 0;
    for (const p of partial.pieces) {
      inner.set(p!, at);
      at += p!.length;
    }
    const chain = parsePayloadChain(inner, 0, inner.length, partial.firstPayload);
    if (!chain.ok) {
      return { kind: 'drop', reason: `inner payloads: ${chain.error.reason}`, authentic: { header: partial.header!, notify: chain.error.notify ?? { type: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0) } } };
    }
    return { kind: 'complete', header: partial.header!, payloads: chain.payloads };
  }
}
