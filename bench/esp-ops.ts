/**
 * The data-path rows of the bench table, per transform and payload size (tunnel mode, IPv4):
 *   "seal"          one packet sealed in place;
 *   "seal+open"     sealed, then opened by the peer SA: open decrypts the inner packet back to
 *                   where it was, so the loop needs no copy; open = (seal+open) - seal;
 *   "crypto ..."    the same provider calls made alone, so the table shows the JS overhead
 *                   per packet beyond the crypto.
 * Between seals only the 28-byte inner IPv4/UDP header is restored (encryption overwrote it):
 * with copyWithin, since XS's TypedArray.prototype.set copies element by element (about 60
 * instructions per byte measured here; copyWithin is a memmove).
 */
import type { Crypto } from '../src/crypto/provider.js';
import { findAlgorithm } from '../src/crypto/registry.js';
import { EspSa, SEAL_HEADROOM, SEAL_TAILROOM } from '../src/esp/sa.js';
import { createEspTransform, keyLengths } from '../src/esp/transform.js';
import { IpProtocol, writeIpv4Header } from '../src/wire/ip.js';
import type { BenchOp } from './crypto-ops.js';

export const ESP_TRANSFORMS: [string, string | null][] = [
  ['aes128gcm16', null],
  ['aes256gcm16', null],
  ['chacha20poly1305', null],
  ['aes128', 'sha256'],
  ['aes128ctr', 'sha1'],
  ['null', 'sha1'],
];
export const ESP_SIZES = [64, 512, 1400];

function pair(crypto: Crypto, e: string, i: string | null) {
  const encryption = findAlgorithm(e)!;
  const integrity = i ? findAlgorithm(i)! : null;
  const [encLength, integLength] = keyLengths(encryption, integrity);
  const keys = { encryption: new Uint8Array(encLength), integrity: new Uint8Array(integLength) };
  crypto.randomBytes(keys.encryption);
  crypto.randomBytes(keys.integrity);
  const tunnel = { local: Uint8Array.of(192, 0, 2, 1), remote: Uint8Array.of(198, 51, 100, 2) };
  const common = { spi: 0x1000, mode: 'tunnel' as const, esn: false, tunnel };
  return {
    out: new EspSa({ ...common, direction: 'out', transform: createEspTransform(crypto, encryption, integrity, keys, false) }),
    in: new EspSa({ ...common, direction: 'in', replayWindow: 0, transform: createEspTransform(crypto, encryption, integrity, keys, false) }),
  };
}

/** An inner IPv4/UDP packet whose total length is 20 + 8 + payload bytes. */
function innerPacket(payload: number): Uint8Array {
  const p = new Uint8Array(28 + payload);
  writeIpv4Header(p, 0, p.length, IpProtocol.UDP, 1, 64, Uint8Array.of(10, 0, 0, 1, 10, 0, 0, 2), 0, 4);
  for (let i = 28; i < p.length; i++) p[i] = i & 0xff;
  return p;
}

function label(e: string, i: string | null): string {
  return i ? `${e}-${i}` : e;
}

export function espOps(): BenchOp[] {
  const ops: BenchOp[] = [];
  // the loop's own work before each seal (restoring the inner header), subtracted from seal's
  // instructions in the overhead column: it is the benchmark's, not the data path's
  ops.push({
    name: 'harness only', algorithm: 'aes128gcm16',
    prepare() {
      const buffer = new Uint8Array(SEAL_HEADROOM + 1428 + SEAL_TAILROOM + 28);
      const saved = buffer.length - 28;
      const packet = { buffer, offset: 0, length: 0 };
      return () => {
        buffer.copyWithin(SEAL_HEADROOM, saved, saved + 28);
        packet.offset = SEAL_HEADROOM;
        packet.length = 1428;
      };
    },
  });
  for (const [e, i] of ESP_TRANSFORMS) {
    for (const size of ESP_SIZES) {
      const setup = (crypto: Crypto) => {
        const sas = pair(crypto, e, i);
        const inner = innerPacket(size);
        // [headroom][inner packet][tailroom][a copy of the inner header, to restore it]
        const buffer = new Uint8Array(SEAL_HEADROOM + inner.length + SEAL_TAILROOM + 28);
        const saved = buffer.length - 28;
        buffer.set(inner, SEAL_HEADROOM);
        buffer.set(inner.subarray(0, 28), saved);
        const packet = { buffer, offset: 0, length: 0 };
        const seal = () => {
          buffer.copyWithin(SEAL_HEADROOM, saved, saved + 28);
          packet.offset = SEAL_HEADROOM;
          packet.length = inner.length;
          if (!sas.out.seal(packet)) throw new Error('seal failed');
        };
        const open = () => {
          packet.offset += 20; // the receiver gets ESP without the outer IPv4 header
          packet.length -= 20;
          if (!sas.in.open(packet)) throw new Error('open failed');
        };
        return { seal, open };
      };
      ops.push({
        name: `ESP seal ${label(e, i)} ${size} B`, algorithm: e,
        prepare: (crypto) => setup(crypto).seal,
      });
      ops.push({
        name: `ESP seal+open ${label(e, i)} ${size} B`, algorithm: e,
        prepare(crypto) {
          const { seal, open } = setup(crypto);
          return () => {
            seal();
            open();
          };
        },
      });
      ops.push({
        name: `crypto seal ${label(e, i)} ${size} B`, algorithm: e,
        prepare: (crypto) => cryptoOnly(crypto, e, i, 28 + size, false),
      });
      ops.push({
        name: `crypto seal+open ${label(e, i)} ${size} B`, algorithm: e,
        prepare: (crypto) => cryptoOnly(crypto, e, i, 28 + size, true),
      });
    }
  }
  return ops;
}

/**
 * What an ESP transform costs in provider calls alone: the AEAD seal (and open), or cipher +
 * MAC (and MAC + decipher).
 */
function cryptoOnly(crypto: Crypto, e: string, i: string | null, innerLength: number, andOpen: boolean): () => void {
  const encryption = findAlgorithm(e)!.primitive;
  const integrity = i ? findAlgorithm(i)!.primitive : null;
  const buffer = new Uint8Array(innerLength + 128);
  const random = (n: number) => {
    const b = new Uint8Array(n);
    crypto.randomBytes(b);
    return b;
  };
  if (encryption.kind === 'aead') {
    const key = crypto.aeadKey(encryption.aead, random(encryption.keyBytes), encryption.tagBytes);
    const nonce = random(encryption.saltBytes + 8);
    const aad = random(8);
    const encrypted = Math.ceil((innerLength + 2) / 4) * 4;
    return andOpen
      ? () => {
        key.seal(nonce, aad, buffer, 16, encrypted);
        if (!key.open(nonce, aad, buffer, 16, encrypted)) throw new Error('open failed');
      }
      : () => key.seal(nonce, aad, buffer, 16, encrypted);
  }
  if (!integrity || integrity.kind !== 'mac') throw new TypeError('cipher without integrity');
  const mac = crypto.macKey(integrity.mac, random(integrity.keyBytes), integrity.hash);
  const icv = new Uint8Array(mac.length);
  if (encryption.kind === 'null') {
    const encrypted = Math.ceil((innerLength + 2) / 4) * 4;
    return andOpen
      ? () => {
        mac.compute(buffer, 0, 8 + encrypted, icv);
        mac.compute(buffer, 0, 8 + encrypted, icv);
      }
      : () => mac.compute(buffer, 0, 8 + encrypted, icv);
  }
  if (encryption.kind !== 'cipher') throw new TypeError(`${e}: not a cipher`);
  const cipher = crypto.cipherKey(encryption.cipher, random(encryption.keyBytes));
  const iv = random(encryption.cipher === 'aes-ctr' ? 16 : encryption.ivBytes);
  const block = Math.max(4, encryption.blockBytes);
  const encrypted = Math.ceil((innerLength + 2) / block) * block;
  const start = 8 + encryption.ivBytes;
  const seal = () => {
    cipher.encrypt(iv, buffer, start, encrypted);
    mac.compute(buffer, 0, start + encrypted, icv);
  };
  return andOpen
    ? () => {
      seal();
      mac.compute(buffer, 0, start + encrypted, icv);
      cipher.decrypt(iv, buffer, start, encrypted);
    }
    : seal;
}
