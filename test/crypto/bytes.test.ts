/** The byte helpers every parser and test relies on: hex, big-endian integers, Latin-1 text. */
import { asciiBytes, bigIntToBytes, bytesToBigInt, concatBytes, fromHex, toHex } from '../../src/crypto/bytes.js';
import { bytesEqual, equal, throws } from '../assert.js';
import { test } from '../harness.js';

test('hex: round trip, upper and lower case; odd length, bad characters and separators refused', () => {
  const all = new Uint8Array(256).map((_, i) => i);
  equal(fromHex(toHex(all)).length, 256);
  bytesEqual(fromHex(toHex(all)), all);
  bytesEqual(fromHex('ABcd'), Uint8Array.from([0xab, 0xcd]));
  equal(fromHex('').length, 0);
  throws(() => fromHex('abc'), /odd-length/);
  throws(() => fromHex('zz'), /not a hex string/);
  throws(() => fromHex('ab cd'), /odd-length|not a hex string/);
  throws(() => fromHex('0x12'), /not a hex string/);
  throws(() => fromHex('-1'), /not a hex string/);
});

test('big-endian integers: padding, zero, and values that do not fit', () => {
  bytesEqual(bigIntToBytes(0x0102n, 4), Uint8Array.from([0, 0, 1, 2]));
  bytesEqual(bigIntToBytes(0n, 2), new Uint8Array(2));
  equal(bytesToBigInt(Uint8Array.from([0, 0, 1, 2])), 0x0102n);
  equal(bytesToBigInt(new Uint8Array(0)), 0n);
  throws(() => bigIntToBytes(0x10000n, 2), /does not fit/);
  throws(() => bigIntToBytes(-1n, 2), /does not fit/);
});

test('Latin-1 text and concatenation', () => {
  bytesEqual(asciiBytes('Hi'), Uint8Array.from([0x48, 0x69]));
  throws(() => asciiBytes('\u20ac'), /Latin-1/);
  bytesEqual(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)), Uint8Array.of(1, 2, 3));
});
