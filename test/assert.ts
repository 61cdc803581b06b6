/** Small assertions that work on both engines (node:assert is not on XS). */
import { toHex } from '../src/crypto/bytes.js';

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `<${toHex(value)}>`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function ok(condition: unknown, message = 'expected a true condition'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function equal<T>(actual: T, expected: T, message = ''): void {
  if (actual !== expected && !(actual !== actual && expected !== expected)) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function notEqual<T>(actual: T, unexpected: T, message = ''): void {
  if (Object.is(actual, unexpected)) throw new AssertionError(`${message ? `${message}: ` : ''}did not expect ${String(actual)}`);
}

export function bytesEqual(actual: Uint8Array, expected: Uint8Array, message = ''): void {
  if (actual.length !== expected.length || actual.some((b, i) => b !== expected[i])) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** JSON with object keys sorted, bytes as hex and BigInts marked: structural equality. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return `<${toHex(v)}>`;
    if (v instanceof Map) return [...v];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function deepEqual(actual: unknown, expected: unknown, message = ''): void {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) throw new AssertionError(`${message ? message + ': ' : ''}expected ${e}, got ${a}`);
}

/** Asserts that fn throws; `expected` is an error class or a RegExp matched against the message. */
export function throws(fn: () => unknown, expected?: RegExp | (new (...args: any[]) => Error), message = ''): Error {
  try {
    fn();
  } catch (e) {
    const error = e as Error;
    if (expected instanceof RegExp && !expected.test(String(error?.message))) {
      throw new AssertionError(`${message ? message + ': ' : ''}error message ${show(error?.message)} does not match ${expected}`);
    }
    if (typeof expected === 'function' && !(error instanceof expected)) {
      const got = e as { name?: string; message?: string } | undefined;
      throw new AssertionError(`${message ? message + ': ' : ''}expected ${expected.name}, got ${got?.name}: ${got?.message}`);
    }
    return error;
  }
  throw new AssertionError(`${message ? message + ': ' : ''}expected an exception`);
}
