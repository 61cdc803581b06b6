/**
 * A small validator for the configuration document: every problem is reported with its JSON
 * path, what was expected and what was found (`$.sas[1].spi: expected an integer from 256 to
 * 4294967295, got "0x10"`), all problems at once rather than the first.
 *
 * A schema is a function from (value, path, problems) to the typed value; the combinators
 * below build them. Unknown object keys are problems too: a misspelt option must not be
 * silently ignored (strongSwan's swanctl warns the same way).
 */

export interface Problem {
  path: string;
  expected: string;
  got: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path}: expected ${p.expected}, got ${p.got}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export type Schema<T> = (value: unknown, path: string, problems: Problem[]) => T;

/** How a value is shown in a problem: JSON, shortened. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** What a problem shows instead of a secret's value. */
export const SECRET = '"<secret>"';
/** Keys whose values are never shown, even when the key itself is a mistake. */
const SECRET_KEY = /secret|psk|passw/i;

function problem<T>(problems: Problem[], path: string, expected: string, value: unknown, fallback: T): T {
  problems.push({ path, expected, got: describe(value) });
  return fallback;
}

/** A check that `parse` accepts the string (it throws on what it refuses). */
export const parses = (parse: (s: string) => unknown) => (s: string): boolean => {
  try {
    parse(s);
    return true;
  } catch {
    return false;
  }
};

/**
 * A schema from a parser that throws a RangeError saying what it expected (any other error is
 * a bug and propagates).
 */
export const parsed = <T>(parse: (v: unknown) => T, fallback: T): Schema<T> => (v, path, problems) => {
  try {
    return parse(v);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return problem(problems, path, e.message, v, fallback);
  }
};

export const string = (expected = 'a string', check?: (s: string) => boolean): Schema<string> => (v, path, problems) =>
  typeof v === 'string' && (!check || check(v)) ? v : problem(problems, path, expected, v, '');

export const integer = (min: number, max: number, expected = `an integer from ${min} to ${max}`): Schema<number> => (v, path, problems) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : problem(problems, path, expected, v, min);

export const boolean = (): Schema<boolean> => (v, path, problems) =>
  typeof v === 'boolean' ? v : problem(problems, path, 'true or false', v, false);

export const oneOf = <T extends string>(...values: T[]): Schema<T> => (v, path, problems) =>
  values.includes(v as T) ? (v as T) : problem(problems, path, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v, values[0]);

export const optional = <T>(schema: Schema<T>, fallback?: T): Schema<T | undefined> => (v, path, problems) =>
  v === undefined ? fallback : schema(v, path, problems);

export const array = <T>(item: Schema<T>, expected = 'an array'): Schema<T[]> => (v, path, problems) =>
  Array.isArray(v) ? v.map((x, i) => item(x, `${path}[${i}]`, problems)) : problem(problems, path, expected, v, []);

export const yesNo = (): Schema<boolean> => (v, path, problems) =>
  v === true || v === 'yes' ? true : v === false || v === 'no' ? false : problem(problems, path, 'true or false ("yes" or "no")', v, false);

/**
 * A list written either as an array or as one comma-separated string, the way swanctl.conf
 * writes lists ("10.1.0.0/16, 10.3.0.0/16"); items of a string are trimmed and share its path.
 */
export const list = <T>(item: Schema<T>, expected: string, max = 64): Schema<T[]> => (v, path, problems) => {
  const items: [unknown, string][] = typeof v === 'string'
    ? v.split(',').map((s) => [s.trim(), path])
    : Array.isArray(v) ? v.map((x, i) => [x, `${path}[${i}]`]) : [];
  if (items.length === 0) return problem(problems, path, expected, v, []);
  if (items.length > max) {
    problems.push({ path, expected: `at most ${max} items`, got: `${items.length} items` });
    return [];
  }
  return items.map(([x, at]) => item(x, at, problems));
};

/** How an object key appears in a path: .name, or ["name"] when it is not an identifier. */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * An object of named entries (swanctl.conf's named sections: connections, children), as
 * [name, value] pairs in document order. Names must match `name`.
 */
export const named = <T>(item: Schema<T>, name: { pattern: RegExp; expected: string }, expected = 'an object of named entries'): Schema<[string, T][]> => (v, path, problems) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return problem(problems, path, expected, v, []);
  return Object.entries(v).map(([key, value]): [string, T] => {
    const at = keyPath(path, key);
    if (!name.pattern.test(key)) problems.push({ path: at, expected: name.expected, got: JSON.stringify(key) });
    return [key, item(value, at, problems)];
  });
};

/** `schema`, with the value of every problem shown as "<secret>" except where `shown(path)`. */
export const redacted = <T>(schema: Schema<T>, shown: (path: string) => boolean): Schema<T> => (v, path, problems) => {
  const own: Problem[] = [];
  const result = schema(v, path, own);
  for (const p of own) problems.push(shown(p.path) ? p : { ...p, got: SECRET });
  return result;
};

type Shape = Record<string, Schema<unknown>>;
type Result<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with exactly these keys (optional ones may be absent). */
export const object = <S extends Shape>(shape: S, expected = 'an object'): Schema<Result<S>> => (v, path, problems) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return problem(problems, path, expected, v, {} as Result<S>);
  const out = {} as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (key in shape) continue;
    const got = SECRET_KEY.test(key) ? SECRET : describe((v as Record<string, unknown>)[key]);
    problems.push({ path: keyPath(path, key), expected: `no such key (known: ${Object.keys(shape).join(', ')})`, got });
  }
  for (const [key, schema] of Object.entries(shape)) {
    const value = schema((v as Record<string, unknown>)[key], `${path}.${key}`, problems);
    if (value !== undefined) out[key] = value;
  }
  return out as Result<S>;
};

/** Validates a whole document: the typed value, or a ConfigError listing every problem. */
export function validate<T>(schema: Schema<T>, value: unknown): T {
  const problems: Problem[] = [];
  const result = schema(value, '$', problems);
  if (problems.length) throw new ConfigError(problems);
  return result;
}
