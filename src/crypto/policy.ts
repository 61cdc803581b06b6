/**
 * The legacy-algorithm switch. RFC 8221 (ESP/AH) and RFC 8247 (IKEv2) say which algorithms
 * MUST NOT or SHOULD NOT be used any more; we implement them for old peers, but refuse them
 * unless the configuration enables legacy algorithms explicitly.
 */
import { ALGORITHMS, type AeadName, type CipherName, type HashName, type MacName } from './registry.js';

export class LegacyAlgorithmError extends Error {
  constructor(readonly algorithm: string, readonly reason: string) {
    super(`${algorithm} is refused: ${reason}. Enable legacy algorithms in the configuration to use it.`);
    this.name = 'LegacyAlgorithmError';
  }
}

/** Primitive names a provider is asked for, mapped to the legacy registry entry they serve. */
const LEGACY_PRIMITIVES: Readonly<Record<string, string>> = {
  'des-cbc': 'des',
  '3des-cbc': '3des',
  md5: 'md5',
  ripemd160: 'ripemd160',
};

const LEGACY_GROUPS: ReadonlyMap<number, string> = new Map(
  ALGORITHMS.filter((a) => a.legacy && a.primitive.kind === 'modp').map((a) => [a.id as number, a.name]),
);

function reasonFor(name: string): string {
  return ALGORITHMS.find((a) => a.name === name)?.legacy ?? 'RFC 8221/8247 reject it';
}

/** Throws LegacyAlgorithmError for a legacy primitive unless `allowLegacy`. */
export function checkPrimitive(primitive: HashName | CipherName | AeadName | MacName, allowLegacy: boolean | undefined): void {
  const entry = LEGACY_PRIMITIVES[primitive];
  if (entry && !allowLegacy) throw new LegacyAlgorithmError(primitive.toUpperCase(), reasonFor(entry));
}

/** Throws LegacyAlgorithmError for a legacy key exchange group unless `allowLegacy`. */
export function checkGroup(group: number, allowLegacy: boolean | undefined): void {
  const name = LEGACY_GROUPS.get(group);
  if (name && !allowLegacy) throw new LegacyAlgorithmError(`MODP group ${group} (${name})`, reasonFor(name));
}

/** Throws LegacyAlgorithmError for a legacy registry entry (by canonical name) unless `allowLegacy`. */
export function checkAlgorithm(name: string, allowLegacy: boolean | undefined): void {
  const a = ALGORITHMS.find((x) => x.name === name);
  if (a?.legacy && !allowLegacy) throw new LegacyAlgorithmError(a.name, a.legacy);
}

/**
 * The AEAD parameters IPsec uses, enforced by every provider so that no provider accepts a
 * nonce or tag size that ESP and IKEv2 never produce:
 *   AES-GCM: 16/24/32-byte key, 12-byte nonce (4-byte salt + 8-byte IV), 8/12/16-byte tag (RFC 4106 §3-§8);
 *   AES-CCM: 16/24/32-byte key, 11-byte nonce (3-byte salt + 8-byte IV), 8/12/16-byte tag (RFC 4309 §4-§7);
 *   ChaCha20-Poly1305: 32-byte key, 12-byte nonce, 16-byte tag (RFC 7634 §2).
 */
export function checkAeadKey(aead: AeadName, key: Uint8Array, tagLength: number): void {
  if (aead === 'chacha20-poly1305') {
    if (key.length !== 32) throw new RangeError(`ChaCha20-Poly1305 key must be 32 bytes, not ${key.length}`);
    if (tagLength !== 16) throw new RangeError(`ChaCha20-Poly1305 tag must be 16 bytes, not ${tagLength}`);
    return;
  }
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError(`AES key must be 16, 24 or 32 bytes, not ${key.length}`);
  if (tagLength !== 8 && tagLength !== 12 && tagLength !== 16) throw new RangeError(`${aead} tag must be 8, 12 or 16 bytes, not ${tagLength}`);
}

/** Nonce length of each AEAD in IPsec. */
export function aeadNonceLength(aead: AeadName): number {
  return aead === 'aes-ccm' ? 11 : 12;
}

/** AES-CMAC-96 (RFC 4494 §2) and AES-XCBC-MAC-96 (RFC 3566 §4) use 128-bit AES keys only. */
export function checkAesMacKey(mac: MacName, key: Uint8Array): void {
  if (mac !== 'hmac' && key.length !== 16) throw new RangeError(`${mac} key must be 16 bytes, not ${key.length}`);
}
