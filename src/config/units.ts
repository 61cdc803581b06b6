/**
 * Times, byte counts and packet counts written the way swanctl.conf writes them (strongSwan's
 * vici parse_time, parse_bytes and parse_uint64):
 *   times:   a whole number of seconds, or a number with s, m, h or d: 90s, 30m, 4h, 1d
 *   bytes:   a whole number, or a number with k, m or g (1024-based): 512k, 100m, 2g
 *   packets: a whole number
 * A JSON number is taken as seconds, bytes or packets. Only decimal digits: strongSwan's strtoul
 * would also take hex and octal ("0x10", "010"), which nobody means in a lifetime. Negative,
 * fractional and out-of-range values are refused, never wrapped or truncated.
 */
import { parsed, type Schema } from './validate.js';

/** The longest time: 2^32 - 1 seconds (136 years); timers are armed in 32-bit seconds. */
export const MAX_SECONDS = 0xffffffff;
/** The largest byte or packet count: the largest integer a JS number holds exactly. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

const TIME_UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

interface Unit {
  /** what a problem says was expected */
  expected: string;
  /** suffix letter (lower case) to multiplier; '' is the bare number */
  units: Readonly<Record<string, number>>;
  max: number;
}

export const TIME: Unit = {
  expected: 'a time: seconds, or a number with s, m, h or d (90s, 30m, 4h, 1d)',
  units: TIME_UNITS,
  max: MAX_SECONDS,
};
export const BYTES: Unit = {
  expected: 'a byte count: a whole number, or one with k, m or g (1024-based: 512k, 100m, 2g)',
  units: BYTE_UNITS,
  max: MAX_COUNT,
};
export const PACKETS: Unit = { expected: 'a packet count: a whole number', units: { '': 1 }, max: MAX_COUNT };

/** The value in seconds, bytes or packets; a RangeError saying what was expected otherwise. */
export function parseAmount(unit: Unit, value: unknown): number {
  let amount: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(unit.expected);
    amount = value;
  } else if (typeof value === 'string') {
    // digits, optional blanks, an optional suffix (strongSwan skips blanks before the suffix)
    const m = /^\s*(\d{1,30})\s*([a-zA-Z]?)\s*$/.exec(value);
    const multiplier = m ? unit.units[m[2].toLowerCase()] : undefined;
    if (!m || multiplier === undefined) throw new RangeError(unit.expected);
    amount = Number(m[1]) * multiplier;
  } else {
    throw new RangeError(unit.expected);
  }
  if (amount > unit.max) throw new RangeError(`${unit.expected}, at most ${unit.max}`);
  return amount;
}

/** parseAmount as a schema: the problem says what was expected, including the limit when exceeded. */
export const amount = (unit: Unit): Schema<number> => parsed((v) => parseAmount(unit, v), 0);

/** swanctl's "+ 10%" for a hard limit left unset: rekey + rekey / 10, rounded down. */
export function plusTenPercent(rekey: number, max: number): number {
  return Math.min(rekey + Math.floor(rekey / 10), max);
}
