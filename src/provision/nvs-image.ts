/**
 * ESP-IDF NVS partition images, built off the device: the bytes `nvs_flash` finds in a
 * partition after the values were written into an erased one with nvs_set_u8 / nvs_set_i32 /
 * nvs_set_str / nvs_set_blob (what Moddable's Preference calls on ESP32), so that one
 * firmware image serves a fleet and each device gets its own values by flashing this image at
 * its nvs offset. Portable: no Node module, it runs on XS too.
 *
 * Format (ESP-IDF docs/en/api-reference/storage/nvs_flash.rst, "Internals", confirmed in
 * components/nvs_flash/src/nvs_page.{hpp,cpp}, nvs_types.{hpp,cpp}, nvs_storage.cpp):
 *   - pages of 4096 bytes (one flash sector); an unused page is erased flash, all 0xFF;
 *   - page header, 32 bytes: state u32 (0xFFFFFFFE active, 0xFFFFFFFC full), sequence number
 *     u32, version u8 (0xFE: format version 2, multi-page blobs), 19 bytes 0xFF, CRC32 u32 of
 *     bytes 4..27 (everything but the state, which is changed later by clearing bits);
 *   - entry state bitmap, 32 bytes: 2 bits per entry, entry i in bits 2(i%4) of byte i/4
 *     (little-endian u32 words of 16 entries), 0b11 empty, 0b10 written, 0b00 erased;
 *   - 126 entries of 32 bytes: namespace index u8, type u8, span u8 (entries the item uses),
 *     chunk index u8 (0xFF but for blob data), CRC32 u32 of the other 28 bytes, key (16 bytes:
 *     the name then zeros, as strncpy leaves it), data (8 bytes);
 *   - integers: the value little-endian in data, the rest 0xFF; strings (type 0x21, with their
 *     NUL) and blob chunks (0x42): data = size u16, 0xFFFF, CRC32 of the value bytes, then the
 *     value in the following span - 1 entries (a short last entry padded with 0xFF); a string
 *     stays within one page;
 *   - blobs (version 2): one BLOB_DATA chunk per page, chunk index 0, 1, ..., then a BLOB_IDX
 *     entry (0x48): size u32, chunk count u8, chunk start u8 (0), 0xFFFF;
 *   - namespaces: a u8 entry in namespace 0 whose key is the namespace's name and whose value
 *     is its index (1..254), written before its first key;
 *   - every CRC32 is zlib's crc32(bytes, 0xFFFFFFFF) (./crc32.ts).
 * Items are laid out as ESP-IDF's own writer places them in an erased partition
 * (Page::writeItem, Storage::writeMultiPageBlob): in order, on the active page while they fit,
 * else the page is marked full and the next one starts. The last page used stays active.
 *
 * Size: a multiple of 4096, at least 0x3000 (the documented minimum, three pages, for a
 * writable NVS), and one page must stay empty: nvs_flash_init fails with
 * ESP_ERR_NVS_NO_FREE_PAGES otherwise (PageManager::load), and the firmware would have to
 * erase the partition.
 */
import { NVS_CRC_INIT, crc32 } from './crc32.js';
import { utf8Bytes } from '../crypto/bytes.js';

export const NVS_PAGE_SIZE = 4096;
export const NVS_ENTRY_SIZE = 32;
export const NVS_ENTRIES_PER_PAGE = 126;
/** Documented minimum for a writable NVS partition: three pages (nvs_flash.rst, "Read-only NVS"). */
export const NVS_MIN_PARTITION_SIZE = 0x3000;
/** 16 MiB, the largest flash of ESP32 modules: a guard against a mistyped size, not an NVS rule. */
export const NVS_MAX_PARTITION_SIZE = 0x1000000;
/** Key and namespace names: 15 bytes, 16 with the NUL (NVS_KEY_NAME_MAX_SIZE). */
export const NVS_MAX_NAME_BYTES = 15;
/** Variable-length data within one page: 125 entries of 32 bytes (CHUNK_MAX_SIZE, NVS_CONST_STR_LEN_MAX_SIZE). */
export const NVS_CHUNK_MAX_BYTES = NVS_ENTRY_SIZE * (NVS_ENTRIES_PER_PAGE - 1);
/** A string with its NUL fits one page's chunk. */
export const NVS_MAX_STRING_BYTES = NVS_CHUNK_MAX_BYTES;
/** Blob chunk indexes of one version: 0..126 (Storage::writeMultiPageBlob caps pages at (CHUNK_ANY - 1) / 2). */
export const NVS_MAX_BLOB_CHUNKS = 127;

/** Item types (components/nvs_flash/include/nvs.h nvs_type_t, nvs_handle.hpp ItemType). */
export const NvsType = { U8: 0x01, I32: 0x14, STR: 0x21, BLOB_DATA: 0x42, BLOB_IDX: 0x48 } as const;

const PAGE_ACTIVE = 0xfffffffe;
const PAGE_FULL = 0xfffffffc;
const FORMAT_VERSION_2 = 0xfe;
const HEADER_SIZE = 32;
const BITMAP_SIZE = 32;
const FIRST_ENTRY = HEADER_SIZE + BITMAP_SIZE;
const CHUNK_ANY = 0xff;
const NAMESPACE_INDEX = 0;
const MAX_NAMESPACES = 254;

interface Named {
  namespace: string;
  key: string;
}
export type NvsItem =
  | (Named & { type: 'u8'; value: number })
  | (Named & { type: 'i32'; value: number })
  | (Named & { type: 'string'; value: string })
  | (Named & { type: 'blob'; value: Uint8Array });

/** UTF-8 of a string, or undefined when it holds a lone surrogate (which has no UTF-8). */
function strictUtf8(text: string): Uint8Array | undefined {
  return /[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')) ? undefined : utf8Bytes(text);
}

const label = (item: Named) => `NVS key ${JSON.stringify(item.key)} in namespace ${JSON.stringify(item.namespace)}`;

function nameBytes(what: string, name: unknown, where: string): Uint8Array {
  if (typeof name !== 'string') throw new TypeError(`${where}: the ${what} must be a string`);
  const bytes = strictUtf8(name);
  if (!bytes || bytes.length < 1 || bytes.length > NVS_MAX_NAME_BYTES || bytes.includes(0)) {
    throw new RangeError(`${where}: ${what} names are 1 to ${NVS_MAX_NAME_BYTES} bytes of UTF-8 without NUL`);
  }
  return bytes;
}

function integerData(value: number, bytes: 1 | 4): Uint8Array {
  const data = new Uint8Array(8).fill(0xff);
  for (let i = 0; i < bytes; i++) data[i] = (value >>> (8 * i)) & 0xff;
  return data;
}

/** The value's type code and bytes, after checking it as nvs_set_* would; for strings with their NUL. */
function valueBytes(item: NvsItem, pages: number): { type: number; bytes: Uint8Array } {
  const where = label(item);
  switch (item.type) {
    case 'u8':
    case 'i32': {
      const [min, max] = item.type === 'u8' ? [0, 255] : [-0x80000000, 0x7fffffff];
      if (typeof item.value !== 'number' || !Number.isInteger(item.value)) throw new TypeError(`${where}: a ${item.type} is an integer`);
      if (item.value < min || item.value > max) throw new RangeError(`${where}: ${item.value} is outside the ${item.type} range ${min}..${max}`);
      return item.type === 'u8' ? { type: NvsType.U8, bytes: integerData(item.value, 1) } : { type: NvsType.I32, bytes: integerData(item.value, 4) };
    }
    case 'string': {
      if (typeof item.value !== 'string') throw new TypeError(`${where}: a string value must be a string`);
      const text = strictUtf8(item.value);
      if (!text) throw new RangeError(`${where}: the string is not well-formed Unicode (a lone surrogate)`);
      if (text.includes(0)) throw new RangeError(`${where}: the string holds a NUL, which nvs_set_str cannot store`);
      if (text.length + 1 > NVS_MAX_STRING_BYTES) {
        throw new RangeError(`${where}: a string of ${text.length} bytes of UTF-8; at most ${NVS_MAX_STRING_BYTES - 1} (NVS: ${NVS_MAX_STRING_BYTES} with its NUL, within one page)`);
      }
      const bytes = new Uint8Array(text.length + 1);
      bytes.set(text);
      return { type: NvsType.STR, bytes };
    }
    case 'blob': {
      if (!(item.value instanceof Uint8Array)) throw new TypeError(`${where}: a blob value must be a Uint8Array`);
      // nvs_set_blob's own limit: every page but the one kept free, 127 chunks at most
      const max = Math.min(pages - 1, NVS_MAX_BLOB_CHUNKS) * NVS_CHUNK_MAX_BYTES;
      if (item.value.length > max) throw new RangeError(`${where}: a blob of ${item.value.length} bytes; at most ${max} in a partition of ${pages} pages (ESP-IDF: (pages - 1) x ${NVS_CHUNK_MAX_BYTES})`);
      return { type: NvsType.BLOB_DATA, bytes: item.value };
    }
    default:
      throw new TypeError(`${where}: unknown type ${JSON.stringify((item as { type: unknown }).type)} (u8, i32, string or blob)`);
  }
}

/** The pages written so far, as ESP-IDF's writer fills them; there is no page limit here (see place()). */
class PageWriter {
  readonly pages: Uint8Array[] = [];
  /** index of the first empty entry of the last page */
  private next = 0;

  constructor() {
    this.newPage();
  }

  get pageIndex(): number {
    return this.pages.length - 1;
  }

  newPage(): void {
    this.pages.push(new Uint8Array(NVS_PAGE_SIZE).fill(0xff));
    this.next = 0;
  }

  /** Bytes of variable-length data the current page still takes (Page::getVarDataTailroom). */
  tailroom(): number {
    return this.next < NVS_ENTRIES_PER_PAGE - 1 ? (NVS_ENTRIES_PER_PAGE - this.next - 1) * NVS_ENTRY_SIZE : 0;
  }

  /** Writes one item (Page::writeItem); on the next page when it does not fit this one. */
  item(ns: number, type: number, key: Uint8Array, value: Uint8Array, chunkIndex = CHUNK_ANY): void {
    const variable = type === NvsType.STR || type === NvsType.BLOB_DATA;
    const span = variable ? 1 + Math.ceil(value.length / NVS_ENTRY_SIZE) : 1;
    if (this.next + span > NVS_ENTRIES_PER_PAGE) this.newPage();
    const entry = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff);
    const view = new DataView(entry.buffer);
    entry[0] = ns;
    entry[1] = type;
    entry[2] = span;
    entry[3] = chunkIndex;
    entry.fill(0, 8, 24);
    entry.set(key, 8);
    if (variable) {
      view.setUint16(24, value.length, true);
      view.setUint32(28, crc32(value, NVS_CRC_INIT), true);
    } else {
      entry.set(value, 24);
    }
    // the entry's CRC32 covers all but itself: bytes 0..3 and 8..31 (Item::calculateCrc32)
    view.setUint32(4, crc32(entry.subarray(8), crc32(entry.subarray(0, 4), NVS_CRC_INIT)), true);
    this.entry(entry);
    for (let at = 0; variable && at < value.length; at += NVS_ENTRY_SIZE) {
      const data = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff);
      data.set(value.subarray(at, at + NVS_ENTRY_SIZE));
      this.entry(data);
    }
  }

  /** Stores 32 bytes in the next entry and marks it written (0b10) in the state bitmap. */
  private entry(bytes: Uint8Array): void {
    const page = this.pages[this.pages.length - 1];
    page.set(bytes, FIRST_ENTRY + this.next * NVS_ENTRY_SIZE);
    page[HEADER_SIZE + (this.next >> 2)] &= ~(1 << (2 * (this.next & 3)));
    this.next++;
  }

  /** Storage::writeMultiPageBlob for a new blob (chunk start 0): one chunk per page, then the index. */
  blob(ns: number, key: Uint8Array, value: Uint8Array): number {
    let chunks = 0;
    let offset = 0;
    for (;;) {
      const room = this.tailroom();
      // a first chunk does not start in less than a tenth of a page unless the whole blob fits there
      if (chunks === 0 && (room < value.length || (room === 0 && value.length === 0)) && room < NVS_CHUNK_MAX_BYTES / 10) {
        this.newPage();
        continue;
      }
      const size = Math.min(value.length - offset, room);
      this.item(ns, NvsType.BLOB_DATA, key, value.subarray(offset, offset + size), chunks);
      chunks++;
      offset += size;
      if (offset < value.length || room - size < NVS_ENTRY_SIZE) this.newPage();
      if (offset === value.length) break;
    }
    const index = new Uint8Array(8).fill(0xff);
    new DataView(index.buffer).setUint32(0, value.length, true);
    index[4] = chunks;
    index[5] = 0;
    this.item(ns, NvsType.BLOB_IDX, key, index);
    return chunks;
  }

  /** Whether anything was written on the last page (a blob can leave a fresh one empty). */
  lastPageUsed(): boolean {
    return this.next > 0;
  }
}

function pageHeader(page: Uint8Array, state: number, sequence: number): void {
  const view = new DataView(page.buffer, page.byteOffset, HEADER_SIZE);
  view.setUint32(0, state, true);
  view.setUint32(4, sequence, true);
  page[8] = FORMAT_VERSION_2;
  page.fill(0xff, 9, 28);
  view.setUint32(28, crc32(page.subarray(4, 28), NVS_CRC_INIT), true);
}

function checkSize(size: number): number {
  if (!Number.isInteger(size) || size % NVS_PAGE_SIZE !== 0 || size < NVS_MIN_PARTITION_SIZE || size > NVS_MAX_PARTITION_SIZE) {
    throw new RangeError(`NVS partition size ${size}: a multiple of ${NVS_PAGE_SIZE} from 0x${NVS_MIN_PARTITION_SIZE.toString(16)} (three pages, ESP-IDF's minimum) to 0x${NVS_MAX_PARTITION_SIZE.toString(16)}`);
  }
  return size / NVS_PAGE_SIZE;
}

interface Layout {
  pages: Uint8Array[];
  /** per item (in input order), the last page it was written on */
  lastPage: { item: string; page: number }[];
}

/** Checks the items and lays them out on as many pages as they take. */
function place(items: readonly NvsItem[], pageCount: number): Layout {
  const writer = new PageWriter();
  const namespaces = new Map<string, { index: number; keys: Set<string> }>();
  const lastPage: Layout['lastPage'] = [];
  for (const item of items) {
    const where = label(item);
    const nsName = nameBytes('namespace', item.namespace, where);
    const key = nameBytes('key', item.key, where);
    const { type, bytes } = valueBytes(item, pageCount);
    let ns = namespaces.get(item.namespace);
    if (!ns) {
      if (namespaces.size === MAX_NAMESPACES) throw new RangeError(`${where}: more than ${MAX_NAMESPACES} namespaces`);
      ns = { index: namespaces.size + 1, keys: new Set() };
      namespaces.set(item.namespace, ns);
      // nvs_open(READWRITE) writes the namespace entry before the first key (Storage::createOrOpenNamespace)
      writer.item(NAMESPACE_INDEX, NvsType.U8, nsName, integerData(ns.index, 1));
      lastPage.push({ item: `NVS namespace ${JSON.stringify(item.namespace)}`, page: writer.pageIndex });
    }
    if (ns.keys.has(item.key)) throw new RangeError(`${where}: given twice`);
    ns.keys.add(item.key);
    if (type === NvsType.BLOB_DATA) {
      if (writer.blob(ns.index, key, bytes) > NVS_MAX_BLOB_CHUNKS) throw new RangeError(`${where}: the blob takes more than ${NVS_MAX_BLOB_CHUNKS} chunks`);
    } else {
      writer.item(ns.index, type, key, bytes);
    }
    lastPage.push({ item: where, page: writer.pageIndex });
  }
  const pages = writer.lastPageUsed() ? writer.pages : writer.pages.slice(0, -1);
  return { pages, lastPage };
}

/** The smallest partition that holds the items: the pages they take, one empty page, three pages at least. */
export function nvsPartitionSizeFor(items: readonly NvsItem[]): number {
  const pages = place(items, NVS_MAX_PARTITION_SIZE / NVS_PAGE_SIZE).pages.length;
  return Math.max(pages + 1, NVS_MIN_PARTITION_SIZE / NVS_PAGE_SIZE) * NVS_PAGE_SIZE;
}

/**
 * The image of an NVS partition of `size` bytes holding the items, in order. Throws a
 * RangeError naming the key for a bad name, a value NVS cannot store, a key given twice, or
 * an item that does not fit (with the size the items need).
 */
export function buildNvsImage(items: readonly NvsItem[], size: number): Uint8Array {
  const pageCount = checkSize(size);
  const { pages, lastPage } = place(items, pageCount);
  if (pages.length > pageCount - 1) {
    const first = lastPage.find((p) => p.page >= pageCount - 1);
    const needed = nvsPartitionSizeFor(items);
    throw new RangeError(`${first?.item}: does not fit in a partition of ${size} bytes (${pageCount} pages, of which NVS keeps one empty); these values need ${needed} bytes (0x${needed.toString(16)})`);
  }
  const image = new Uint8Array(size).fill(0xff);
  pages.forEach((page, i) => {
    pageHeader(page, i === pages.length - 1 ? PAGE_ACTIVE : PAGE_FULL, i);
    image.set(page, i * NVS_PAGE_SIZE);
  });
  return image;
}
