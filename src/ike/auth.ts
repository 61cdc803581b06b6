/**
 * IKEv2 authentication with a pre-shared key (RFC 7296 §2.15) and the SIGNATURE_HASH_ALGORITHMS
 * notification (RFC 7427 §4), sans-IO: bytes in, results out, the PRF computed by a `Crypto`.
 *
 *   §2.15  AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 *          SignedOctets = RealMessage | NonceData of the peer | prf(SK_p, RestOfIDPayload)
 *   §3.8   AUTH payload: Auth Method (1), RESERVED (3), Authentication Data
 *          Auth Method 2: Shared Key Message Integrity Code
 *
 * No result, error or log line carries a key: failures name only lengths, methods and the check
 * that failed.
 */
import type { IkeSecret } from '../config/ike-config.js';
import { IdType, sameIdentity, type Identity } from '../config/identity.js';
import { constantTimeEqual } from '../crypto/compare.js';
import type { Crypto } from '../crypto/provider.js';
import type { Algorithm } from '../crypto/registry.js';
import { KeyDerivationError, pskAuthData, signedOctets } from './keymat.js';
import { NotifyType, PayloadType, type AuthPayload } from './payloads.js';

/** RFC 7296 §3.8 Auth Method values used here. */
export const AuthMethod = {
  /** Shared Key Message Integrity Code (§2.15) */
  SHARED_KEY_MIC: 2,
} as const;

/** RFC 7427 §7 / IANA "IKEv2 Hash Algorithms"; IDENTITY from RFC 8420 §2 (for EdDSA). */
export const HashAlgorithm = {
  SHA1: 1,
  SHA2_256: 2,
  SHA2_384: 3,
  SHA2_512: 4,
  IDENTITY: 5,
} as const;

/**
 * What one side put into its AUTH payload (§2.15), from the sender's point of view:
 * `realMessage` its whole first message (IKE_SA_INIT request or response, from the IKE header),
 * `peerNonce` the other side's Nonce Data, `skP` its SK_pi (initiator) or SK_pr (responder),
 * `idPayloadBody` its IDi/IDr payload after the generic header (ID Type, RESERVED, data).
 */
export interface PskAuthInputs {
  realMessage: Uint8Array;
  peerNonce: Uint8Array;
  skP: Uint8Array;
  idPayloadBody: Uint8Array;
}

/** The verdict on a received AUTH payload; a failure is answered with AUTHENTICATION_FAILED. */
export type AuthResult =
  | { ok: true }
  | { ok: false; notify: typeof NotifyType.AUTHENTICATION_FAILED; reason: string };

const fail = (reason: string): AuthResult => ({ ok: false, notify: NotifyType.AUTHENTICATION_FAILED, reason });

/**
 * How well a configured owner identity fits an identity, scored as strongSwan's id_match_t:
 * 5 for the same identity (ID_MATCH_PERFECT), 1 for %any (ID_MATCH_ANY), 0 for none.
 */
const PERFECT = 5;
const ANY = 1;
function ownerMatch(owners: readonly Identity[], id: Identity): number {
  let best = 0;
  for (const owner of owners) {
    const m = owner.type === IdType.ANY ? ANY : sameIdentity(owner, id) ? PERFECT : 0;
    if (m > best) best = m;
  }
  return best;
}

/**
 * The pre-shared key for an IKE SA between `local` and `remote`, chosen as strongSwan does:
 * every secret is scored by its best owner match for our identity plus its best owner match
 * for the peer's (same identity 5, %any 1); a secret matching neither is skipped, and the
 * highest sum wins, the first listed on a tie. So a secret naming both identities beats one
 * naming one of them, which beats one for %any. A secret without ids counts as owned by %any
 * (as swanctl loads it). Returns the secret (its `secret` is the PSK), or null.
 */
export function findPsk(secrets: readonly IkeSecret[], local: Identity, remote: Identity): IkeSecret | null {
  let found: IkeSecret | null = null;
  let bestScore = 0;
  for (const s of secrets) {
    const owners = s.ids.length === 0 ? [{ type: IdType.ANY } as Identity] : s.ids;
    const me = ownerMatch(owners, local);
    const other = ownerMatch(owners, remote);
    if (me === 0 && other === 0) continue;
    if (me + other > bestScore) {
      bestScore = me + other;
      found = s;
    }
  }
  return found;
}

/**
 * RFC 7296 §2.15: our AUTH payload with Auth Method 2 (§3.8), the MAC over our signed octets.
 * Throws KeyDerivationError on unusable local inputs (empty PSK, wrong SK_p size, ...).
 */
export function buildPskAuth(crypto: Crypto, prf: Algorithm, psk: Uint8Array, inputs: PskAuthInputs): AuthPayload {
  const octets = signedOctets(crypto, prf, inputs.realMessage, inputs.peerNonce, inputs.skP, inputs.idPayloadBody);
  return { type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: pskAuthData(crypto, prf, psk, octets) };
}

/**
 * RFC 7296 §2.15: checks the peer's AUTH payload, `inputs` the peer's side (its first message,
 * our nonce, its SK_pi/SK_pr, its ID payload body). The AUTH data is compared in constant time
 * (src/crypto/compare.ts). Any mismatch, a method other than 2, a wrong length or unusable
 * inputs give AUTHENTICATION_FAILED (§2.21.2), never an exception.
 */
export function verifyPskAuth(
  crypto: Crypto,
  prf: Algorithm,
  psk: Uint8Array,
  received: { method: number; data: Uint8Array },
  inputs: PskAuthInputs,
): AuthResult {
  if (received.method !== AuthMethod.SHARED_KEY_MIC) {
    return fail(`AUTH method ${received.method}; shared key message integrity code (2) expected`);
  }
  const p = prf?.primitive;
  if (!p || p.kind !== 'prf') return fail(`${prf?.name ?? String(prf)} is not a PRF`);
  // §2.15: the AUTH data is one PRF output
  if (!(received.data instanceof Uint8Array) || received.data.length !== p.outputBytes) {
    return fail(`AUTH data is ${received.data?.length} bytes; ${prf.name} gives ${p.outputBytes}`);
  }
  let expected: Uint8Array;
  try {
    expected = buildPskAuth(crypto, prf, psk, inputs).data;
  } catch (e) {
    if (e instanceof KeyDerivationError || e instanceof TypeError) return fail(`cannot compute the AUTH data: ${e.message}`);
    throw e;
  }
  const same = constantTimeEqual(expected, received.data);
  expected.fill(0);
  return same ? { ok: true } : fail('AUTH data does not match the shared key MIC');
}

/**
 * RFC 7296 §3.10: a Notify payload is at most 65535 bytes, 8 of them before the Notification
 * Data (no SPI), so the data holds at most 32763 two-byte identifiers.
 */
const MAX_NOTIFY_DATA = 65535 - 8;
const MAX_HASH_IDS = Math.floor(MAX_NOTIFY_DATA / 2);

/**
 * RFC 7427 §4: the SIGNATURE_HASH_ALGORITHMS (16431) Notification Data, a list of 16-bit hash
 * algorithm identifiers (network order, no padding). Throws RangeError on an empty or too long
 * list or a value that is not a 16-bit integer.
 */
export function encodeSignatureHashAlgorithms(ids: readonly number[]): Uint8Array {
  if (ids.length === 0) throw new RangeError('SIGNATURE_HASH_ALGORITHMS needs at least one hash algorithm');
  if (ids.length > MAX_HASH_IDS) throw new RangeError(`${ids.length} hash algorithms; a notification holds at most ${MAX_HASH_IDS}`);
  const out = new Uint8Array(ids.length * 2);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`hash algorithm ${id} is not a 16-bit identifier`);
    out[2 * i] = id >> 8;
    out[2 * i + 1] = id & 0xff;
  });
  return out;
}

/** Identifiers read from a SIGNATURE_HASH_ALGORITHMS notification, or why they could not be. */
export type HashAlgorithmsResult = { ok: true; ids: number[] } | { ok: false; reason: string };

/**
 * RFC 7427 §4: reads SIGNATURE_HASH_ALGORITHMS Notification Data. Unknown identifiers are
 * kept (the caller ignores those it does not support); an empty, odd-length or oversized field
 * is a failure, never an exception.
 */
export function parseSignatureHashAlgorithms(data: Uint8Array): HashAlgorithmsResult {
  if (!(data instanceof Uint8Array)) return { ok: false, reason: 'no notification data' };
  if (data.length === 0) return { ok: false, reason: 'SIGNATURE_HASH_ALGORITHMS lists no hash algorithm' };
  if (data.length % 2 !== 0) return { ok: false, reason: `SIGNATURE_HASH_ALGORITHMS data is ${data.length} bytes, not a list of 2-byte identifiers` };
  if (data.length > MAX_NOTIFY_DATA) return { ok: false, reason: `SIGNATURE_HASH_ALGORITHMS data is ${data.length} bytes; a notification holds at most ${MAX_NOTIFY_DATA}` };
  const ids: number[] = [];
  for (let i = 0; i < data.length; i += 2) ids.push((data[i] << 8) | data[i + 1]);
  return { ok: true, ids };
}
