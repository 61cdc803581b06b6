/**
 * Manual keying, as setkey(8) does it: static SAs and policies from the configuration. Each SA
 * becomes a PF_KEY ADD message (RFC 2367 §3.1.3) handed to the same PfKeyEngine the IKE engine
 * uses, so a static SA and a negotiated one are built by one code path; each policy becomes an
 * SPD entry.
 */
import { findAlgorithm } from '../crypto/registry.js';
import { fromHex } from '../crypto/bytes.js';
import { IpsecMode, SadbAuth, SadbEncrypt, SadbMsg, SadbSaState, SadbSaType, UDP_ENCAP_ESPINUDP, type PfKeyMessage } from '../wire/pfkey.js';
import { parseAddress, parseRange } from './selector.js';
import { Action, type Spd } from './spd.js';
import type { PfKeyEngine } from './pfkey-engine.js';

export interface StaticSa {
  /** SPI, e.g. 0x1000 */
  spi: number;
  protocol: 'esp' | 'ah';
  mode: 'tunnel' | 'transport';
  /** the SA's outer source and destination addresses */
  source: string;
  destination: string;
  /** registry keyword (strongSwan syntax), e.g. "aes128gcm16", "aes256", "null" */
  encryption?: string;
  /** hex; for AEADs and AES-CTR the salt/nonce follows the key (RFC 4106 §8.1, RFC 3686 §5.1) */
  encryptionKey?: string;
  /** registry keyword, e.g. "sha256" */
  integrity?: string;
  integrityKey?: string;
  /** anti-replay window in packets; 0 (the default for static keys) turns it off */
  replayWindow?: number;
  /** UDP encapsulation (RFC 3948) */
  natT?: { sourcePort: number; destinationPort: number };
}

export interface StaticPolicy {
  name: string;
  direction: 'out' | 'in';
  local: string;
  remote: string;
  protocol?: number;
  action: 'protect' | 'bypass' | 'discard';
  /** PROTECT, outbound: the SPI of the static SA to use */
  spi?: number;
}

const ENCRYPT_ID: Readonly<Record<string, number>> = {
  null: SadbEncrypt.NULL, des: SadbEncrypt.DESCBC, '3des': SadbEncrypt.TRIPLE_DESCBC, aes: SadbEncrypt.X_AESCBC,
  ctr: SadbEncrypt.X_AESCTR, ccm8: SadbEncrypt.X_AES_CCM_ICV8, ccm12: SadbEncrypt.X_AES_CCM_ICV12, ccm16: SadbEncrypt.X_AES_CCM_ICV16,
  gcm8: SadbEncrypt.X_AES_GCM_ICV8, gcm12: SadbEncrypt.X_AES_GCM_ICV12, gcm16: SadbEncrypt.X_AES_GCM_ICV16,
  gmac: SadbEncrypt.X_NULL_AES_GMAC, chacha20poly1305: SadbEncrypt.XSIPSEC_CHACHA20_POLY1305,
};
const AUTH_ID: Readonly<Record<string, number>> = {
  md5: SadbAuth.MD5HMAC, sha1: SadbAuth.SHA1HMAC, sha256: SadbAuth.X_SHA2_256HMAC, sha384: SadbAuth.X_SHA2_384HMAC,
  sha512: SadbAuth.X_SHA2_512HMAC, ripemd160: SadbAuth.X_RIPEMD160HMAC, aesxcbc: SadbAuth.X_AES_XCBC_MAC, aescmac: SadbAuth.XSIPSEC_AES_CMAC,
};

/** The PF_KEY ADD message for a static SA; throws with the field that is wrong. */
export function addMessage(s: StaticSa, seq = 0): PfKeyMessage {
  const where = `SA 0x${s.spi.toString(16)}`;
  let encrypt = SadbEncrypt.NONE as number;
  if (s.protocol === 'esp') {
    const e = findAlgorithm(s.encryption ?? '');
    if (!e || e.type !== 1) throw new RangeError(`${where}: encryption "${s.encryption}" is not an ESP encryption algorithm`);
    const family = e.name === 'chacha20poly1305' ? 'chacha20poly1305' : e.name.replace(/^aes\d+/, '') || 'aes';
    const id = ENCRYPT_ID[family === '' ? 'aes' : family];
    if (id === undefined) throw new RangeError(`${where}: ${e.name} has no PF_KEY number`);
    encrypt = id;
  }
  const integrity = s.integrity ? findAlgorithm(s.integrity) : undefined;
  if (s.integrity && (!integrity || integrity.type !== 3)) throw new RangeError(`${where}: integrity "${s.integrity}" is not an integrity algorithm`);
  const encryptionKey = s.encryptionKey ? fromHex(s.encryptionKey) : new Uint8Array(0);
  const integrityKey = s.integrityKey ? fromHex(s.integrityKey) : new Uint8Array(0);
  const address = (text: string) => {
    const a = parseAddress(text);
    return { proto: 0, prefixlen: a.length * 8, port: 0, address: a };
  };
  const m: PfKeyMessage = {
    type: SadbMsg.ADD, errno: 0, satype: s.protocol === 'ah' ? SadbSaType.AH : SadbSaType.ESP, seq, pid: 0,
    sa: {
      spi: s.spi, replay: s.replayWindow ?? 0, state: SadbSaState.MATURE,
      auth: integrity ? AUTH_ID[integrity.name] : SadbAuth.NONE, encrypt, flags: 0,
    },
    src: address(s.source),
    dst: address(s.destination),
    sa2: { mode: s.mode === 'transport' ? IpsecMode.TRANSPORT : IpsecMode.TUNNEL, sequence: 0, reqid: 0 },
  };
  if (s.protocol === 'esp') m.keyEncrypt = { bits: encryptionKey.length * 8, key: encryptionKey };
  if (integrity) m.keyAuth = { bits: integrityKey.length * 8, key: integrityKey };
  if (s.natT) {
    m.natTType = UDP_ENCAP_ESPINUDP;
    m.natTSport = s.natT.sourcePort;
    m.natTDport = s.natT.destinationPort;
  }
  return m;
}

/**
 * Installs static SAs through the engine and static policies into the SPD. Returns one
 * error string per SA or policy that was refused (an empty list when everything was applied).
 */
export function applyStatic(engine: PfKeyEngine, spd: Spd, sas: StaticSa[], policies: StaticPolicy[], localAddresses: string[]): string[] {
  const errors: string[] = [];
  const locals = localAddresses.map(parseAddress);
  sas.forEach((s, i) => {
    try {
      const [reply] = engine.handle(addMessage(s, i + 1), locals);
      if (reply.errno !== 0) errors.push(`SA 0x${s.spi.toString(16)}: refused (errno ${reply.errno})`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  });
  for (const p of policies) {
    try {
      spd.add({
        name: p.name, direction: p.direction, spi: p.spi ?? 0,
        selector: { local: parseRange(p.local), remote: parseRange(p.remote), protocol: p.protocol ?? 0, localPorts: [0, 65535], remotePorts: [0, 65535] },
        action: p.action === 'protect' ? Action.PROTECT : p.action === 'bypass' ? Action.BYPASS : Action.DISCARD,
      });
    } catch (e) {
      errors.push(`policy ${p.name}: ${(e as Error).message}`);
    }
  }
  return errors;
}
