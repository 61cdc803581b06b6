/**
 * Wireshark decryption tables for IKEv2 and ESP, written only when key logging is switched on
 * (the `logging.keylog` switch, src/config/logging.ts): a `KeyLog` exists only then, so no
 * caller can write keys by accident.
 *
 * Wireshark reads both tables as UAT files ("user access tables", epan/uat.c): one record a
 * line, fields separated by commas, string fields in double quotes, byte-buffer fields as bare
 * hex without separators.
 *
 *   ikev2_decryption_table  (epan/dissectors/packet-isakmp.c, the IKEv2 decryption UAT):
 *     SPIi, SPIr, SK_ei, SK_er, "encryption algorithm", SK_ai, SK_ar, "integrity algorithm"
 *     SPIs and keys are byte buffers (bare hex, SPIs 8 bytes); SK_ai/SK_ar are empty with
 *     an AEAD, whose integrity algorithm is "NONE [RFC4306]". Wireshark checks each key's
 *     length against the algorithm's (SK_e* of AES-GCM/CCM includes the salt, RFC 5282 §7.1).
 *
 *   esp_sa  (epan/dissectors/packet-esp.c, packet-ipsec.c in older releases, the ESP SA UAT):
 *     "IPv4"|"IPv6", "source", "destination", "0xSPI", "encryption algorithm", "0xkey",
 *     "authentication algorithm", "0xkey"
 *     all quoted strings; keys "0x" + hex ("0x" alone is an empty key); the AES-GCM/CTR and
 *     ChaCha20-Poly1305 keys include their 4-byte salt/nonce (RFC 4106 §8.1, RFC 3686 §5.1,
 *     RFC 7634 §2); AEADs take the authentication algorithm "NULL".
 *
 * The algorithm names are the exact strings of those UATs' value lists (Wireshark matches
 * them literally). strongSwan's save-keys plugin (libcharon/plugins/save_keys) writes the same
 * two formats. Checked against tshark 4.0.17: it accepts every line this module writes for
 * the algorithms mapped below (test/ike/keylog.test.ts runs it when tshark is installed).
 */
import { toHex } from '../crypto/bytes.js';
import type { Algorithm } from '../crypto/registry.js';
import type { IkeAlgorithms, IkeKeys } from './keymat.js';

/** A table line, or why none can be written (Wireshark cannot decrypt that algorithm). */
export type KeyLogLine = { ok: true; line: string } | { ok: false; reason: string };

/** The two files Wireshark reads from its personal configuration directory. */
export const IKEV2_TABLE_FILE = 'ikev2_decryption_table';
export const ESP_TABLE_FILE = 'esp_sa';

const quote = (text: string): string => `"${text}"`;

/** The IKEv2 UAT's encryption algorithm name, or null when Wireshark has none for it. */
export function ikeEncryptionName(encryption: Algorithm): string | null {
  const p = encryption.primitive;
  const bits = encryption.keyBits;
  if (p.kind === 'cipher') {
    if (p.cipher === 'aes-cbc') return `AES-CBC-${bits} [RFC3602]`;
    if (p.cipher === 'aes-ctr') return `AES-CTR-${bits} [RFC5930]`;
    if (p.cipher === '3des-cbc') return '3DES [RFC2451]';
    return null;
  }
  if (p.kind === 'aead' && p.aead !== 'chacha20-poly1305' && encryption.rfc !== 'RFC 8750') {
    const mode = p.aead === 'aes-gcm' ? 'GCM' : 'CCM';
    return `AES-${mode}-${bits} with ${p.tagBytes} octet ICV [RFC5282]`;
  }
  return null;
}

/** The IKEv2 UAT's integrity algorithm name ("NONE [RFC4306]" with an AEAD), or null. */
export function ikeIntegrityName(integrity: Algorithm | null | undefined): string | null {
  if (!integrity) return 'NONE [RFC4306]';
  const p = integrity.primitive;
  if (p.kind !== 'mac' || p.mac !== 'hmac') return null;
  switch (p.hash) {
    case 'md5': return 'HMAC_MD5_96 [RFC2403]';
    case 'sha1': return 'HMAC_SHA1_96 [RFC2404]';
    case 'sha256': return 'HMAC_SHA2_256_128 [RFC4868]';
    case 'sha384': return 'HMAC_SHA2_384_192 [RFC4868]';
    case 'sha512': return 'HMAC_SHA2_512_256 [RFC4868]';
    default: return null;
  }
}

/**
 * The ESP UAT's encryption algorithm name, or null. ChaCha20-Poly1305 and the RFC 8750
 * implicit-IV AES-GCM are in newer Wireshark releases' list only (not in 4.0); AES-CCM and
 * AES-GMAC are in none.
 */
export function espEncryptionName(encryption: Algorithm): string | null {
  const p = encryption.primitive;
  if (p.kind === 'null') return 'NULL';
  if (p.kind === 'cipher') {
    switch (p.cipher) {
      case 'aes-cbc': return 'AES-CBC [RFC3602]';
      case 'aes-ctr': return 'AES-CTR [RFC3686]';
      case '3des-cbc': return 'TripleDES-CBC [RFC2451]';
      case 'des-cbc': return 'DES-CBC [RFC2405]';
      default: return null;
    }
  }
  if (p.kind === 'aead' && p.aead === 'aes-gcm') {
    if (encryption.rfc === 'RFC 8750') return p.tagBytes === 16 ? 'AES-GCM with IIV and 16 octet ICV [RFC4106 & RFC8750]' : null;
    return `AES-GCM with ${p.tagBytes} octet ICV [RFC4106]`;
  }
  if (p.kind === 'aead' && p.aead === 'chacha20-poly1305') {
    return encryption.rfc === 'RFC 8750' ? 'ChaCha20 with Poly1305 and IIV [RFC7634 & RFC8750]' : 'ChaCha20 with Poly1305 [RFC7634]';
  }
  return null;
}

/**
 * The ESP UAT's authentication algorithm name: "NULL" without one (AEADs, ENCR_NULL alone is
 * not an SA we make), the HMACs by name, and AES-XCBC/CMAC-96, which Wireshark cannot check,
 * as "ANY 96 bit authentication [no checking]" (it then decrypts without checking the ICV).
 */
export function espIntegrityName(integrity: Algorithm | null | undefined): string | null {
  if (!integrity) return 'NULL';
  const p = integrity.primitive;
  if (p.kind !== 'mac') return null;
  if (p.mac !== 'hmac') return p.truncateBytes === 12 ? 'ANY 96 bit authentication [no checking]' : null;
  switch (p.hash) {
    case 'md5': return 'HMAC-MD5-96 [RFC2403]';
    case 'sha1': return 'HMAC-SHA-1-96 [RFC2404]';
    case 'sha256': return 'HMAC-SHA-256-128 [RFC4868]';
    case 'sha384': return 'HMAC-SHA-384-192 [RFC4868]';
    case 'sha512': return 'HMAC-SHA-512-256 [RFC4868]';
    // sic: Wireshark's name has no leading "H"
    case 'ripemd160': return 'MAC-RIPEMD-160-96 [RFC2857]';
    default: return null;
  }
}

/**
 * One ikev2_decryption_table line for an IKE SA: SPIi and SPIr (8 bytes each) and the
 * §2.14 keys of `keys` for the negotiated `algorithms`.
 */
export function ikeDecryptionTableLine(spii: Uint8Array, spir: Uint8Array, keys: IkeKeys, algorithms: IkeAlgorithms): KeyLogLine {
  if (spii.length !== 8 || spir.length !== 8) return { ok: false, reason: 'IKE SPIs are 8 bytes (RFC 7296 §3.1)' };
  const encryption = ikeEncryptionName(algorithms.encryption);
  if (!encryption) return { ok: false, reason: `Wireshark cannot decrypt IKEv2 with ${algorithms.encryption.name}` };
  const aead = algorithms.encryption.primitive.kind === 'aead';
  const integrity = ikeIntegrityName(aead ? null : algorithms.integrity);
  if (!integrity) return { ok: false, reason: `Wireshark cannot check IKEv2 integrity ${algorithms.integrity?.name ?? 'none'}` };
  const fields = [
    toHex(spii), toHex(spir), toHex(keys.skEi), toHex(keys.skEr), quote(encryption),
    aead ? '' : toHex(keys.skAi), aead ? '' : toHex(keys.skAr), quote(integrity),
  ];
  return { ok: true, line: fields.join(',') };
}

/** One direction of an ESP SA, as the esp_sa table names it. */
export interface EspSaDescription {
  /** outer source and destination addresses: 4 bytes (IPv4) or 16 (IPv6), or text */
  source: Uint8Array | string;
  destination: Uint8Array | string;
  /** the SPI the packets carry (the receiver's) */
  spi: number;
  encryption: Algorithm;
  /** null with an AEAD */
  integrity?: Algorithm | null;
}

function addressText(address: Uint8Array | string): { family: 'IPv4' | 'IPv6'; text: string } | null {
  if (typeof address === 'string') return { family: address.includes(':') ? 'IPv6' : 'IPv4', text: address };
  if (address.length === 4) return { family: 'IPv4', text: Array.from(address).join('.') };
  if (address.length === 16) {
    // every group written in full: Wireshark compares SA addresses in their expanded form
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(toHex(address.subarray(i, i + 2)));
    return { family: 'IPv6', text: groups.join(':') };
  }
  return null;
}

/** One esp_sa line for one direction of an ESP SA with its keys (encryption with salt/nonce). */
export function espSaLine(sa: EspSaDescription, keys: { encryption: Uint8Array; integrity: Uint8Array }): KeyLogLine {
  const src = addressText(sa.source);
  const dst = addressText(sa.destination);
  if (!src || !dst || src.family !== dst.family) return { ok: false, reason: 'the SA needs two IPv4 or two IPv6 addresses' };
  if (!Number.isInteger(sa.spi) || sa.spi < 0 || sa.spi > 0xffffffff) return { ok: false, reason: `SPI ${sa.spi} is not a 32-bit value` };
  const encryption = espEncryptionName(sa.encryption);
  if (!encryption) return { ok: false, reason: `Wireshark cannot decrypt ESP with ${sa.encryption.name}` };
  const combined = sa.encryption.primitive.kind === 'aead';
  const integrity = espIntegrityName(combined ? null : sa.integrity);
  if (!integrity) return { ok: false, reason: `Wireshark cannot use ESP integrity ${sa.integrity?.name ?? 'none'}` };
  const spi = `0x${sa.spi.toString(16).padStart(8, '0')}`;
  const fields = [
    src.family, src.text, dst.text, spi, encryption, `0x${toHex(keys.encryption)}`,
    integrity, `0x${combined ? '' : toHex(keys.integrity)}`,
  ];
  return { ok: true, line: fields.map(quote).join(',') };
}

/** Where table lines go: the file name (IKEV2_TABLE_FILE or ESP_TABLE_FILE) and the line. */
export type KeyLogSink = (table: string, line: string) => void;

/** Only KeyLog.create holds it: the constructor refuses any other caller. */
const CREATE = Symbol('KeyLog.create');

/**
 * Collects decryption-table lines and hands each to a sink. Only `KeyLog.create` makes one,
 * and only when key logging is on; otherwise it returns null.
 */
export class KeyLog {
  readonly #sink: KeyLogSink;
  readonly #lines: { table: string; line: string }[] = [];

  private constructor(token: symbol, sink: KeyLogSink) {
    if (token !== CREATE) throw new TypeError('KeyLog.create makes key logs (only with keylog on)');
    this.#sink = sink;
  }

  /** A key log when `logging.keylog` (or a Logger's `keylog`) is true; null otherwise. */
  static create(logging: { readonly keylog?: boolean } | null | undefined, sink: KeyLogSink): KeyLog | null {
    if (logging?.keylog !== true) return null;
    return new KeyLog(CREATE, sink);
  }

  /** Every line written so far, in order. */
  get lines(): readonly { table: string; line: string }[] {
    return this.#lines.slice();
  }

  #write(table: string, result: KeyLogLine): KeyLogLine {
    if (result.ok) {
      this.#lines.push({ table, line: result.line });
      this.#sink(table, result.line);
    }
    return result;
  }

  /** Writes the IKE SA's ikev2_decryption_table line (or, unsupported, nothing). */
  ike(spii: Uint8Array, spir: Uint8Array, keys: IkeKeys, algorithms: IkeAlgorithms): KeyLogLine {
    return this.#write(IKEV2_TABLE_FILE, ikeDecryptionTableLine(spii, spir, keys, algorithms));
  }

  /** Writes one direction's esp_sa line (or, unsupported, nothing). */
  esp(sa: EspSaDescription, keys: { encryption: Uint8Array; integrity: Uint8Array }): KeyLogLine {
    return this.#write(ESP_TABLE_FILE, espSaLine(sa, keys));
  }
}
