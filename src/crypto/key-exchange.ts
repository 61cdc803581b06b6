/**
 * Shared checks and conversions for the ECP and Curve25519 key exchanges, so every provider
 * speaks IKEv2's wire formats: ECP public values are x || y without the 0x04 prefix
 * (RFC 5903 §7), shared secrets are the x coordinate; Curve25519 values are 32 bytes and an
 * all-zero shared secret is rejected (RFC 8031 §2, RFC 7748 §6.1).
 */
import { findModpGroup, ModpKeyExchange } from './modp.js';
import { checkGroup } from './policy.js';
import { KeyExchangeError, type KeyExchange } from './provider.js';
import { ALGORITHMS, Ke, TransformType } from './registry.js';

export type CurveName = 'p256' | 'p384' | 'p521';

/** Coordinate length in bytes of an ECP group by IKEv2 ID, or 0 when not an ECP group. */
export function ecpCoordinateBytes(group: number): number {
  const a = ALGORITHMS.find((x) => x.type === TransformType.KE && x.id === group);
  return a && a.primitive.kind === 'ecp' ? a.primitive.coordinateBytes : 0;
}

export function ecpCurve(group: number): CurveName | undefined {
  const a = ALGORITHMS.find((x) => x.type === TransformType.KE && x.id === group);
  return a && a.primitive.kind === 'ecp' ? a.primitive.curve : undefined;
}

/** IKE's x || y to SEC1 uncompressed 0x04 || x || y; throws on a wrong length. */
export function ecpToSec1(group: number, xy: Uint8Array): Uint8Array {
  const n = ecpCoordinateBytes(group);
  if (xy.length !== 2 * n) throw new KeyExchangeError(`ECP group ${group}: public value is ${xy.length} bytes, expected ${2 * n}`);
  const out = new Uint8Array(1 + xy.length);
  out[0] = 4;
  out.set(xy, 1);
  return out;
}

/** SEC1 uncompressed to IKE's x || y. */
export function sec1ToEcp(group: number, sec1: Uint8Array): Uint8Array {
  const n = ecpCoordinateBytes(group);
  if (sec1.length !== 1 + 2 * n || sec1[0] !== 4) throw new KeyExchangeError(`ECP group ${group}: not an uncompressed point`);
  return sec1.slice(1);
}

export function checkX25519Public(peer: Uint8Array): void {
  if (peer.length !== 32) throw new KeyExchangeError(`Curve25519: public value is ${peer.length} bytes, expected 32`);
}

/** RFC 7748 §6.1 / RFC 8031 §2: a shared secret of all zeros means a low-order peer point. */
export function checkX25519Secret(secret: Uint8Array): Uint8Array {
  let acc = 0;
  for (let i = 0; i < secret.length; i++) acc |= secret[i];
  if (acc === 0) throw new KeyExchangeError('Curve25519: all-zero shared secret (low-order public value)');
  return secret;
}

/** True for a registry key exchange the providers implement (not "none"). */
export function isKeyExchange(group: number): boolean {
  const a = ALGORITHMS.find((x) => x.type === TransformType.KE && x.id === group);
  return !!a && a.primitive.kind !== 'none';
}

/** A provider's own elliptic-curve code: an ECP group or Curve25519, fresh or from a private key. */
export type CurveKeyExchange = (group: number, privateKey?: Uint8Array) => KeyExchange;

/**
 * The key exchange for an IKEv2 group, built the same way by every provider: the legacy check,
 * the MODP groups in the shared BigInt code, the curves from the provider.
 */
export function makeKeyExchange(
  group: number, allowLegacy: boolean, random: (out: Uint8Array) => void, curves: CurveKeyExchange, privateKey?: Uint8Array,
): KeyExchange {
  checkGroup(group, allowLegacy);
  const modp = findModpGroup(group);
  if (modp) return privateKey ? new ModpKeyExchange(modp, privateKey) : ModpKeyExchange.generate(modp, random);
  if (group === Ke.CURVE25519 || ecpCurve(group)) return curves(group, privateKey);
  throw new RangeError(`key exchange method ${group} is not implemented`);
}
