/**
 * The algorithm registry: IKEv2 transform types and IDs as IANA numbers them ("Internet Key
 * Exchange Version 2 (IKEv2) Parameters", RFC 7296 §3.3.2), and strongSwan's proposal keywords
 * (libstrongswan/crypto/proposal/proposal_keywords_static.txt) mapped onto them.
 *
 * Each entry names the primitive that implements it (`Primitive`), so the data path and the
 * IKE engine can ask a `Crypto` provider for exactly that, and says whether the algorithm is
 * legacy: RFC 8221 (ESP/AH) and RFC 8247 (IKEv2) say MUST NOT or SHOULD NOT for it, and it is
 * refused unless the configuration enables legacy algorithms (see ./policy.ts).
 */

/** RFC 7296 §3.3.2 transform types. */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  /** "Diffie-Hellman group", renamed "Key Exchange Method" by RFC 9370. */
  KE: 4,
  ESN: 5,
} as const;
export type TransformType = (typeof TransformType)[keyof typeof TransformType];

/** IANA IKEv2 Transform Type 1 (encryption algorithm) IDs. */
export const Encr = {
  DES: 2,
  TRIPLE_DES: 3,
  NULL: 11,
  AES_CBC: 12,
  AES_CTR: 13,
  AES_CCM_8: 14,
  AES_CCM_12: 15,
  AES_CCM_16: 16,
  AES_GCM_8: 18,
  AES_GCM_12: 19,
  AES_GCM_16: 20,
  NULL_AUTH_AES_GMAC: 21,
  CHACHA20_POLY1305: 28,
  /** RFC 8750 implicit IV variants */
  AES_CCM_8_IIV: 29,
  AES_GCM_16_IIV: 30,
  CHACHA20_POLY1305_IIV: 31,
} as const;

/** IANA IKEv2 Transform Type 2 (pseudorandom function) IDs. */
export const Prf = {
  HMAC_MD5: 1,
  HMAC_SHA1: 2,
  AES128_XCBC: 4,
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
  AES128_CMAC: 8,
} as const;

/** IANA IKEv2 Transform Type 3 (integrity algorithm) IDs. */
export const Integ = {
  NONE: 0,
  HMAC_MD5_96: 1,
  HMAC_SHA1_96: 2,
  AES_XCBC_96: 5,
  HMAC_MD5_128: 6,
  HMAC_SHA1_160: 7,
  AES_CMAC_96: 8,
  AES_128_GMAC: 9,
  AES_192_GMAC: 10,
  AES_256_GMAC: 11,
  HMAC_SHA2_256_128: 12,
  HMAC_SHA2_384_192: 13,
  HMAC_SHA2_512_256: 14,
} as const;

/** IANA IKEv2 Transform Type 4 (key exchange method / DH group) IDs. */
export const Ke = {
  NONE: 0,
  MODP_1024: 2,
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  MODP_6144: 17,
  MODP_8192: 18,
  ECP_256: 19,
  ECP_384: 20,
  ECP_521: 21,
  CURVE25519: 31,
} as const;

/** IANA IKEv2 Transform Type 5 IDs. */
export const Esn = { NO: 0, YES: 1 } as const;

/** RFC 7296 §3.3.5 transform attribute type for the key length (in bits). */
export const ATTRIBUTE_KEY_LENGTH = 14;

export type HashName = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'ripemd160';
export type AeadName = 'aes-gcm' | 'aes-ccm' | 'chacha20-poly1305';
/** 'aes-ecb' is the raw block function, for building CMAC, XCBC and CCM from it. */
export type CipherName = 'aes-cbc' | 'aes-ctr' | 'aes-ecb' | 'des-cbc' | '3des-cbc';
export type MacName = 'hmac' | 'aes-cmac' | 'aes-xcbc';

/** Output length of each hash, in bytes. */
export const HASH_LENGTH: Readonly<Record<HashName, number>> = {
  md5: 16, sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64, ripemd160: 20,
};

/** What a registry entry needs from a Crypto provider. */
export type Primitive =
  | { kind: 'null' }
  /** KE method "none": no key exchange (a CHILD SA without PFS) */
  | { kind: 'none' }
  | { kind: 'aead'; aead: AeadName; keyBytes: number; saltBytes: number; ivBytes: number; tagBytes: number }
  /** AES-GMAC (RFC 4543): AES-GCM over an empty plaintext, the payload as AAD */
  | { kind: 'gmac'; keyBytes: number; saltBytes: number; ivBytes: number; tagBytes: number }
  | { kind: 'cipher'; cipher: CipherName; keyBytes: number; blockBytes: number; ivBytes: number; nonceBytes: number }
  | { kind: 'mac'; mac: MacName; hash?: HashName; keyBytes: number; truncateBytes: number }
  | { kind: 'prf'; mac: MacName; hash?: HashName; keyBytes: number; outputBytes: number }
  | { kind: 'modp'; group: number; bits: number }
  | { kind: 'ecp'; curve: 'p256' | 'p384' | 'p521'; coordinateBytes: number }
  | { kind: 'x25519' }
  | { kind: 'esn'; enabled: boolean };

export interface Algorithm {
  /** canonical name, as strongSwan prints it */
  readonly name: string;
  readonly type: TransformType;
  /** IANA transform ID; null where IKEv2 has none (HMAC-RIPEMD-160-96 is ESP/AH only) */
  readonly id: number | null;
  /** key length attribute in bits for variable-length ciphers (RFC 7296 §3.3.5), else 0 */
  readonly keyBits: number;
  readonly primitive: Primitive;
  /** the RFC that defines its use in IPsec */
  readonly rfc: string;
  /** when set: why RFC 8221/8247 reject it; the algorithm is refused unless legacy is enabled */
  readonly legacy?: string;
}

const aead = (name: string, id: number, keyBits: number, which: AeadName, tagBytes: number, rfc: string): Algorithm => ({
  name, type: TransformType.ENCR, id, keyBits, rfc,
  primitive: {
    kind: 'aead', aead: which, tagBytes, ivBytes: 8,
    keyBytes: which === 'chacha20-poly1305' ? 32 : keyBits / 8,
    // RFC 4106 §8.1 and RFC 7634 §2: 4-byte salt; RFC 4309 §7.1: 3-byte salt for CCM
    saltBytes: which === 'aes-ccm' ? 3 : 4,
  },
});

const hmac = (name: string, id: number | null, hash: HashName, truncateBytes: number, rfc: string, legacy?: string): Algorithm => ({
  name, type: TransformType.INTEG, id, keyBits: 0, rfc, legacy,
  primitive: { kind: 'mac', mac: 'hmac', hash, keyBytes: HASH_LENGTH[hash], truncateBytes },
});

const prfHmac = (name: string, id: number, hash: HashName, rfc: string, legacy?: string): Algorithm => ({
  name, type: TransformType.PRF, id, keyBits: 0, rfc, legacy,
  primitive: { kind: 'prf', mac: 'hmac', hash, keyBytes: HASH_LENGTH[hash], outputBytes: HASH_LENGTH[hash] },
});

const modp = (name: string, id: number, bits: number, rfc: string, legacy?: string): Algorithm => ({
  name, type: TransformType.KE, id, keyBits: 0, rfc, legacy, primitive: { kind: 'modp', group: id, bits },
});

const RFC8221_DES = 'RFC 8221 §5: ENCR_DES MUST NOT be used';
const RFC8221_3DES = 'RFC 8221 §5 and RFC 8247 §2.1: ENCR_3DES SHOULD NOT/MAY be used (64-bit block, Sweet32)';
const RFC8221_MD5 = 'RFC 8221 §6 and RFC 8247 §2.3: AUTH_HMAC_MD5_96 MUST NOT be used';
const RFC8247_PRF_MD5 = 'RFC 8247 §2.2: PRF_HMAC_MD5 MUST NOT be used';
const RIPEMD = 'RFC 8221 §6: HMAC-RIPEMD-160-96 (RFC 2857) is not recommended for ESP/AH';
const RFC8247_MODP1024 = 'RFC 8247 §2.4: group 2 (1024-bit MODP) SHOULD NOT be used';

/** Every algorithm we implement, by canonical name. */
export const ALGORITHMS: readonly Algorithm[] = [
  // encryption (RFC 8221 §5)
  { name: 'null', type: TransformType.ENCR, id: Encr.NULL, keyBits: 0, rfc: 'RFC 2410', primitive: { kind: 'null' } },
  ...[128, 192, 256].map((bits): Algorithm => ({
    name: `aes${bits}`, type: TransformType.ENCR, id: Encr.AES_CBC, keyBits: bits, rfc: 'RFC 3602',
    primitive: { kind: 'cipher', cipher: 'aes-cbc', keyBytes: bits / 8, blockBytes: 16, ivBytes: 16, nonceBytes: 0 },
  })),
  ...[128, 192, 256].map((bits): Algorithm => ({
    name: `aes${bits}ctr`, type: TransformType.ENCR, id: Encr.AES_CTR, keyBits: bits, rfc: 'RFC 3686',
    // RFC 3686 §5.1: the keying material carries a 4-byte nonce after the AES key
    primitive: { kind: 'cipher', cipher: 'aes-ctr', keyBytes: bits / 8, blockBytes: 1, ivBytes: 8, nonceBytes: 4 },
  })),
  ...[128, 192, 256].flatMap((bits) => [
    aead(`aes${bits}gcm8`, Encr.AES_GCM_8, bits, 'aes-gcm', 8, 'RFC 4106'),
    aead(`aes${bits}gcm12`, Encr.AES_GCM_12, bits, 'aes-gcm', 12, 'RFC 4106'),
    aead(`aes${bits}gcm16`, Encr.AES_GCM_16, bits, 'aes-gcm', 16, 'RFC 4106'),
    aead(`aes${bits}ccm8`, Encr.AES_CCM_8, bits, 'aes-ccm', 8, 'RFC 4309'),
    aead(`aes${bits}ccm12`, Encr.AES_CCM_12, bits, 'aes-ccm', 12, 'RFC 4309'),
    aead(`aes${bits}ccm16`, Encr.AES_CCM_16, bits, 'aes-ccm', 16, 'RFC 4309'),
    aead(`aes${bits}gcm16iiv`, Encr.AES_GCM_16_IIV, bits, 'aes-gcm', 16, 'RFC 8750'),
    aead(`aes${bits}ccm8iiv`, Encr.AES_CCM_8_IIV, bits, 'aes-ccm', 8, 'RFC 8750'),
    {
      name: `aes${bits}gmac`, type: TransformType.ENCR, id: Encr.NULL_AUTH_AES_GMAC, keyBits: bits, rfc: 'RFC 4543',
      primitive: { kind: 'gmac', keyBytes: bits / 8, saltBytes: 4, ivBytes: 8, tagBytes: 16 },
    } satisfies Algorithm,
  ]),
  aead('chacha20poly1305', Encr.CHACHA20_POLY1305, 0, 'chacha20-poly1305', 16, 'RFC 7634'),
  aead('chacha20poly1305iiv', Encr.CHACHA20_POLY1305_IIV, 0, 'chacha20-poly1305', 16, 'RFC 8750'),
  {
    name: '3des', type: TransformType.ENCR, id: Encr.TRIPLE_DES, keyBits: 0, rfc: 'RFC 2451', legacy: RFC8221_3DES,
    primitive: { kind: 'cipher', cipher: '3des-cbc', keyBytes: 24, blockBytes: 8, ivBytes: 8, nonceBytes: 0 },
  },
  {
    name: 'des', type: TransformType.ENCR, id: Encr.DES, keyBits: 0, rfc: 'RFC 2405', legacy: RFC8221_DES,
    primitive: { kind: 'cipher', cipher: 'des-cbc', keyBytes: 8, blockBytes: 8, ivBytes: 8, nonceBytes: 0 },
  },

  // integrity (RFC 8221 §6, RFC 8247 §2.3)
  hmac('sha1', Integ.HMAC_SHA1_96, 'sha1', 12, 'RFC 2404'),
  hmac('sha256', Integ.HMAC_SHA2_256_128, 'sha256', 16, 'RFC 4868'),
  hmac('sha384', Integ.HMAC_SHA2_384_192, 'sha384', 24, 'RFC 4868'),
  hmac('sha512', Integ.HMAC_SHA2_512_256, 'sha512', 32, 'RFC 4868'),
  hmac('md5', Integ.HMAC_MD5_96, 'md5', 12, 'RFC 2403', RFC8221_MD5),
  hmac('ripemd160', null, 'ripemd160', 12, 'RFC 2857', RIPEMD),
  {
    name: 'aesxcbc', type: TransformType.INTEG, id: Integ.AES_XCBC_96, keyBits: 0, rfc: 'RFC 3566',
    primitive: { kind: 'mac', mac: 'aes-xcbc', keyBytes: 16, truncateBytes: 12 },
  },
  {
    name: 'aescmac', type: TransformType.INTEG, id: Integ.AES_CMAC_96, keyBits: 0, rfc: 'RFC 4494',
    primitive: { kind: 'mac', mac: 'aes-cmac', keyBytes: 16, truncateBytes: 12 },
  },

  // pseudorandom functions (RFC 8247 §2.2)
  prfHmac('prfsha1', Prf.HMAC_SHA1, 'sha1', 'RFC 7296'),
  prfHmac('prfsha256', Prf.HMAC_SHA2_256, 'sha256', 'RFC 4868'),
  prfHmac('prfsha384', Prf.HMAC_SHA2_384, 'sha384', 'RFC 4868'),
  prfHmac('prfsha512', Prf.HMAC_SHA2_512, 'sha512', 'RFC 4868'),
  prfHmac('prfmd5', Prf.HMAC_MD5, 'md5', 'RFC 7296', RFC8247_PRF_MD5),
  {
    name: 'prfaesxcbc', type: TransformType.PRF, id: Prf.AES128_XCBC, keyBits: 0, rfc: 'RFC 4434',
    primitive: { kind: 'prf', mac: 'aes-xcbc', keyBytes: 16, outputBytes: 16 },
  },
  {
    name: 'prfaescmac', type: TransformType.PRF, id: Prf.AES128_CMAC, keyBits: 0, rfc: 'RFC 4615',
    primitive: { kind: 'prf', mac: 'aes-cmac', keyBytes: 16, outputBytes: 16 },
  },

  // key exchange (RFC 8247 §2.4)
  modp('modp1024', Ke.MODP_1024, 1024, 'RFC 2409', RFC8247_MODP1024),
  modp('modp2048', Ke.MODP_2048, 2048, 'RFC 3526'),
  modp('modp3072', Ke.MODP_3072, 3072, 'RFC 3526'),
  modp('modp4096', Ke.MODP_4096, 4096, 'RFC 3526'),
  modp('modp6144', Ke.MODP_6144, 6144, 'RFC 3526'),
  modp('modp8192', Ke.MODP_8192, 8192, 'RFC 3526'),
  { name: 'ecp256', type: TransformType.KE, id: Ke.ECP_256, keyBits: 0, rfc: 'RFC 5903', primitive: { kind: 'ecp', curve: 'p256', coordinateBytes: 32 } },
  { name: 'ecp384', type: TransformType.KE, id: Ke.ECP_384, keyBits: 0, rfc: 'RFC 5903', primitive: { kind: 'ecp', curve: 'p384', coordinateBytes: 48 } },
  { name: 'ecp521', type: TransformType.KE, id: Ke.ECP_521, keyBits: 0, rfc: 'RFC 5903', primitive: { kind: 'ecp', curve: 'p521', coordinateBytes: 66 } },
  { name: 'curve25519', type: TransformType.KE, id: Ke.CURVE25519, keyBits: 0, rfc: 'RFC 8031', primitive: { kind: 'x25519' } },

  // extended sequence numbers (RFC 7296 §3.3.2, RFC 4304)
  { name: 'noesn', type: TransformType.ESN, id: Esn.NO, keyBits: 0, rfc: 'RFC 7296', primitive: { kind: 'esn', enabled: false } },
  { name: 'esn', type: TransformType.ESN, id: Esn.YES, keyBits: 0, rfc: 'RFC 4304', primitive: { kind: 'esn', enabled: true } },
];

/**
 * strongSwan's keywords and aliases, mapped to canonical names. Keywords strongSwan has for
 * algorithms we don't implement (blowfish, camellia, ntru, ...) are absent: a proposal that
 * names them is an error, not a silent drop.
 */
const ALIASES: Readonly<Record<string, string>> = {
  aes: 'aes128',
  sha: 'sha1',
  sha2_256: 'sha256',
  sha2_384: 'sha384',
  sha2_512: 'sha512',
  x25519: 'curve25519',
  modpnone: 'none',
};

for (const bits of [128, 192, 256]) {
  // aes128gcm64 = aes128gcm8 (ICV bits vs bytes), aes128gcm = aes128gcm16, same for CCM
  for (const mode of ['gcm', 'ccm']) {
    (ALIASES as Record<string, string>)[`aes${bits}${mode}64`] = `aes${bits}${mode}8`;
    (ALIASES as Record<string, string>)[`aes${bits}${mode}96`] = `aes${bits}${mode}12`;
    (ALIASES as Record<string, string>)[`aes${bits}${mode}128`] = `aes${bits}${mode}16`;
    (ALIASES as Record<string, string>)[`aes${bits}${mode}`] = `aes${bits}${mode}16`;
  }
}

const BY_NAME = new Map<string, Algorithm>(ALGORITHMS.map((a) => [a.name, a]));

/** Looks a strongSwan keyword up; undefined when we don't know it. `none` is the KE "none". */
export function findAlgorithm(keyword: string): Algorithm | undefined {
  const k = keyword.toLowerCase();
  if (k === 'none') return NONE_KE;
  return BY_NAME.get(ALIASES[k] ?? k);
}

/** The KE transform "none" (RFC 7296 §3.3.2 / RFC 9370: no key exchange, e.g. CHILD SA without PFS). */
export const NONE_KE: Algorithm = {
  name: 'none', type: TransformType.KE, id: Ke.NONE, keyBits: 0, rfc: 'RFC 7296', primitive: { kind: 'none' },
};

/** Looks an algorithm up by transform type, IANA ID and key length attribute (0 when absent). */
export function algorithmById(type: TransformType, id: number, keyBits = 0): Algorithm | undefined {
  for (const a of ALGORITHMS) {
    if (a.type !== type || a.id !== id) continue;
    if (a.keyBits === keyBits || (a.keyBits === 0 && keyBits === 0)) return a;
  }
  return undefined;
}

/** All keywords the parser accepts, canonical names and aliases (for help texts and tests). */
export function knownKeywords(): string[] {
  return [...BY_NAME.keys(), ...Object.keys(ALIASES), 'none'].sort();
}
