/**
 * The manual-keying part of the configuration document: static SAs and policies, the way an
 * administrator writes them for setkey(8), validated with precise errors before anything is
 * installed (src/policy/manual.ts installs them).
 *
 *   {
 *     "sas": [{ "spi": 4097, "protocol": "esp", "mode": "tunnel", "source": "192.0.2.1",
 *               "destination": "198.51.100.2", "encryption": "aes128gcm16",
 *               "encryptionKey": "<40 hex digits: 16-byte key and 4-byte salt>" }],
 *     "policies": [{ "name": "site", "direction": "out", "local": "10.1.0.0/16",
 *                    "remote": "10.2.0.0/16", "action": "protect", "spi": 4097 }]
 *   }
 */
import { findAlgorithm, TransformType } from '../crypto/registry.js';
import { keyLengths } from '../esp/transform.js';
import { parseAddress, parseRange } from '../policy/selector.js';
import type { StaticPolicy, StaticSa } from '../policy/manual.js';
import { array, integer, object, oneOf, optional, parses, redacted, string, validate, type Problem, type Schema } from './validate.js';

const address = string('an IPv4 or IPv6 address', parses(parseAddress));
const range = string('an address, prefix (10.1.0.0/16) or range (10.0.0.1-10.0.0.9)', parses(parseRange));
/** Keys are secrets: a problem shows "<secret>", never the key. */
const key = redacted(string('an even number of hex digits', (s) => /^([0-9a-fA-F]{2})*$/.test(s)), () => false);
const keyword = (type: number, what: string) => string(`${what} keyword (see "xs-ipsec algorithms")`, (s) => findAlgorithm(s)?.type === type);

const staticSa = object({
  spi: integer(256, 0xffffffff, 'an SPI from 256 to 4294967295 (1-255 are reserved, RFC 4303 §2.1)'),
  protocol: oneOf('esp', 'ah'),
  mode: oneOf('tunnel', 'transport'),
  source: address,
  destination: address,
  encryption: optional(keyword(TransformType.ENCR, 'an encryption')),
  encryptionKey: optional(key),
  integrity: optional(keyword(TransformType.INTEG, 'an integrity')),
  integrityKey: optional(key),
  replayWindow: optional(integer(0, 65536)),
  natT: optional(object({ sourcePort: integer(1, 65535), destinationPort: integer(1, 65535) })),
});

const staticPolicy = object({
  name: string('a name'),
  direction: oneOf('out', 'in'),
  local: range,
  remote: range,
  protocol: optional(integer(0, 255, 'an IP protocol number, 0 for any')),
  action: oneOf('protect', 'bypass', 'discard'),
  spi: optional(integer(256, 0xffffffff)),
});

const document = object({ sas: optional(array(staticSa), []), policies: optional(array(staticPolicy), []) });

/** Cross-field checks: key lengths match the algorithms, ESP has encryption, AH has integrity. */
const withKeys: Schema<{ sas: StaticSa[]; policies: StaticPolicy[] }> = (v, path, problems: Problem[]) => {
  const doc = document(v, path, problems) as { sas: StaticSa[]; policies: StaticPolicy[] };
  (doc.sas ?? []).forEach((sa, i) => {
    const at = `${path}.sas[${i}]`;
    const e = sa.encryption ? findAlgorithm(sa.encryption) : undefined;
    const a = sa.integrity ? findAlgorithm(sa.integrity) : undefined;
    if (sa.protocol === 'esp' && !e) problems.push({ path: `${at}.encryption`, expected: 'an encryption algorithm for an ESP SA', got: 'nothing' });
    if (sa.protocol === 'ah' && !a) problems.push({ path: `${at}.integrity`, expected: 'an integrity algorithm for an AH SA', got: 'nothing' });
    if (e && e.primitive.kind !== 'aead' && e.primitive.kind !== 'gmac' && !a && sa.protocol === 'esp') {
      problems.push({ path: `${at}.integrity`, expected: `an integrity algorithm to go with ${e.name}`, got: 'nothing' });
    }
    if (e && sa.protocol === 'esp') {
      const [encBytes, integBytes] = keyLengths(e, a ?? null);
      const got = (sa.encryptionKey ?? '').length / 2;
      if (got !== encBytes) problems.push({ path: `${at}.encryptionKey`, expected: `${encBytes} bytes (${encBytes * 2} hex digits) for ${e.name}`, got: `${got} bytes` });
      if (a && (sa.integrityKey ?? '').length / 2 !== integBytes) {
        problems.push({ path: `${at}.integrityKey`, expected: `${integBytes} bytes for ${a.name}`, got: `${(sa.integrityKey ?? '').length / 2} bytes` });
      }
    }
  });
  return doc;
};

/** Validates the manual-keying part of a configuration; throws ConfigError with every problem. */
export function validateManualKeying(value: unknown): { sas: StaticSa[]; policies: StaticPolicy[] } {
  return validate(withKeys, value);
}
