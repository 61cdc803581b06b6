/**
 * The NVS partition image writer (src/provision/nvs-image.ts) on its own, on both engines:
 * CRC32 known answers, entries byte for byte as ESP-IDF wrote them in its own test image, the
 * page layout (headers, states, sequence numbers, entry bitmap, erased pages), strings over
 * several entries and pages, blobs over several pages, and every refusal: names, values,
 * duplicates, partition sizes and values that do not fit. Reading images back with an
 * independent reader is nvs-read.test.ts.
 */
import { fromHex, toHex } from '../../src/crypto/bytes.js';
import { NVS_CRC_INIT, crc32 } from '../../src/provision/crc32.js';
import { buildNvsImage, nvsPartitionSizeFor, NvsType, type NvsItem } from '../../src/provision/nvs-image.js';
import { bytesEqual, deepEqual, equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

const PAGE = 4096;
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const u32 = (image: Uint8Array, at: number) => new DataView(image.buffer, image.byteOffset).getUint32(at, true);
/** Entry i of page p (32 bytes). */
const entry = (image: Uint8Array, p: number, i: number) => image.subarray(p * PAGE + 64 + 32 * i, p * PAGE + 96 + 32 * i);
/** The 2-bit state of entry i of page p: 3 empty, 2 written, 0 erased. */
const state = (image: Uint8Array, p: number, i: number) => (image[p * PAGE + 32 + (i >> 2)] >> (2 * (i & 3))) & 3;
const str = (namespace: string, key: string, value: string): NvsItem => ({ namespace, key, type: 'string', value });

test('nvs crc32: zlib CRC-32 of "123456789", and with the 0xFFFFFFFF that NVS passes', () => {
  equal(crc32(ascii('123456789')), 0xcbf43926);
  // zlib.crc32(b"123456789", 0xffffffff), as esp_rom_crc32_le(0xffffffff, ...) computes it
  equal(crc32(ascii('123456789'), NVS_CRC_INIT), 0xd202d277);
  equal(crc32(ascii('56789'), crc32(ascii('1234'), NVS_CRC_INIT)), 0xd202d277, 'continued in two parts');
  equal(crc32(new Uint8Array(0), NVS_CRC_INIT), NVS_CRC_INIT);
});

test('nvs image: entries byte for byte as in ESP-IDF\'s own image (nvs_partition_generator/part_old_blob_format.bin)', () => {
  const image = buildNvsImage([
    { namespace: 'dummyNamespace', key: 'dummyU8Key', type: 'u8', value: 127 },
    { namespace: 'dummyNamespace', key: 'dummyI32Key', type: 'i32', value: -2147483648 },
  ], 0x3000);
  // entries 0, 1 and 5 of that file: the namespace, a u8 and an i32, with their CRC32s
  equal(toHex(entry(image, 0, 0)), '000101ffc93ea40764756d6d794e616d657370616365000001ffffffffffffff');
  equal(toHex(entry(image, 0, 1)), '010101ff3d188ec364756d6d7955384b65790000000000007fffffffffffffff');
  equal(toHex(entry(image, 0, 2)), '011401ff67337a9364756d6d794933324b6579000000000000000080ffffffff');
  // the header CRC32 of a page with sequence number 0: that file's (version 1) is 0xdcdd16c2
  const v1 = new Uint8Array(24).fill(0xff);
  v1.fill(0, 0, 4);
  equal(crc32(v1, NVS_CRC_INIT), 0xdcdd16c2);
});

test('nvs image: page header, entry bitmap, erased pages and the requested size', () => {
  const image = buildNvsImage([str('xs-ipsec', 'gateway', 'hq.example.com'), { namespace: 'xs-ipsec', key: 'n', type: 'u8', value: 1 }], 0x6000);
  equal(image.length, 0x6000);
  equal(u32(image, 0), 0xfffffffe, 'the only page used is active');
  equal(u32(image, 4), 0, 'sequence number');
  equal(image[8], 0xfe, 'format version 2');
  bytesEqual(image.subarray(9, 28), new Uint8Array(19).fill(0xff), 'reserved');
  equal(u32(image, 28), crc32(image.subarray(4, 28), NVS_CRC_INIT), 'header CRC32 over bytes 4..27');
  // namespace (1 entry), "gateway" (header + 1 data entry), "n" (1 entry): 4 written
  deepEqual([0, 1, 2, 3, 4, 125].map((i) => state(image, 0, i)), [2, 2, 2, 2, 3, 3]);
  equal(image[32], 0b10101010);
  equal(image[33], 0xff);
  equal(image[63], 0xff, 'the bits past entry 125 stay 1');
  ok(image.subarray(64 + 4 * 32, PAGE).every((b) => b === 0xff), 'entries after the last written are erased flash');
  ok(image.subarray(PAGE).every((b) => b === 0xff), 'pages 1..5 are erased flash');
  equal(toHex(entry(image, 0, 3).subarray(0, 4)), '010101ff', '"n": namespace 1, type u8, span 1, no chunk index');
});

test('nvs image: a string over several entries: span, size with its NUL, data CRC32, 0xFF padding', () => {
  const value = 'x'.repeat(70);
  const image = buildNvsImage([str('ns', 'long', value)], 0x3000);
  const header = entry(image, 0, 1);
  deepEqual([header[0], header[1], header[2], header[3]], [1, NvsType.STR, 4, 0xff], 'ns 1, string, 1 + 3 entries, no chunk');
  equal(header[24] | (header[25] << 8), 71, 'size includes the NUL');
  equal(header[26] & header[27], 0xff, 'reserved');
  const data = new Uint8Array(71);
  data.set(ascii(value));
  equal(u32(header, 28), crc32(data, NVS_CRC_INIT), 'data CRC32');
  equal(u32(header, 4), crc32(header.subarray(8), crc32(header.subarray(0, 4), NVS_CRC_INIT)), 'entry CRC32');
  bytesEqual(image.subarray(64 + 64, 64 + 64 + 71), data);
  ok(image.subarray(64 + 64 + 71, 64 + 64 + 96).every((b) => b === 0xff), 'the last entry padded with 0xFF');
  deepEqual([1, 2, 3, 4, 5].map((i) => state(image, 0, i)), [2, 2, 2, 2, 3]);
});

test('nvs image: a string that does not fit the active page starts the next one; the first is marked full', () => {
  const items = [str('ns', 'a', 'a'.repeat(3000)), str('ns', 'b', 'b'.repeat(3000))];
  const image = buildNvsImage(items, 0x4000);
  equal(u32(image, 0), 0xfffffffc, 'page 0 full');
  equal(u32(image, PAGE), 0xfffffffe, 'page 1 active');
  deepEqual([u32(image, 4), u32(image, PAGE + 4)], [0, 1], 'sequence numbers');
  equal(u32(image, PAGE + 28), crc32(image.subarray(PAGE + 4, PAGE + 28), NVS_CRC_INIT));
  equal(String.fromCharCode(...entry(image, 1, 0).subarray(8, 9)), 'b', 'page 1 starts with "b"');
  equal(entry(image, 1, 0)[2], 1 + Math.ceil(3001 / 32));
  equal(nvsPartitionSizeFor(items), 0x3000, 'two pages used, one kept empty');
  equal(nvsPartitionSizeFor([str('ns', 'c', 'c')]), 0x3000, 'never under three pages');
  ok(buildNvsImage([], 0x3000).every((b) => b === 0xff), 'no items: erased flash');
});

test('nvs image: a blob over pages: one BLOB_DATA chunk per page, then its BLOB_IDX', () => {
  const blob = Uint8Array.from({ length: 9000 }, (_, i) => (i * 7) & 0xff);
  const image = buildNvsImage([str('ns', 's', 'first'), { namespace: 'ns', key: 'blob', type: 'blob', value: blob }], 0x5000);
  // page 0: namespace, "s" (2 entries), chunk 0 with the page's tailroom: 126 - 3 - 1 entries
  const chunk0 = entry(image, 0, 3);
  deepEqual([chunk0[1], chunk0[3], chunk0[24] | (chunk0[25] << 8)], [NvsType.BLOB_DATA, 0, 122 * 32]);
  const chunk1 = entry(image, 1, 0);
  deepEqual([chunk1[1], chunk1[3], chunk1[24] | (chunk1[25] << 8)], [NvsType.BLOB_DATA, 1, 4000]);
  const chunk2 = entry(image, 2, 0);
  const last = 9000 - 122 * 32 - 4000;
  deepEqual([chunk2[1], chunk2[3], chunk2[24] | (chunk2[25] << 8)], [NvsType.BLOB_DATA, 2, last]);
  equal(u32(chunk2, 28), crc32(blob.subarray(9000 - last), NVS_CRC_INIT), 'chunk data CRC32');
  const index = entry(image, 2, 1 + Math.ceil(last / 32));
  deepEqual([index[1], index[2], index[3], u32(index, 24), index[28], index[29], index[30], index[31]], [NvsType.BLOB_IDX, 1, 0xff, 9000, 3, 0, 0xff, 0xff]);
  deepEqual([u32(image, 0), u32(image, PAGE), u32(image, 2 * PAGE), u32(image, 3 * PAGE)], [0xfffffffc, 0xfffffffc, 0xfffffffe, 0xffffffff]);
  bytesEqual(image.subarray(PAGE + 96, PAGE + 96 + 4000), blob.subarray(122 * 32, 122 * 32 + 4000));
});

test('nvs image: a blob does not start in the last tenth of a page unless it fits there', () => {
  // 120 entries used (namespace + a string of 118 data entries + header): tailroom 5 entries = 160 bytes < 400
  const filler = str('ns', 'fill', 'f'.repeat(118 * 32 - 1));
  const image = buildNvsImage([filler, { namespace: 'ns', key: 'b', type: 'blob', value: new Uint8Array(500) }], 0x3000);
  equal(state(image, 0, 120), 3, 'nothing more on page 0');
  deepEqual([entry(image, 1, 0)[1], entry(image, 1, 0)[3]], [NvsType.BLOB_DATA, 0]);
  const small = buildNvsImage([filler, { namespace: 'ns', key: 'b', type: 'blob', value: new Uint8Array(100) }], 0x3000);
  equal(entry(small, 0, 120)[1], NvsType.BLOB_DATA, 'a blob that fits the tailroom stays');
  equal(entry(small, 0, 125)[1], NvsType.BLOB_IDX, 'with its index right after');
});

test('nvs image: namespaces get indexes 1, 2, ... in order of first use, each entry before its first key', () => {
  const image = buildNvsImage([str('one', 'a', 'A'), str('two', 'a', 'B'), str('one', 'b', 'C')], 0x3000);
  const nsEntry = (i: number) => [entry(image, 0, i)[0], entry(image, 0, i)[1], String.fromCharCode(...entry(image, 0, i).subarray(8, 11)), entry(image, 0, i)[24]];
  deepEqual(nsEntry(0), [0, NvsType.U8, 'one', 1]);
  deepEqual(nsEntry(3), [0, NvsType.U8, 'two', 2]);
  deepEqual([entry(image, 0, 1)[0], entry(image, 0, 4)[0], entry(image, 0, 6)[0]], [1, 2, 1]);
  bytesEqual(entry(image, 0, 1).subarray(8, 24), fromHex('61000000000000000000000000000000'), 'key "a" padded with zeros');
});

test('nvs image: refuses bad names, naming the key', () => {
  for (const [namespace, key, pattern] of [
    ['ns', '', /key "" in namespace "ns": key names are 1 to 15 bytes/],
    ['ns', 'sixteen-bytes-xx', /key "sixteen-bytes-xx".*key names are 1 to 15/],
    ['', 'k', /namespace "": namespace names are 1 to 15/],
    ['namespace-16-byt', 'k', /namespace names/],
    ['ns', 'a\0b', /key names .* without NUL/],
    ['ns', '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', /key names are 1 to 15 bytes of UTF-8/],
    ['ns', 'lone\ud800', /key names/],
  ] as const) {
    throws(() => buildNvsImage([str(namespace, key, 'v')], 0x3000), pattern);
  }
  throws(() => buildNvsImage([{ namespace: 'ns', key: 7 as unknown as string, type: 'u8', value: 1 }], 0x3000), TypeError);
  equal(buildNvsImage([str('ns', 'fifteen-bytes-x', 'v')], 0x3000)[0], 0xfe, '15 bytes are accepted');
});

test('nvs image: refuses values NVS cannot store, naming the key', () => {
  const refused: [NvsItem, RegExp][] = [
    [str('ns', 'big', 'x'.repeat(4000)), /key "big".*4000 bytes of UTF-8; at most 3999/],
    [str('ns', 'nul', 'a\0b'), /key "nul".*NUL/],
    [str('ns', 'lone', 'a\udc00'), /key "lone".*lone surrogate/],
    [{ namespace: 'ns', key: 'u', type: 'u8', value: 256 }, /key "u".*256 is outside the u8 range 0..255/],
    [{ namespace: 'ns', key: 'u', type: 'u8', value: -1 }, /outside the u8 range/],
    [{ namespace: 'ns', key: 'i', type: 'i32', value: 2 ** 31 }, /key "i".*outside the i32 range/],
    [{ namespace: 'ns', key: 'b', type: 'blob', value: new Uint8Array(8001) }, /key "b".*a blob of 8001 bytes; at most 8000 in a partition of 3 pages/],
  ];
  for (const [item, pattern] of refused) throws(() => buildNvsImage([item], 0x3000), pattern);
  throws(() => buildNvsImage([{ namespace: 'ns', key: 'i', type: 'i32', value: 1.5 }], 0x3000), TypeError);
  throws(() => buildNvsImage([str('ns', 'k', 'a'), str('ns', 'k', 'b')], 0x3000), /key "k" in namespace "ns": given twice/);
  // the largest string: 3999 bytes of UTF-8, 4000 with its NUL, fills 126 entries of a page
  const full = buildNvsImage([str('ns', 'max', '\u00e9'.repeat(1999) + 'x')], 0x3000);
  deepEqual([entry(full, 1, 0)[2], u32(full, 0), u32(full, PAGE)], [126, 0xfffffffc, 0xfffffffe], 'a page of its own after the namespace page');
  // nvs_set_blob's size limit lets 8000 bytes through on 3 pages, but the namespace entry
  // takes one entry of the first page, so the last 32 bytes would need the page NVS keeps empty
  throws(() => buildNvsImage([{ namespace: 'ns', key: 'b', type: 'blob', value: new Uint8Array(8000) }], 0x3000), /key "b".*does not fit/);
  equal(buildNvsImage([{ namespace: 'ns', key: 'b', type: 'blob', value: new Uint8Array(7936) }], 0x3000).length, 0x3000, '7936 bytes fit: a full second page would push the index onto the third');
});

test('nvs image: refuses partition sizes that are not NVS partitions', () => {
  for (const size of [0, 0x2000, 0x3001, 0x6000 + 512, -0x3000, 0x2000000, NaN]) {
    throws(() => buildNvsImage([], size), /NVS partition size .*: a multiple of 4096 from 0x3000/);
  }
});

test('nvs image: values that do not fit: the first key past the last usable page, and the size they need', () => {
  const items = [str('ns', 'a', 'a'.repeat(3000)), str('ns', 'b', 'b'.repeat(3000)), str('ns', 'c', 'c'.repeat(3000))];
  const e = throws(() => buildNvsImage(items, 0x3000), RangeError);
  ok(/^NVS key "c" in namespace "ns": does not fit in a partition of 12288 bytes \(3 pages, of which NVS keeps one empty\); these values need 16384 bytes \(0x4000\)$/.test(e.message), e.message);
  equal(buildNvsImage(items, 0x4000).length, 0x4000);
  equal(nvsPartitionSizeFor(items), 0x4000);
});
