#!/usr/bin/env python3
"""An independent reader of ESP-IDF NVS partition images, for the tests of
src/provision/nvs-image.ts (the writer): written from ESP-IDF's documentation of the format
(docs/en/api-reference/storage/nvs_flash.rst, "Internals"), sharing no code with the writer.

    nvs_read.py IMAGE     prints the image as JSON on stdout, exit 0:
        {"pages": [{"page": N, "state": "active"|"full"|"freeing"|"empty", "seq": S,
                    "written": W, "erased": E, "empty": F}, ...],
         "namespaces": {"name": index, ...},
         "values": {"namespace": {"key": {"type": T, "value": V}, ...}, ...}}
    with T one of u8 i8 u16 i16 u32 i32 u64 i64 string blob (a blob's value in hex).
    Any violation of the format is one line "nvs_read: IMAGE: ..." on stderr, exit 1; every
    check below is made, none skipped:
      - the size is a non-zero multiple of 4096 bytes;
      - a page in the empty state is erased (all 0xFF); another page has a known state, a
        header CRC32 that matches, version 0xFE (format 2), reserved bytes 0xFF; sequence
        numbers are unique, at most one page is active, at least one page is empty (NVS needs
        one to start: ESP_ERR_NVS_NO_FREE_PAGES);
      - entry states are 0b11, 0b10 or 0b00 (0b01 is illegal), the 4 bits past entry 125 are
        1s, an empty entry is erased flash;
      - a written entry's CRC32 matches, its type is known, its key is NUL-terminated and not
        empty, its span and chunk index suit its type; a string's or blob chunk's data entries
        are written, within the page, and match the size and data CRC32 of its header;
      - namespace entries (namespace 0) are u8 with an index 1..254, unique both ways; every
        item's namespace is declared; no key is written twice in a namespace;
      - a blob index finds all its chunks (chunk start .. + count - 1), whose sizes add up to
        its size; no chunk is left without an index.
CRC32: zlib.crc32(bytes, 0xFFFFFFFF), as ESP-IDF calls esp_rom_crc32_le(0xffffffff, ...).
"""
import json
import struct
import sys
import zlib

PAGE = 4096
ENTRY = 32
ENTRIES = 126
STATES = {0xFFFFFFFF: "empty", 0xFFFFFFFE: "active", 0xFFFFFFFC: "full", 0xFFFFFFF8: "freeing"}
PRIMITIVES = {0x01: ("u8", "<B"), 0x11: ("i8", "<b"), 0x02: ("u16", "<H"), 0x12: ("i16", "<h"),
              0x04: ("u32", "<I"), 0x14: ("i32", "<i"), 0x08: ("u64", "<Q"), 0x18: ("i64", "<q")}
STRING, BLOB_V1, BLOB_DATA, BLOB_INDEX = 0x21, 0x41, 0x42, 0x48


class FormatError(Exception):
    pass


def crc(data):
    return zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def entry_states(bitmap, where, errors):
    """The 126 two-bit states, entry i in bits 2*(i % 4) of byte i // 4."""
    states = []
    for i in range(ENTRIES):
        bits = (bitmap[i // 4] >> (2 * (i % 4))) & 3
        if bits == 0b01:
            errors.append(f"{where} entry {i}: illegal state 0b01")
        states.append(bits)
    if (bitmap[31] >> 4) != 0xF:
        errors.append(f"{where}: the bitmap's 4 bits past entry 125 are not 1s")
    return states


def read_page(image, number, errors, items):
    page = image[number * PAGE:(number + 1) * PAGE]
    where = f"page {number}"
    state_word, seq, version = struct.unpack_from("<IIB", page, 0)
    header_crc = struct.unpack_from("<I", page, 28)[0]
    state = STATES.get(state_word)
    if state is None:
        errors.append(f"{where}: unknown state 0x{state_word:08x}")
        return None
    if state == "empty":
        if page != b"\xff" * PAGE:
            errors.append(f"{where}: in the empty state but not erased (bytes other than 0xFF)")
        return {"page": number, "state": state}
    if crc(page[4:28]) != header_crc:
        errors.append(f"{where}: header CRC32 0x{header_crc:08x}, computed 0x{crc(page[4:28]):08x}")
    if version != 0xFE:
        errors.append(f"{where}: version 0x{version:02x}, not 0xFE (format version 2)")
    if page[9:28] != b"\xff" * 19:
        errors.append(f"{where}: reserved header bytes are not 0xFF")
    states = entry_states(page[32:64], where, errors)
    counts = {"written": 0, "erased": 0, "empty": 0}
    i = 0
    while i < ENTRIES:
        entry = page[64 + i * ENTRY:64 + (i + 1) * ENTRY]
        if states[i] == 0b11:
            counts["empty"] += 1
            if entry != b"\xff" * ENTRY:
                errors.append(f"{where} entry {i}: marked empty but not erased")
            i += 1
            continue
        if states[i] == 0b00 or states[i] == 0b01:
            counts["erased"] += 1
            i += 1
            continue
        try:
            span = read_item(page, i, states, where, items, number)
        except FormatError as e:
            errors.append(str(e))
            span = 1
        counts["written"] += span
        i += span
    return {"page": number, "state": state, "seq": seq, **counts}


def read_item(page, i, states, where, items, number):
    entry = page[64 + i * ENTRY:64 + (i + 1) * ENTRY]
    ns, kind, span, chunk, entry_crc = struct.unpack_from("<BBBBI", entry, 0)
    where = f"{where} entry {i}"
    computed = crc(entry[0:4] + entry[8:32])
    if computed != entry_crc:
        raise FormatError(f"{where}: entry CRC32 0x{entry_crc:08x}, computed 0x{computed:08x}")
    raw_key = entry[8:24]
    if b"\x00" not in raw_key or raw_key[0] == 0:
        raise FormatError(f"{where}: the key is empty or not NUL-terminated within 16 bytes")
    try:
        key = raw_key[:raw_key.index(b"\x00")].decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: the key is not UTF-8")
    where = f"{where} (key {key!r})"
    data = entry[24:32]
    item = {"ns": ns, "key": key, "where": where, "page": number}
    if kind in PRIMITIVES or kind == BLOB_INDEX:
        if span != 1:
            raise FormatError(f"{where}: span {span} for a one-entry type")
        if chunk != 0xFF:
            raise FormatError(f"{where}: chunk index {chunk}, not 0xFF")
        if kind == BLOB_INDEX:
            size, count, start = struct.unpack_from("<IBB", data, 0)
            items.append({**item, "type": "blob-index", "size": size, "count": count, "start": start})
        else:
            name, fmt = PRIMITIVES[kind]
            width = struct.calcsize(fmt)
            if data[width:] != b"\xff" * (8 - width):
                raise FormatError(f"{where}: the {name}'s unused data bytes are not 0xFF")
            items.append({**item, "type": name, "value": struct.unpack_from(fmt, data, 0)[0]})
        return 1
    if kind not in (STRING, BLOB_DATA, BLOB_V1):
        raise FormatError(f"{where}: unknown type 0x{kind:02x}")
    if kind == BLOB_V1:
        raise FormatError(f"{where}: a version-1 blob (0x41) in a version-2 page")
    size, reserved, data_crc = struct.unpack_from("<HHI", data, 0)
    if span < 1 or i + span > ENTRIES:
        raise FormatError(f"{where}: span {span} runs past the page's last entry")
    if (size + ENTRY - 1) // ENTRY != span - 1:
        raise FormatError(f"{where}: {size} bytes of data in a span of {span} entries")
    for j in range(i + 1, i + span):
        if states[j] != 0b10:
            raise FormatError(f"{where}: data entry {j} is not in the written state")
    value = page[64 + (i + 1) * ENTRY:64 + (i + 1) * ENTRY + size]
    if crc(value) != data_crc:
        raise FormatError(f"{where}: data CRC32 0x{data_crc:08x}, computed 0x{crc(value):08x}")
    if kind == STRING:
        if chunk != 0xFF:
            raise FormatError(f"{where}: chunk index {chunk} on a string")
        if size == 0 or value[-1] != 0 or 0 in value[:-1]:
            raise FormatError(f"{where}: the string does not end with its only NUL")
        try:
            text = value[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{where}: the string is not UTF-8")
        items.append({**item, "type": "string", "value": text})
    else:
        if chunk == 0xFF:
            raise FormatError(f"{where}: blob data without a chunk index")
        items.append({**item, "type": "blob-data", "chunk": chunk, "value": value})
    return span


def assemble(items, errors):
    namespaces = {}
    for item in (i for i in items if i["ns"] == 0):
        if item["type"] != "u8" or not 1 <= item["value"] <= 254:
            errors.append(f"{item['where']}: a namespace entry is a u8 from 1 to 254")
        elif item["key"] in namespaces or item["value"] in namespaces.values():
            errors.append(f"{item['where']}: namespace {item['key']!r} or index {item['value']} declared twice")
        else:
            namespaces[item["key"]] = item["value"]
    names = {index: name for name, index in namespaces.items()}
    values = {name: {} for name in namespaces}
    chunks = {}
    for item in (i for i in items if i["ns"] != 0):
        if item["ns"] not in names:
            errors.append(f"{item['where']}: namespace index {item['ns']} is not declared")
            continue
        if item["type"] == "blob-data":
            place = (item["ns"], item["key"], item["chunk"])
            if place in chunks:
                errors.append(f"{item['where']}: blob chunk {item['chunk']} written twice")
            chunks[place] = item
            continue
        table = values[names[item["ns"]]]
        if item["key"] in table:
            errors.append(f"{item['where']}: the key is written twice in namespace {names[item['ns']]!r}")
            continue
        if item["type"] == "blob-index":
            parts = []
            for index in range(item["start"], item["start"] + item["count"]):
                part = chunks.pop((item["ns"], item["key"], index), None)
                if part is None:
                    errors.append(f"{item['where']}: blob chunk {index} of {item['count']} is missing")
                else:
                    parts.append(part["value"])
            blob = b"".join(parts)
            if len(blob) != item["size"]:
                errors.append(f"{item['where']}: the blob index says {item['size']} bytes, its chunks hold {len(blob)}")
            table[item["key"]] = {"type": "blob", "value": blob.hex()}
        else:
            table[item["key"]] = {"type": item["type"], "value": item["value"]}
    for chunk in chunks.values():
        errors.append(f"{chunk['where']}: blob chunk {chunk['chunk']} has no blob index")
    return namespaces, values


def read_image(image):
    errors = []
    if len(image) == 0 or len(image) % PAGE:
        raise FormatError(f"{len(image)} bytes: not a whole number of {PAGE}-byte pages (truncated?)")
    items = []
    pages = [read_page(image, n, errors, items) for n in range(len(image) // PAGE)]
    pages = [p for p in pages if p is not None]
    used = [p for p in pages if p["state"] != "empty"]
    sequences = [p["seq"] for p in used]
    if len(set(sequences)) != len(sequences):
        errors.append(f"sequence numbers repeat: {sequences}")
    if sum(1 for p in used if p["state"] == "active") > 1:
        errors.append("more than one active page")
    if not any(p["state"] == "empty" for p in pages):
        errors.append("no empty page: nvs_flash_init would fail with ESP_ERR_NVS_NO_FREE_PAGES")
    # items in page order by sequence number, as NVS reads its log
    order = {p["page"]: p["seq"] for p in used}
    items.sort(key=lambda item: order.get(item["page"], 0))
    namespaces, values = assemble(items, errors)
    if errors:
        raise FormatError("\n".join(errors))
    return {"pages": pages, "namespaces": namespaces, "values": values}


def main():
    if len(sys.argv) != 2:
        print("usage: nvs_read.py IMAGE", file=sys.stderr)
        return 2
    path = sys.argv[1]
    with open(path, "rb") as f:
        image = f.read()
    try:
        result = read_image(image)
    except FormatError as e:
        for line in str(e).split("\n"):
            print(f"nvs_read: {path}: {line}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
