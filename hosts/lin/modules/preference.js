/*
 * Moddable's `preference` module for the desktop simulator, kept in files:
 *   import Preference from "preference";
 *   Preference.set(domain, key, value); Preference.get(domain, key) (undefined when absent);
 *   Preference.delete(domain, key) (no error when absent); Preference.keys(domain).
 * Types: @moddable/typings/preference.d.ts.
 *
 * It holds the firmware to the ESP32's limits (NVS, Moddable's modules/files/preference/esp32),
 * so that what works here works on the device, and says which rule a call broke:
 *   - domain and key: strings of 1 to 15 bytes of UTF-8 (NVS names: 16 bytes with their NUL),
 *     without NUL (TypeError for a non-string, RangeError otherwise);
 *   - values: a boolean; an integer in the int32 range (NVS i32; a fraction, NaN or Infinity is
 *     a TypeError, as the ESP32's "float unsupported"; a larger integer a RangeError); a string of
 *     at most 3999 bytes of UTF-8 without NUL (NVS strings: 4000 bytes with their NUL); an
 *     ArrayBuffer of at most 4000 bytes. Anything else (typed arrays included) is a TypeError.
 *   get returns the type that was set: boolean, number, string or a new ArrayBuffer.
 *
 * Storage: one file per value, DIR/<domain>/<key>, names percent-encoded (encodeURIComponent,
 * plus a leading "." as %2E). DIR: $XS_IPSEC_PREFERENCES (set by `xs-ipsec-lin --preferences
 * DIR`), else $XDG_STATE_HOME/xs-ipsec/preferences, else ~/.local/state/xs-ipsec/preferences.
 * A value file (little-endian):
 *   "XSPF" | format 1 (u8) | type (u8: 1 boolean, 2 integer, 3 string, 4 ArrayBuffer, as
 *   Moddable's kPrefsType) | payload length (u16) | payload (boolean 1 byte; int32; UTF-8;
 *   bytes) | CRC-32 of all that precedes (u32, as zlib's crc32)
 * Writes go through lin/process writeFileAtomic (temporary file, fsync, rename): after a crash
 * a value is the old one or the new one. A value file that is not of this form (truncated,
 * damaged, not ours) is not taken as absent: get throws an Error that names the file, so that
 * a damaged store is seen, not silently replaced by defaults; delete or set replaces it.
 * Names starting with "." (temporary files, possibly left by a crash) are not keys.
 *
 * Why JS over generic file natives and not one C file: the rules above (types, integer range,
 * UTF-8 sizes, well-formed strings) are a few lines each in JS and many in C, strings need
 * UTF-8 on disk while XS keeps them in CESU-8, and the C side stays a small set of file
 * operations where the atomicity lives.
 */
import { getenv, listDirectory, makeDirectory, readBytes, removeFile, writeFileAtomic } from "lin/process";

const BOOLEAN = 1, INTEGER = 2, STRING = 3, BUFFER = 4;
const MAGIC = [0x58, 0x53, 0x50, 0x46]; // "XSPF"
const FORMAT = 1;
const HEADER = 8;
const TRAILER = 4;
const MAX_NAME = 15;
const MAX_STRING = 3999;
const MAX_BUFFER = 4000;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

function directory() {
	const explicit = getenv("XS_IPSEC_PREFERENCES");
	if (explicit)
		return explicit;
	const state = getenv("XDG_STATE_HOME");
	if (state?.startsWith("/"))
		return `${state}/xs-ipsec/preferences`;
	const home = getenv("HOME");
	if (!home)
		throw new Error("Preference: no directory: set XS_IPSEC_PREFERENCES, XDG_STATE_HOME or HOME, or give xs-ipsec-lin --preferences DIR");
	return `${home}/.local/state/xs-ipsec/preferences`;
}

/** UTF-8 of a string, or undefined when it is not well-formed (a lone surrogate). */
function utf8(string) {
	const bytes = encoder.encode(string);
	try {
		if (strictDecoder.decode(bytes) === string)
			return bytes;
	}
	catch {
	}
	return undefined;
}

/** A domain or key name as a file name, after checking it as NVS would. */
function fileName(what, name) {
	if (typeof name !== "string")
		throw new TypeError(`Preference: the ${what} must be a string, not ${typeof name}`);
	const bytes = utf8(name);
	if (!bytes || bytes.length < 1 || bytes.length > MAX_NAME || name.includes("\0"))
		throw new RangeError(`Preference: ${what} ${JSON.stringify(name)}: names are 1 to ${MAX_NAME} bytes of UTF-8 without NUL (ESP32 NVS)`);
	return encodeURIComponent(name).replace(/^\./, "%2E");
}

function keyName(file) {
	if (file.startsWith("."))
		return undefined;
	try {
		const name = decodeURIComponent(file);
		return fileName("key", name) === file ? name : undefined;
	}
	catch {
		return undefined;
	}
}

function describe(value) {
	if (value === null || value === undefined)
		return String(value);
	if (typeof value === "object")
		return `an object (${value.constructor?.name ?? "no class"})`;
	return `a ${typeof value}`;
}

/** [type, payload bytes] of a value, after checking it as the ESP32 would. */
function encodeValue(value) {
	switch (typeof value) {
	case "boolean":
		return [BOOLEAN, Uint8Array.of(value ? 1 : 0)];
	case "number": {
		if (!Number.isInteger(value))
			throw new TypeError(`Preference: ${value} is not an integer (no floating-point values, as on ESP32)`);
		if (value < -0x80000000 || value > 0x7FFFFFFF)
			throw new RangeError(`Preference: ${value} is outside the int32 range of ESP32 NVS`);
		const payload = new Uint8Array(4);
		new DataView(payload.buffer).setInt32(0, value, true);
		return [INTEGER, payload];
	}
	case "string": {
		const payload = utf8(value);
		if (!payload)
			throw new RangeError("Preference: the string is not well-formed Unicode (a lone surrogate)");
		if (value.includes("\0"))
			throw new RangeError("Preference: the string holds a NUL, which ESP32 NVS strings cannot (use an ArrayBuffer)");
		if (payload.length > MAX_STRING)
			throw new RangeError(`Preference: a string of ${payload.length} bytes of UTF-8; at most ${MAX_STRING} (ESP32 NVS: 4000 with its NUL)`);
		return [STRING, payload];
	}
	default:
		if (value instanceof ArrayBuffer) {
			if (value.byteLength > MAX_BUFFER)
				throw new RangeError(`Preference: an ArrayBuffer of ${value.byteLength} bytes; at most ${MAX_BUFFER} (ESP32)`);
			return [BUFFER, new Uint8Array(value)];
		}
		throw new TypeError(`Preference: cannot store ${describe(value)}: only booleans, integers, strings and ArrayBuffers`);
	}
}

let crcTable;
function crc32(bytes, length) {
	if (!crcTable) {
		crcTable = new Uint32Array(256);
		for (let n = 0; n < 256; n++) {
			let c = n;
			for (let k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
			crcTable[n] = c;
		}
	}
	let crc = 0xFFFFFFFF;
	for (let i = 0; i < length; i++)
		crc = crcTable[(crc ^ bytes[i]) & 0xFF] ^ (crc >>> 8);
	return (crc ^ 0xFFFFFFFF) >>> 0;
}

function encodeFile(type, payload) {
	const file = new Uint8Array(HEADER + payload.length + TRAILER);
	const view = new DataView(file.buffer);
	file.set(MAGIC);
	file[4] = FORMAT;
	file[5] = type;
	view.setUint16(6, payload.length, true);
	file.set(payload, HEADER);
	view.setUint32(HEADER + payload.length, crc32(file, HEADER + payload.length), true);
	return file;
}

/** The value in a file's bytes, or a string saying what is wrong with them. */
function decodeFile(file) {
	const view = new DataView(file.buffer);
	if (file.length < HEADER + TRAILER || MAGIC.some((b, i) => file[i] !== b) || file[4] !== FORMAT)
		return "not a preference file of format 1";
	const length = view.getUint16(6, true);
	if (file.length !== HEADER + length + TRAILER)
		return `${file.length} bytes where its header announces ${HEADER + length + TRAILER}: truncated or padded`;
	if (view.getUint32(HEADER + length, true) !== crc32(file, HEADER + length))
		return "bad checksum";
	const payload = file.subarray(HEADER, HEADER + length);
	switch (file[5]) {
	case BOOLEAN:
		if (length === 1 && payload[0] <= 1)
			return { value: payload[0] === 1 };
		break;
	case INTEGER:
		if (length === 4)
			return { value: view.getInt32(HEADER, true) };
		break;
	case STRING:
		try {
			return { value: strictDecoder.decode(payload) };
		}
		catch {
			return "a string that is not UTF-8";
		}
	case BUFFER:
		return { value: file.buffer.slice(HEADER, HEADER + length) };
	default:
		return `unknown type ${file[5]}`;
	}
	return `a malformed value of type ${file[5]}`;
}

export default class Preference {
	static set(domain, key, value) {
		const folder = `${directory()}/${fileName("domain", domain)}`;
		const path = `${folder}/${fileName("key", key)}`;
		const [type, payload] = encodeValue(value);
		makeDirectory(folder);
		writeFileAtomic(path, encodeFile(type, payload));
	}
	static get(domain, key) {
		const path = `${directory()}/${fileName("domain", domain)}/${fileName("key", key)}`;
		const bytes = readBytes(path);
		if (bytes === undefined)
			return undefined;
		const result = decodeFile(new Uint8Array(bytes));
		if (typeof result === "string")
			throw new Error(`Preference ${domain}/${key}: ${path} is damaged (${result}); Preference.delete or Preference.set replaces it`);
		return result.value;
	}
	static delete(domain, key) {
		removeFile(`${directory()}/${fileName("domain", domain)}/${fileName("key", key)}`);
	}
	static keys(domain) {
		const files = listDirectory(`${directory()}/${fileName("domain", domain)}`) ?? [];
		return files.map(keyName).filter((name) => name !== undefined).sort();
	}
}
Object.freeze(Preference.prototype);
