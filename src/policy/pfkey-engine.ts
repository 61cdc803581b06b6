/**
 * The data path's side of PF_KEY v2 (RFC 2367 §3): key management sends messages, this engine
 * applies them to the SAD and answers, the way a kernel does. It also raises EXPIRE (from SA
 * lifetimes) and ACQUIRE (a PROTECT policy without an SA) for the key manager.
 *
 * Differences from a kernel, on purpose: GET and DUMP never return key material (RFC 2367
 * §3.1.5 lets a kernel do so; keys stay inside the data path), and HMAC-SHA-2 uses the
 * RFC 4868 truncations (Linux's PF_KEY keeps an older 96-bit one for SHA-256).
 */
import type { Crypto } from '../crypto/provider.js';
import { findAlgorithm, type Algorithm } from '../crypto/registry.js';
import { AhSa } from '../esp/ah.js';
import { EspSa } from '../esp/sa.js';
import { createEspTransform } from '../esp/transform.js';
import type { SpdEntry } from './spd.js';
import {
  IpsecMode, PfKeyError, SadbAuth, SadbEncrypt, SadbMsg, SadbSaState, SadbSaType, decodePfKey, encodePfKey,
  type PfKeyMessage, type SadbAlg,
} from '../wire/pfkey.js';

/** errno values a reply carries (Linux numbers) */
export const Errno = { ENOENT: 2, EEXIST: 17, EINVAL: 22, ENOSPC: 28, EPROTONOSUPPORT: 93 } as const;

const AUTH_BY_ID: Readonly<Record<number, string>> = {
  [SadbAuth.MD5HMAC]: 'md5', [SadbAuth.SHA1HMAC]: 'sha1', [SadbAuth.X_SHA2_256HMAC]: 'sha256', [SadbAuth.X_SHA2_384HMAC]: 'sha384',
  [SadbAuth.X_SHA2_512HMAC]: 'sha512', [SadbAuth.X_RIPEMD160HMAC]: 'ripemd160', [SadbAuth.X_AES_XCBC_MAC]: 'aesxcbc',
  [SadbAuth.XSIPSEC_AES_CMAC]: 'aescmac',
};

/** The registry name for a PF_KEY encryption ID and key length in bits (key + salt/nonce). */
function encryptionFor(id: number, keyBits: number): Algorithm | undefined {
  const aes = (base: string, extraBits: number, suffix: string) => {
    const bits = keyBits - extraBits;
    return bits === 128 || bits === 192 || bits === 256 ? findAlgorithm(`aes${bits}${suffix}`) : undefined;
  };
  switch (id) {
    case SadbEncrypt.NULL: return findAlgorithm('null');
    case SadbEncrypt.DESCBC: return findAlgorithm('des');
    case SadbEncrypt.TRIPLE_DESCBC: return findAlgorithm('3des');
    case SadbEncrypt.X_AESCBC: return aes('aes', 0, '');
    case SadbEncrypt.X_AESCTR: return aes('aes', 32, 'ctr');
    case SadbEncrypt.X_AES_CCM_ICV8: return aes('aes', 24, 'ccm8');
    case SadbEncrypt.X_AES_CCM_ICV12: return aes('aes', 24, 'ccm12');
    case SadbEncrypt.X_AES_CCM_ICV16: return aes('aes', 24, 'ccm16');
    case SadbEncrypt.X_AES_GCM_ICV8: return aes('aes', 32, 'gcm8');
    case SadbEncrypt.X_AES_GCM_ICV12: return aes('aes', 32, 'gcm12');
    case SadbEncrypt.X_AES_GCM_ICV16: return aes('aes', 32, 'gcm16');
    case SadbEncrypt.X_NULL_AES_GMAC: return aes('aes', 32, 'gmac');
    case SadbEncrypt.XSIPSEC_CHACHA20_POLY1305: return keyBits === 288 ? findAlgorithm('chacha20poly1305') : undefined;
  }
  return undefined;
}

/** What REGISTER answers: the algorithms this data path implements (RFC 2367 §3.1.7). */
export const SUPPORTED_AUTH: SadbAlg[] = [
  { id: SadbAuth.SHA1HMAC, ivlen: 0, minbits: 160, maxbits: 160 },
  { id: SadbAuth.X_SHA2_256HMAC, ivlen: 0, minbits: 256, maxbits: 256 },
  { id: SadbAuth.X_SHA2_384HMAC, ivlen: 0, minbits: 384, maxbits: 384 },
  { id: SadbAuth.X_SHA2_512HMAC, ivlen: 0, minbits: 512, maxbits: 512 },
  { id: SadbAuth.X_AES_XCBC_MAC, ivlen: 0, minbits: 128, maxbits: 128 },
  { id: SadbAuth.XSIPSEC_AES_CMAC, ivlen: 0, minbits: 128, maxbits: 128 },
];
export const SUPPORTED_ENCRYPT: SadbAlg[] = [
  { id: SadbEncrypt.NULL, ivlen: 0, minbits: 0, maxbits: 0 },
  { id: SadbEncrypt.X_AESCBC, ivlen: 16, minbits: 128, maxbits: 256 },
  { id: SadbEncrypt.X_AESCTR, ivlen: 8, minbits: 160, maxbits: 288 },
  { id: SadbEncrypt.X_AES_CCM_ICV16, ivlen: 8, minbits: 152, maxbits: 280 },
  { id: SadbEncrypt.X_AES_GCM_ICV16, ivlen: 8, minbits: 160, maxbits: 288 },
  { id: SadbEncrypt.XSIPSEC_CHACHA20_POLY1305, ivlen: 8, minbits: 288, maxbits: 288 },
];

interface Installed {
  satype: number;
  sa: EspSa | AhSa;
  message: PfKeyMessage;
}

export class PfKeyEngine {
  readonly #crypto: Crypto;
  /** installed SAs by SPI (inbound and outbound alike: SPIs are unique here) */
  readonly #sas = new Map<number, Installed>();
  /** SPIs handed out by GETSPI and not yet UPDATEd (larval SAs) */
  readonly #larval = new Map<number, PfKeyMessage>();

  constructor(crypto: Crypto) {
    this.#crypto = crypto;
  }

  /** The installed SA for an SPI. */
  sa(spi: number): EspSa | AhSa | undefined {
    return this.#sas.get(spi)?.sa;
  }

  get size(): number {
    return this.#sas.size;
  }

  /** Every installed SA. */
  *all(): IterableIterator<EspSa | AhSa> {
    for (const installed of this.#sas.values()) yield installed.sa;
  }

  /** Handles one message in wire format; returns the replies in wire format. Never throws. */
  handleBytes(bytes: Uint8Array, localAddresses: Uint8Array[] = []): Uint8Array[] {
    let message: PfKeyMessage;
    try {
      message = decodePfKey(bytes);
    } catch {
      // a malformed message gets an EINVAL reply carrying what could be read of its header
      const header = { type: bytes.length > 1 ? bytes[1] : 0, errno: Errno.EINVAL, satype: bytes.length > 3 ? bytes[3] : 0, seq: 0, pid: 0 };
      return [encodePfKey(header)];
    }
    return this.handle(message, localAddresses).map(encodePfKey);
  }

  /**
   * Handles one message. `localAddresses`: this host's addresses, to tell inbound SAs (whose
   * destination is ours) from outbound ones.
   */
  handle(m: PfKeyMessage, localAddresses: Uint8Array[] = []): PfKeyMessage[] {
    const error = (errno: number): PfKeyMessage[] => [{ type: m.type, errno, satype: m.satype, seq: m.seq, pid: m.pid }];
    const reply = (extra: Partial<PfKeyMessage>): PfKeyMessage[] => [{ type: m.type, errno: 0, satype: m.satype, seq: m.seq, pid: m.pid, ...extra }];
    switch (m.type) {
      case SadbMsg.GETSPI: {
        const range = m.spirange ?? { min: 0x100, max: 0xffffffff };
        const min = Math.max(range.min, 0x100);
        if (min > range.max) return error(Errno.EINVAL);
        const random = new Uint8Array(4);
        for (let attempt = 0; attempt < 64; attempt++) {
          this.#crypto.randomBytes(random);
          const r = ((random[0] << 24) | (random[1] << 16) | (random[2] << 8) | random[3]) >>> 0;
          const spi = min + (r % (range.max - min + 1));
          if (!this.#sas.has(spi) && !this.#larval.has(spi)) {
            this.#larval.set(spi, m);
            return reply({ sa: { spi, replay: 0, state: SadbSaState.LARVAL, auth: 0, encrypt: 0, flags: 0 }, src: m.src, dst: m.dst });
          }
        }
        return error(Errno.ENOSPC);
      }
      case SadbMsg.UPDATE:
      case SadbMsg.ADD: {
        if (!m.sa || !m.src || !m.dst) return error(Errno.EINVAL);
        if (m.type === SadbMsg.UPDATE && !this.#larval.has(m.sa.spi)) return error(Errno.ENOENT);
        if (this.#sas.has(m.sa.spi)) return error(Errno.EEXIST);
        let sa: EspSa | AhSa;
        try {
          sa = this.#build(m, localAddresses);
        } catch (e) {
          return error(e instanceof UnsupportedError ? Errno.EPROTONOSUPPORT : Errno.EINVAL);
        }
        this.#larval.delete(m.sa.spi);
        this.#sas.set(m.sa.spi, { satype: m.satype, sa, message: withoutKeys(m) });
        return reply({ ...withoutKeys(m), type: m.type, sa: { ...m.sa, state: SadbSaState.MATURE } });
      }
      case SadbMsg.DELETE: {
        if (!m.sa) return error(Errno.EINVAL);
        const installed = this.#sas.get(m.sa.spi);
        if (!installed && !this.#larval.delete(m.sa.spi)) return error(Errno.ENOENT);
        if (installed) this.#remove(m.sa.spi);
        return reply({ sa: m.sa, src: m.src, dst: m.dst });
      }
      case SadbMsg.GET: {
        if (!m.sa) return error(Errno.EINVAL);
        const installed = this.#sas.get(m.sa.spi);
        if (!installed) return error(Errno.ENOENT);
        return [this.#describe(installed, m.seq, m.pid, SadbMsg.GET)];
      }
      case SadbMsg.REGISTER:
        return reply({ supportedAuth: SUPPORTED_AUTH, supportedEncrypt: SUPPORTED_ENCRYPT });
      case SadbMsg.FLUSH:
        for (const [spi, installed] of [...this.#sas]) {
          if (m.satype === SadbSaType.UNSPEC || installed.satype === m.satype) this.#remove(spi);
        }
        this.#larval.clear();
        return reply({});
      case SadbMsg.DUMP: {
        const all = [...this.#sas.values()].filter((i) => m.satype === SadbSaType.UNSPEC || i.satype === m.satype);
        if (all.length === 0) return error(Errno.ENOENT);
        // RFC 2367 §3.1.10: one message per SA, the sequence counting down to 0 on the last
        return all.map((installed, i) => this.#describe(installed, all.length - 1 - i, m.pid, SadbMsg.DUMP));
      }
      default:
        return error(Errno.EINVAL);
    }
  }

  /**
   * ACQUIRE (RFC 2367 §3.1.6): an outbound packet matched a PROTECT policy that has no SA yet;
   * asks the key manager for one, with the policy's addresses and what this data path supports.
   */
  acquire(entry: SpdEntry, seq: number): PfKeyMessage {
    const s = entry.selector;
    const address = (range: { start: Uint8Array; end: Uint8Array }) => {
      let prefixlen = 0;
      while (prefixlen < range.start.length * 8) {
        const byte = prefixlen >> 3;
        const bit = 0x80 >> (prefixlen & 7);
        if ((range.start[byte] & bit) !== (range.end[byte] & bit)) break;
        prefixlen++;
      }
      return { proto: s.protocol, prefixlen, port: 0, address: range.start.slice() };
    };
    const comb = (auth: number, encrypt: number, encryptBits: number) => ({
      auth, encrypt, flags: 0, authMinBits: auth ? 256 : 0, authMaxBits: auth ? 256 : 0, encryptMinBits: encryptBits, encryptMaxBits: encryptBits,
      softAllocations: 0, hardAllocations: 0, softBytes: 0n, hardBytes: 0n, softAddtime: 0n, hardAddtime: 0n, softUsetime: 0n, hardUsetime: 0n,
    });
    return {
      type: SadbMsg.ACQUIRE, errno: 0, satype: SadbSaType.ESP, seq, pid: 0,
      src: address(s.local), dst: address(s.remote),
      proposal: { replay: 64, combs: [comb(SadbAuth.NONE, SadbEncrypt.X_AES_GCM_ICV16, 160), comb(SadbAuth.X_SHA2_256HMAC, SadbEncrypt.X_AESCBC, 128)] },
    };
  }

  /** EXPIRE messages (RFC 2367 §3.1.8) for the lifetime events the installed SAs raised. */
  expireMessages(): PfKeyMessage[] {
    const out: PfKeyMessage[] = [];
    for (const installed of this.#sas.values()) {
      const sa = installed.sa;
      if (!(sa instanceof EspSa)) continue;
      for (const event of sa.events.splice(0)) {
        const hard = event.type === 'hard-expired' || event.type === 'sequence-exhausted';
        const description = this.#describe(installed, 0, 0, SadbMsg.EXPIRE);
        out.push({ ...description, [hard ? 'lifetimeHard' : 'lifetimeSoft']: { allocations: 0, bytes: BigInt(sa.bytes), addtime: 0n, usetime: 0n } });
      }
    }
    return out;
  }

  #describe(installed: Installed, seq: number, pid: number, type: number): PfKeyMessage {
    const sa = installed.sa;
    return {
      ...installed.message, type, errno: 0, seq, pid,
      sa: { ...installed.message.sa!, state: SadbSaState.MATURE },
      lifetimeCurrent: { allocations: 0, bytes: BigInt(sa.bytes), addtime: 0n, usetime: 0n },
    };
  }

  #remove(spi: number): void {
    const installed = this.#sas.get(spi);
    if (installed && installed.sa instanceof EspSa) installed.sa.transform.dispose?.();
    this.#sas.delete(spi);
  }

  #build(m: PfKeyMessage, localAddresses: Uint8Array[]): EspSa | AhSa {
    const sa = m.sa!;
    const inbound = localAddresses.some((a) => equalBytes(a, m.dst!.address));
    const mode = m.sa2?.mode === IpsecMode.TRANSPORT ? 'transport' : 'tunnel';
    const tunnel = { local: inbound ? m.dst!.address : m.src!.address, remote: inbound ? m.src!.address : m.dst!.address };
    const integrityName = AUTH_BY_ID[sa.auth];
    const integrity = integrityName ? findAlgorithm(integrityName)! : null;
    if (sa.auth !== SadbAuth.NONE && !integrity) throw new UnsupportedError(`authentication algorithm ${sa.auth}`);
    // RFC 2367 §2.3.1: the replay window size in packets; zero means no replay check (as
    // manual keys without counters that survive a restart need); at least 32 when set
    const replayWindow = sa.replay === 0 ? 0 : Math.max(32, sa.replay);
    if (m.satype === SadbSaType.AH) {
      if (!integrity || !m.keyAuth) throw new UnsupportedError('AH needs an authentication algorithm and key');
      return new AhSa(this.#crypto, {
        spi: sa.spi, direction: inbound ? 'in' : 'out', mode, integrity, key: m.keyAuth.key, esn: false, replayWindow, tunnel,
      });
    }
    if (m.satype !== SadbSaType.ESP) throw new UnsupportedError(`SA type ${m.satype}`);
    const encryption = encryptionFor(sa.encrypt, m.keyEncrypt?.bits ?? 0);
    if (!encryption) throw new UnsupportedError(`encryption algorithm ${sa.encrypt} with ${m.keyEncrypt?.bits ?? 0} key bits`);
    const transform = createEspTransform(this.#crypto, encryption, integrity,
      { encryption: m.keyEncrypt?.key ?? new Uint8Array(0), integrity: m.keyAuth?.key ?? new Uint8Array(0) }, false);
    const encapsulation = m.natTType !== undefined && m.natTSport !== undefined && m.natTDport !== undefined
      ? { localPort: inbound ? m.natTDport : m.natTSport, remotePort: inbound ? m.natTSport : m.natTDport }
      : undefined;
    return new EspSa({ spi: sa.spi, direction: inbound ? 'in' : 'out', mode, transform, esn: false, replayWindow, tunnel, encapsulation });
  }
}

class UnsupportedError extends Error {}

function withoutKeys(m: PfKeyMessage): PfKeyMessage {
  const copy = { ...m };
  delete copy.keyAuth;
  delete copy.keyEncrypt;
  return copy;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export { PfKeyError };
