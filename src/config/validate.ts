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

type Shape = Record<string, Schema<unknown>>;
type Result<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with exactly these keys (optional ones may be absent). */
export const object = <S extends Shape>(shape: S, expected = 'an object'): Schema<Result<S>> => (v, path, problems) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return problem(problems, path, expected, v, {} as Result<S>);
  const out = {} as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(key in shape)) problems.push({ path: `${path}.${key}`, expected: `no such key (known: ${Object.keys(shape).join(', ')})`, got: describe((v as Record<string, unknown>)[key]) });
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
