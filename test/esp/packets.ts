/** Test helpers: inner IP packets in buffers with head- and tailroom, and SA pairs for a transform. */
import type { Crypto } from '../../src/crypto/provider.js';
import { ALGORITHMS, findAlgorithm, TransformType, type Algorithm } from '../../src/crypto/registry.js';
import { EspSa, SEAL_HEADROOM, SEAL_TAILROOM, type EspSaConfig, type Packet } from '../../src/esp/sa.js';
import { createEspTransform, keyLengths } from '../../src/esp/transform.js';
import { IpProtocol, writeIpv4Header, writeIpv6Header } from '../../src/wire/ip.js';

export const V4 = { local: Uint8Array.of(192, 0, 2, 1), remote: Uint8Array.of(198, 51, 100, 2) };
export const V6 = {
  local: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
  remote: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
};

/** A UDP-carrying IP packet (family 4 or 6) with `payload` after an 8-byte UDP header. */
export function ipPacket(family: 4 | 6, payload: Uint8Array, extraTail = 0): Packet {
  const header = family === 4 ? 20 : 40;
  const length = header + 8 + payload.length;
  const buffer = new Uint8Array(SEAL_HEADROOM + length + SEAL_TAILROOM + extraTail);
  const offset = SEAL_HEADROOM;
  const addresses = family === 4 ? Uint8Array.from([...V4.local, ...V4.remote]) : Uint8Array.from([...V6.local, ...V6.remote]);
  if (family === 4) writeIpv4Header(buffer, offset, length, IpProtocol.UDP, 7, 64, addresses, 0, 4);
  else writeIpv6Header(buffer, offset, length - 40, IpProtocol.UDP, 64, addresses, 0, 16);
  const udp = offset + header;
  buffer.set([0x30, 0x39, 0x00, 0x35, (8 + payload.length) >> 8, (8 + payload.length) & 0xff, 0, 0], udp);
  buffer.set(payload, udp + 8);
  return { buffer, offset, length };
}

/** Every ESP encryption algorithm of the registry (legacy included). */
export const ESP_ENCRYPTIONS: readonly Algorithm[] = ALGORITHMS.filter((a) => a.type === TransformType.ENCR);
/** Every integrity algorithm of the registry (legacy included). */
export const ESP_INTEGRITIES: readonly Algorithm[] = ALGORITHMS.filter((a) => a.type === TransformType.INTEG);

export function isCombined(a: Algorithm): boolean {
  return a.primitive.kind === 'aead' || a.primitive.kind === 'gmac';
}

/** Every (encryption, integrity) pair an SA can use: AEADs alone, the rest with each integrity. */
export function allTransforms(): [Algorithm, Algorithm | null][] {
  const out: [Algorithm, Algorithm | null][] = [];
  for (const e of ESP_ENCRYPTIONS) {
    if (isCombined(e)) out.push([e, null]);
    else for (const i of ESP_INTEGRITIES) out.push([e, i]);
  }
  return out;
}

export interface PairOptions {
  mode?: 'tunnel' | 'transport';
  family?: 4 | 6;
  esn?: boolean;
  encapsulation?: boolean;
  replayWindow?: number;
  tfcPadding?: number;
  spi?: number;
}

/** An outbound and an inbound SA with the same random keys. */
export function saPair(crypto: Crypto, encryption: Algorithm | string, integrity: Algorithm | string | null, options: PairOptions = {}): { out: EspSa; in: EspSa } {
  const e = typeof encryption === 'string' ? findAlgorithm(encryption)! : encryption;
  const i = typeof integrity === 'string' ? findAlgorithm(integrity)! : integrity;
  const [encLength, integLength] = keyLengths(e, i);
  const keys = { encryption: new Uint8Array(encLength), integrity: new Uint8Array(integLength) };
  crypto.randomBytes(keys.encryption);
  crypto.randomBytes(keys.integrity);
  const esn = options.esn ?? false;
  const family = options.family ?? 4;
  const base: Omit<EspSaConfig, 'direction' | 'transform'> = {
    spi: options.spi ?? 0x1234_5678,
    mode: options.mode ?? 'tunnel',
    esn,
    replayWindow: options.replayWindow,
    tfcPadding: options.tfcPadding,
    tunnel: family === 4 ? V4 : V6,
    encapsulation: options.encapsulation ? { localPort: 4500, remotePort: 4500 } : undefined,
  };
  return {
    out: new EspSa({ ...base, direction: 'out', transform: createEspTransform(crypto, e, i, keys, esn) }),
    in: new EspSa({ ...base, direction: 'in', transform: createEspTransform(crypto, e, i, keys, esn) }),
  };
}

/** Where the ESP header starts in a sealed packet, and the outer IP header's offset. */
export function espStart(packet: Packet): { ip: number; esp: number } {
  const b = packet.buffer;
  const ip = packet.offset;
  const v6 = b[ip] >> 4 === 6;
  const header = v6 ? 40 : (b[ip] & 15) * 4;
  const protocol = v6 ? b[ip + 6] : b[ip + 9];
  return { ip, esp: ip + header + (protocol === IpProtocol.UDP ? 8 : 0) };
}

/** Opens a sealed packet with `sa` as a receiver would: ESP header onward, outer IP known. */
export function openSealed(sa: EspSa, sealed: Packet): Packet | null {
  const { ip, esp } = espStart(sealed);
  const p = { buffer: sealed.buffer, offset: esp, length: sealed.offset + sealed.length - esp };
  return sa.open(p, ip) ? p : null;
}
