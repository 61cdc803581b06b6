/**
 * Images from src/provision/nvs-image.ts read back by an independent reader,
 * test/provision/nvs_read.py (Python's standard library, written from ESP-IDF's format
 * documentation, no code shared with the writer), on both engines: the values come back
 * equal (u8, i32, strings of one entry, of many entries, of the largest size, in UTF-8,
 * blobs over several pages, several namespaces), and the reader refuses damaged images (an
 * entry's bit flipped, a string's data, a page header, a truncated image, no empty page), so
 * that the reader is shown to check, not only to print.
 */
import { toHex } from '../../src/crypto/bytes.js';
import { buildNvsImage, type NvsItem } from '../../src/provision/nvs-image.js';
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, testDirectory, withTemporaryDirectory, writeBytes } from '../engine.js';
import { skip, test } from '../harness.js';

const root = testDirectory.replace(/\/build\/js\/test$/, '');
const READER = `${root}/test/provision/nvs_read.py`;
const PYTHON = '/usr/bin/python3';

interface Read {
  pages: { page: number; state: string; seq?: number; written?: number; erased?: number; empty?: number }[];
  namespaces: Record<string, number>;
  values: Record<string, Record<string, { type: string; value: unknown }>>;
}

/** Runs the reader on an image: its exit status and output (JSON, or the problems). */
async function readImage(image: Uint8Array): Promise<{ status: number; output: string }> {
  let result = { status: -1, output: '' };
  await withTemporaryDirectory(async (dir) => {
    await writeBytes(`${dir}/nvs.bin`, image);
    result = await runProgram([PYTHON, READER, `${dir}/nvs.bin`]);
  });
  return result;
}

async function readBack(image: Uint8Array): Promise<Read> {
  const r = await readImage(image);
  equal(r.status, 0, r.output);
  return JSON.parse(r.output) as Read;
}

async function refused(image: Uint8Array, pattern: RegExp): Promise<void> {
  const r = await readImage(image);
  equal(r.status, 1, `exit status; output ${r.output}`);
  ok(pattern.test(r.output), `expected ${pattern}, got ${JSON.stringify(r.output)}`);
}

const blob = Uint8Array.from({ length: 9000 }, (_, i) => (i * 31 + 7) & 0xff);
const ITEMS: NvsItem[] = [
  { namespace: 'xs-ipsec', key: 'id', type: 'string', value: '@sensor-17.example.com' },
  { namespace: 'xs-ipsec', key: 'psk', type: 'string', value: '0sc2VjcmV0IHNlY3JldA==' },
  { namespace: 'other', key: 'flag', type: 'u8', value: 1 },
  { namespace: 'other', key: 'count', type: 'i32', value: -123456 },
  { namespace: 'xs-ipsec', key: 'long', type: 'string', value: 'several entries '.repeat(20) },
  { namespace: 'xs-ipsec', key: 'utf8', type: 'string', value: 'h\u00e9llo \u{1F600}' },
  { namespace: 'third', key: 'empty', type: 'string', value: '' },
  { namespace: 'other', key: 'blob', type: 'blob', value: blob },
  { namespace: 'other', key: 'tiny', type: 'blob', value: Uint8Array.of(0, 255) },
  { namespace: 'third', key: 'max', type: 'string', value: 'm'.repeat(3999) },
];

const hasPython = (await runProgram(['sh', '-c', `test -x ${PYTHON} && echo yes`])).output.trim() === 'yes';
const reading = hasPython ? test : (name: string) => skip(name, `${PYTHON} is not installed`);

reading('nvs read-back: every type, long strings, a blob over pages, three namespaces', async () => {
  const image = buildNvsImage(ITEMS, 0x6000);
  const read = await readBack(image);
  deepEqual(read.namespaces, { 'xs-ipsec': 1, other: 2, third: 3 });
  const expected: Read['values'] = { 'xs-ipsec': {}, other: {}, third: {} };
  for (const item of ITEMS) {
    expected[item.namespace][item.key] = item.type === 'blob' ? { type: 'blob', value: toHex(item.value) } : { type: item.type, value: item.value };
  }
  deepEqual(read.values, expected);
  deepEqual(read.pages.map((p) => p.state), ['full', 'full', 'full', 'active', 'empty', 'empty']);
  deepEqual(read.pages.slice(0, 4).map((p) => p.seq), [0, 1, 2, 3]);
});

reading('nvs read-back: the pages a blob spans and the entries they use', async () => {
  const read = await readBack(buildNvsImage([{ namespace: 'ns', key: 'b', type: 'blob', value: blob }], 0x5000));
  equal(read.values.ns.b.value, toHex(blob));
  // page 0: namespace + chunk of 124 entries' data (3968 bytes) + its header; page 1: 4000
  // bytes (126 entries); page 2: the rest (1032 bytes: 1 + 33 entries) and the index
  deepEqual(read.pages.map((p) => [p.state, p.written ?? 0]), [['full', 126], ['full', 126], ['active', 35], ['empty', 0], ['empty', 0]]);
});

/** The image of ITEMS with one bit flipped at a byte offset. */
function flipped(at: number, bit = 0): Uint8Array {
  const image = buildNvsImage(ITEMS, 0x6000);
  image[at] ^= 1 << bit;
  return image;
}

reading('nvs read-back: refuses a flipped bit in an entry (its CRC32)', async () => {
  // entry 1 of page 0 (the "id" string's header), a bit of its key
  await refused(flipped(64 + 32 + 9), /page 0 entry 1: entry CRC32 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
  // the value of the "flag" u8 entry: the CRC32 covers the data too
  const image = buildNvsImage(ITEMS, 0x6000);
  let flag = 64;
  while (String.fromCharCode(...image.subarray(flag + 8, flag + 13)) !== 'flag\0') flag += 32;
  await refused(flipped(flag + 24, 1), new RegExp(`page 0 entry ${(flag - 64) / 32}: entry CRC32`));
});

reading('nvs read-back: refuses a damaged string (its data CRC32), page header and entry bitmap', async () => {
  // a byte of the "id" string's data, in entry 2 of page 0
  await refused(flipped(64 + 2 * 32 + 3), /page 0 entry 1 \(key 'id'\): data CRC32/);
  await refused(flipped(4096 + 5), /page 1: header CRC32/);
  await refused(flipped(8), /page 0: header CRC32/);
  // an entry marked 0b01 (illegal), and an empty entry that is not erased flash
  const illegal = flipped(32, 1);
  illegal[32] ^= 1; // written 0b10 -> 0b01
  await refused(illegal, /page 0 entry 0: illegal state 0b01/);
  // an erased entry (0b10 -> 0b00) is skipped: the namespace it declared is gone
  await refused(flipped(32, 1), /page 0 entry 1 \(key 'id'\): namespace index 1 is not declared/);
  const image = buildNvsImage(ITEMS.slice(0, 2), 0x3000);
  image[64 + 100 * 32] = 0;
  await refused(image, /page 0 entry 100: marked empty but not erased/);
});

reading('nvs read-back: refuses a truncated image, and one without an empty page', async () => {
  const image = buildNvsImage(ITEMS, 0x6000);
  await refused(image.subarray(0, 5000), /5000 bytes: not a whole number of 4096-byte pages/);
  await refused(image.subarray(0, 0), /0 bytes: not a whole number/);
  // cut after the fourth page: all four used, none empty, and nothing on a lost page is found
  await refused(image.subarray(0, 4 * 4096), /no empty page: nvs_flash_init would fail with ESP_ERR_NVS_NO_FREE_PAGES/);
  // cut in the middle of the blob: its index is lost with the page that held it
  await refused(image.subarray(0, 2 * 4096).slice(), /blob chunk 0 has no blob index|no empty page/);
  const withEmpty = new Uint8Array(3 * 4096).fill(0xff);
  withEmpty.set(image.subarray(4096, 2 * 4096), 0); // page 1 alone: items of a namespace declared on page 0
  await refused(withEmpty, /namespace index \d is not declared/);
});
