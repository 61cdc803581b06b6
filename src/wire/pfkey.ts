/**
 * PF_KEY version 2 messages (RFC 2367), the management interface between key management
 * (our IKE engine, or manual keying from configuration) and the data path, with the Linux
 * extensions strongSwan and setkey use (SA2 for the mode and reqid, NAT-T).
 *
 * Layout (RFC 2367 §2.3): a 16-byte base header, then extensions, each starting with its
 * length in 64-bit words and its type, each type at most once (§2.3: "MUST NOT appear more
 * than once"). Fields are in the host's byte order (little-endian on every target we build
 * for: x86-64 and the ESP32 family), except SPIs, ports and addresses, which are in network
 * order (§2.3.1, §2.3.3).
 *
 * `decodePfKey` checks every length before reading and throws PfKeyError with the reason;
 * `encodePfKey` writes what `decodePfKey` reads.
 */

// RFC 2367 §2.3, Linux include/uapi/linux/pfkeyv2.h
export const PF_KEY_V2 = 2;
export const SadbMsg = {
  RESERVED: 0, GETSPI: 1, UPDATE: 2, ADD: 3, DELETE: 4, GET: 5, ACQUIRE: 6, REGISTER: 7, EXPIRE: 8, FLUSH: 9, DUMP: 10,
  X_PROMISC: 11, X_PCHANGE: 12, X_SPDUPDATE: 13, X_SPDADD: 14, X_SPDDELETE: 15, X_SPDGET: 16, X_SPDACQUIRE: 17,
  X_SPDDUMP: 18, X_SPDFLUSH: 19, X_SPDSETIDX: 20, X_SPDEXPIRE: 21, X_SPDDELETE2: 22, X_NAT_T_NEW_MAPPING: 23, X_MIGRATE: 24,
} as const;
export const SadbSaType = { UNSPEC: 0, AH: 2, ESP: 3, RSVP: 5, OSPFV2: 6, RIPV2: 7, MIP: 8, X_IPCOMP: 9 } as const;
export const SadbExt = {
  RESERVED: 0, SA: 1, LIFETIME_CURRENT: 2, LIFETIME_HARD: 3, LIFETIME_SOFT: 4, ADDRESS_SRC: 5, ADDRESS_DST: 6,
  ADDRESS_PROXY: 7, KEY_AUTH: 8, KEY_ENCRYPT: 9, IDENTITY_SRC: 10, IDENTITY_DST: 11, SENSITIVITY: 12, PROPOSAL: 13,
  SUPPORTED_AUTH: 14, SUPPORTED_ENCRYPT: 15, SPIRANGE: 16, X_KMPRIVATE: 17, X_POLICY: 18, X_SA2: 19, X_NAT_T_TYPE: 20,
  X_NAT_T_SPORT: 21, X_NAT_T_DPORT: 22, X_NAT_T_OA: 23, X_SEC_CTX: 24, X_KMADDRESS: 25, X_FILTER: 26,
} as const;
export const SadbSaState = { LARVAL: 0, MATURE: 1, DYING: 2, DEAD: 3 } as const;
export const SadbSaFlags = { PFS: 1 } as const;
export const SadbAuth = {
  NONE: 0, MD5HMAC: 2, SHA1HMAC: 3, X_SHA2_256HMAC: 5, X_SHA2_384HMAC: 6, X_SHA2_512HMAC: 7, X_RIPEMD160HMAC: 8,
  X_AES_XCBC_MAC: 9, X_NULL: 251,
  /** xs-ipsec's own number (Linux has none for AES-CMAC-96): the IKEv2 integrity ID, 8, shifted to a private value */
  XSIPSEC_AES_CMAC: 250,
} as const;
export const SadbEncrypt = {
  NONE: 0, DESCBC: 2, TRIPLE_DESCBC: 3, X_CASTCBC: 6, X_BLOWFISHCBC: 7, NULL: 11, X_AESCBC: 12, X_AESCTR: 13,
  X_AES_CCM_ICV8: 14, X_AES_CCM_ICV12: 15, X_AES_CCM_ICV16: 16, X_AES_GCM_ICV8: 18, X_AES_GCM_ICV12: 19,
  X_AES_GCM_ICV16: 20, X_CAMELLIACBC: 22, X_NULL_AES_GMAC: 23,
  /** xs-ipsec's own number (Linux has none): the IKEv2 transform ID of ChaCha20-Poly1305 (RFC 7634) */
  XSIPSEC_CHACHA20_POLY1305: 28,
} as const;
/** SA2 modes (Linux IPSEC_MODE_*) */
export const IpsecMode = { ANY: 0, TRANSPORT: 1, TUNNEL: 2 } as const;
export const SadbIdentType = { RESERVED: 0, PREFIX: 1, FQDN: 2, USERFQDN: 3 } as const;
/** NAT-T type: UDP_ENCAP_ESPINUDP (RFC 3948), as Linux's xfrm uses it */
export const UDP_ENCAP_ESPINUDP = 2;
/** socket address families as the kernel numbers them */
export const AF_INET = 2;
export const AF_INET6 = 10;

export class PfKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PfKeyError';
  }
}

export interface SadbLifetime { allocations: number; bytes: bigint; addtime: bigint; usetime: bigint }
export interface SadbAddress { proto: number; prefixlen: number; port: number; address: Uint8Array }
export interface SadbKey { bits: number; key: Uint8Array }
export interface SadbIdentity { identType: number; id: bigint; value: string }
export interface SadbComb {
  auth: number; encrypt: number; flags: number; authMinBits: number; authMaxBits: number; encryptMinBits: number; encryptMaxBits: number;
  softAllocations: number; hardAllocations: number; softBytes: bigint; hardBytes: bigint; softAddtime: bigint; hardAddtime: bigint;
  softUsetime: bigint; hardUsetime: bigint;
}
export interface SadbAlg { id: number; ivlen: number; minbits: number; maxbits: number }

/** A decoded message; each extension present at most once, by type. */
export interface PfKeyMessage {
  type: number;
  errno: number;
  satype: number;
  seq: number;
  pid: number;
  sa?: { spi: number; replay: number; state: number; auth: number; encrypt: number; flags: number };
  lifetimeCurrent?: SadbLifetime;
  lifetimeHard?: SadbLifetime;
  lifetimeSoft?: SadbLifetime;
  src?: SadbAddress;
  dst?: SadbAddress;
  proxy?: SadbAddress;
  natOa?: SadbAddress;
  keyAuth?: SadbKey;
  keyEncrypt?: SadbKey;
  identitySrc?: SadbIdentity;
  identityDst?: SadbIdentity;
  proposal?: { replay: number; combs: SadbComb[] };
  supportedAuth?: SadbAlg[];
  supportedEncrypt?: SadbAlg[];
  spirange?: { min: number; max: number };
  sa2?: { mode: number; sequence: number; reqid: number };
  natTType?: number;
  natTSport?: number;
  natTDport?: number;
  /** extensions this codec keeps opaque (policy, sensitivity, ...): type -> body after the 4-byte header */
  other?: Map<number, Uint8Array>;
}

const LIFETIMES = [['lifetimeCurrent', SadbExt.LIFETIME_CURRENT], ['lifetimeHard', SadbExt.LIFETIME_HARD], ['lifetimeSoft', SadbExt.LIFETIME_SOFT]] as const;
const ADDRESSES = [['src', SadbExt.ADDRESS_SRC], ['dst', SadbExt.ADDRESS_DST], ['proxy', SadbExt.ADDRESS_PROXY], ['natOa', SadbExt.X_NAT_T_OA]] as const;
const KEYS = [['keyAuth', SadbExt.KEY_AUTH], ['keyEncrypt', SadbExt.KEY_ENCRYPT]] as const;
const IDENTITIES = [['identitySrc', SadbExt.IDENTITY_SRC], ['identityDst', SadbExt.IDENTITY_DST]] as const;
const SUPPORTED = [['supportedAuth', SadbExt.SUPPORTED_AUTH], ['supportedEncrypt', SadbExt.SUPPORTED_ENCRYPT]] as const;

const pad8 = (n: number) => (n + 7) & ~7;

/** Decodes one PF_KEY message; throws PfKeyError naming what is wrong. */
export function decodePfKey(bytes: Uint8Array): PfKeyMessage {
  if (bytes.length < 16) throw new PfKeyError(`truncated: ${bytes.length} bytes, the base header has 16`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== PF_KEY_V2) throw new PfKeyError(`version ${bytes[0]}, expected ${PF_KEY_V2}`);
  const length = v.getUint16(4, true) * 8;
  if (length < 16) throw new PfKeyError(`message length ${length} is shorter than the base header`);
  if (length > bytes.length) throw new PfKeyError(`truncated: message length ${length}, ${bytes.length} bytes received`);
  const m: PfKeyMessage = { type: bytes[1], errno: bytes[2], satype: bytes[3], seq: v.getUint32(8, true), pid: v.getUint32(12, true) };
  const seen = new Set<number>();
  for (let o = 16; o < length;) {
    if (o + 4 > length) throw new PfKeyError(`truncated extension header at ${o}`);
    const extLength = v.getUint16(o, true) * 8;
    const type = v.getUint16(o + 2, true);
    if (extLength < 8) throw new PfKeyError(`extension ${type} at ${o}: length ${extLength} is too short`);
    if (o + extLength > length) throw new PfKeyError(`extension ${type} at ${o} overruns the message (${extLength} bytes)`);
    if (seen.has(type)) throw new PfKeyError(`extension ${type} appears twice (RFC 2367 §2.3)`);
    seen.add(type);
    decodeExtension(m, type, bytes.subarray(o, o + extLength), new DataView(bytes.buffer, bytes.byteOffset + o, extLength));
    o += extLength;
  }
  return m;
}

function need(type: number, body: Uint8Array, n: number): void {
  if (body.length < n) throw new PfKeyError(`extension ${type}: ${body.length} bytes, needs ${n}`);
}

function decodeExtension(m: PfKeyMessage, type: number, body: Uint8Array, v: DataView): void {
  switch (type) {
    case SadbExt.SA:
      need(type, body, 16);
      m.sa = { spi: v.getUint32(4, false), replay: body[8], state: body[9], auth: body[10], encrypt: body[11], flags: v.getUint32(12, true) };
      return;
    case SadbExt.LIFETIME_CURRENT: case SadbExt.LIFETIME_HARD: case SadbExt.LIFETIME_SOFT:
      need(type, body, 32);
      m[LIFETIMES.find(([, t]) => t === type)![0]] = {
        allocations: v.getUint32(4, true), bytes: v.getBigUint64(8, true), addtime: v.getBigUint64(16, true), usetime: v.getBigUint64(24, true),
      };
      return;
    case SadbExt.ADDRESS_SRC: case SadbExt.ADDRESS_DST: case SadbExt.ADDRESS_PROXY: case SadbExt.X_NAT_T_OA: {
      need(type, body, 8 + 4);
      const family = v.getUint16(8, true);
      const size = family === AF_INET ? 16 : family === AF_INET6 ? 28 : -1;
      if (size < 0) throw new PfKeyError(`extension ${type}: address family ${family} is neither AF_INET nor AF_INET6`);
      need(type, body, 8 + size);
      const addressBytes = family === AF_INET ? 4 : 16;
      const at = family === AF_INET ? 12 : 16; // sockaddr_in: family, port, addr; sockaddr_in6: family, port, flowinfo, addr
      const prefixlen = body[5];
      if (prefixlen > addressBytes * 8) throw new PfKeyError(`extension ${type}: prefix length ${prefixlen} exceeds the address`);
      m[ADDRESSES.find(([, t]) => t === type)![0]] = {
        proto: body[4], prefixlen, port: v.getUint16(10, false), address: body.slice(at, at + addressBytes),
      };
      return;
    }
    case SadbExt.KEY_AUTH: case SadbExt.KEY_ENCRYPT: {
      need(type, body, 8);
      const bits = v.getUint16(4, true);
      const keyBytes = Math.ceil(bits / 8);
      if (8 + keyBytes > body.length) throw new PfKeyError(`extension ${type}: ${bits} key bits do not fit in ${body.length - 8} bytes`);
      m[KEYS.find(([, t]) => t === type)![0]] = { bits, key: body.slice(8, 8 + keyBytes) };
      return;
    }
    case SadbExt.IDENTITY_SRC: case SadbExt.IDENTITY_DST: {
      need(type, body, 16);
      let end = 16;
      while (end < body.length && body[end] !== 0) end++;
      let value = '';
      for (let i = 16; i < end; i++) value += String.fromCharCode(body[i]);
      m[IDENTITIES.find(([, t]) => t === type)![0]] = { identType: v.getUint16(4, true), id: v.getBigUint64(8, true), value };
      return;
    }
    case SadbExt.PROPOSAL: {
      need(type, body, 8);
      if ((body.length - 8) % 72 !== 0) throw new PfKeyError(`extension ${type}: ${body.length - 8} bytes is not a whole number of 72-byte combinations`);
      const combs: SadbComb[] = [];
      for (let o = 8; o < body.length; o += 72) {
        combs.push({
          auth: body[o], encrypt: body[o + 1], flags: v.getUint16(o + 2, true), authMinBits: v.getUint16(o + 4, true),
          authMaxBits: v.getUint16(o + 6, true), encryptMinBits: v.getUint16(o + 8, true), encryptMaxBits: v.getUint16(o + 10, true),
          softAllocations: v.getUint32(o + 16, true), hardAllocations: v.getUint32(o + 20, true),
          softBytes: v.getBigUint64(o + 24, true), hardBytes: v.getBigUint64(o + 32, true), softAddtime: v.getBigUint64(o + 40, true),
          hardAddtime: v.getBigUint64(o + 48, true), softUsetime: v.getBigUint64(o + 56, true), hardUsetime: v.getBigUint64(o + 64, true),
        });
      }
      m.proposal = { replay: body[4], combs };
      return;
    }
    case SadbExt.SUPPORTED_AUTH: case SadbExt.SUPPORTED_ENCRYPT: {
      need(type, body, 8);
      if ((body.length - 8) % 8 !== 0) throw new PfKeyError(`extension ${type}: not a whole number of 8-byte algorithms`);
      const algs: SadbAlg[] = [];
      for (let o = 8; o < body.length; o += 8) {
        algs.push({ id: body[o], ivlen: body[o + 1], minbits: v.getUint16(o + 2, true), maxbits: v.getUint16(o + 4, true) });
      }
      m[SUPPORTED.find(([, t]) => t === type)![0]] = algs;
      return;
    }
    case SadbExt.SPIRANGE:
      need(type, body, 16);
      m.spirange = { min: v.getUint32(4, true), max: v.getUint32(8, true) };
      if (m.spirange.min > m.spirange.max) throw new PfKeyError(`SPI range ${m.spirange.min}-${m.spirange.max} is backwards`);
      return;
    case SadbExt.X_SA2:
      need(type, body, 16);
      m.sa2 = { mode: body[4], sequence: v.getUint32(8, true), reqid: v.getUint32(12, true) };
      return;
    case SadbExt.X_NAT_T_TYPE:
      need(type, body, 8);
      m.natTType = body[4];
      return;
    case SadbExt.X_NAT_T_SPORT: case SadbExt.X_NAT_T_DPORT:
      need(type, body, 8);
      if (type === SadbExt.X_NAT_T_SPORT) m.natTSport = v.getUint16(4, false);
      else m.natTDport = v.getUint16(4, false);
      return;
    default:
      (m.other ??= new Map()).set(type, body.slice(4));
  }
}

/** Encodes a message; lengths are computed, extensions written in type order. */
export function encodePfKey(m: PfKeyMessage): Uint8Array {
  const parts: Uint8Array[] = [];
  const ext = (type: number, bodyLength: number, fill: (b: Uint8Array, v: DataView) => void) => {
    const length = pad8(bodyLength);
    const b = new Uint8Array(length);
    const v = new DataView(b.buffer);
    v.setUint16(0, length / 8, true);
    v.setUint16(2, type, true);
    fill(b, v);
    parts.push(b);
  };
  if (m.sa) {
    const sa = m.sa;
    ext(SadbExt.SA, 16, (b, v) => {
      v.setUint32(4, sa.spi, false);
      b.set([sa.replay, sa.state, sa.auth, sa.encrypt], 8);
      v.setUint32(12, sa.flags, true);
    });
  }
  for (const [field, type] of LIFETIMES) {
    const l = m[field];
    if (l) ext(type, 32, (_, v) => {
      v.setUint32(4, l.allocations, true);
      v.setBigUint64(8, l.bytes, true);
      v.setBigUint64(16, l.addtime, true);
      v.setBigUint64(24, l.usetime, true);
    });
  }
  for (const [field, type] of ADDRESSES) {
    const a = m[field];
    if (!a) continue;
    const v4 = a.address.length === 4;
    ext(type, 8 + (v4 ? 16 : 28), (b, v) => {
      b[4] = a.proto;
      b[5] = a.prefixlen;
      v.setUint16(8, v4 ? AF_INET : AF_INET6, true);
      v.setUint16(10, a.port, false);
      b.set(a.address, v4 ? 12 : 16);
    });
  }
  for (const [field, type] of KEYS) {
    const k = m[field];
    if (k) ext(type, 8 + k.key.length, (b, v) => {
      v.setUint16(4, k.bits, true);
      b.set(k.key, 8);
    });
  }
  for (const [field, type] of IDENTITIES) {
    const id = m[field];
    if (id) ext(type, 16 + id.value.length + 1, (b, v) => {
      v.setUint16(4, id.identType, true);
      v.setBigUint64(8, id.id, true);
      for (let i = 0; i < id.value.length; i++) b[16 + i] = id.value.charCodeAt(i) & 0xff;
    });
  }
  if (m.proposal) {
    const p = m.proposal;
    ext(SadbExt.PROPOSAL, 8 + 72 * p.combs.length, (b, v) => {
      b[4] = p.replay;
      p.combs.forEach((c, i) => {
        const o = 8 + 72 * i;
        b[o] = c.auth;
        b[o + 1] = c.encrypt;
        v.setUint16(o + 2, c.flags, true);
        v.setUint16(o + 4, c.authMinBits, true);
        v.setUint16(o + 6, c.authMaxBits, true);
        v.setUint16(o + 8, c.encryptMinBits, true);
        v.setUint16(o + 10, c.encryptMaxBits, true);
        v.setUint32(o + 16, c.softAllocations, true);
        v.setUint32(o + 20, c.hardAllocations, true);
        v.setBigUint64(o + 24, c.softBytes, true);
        v.setBigUint64(o + 32, c.hardBytes, true);
        v.setBigUint64(o + 40, c.softAddtime, true);
        v.setBigUint64(o + 48, c.hardAddtime, true);
        v.setBigUint64(o + 56, c.softUsetime, true);
        v.setBigUint64(o + 64, c.hardUsetime, true);
      });
    });
  }
  for (const [field, type] of SUPPORTED) {
    const algs = m[field];
    if (algs) ext(type, 8 + 8 * algs.length, (b, v) => {
      algs.forEach((a, i) => {
        b[8 + 8 * i] = a.id;
        b[9 + 8 * i] = a.ivlen;
        v.setUint16(10 + 8 * i, a.minbits, true);
        v.setUint16(12 + 8 * i, a.maxbits, true);
      });
    });
  }
  if (m.spirange) {
    const r = m.spirange;
    ext(SadbExt.SPIRANGE, 16, (_, v) => {
      v.setUint32(4, r.min, true);
      v.setUint32(8, r.max, true);
    });
  }
  if (m.sa2) {
    const s = m.sa2;
    ext(SadbExt.X_SA2, 16, (b, v) => {
      b[4] = s.mode;
      v.setUint32(8, s.sequence, true);
      v.setUint32(12, s.reqid, true);
    });
  }
  if (m.natTType !== undefined) ext(SadbExt.X_NAT_T_TYPE, 8, (b) => (b[4] = m.natTType!));
  if (m.natTSport !== undefined) ext(SadbExt.X_NAT_T_SPORT, 8, (_, v) => v.setUint16(4, m.natTSport!, false));
  if (m.natTDport !== undefined) ext(SadbExt.X_NAT_T_DPORT, 8, (_, v) => v.setUint16(4, m.natTDport!, false));
  if (m.other) for (const [type, body] of m.other) ext(type, 4 + body.length, (b) => b.set(body, 4));

  const total = 16 + parts.reduce((n, p) => n + p.length, 0);
  if (total / 8 > 0xffff) throw new PfKeyError('message too long');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([PF_KEY_V2, m.type, m.errno, m.satype]);
  v.setUint16(4, total / 8, true);
  v.setUint32(8, m.seq, true);
  v.setUint32(12, m.pid, true);
  let o = 16;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
