/**
 * CRC-32 as zlib's crc32(previous, bytes) and the ESP32 ROM's crc32_le(previous, bytes)
 * compute it: the reflected polynomial 0xEDB88320, the register inverted on the way in and on
 * the way out, so that crc32(crc32(a), b) === crc32(a ++ b).
 *
 * With previous = 0 this is the common CRC-32 (of "123456789": 0xCBF43926). ESP-IDF's NVS
 * passes 0xFFFFFFFF as `previous` (components/nvs_flash/src/nvs_types.cpp, Item::calculateCrc32
 * and Page::Header::calculateCrc32 call esp_rom_crc32_le(0xffffffff, ...)), which starts the
 * register at 0 instead: NVS_CRC_INIT below.
 */

/** The `previous` value ESP-IDF's NVS starts every CRC32 with. */
export const NVS_CRC_INIT = 0xffffffff;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  return table;
}

/** CRC-32 of bytes, continuing from `previous` (zlib.crc32(bytes, previous)). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const t = crcTable();
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
