/**
 * Times, byte counts and packet counts as swanctl.conf writes them; negative, fractional,
 * garbage and overflowing values refused. Also the secret encodings' byte helpers.
 */
import { fromBase64, utf8Bytes } from '../../src/crypto/bytes.js';
import { BYTES, MAX_COUNT, MAX_SECONDS, PACKETS, parseAmount, plusTenPercent, TIME } from '../../src/config/units.js';
import { bytesEqual, equal, throws } from '../assert.js';
import { test } from '../harness.js';

test('config units: times with s, m, h, d or none, and JSON numbers', () => {
  const cases: [unknown, number][] = [
    ['4h', 14400], ['1d', 86400], ['30m', 1800], ['90s', 90], ['90', 90], [90, 90], [0, 0], ['0s', 0],
    ['4 h', 14400], [' 10m ', 600], ['2H', 7200], ['1D', 86400], ['4294967295', MAX_SECONDS], ['49710d', 49710 * 86400],
  ];
  for (const [text, seconds] of cases) equal(parseAmount(TIME, text), seconds, JSON.stringify(text));
});

test('config units: bad times are refused: negative, fractional, garbage, unknown unit, overflow', () => {
  for (const bad of [-1, '-1', '1.5h', 1.5, '', 'h', '4x', '4hh', '4h30m', '0x10', 'four hours', null, true, [], {}, NaN, Infinity]) {
    throws(() => parseAmount(TIME, bad), /^a time: seconds, or a number with s, m, h or d \(90s, 30m, 4h, 1d\)$/, JSON.stringify(bad));
  }
  for (const big of ['49711d', '4294967296', 4294967296, '99999999999999999999999999999h', 1e21]) {
    throws(() => parseAmount(TIME, big), /, at most 4294967295$/, JSON.stringify(big));
  }
  throws(() => parseAmount(TIME, '1'.repeat(31)), /^a time/, 'more than 30 digits is garbage, not a number');
});

test('config units: byte counts with k, m, g (1024-based); packet counts bare', () => {
  const cases: [unknown, number][] = [['512k', 512 * 1024], ['100m', 100 * 1024 ** 2], ['2g', 2 * 1024 ** 3], ['2G', 2 * 1024 ** 3], ['1000', 1000], [1000, 1000]];
  for (const [text, n] of cases) equal(parseAmount(BYTES, text), n, JSON.stringify(text));
  equal(parseAmount(PACKETS, '1000000'), 1_000_000);
  equal(parseAmount(PACKETS, MAX_COUNT), MAX_COUNT);
  throws(() => parseAmount(PACKETS, '10k'), /^a packet count: a whole number$/);
  throws(() => parseAmount(BYTES, '1t'), /^a byte count/);
  throws(() => parseAmount(BYTES, '-5m'), /^a byte count/);
  throws(() => parseAmount(BYTES, '9999999999g'), /at most 9007199254740991$/);
  throws(() => parseAmount(PACKETS, MAX_COUNT + 1), /at most 9007199254740991$/);
});

test('config units: + 10% for an unset hard limit, capped', () => {
  equal(plusTenPercent(3600, MAX_SECONDS), 3960);
  equal(plusTenPercent(0, MAX_SECONDS), 0);
  equal(plusTenPercent(15, MAX_SECONDS), 16);
  equal(plusTenPercent(MAX_SECONDS, MAX_SECONDS), MAX_SECONDS);
});

test('bytes: UTF-8 and base64 for secrets', () => {
  bytesEqual(utf8Bytes('aé€😀'), Uint8Array.of(0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80));
  bytesEqual(utf8Bytes('\ud800'), Uint8Array.of(0xef, 0xbf, 0xbd), 'a lone surrogate');
  bytesEqual(fromBase64('aGVsbG8='), utf8Bytes('hello'));
  bytesEqual(fromBase64('aGVsbG8'), utf8Bytes('hello'), 'padding optional');
  bytesEqual(fromBase64('aGk='), utf8Bytes('hi'));
  bytesEqual(fromBase64('+/8='), Uint8Array.of(0xfb, 0xff));
  bytesEqual(fromBase64(''), new Uint8Array(0));
  for (const bad of ['a', 'aGVsbG8*', 'aG=', 'aGk==', '====', 'aGVs\nbG8=']) throws(() => fromBase64(bad), /not base64/, bad);
});
