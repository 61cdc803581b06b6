/**
 * What the current engine offers the tests: its name and its crypto providers. On Node:
 * software (@noble) and node:crypto; on XS: software and native (PSA/Mbed TLS). Every vector
 * test runs once per provider slot, so both engines run the same number of tests.
 */
import type { Crypto, CryptoOptions } from '../src/crypto/provider.js';
import { SoftwareCrypto } from '../src/crypto/software/provider.js';
import { test } from './harness.js';

export const engine: 'node' | 'xs' = typeof process !== 'undefined' && process.versions?.node ? 'node' : 'xs';

export interface ProviderSlot {
  /** 'software' or 'host' (node:crypto on Node, native PSA on XS) */
  slot: 'software' | 'host';
  make(options?: CryptoOptions): Crypto;
}

async function hostRandom(): Promise<(out: Uint8Array) => void> {
  if (engine === 'node') {
    const { randomFillSync } = await import('node:crypto');
    return (out) => randomFillSync(out);
  }
  const { fillRandom } = await import('random');
  return fillRandom;
}

const random = await hostRandom();
const HostCrypto = engine === 'node'
  ? (await import('../hosts/node/crypto-node.js')).NodeCrypto
  : (await import('../hosts/moddable/crypto-native.js')).NativeCrypto;

export const providerSlots: readonly ProviderSlot[] = [
  { slot: 'software', make: (options = {}) => new SoftwareCrypto({ ...options, random }) },
  { slot: 'host', make: (options = {}) => new HostCrypto(options) },
];

/** Registers one test per provider slot: "name [software]", "name [host]". */
export function forEachProvider(name: string, fn: (crypto: Crypto, slot: ProviderSlot) => void | Promise<void>, options?: CryptoOptions): void {
  for (const slot of providerSlots) {
    test(`${name} [${slot.slot}]`, () => fn(slot.make(options), slot));
  }
}

/** build/js/test, where the compiled tests, vectors and fixtures are. */
export const testDirectory: string = engine === 'node'
  ? decodeURIComponent(new URL('.', import.meta.url).pathname).replace(/\/$/, '')
  : (await import('lin/process')).argv()[0].replace(/\/[^/]*$/, '');

/**
 * A random id for names (namespaces, interfaces) from the host's CSPRNG: XS's Math.random is
 * not seeded on the desktop, so it repeats from run to run.
 */
export function uniqueId(): number {
  const b = new Uint8Array(4);
  random(b);
  return ((b[0] << 16) | (b[1] << 8) | b[2]) % 1_000_000;
}

/** Runs a program to completion on either engine; stdout and stderr together. */
export async function runProgram(argv: string[], timeoutMs = 60_000): Promise<{ status: number; output: string }> {
  if (engine === 'node') {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status ?? 128, output: `${r.stdout}${r.stderr}` };
  }
  return (await import('lin/process')).run(argv);
}

/** The XS host (build/lin/release/xs-ipsec-lin) with its module directory: the start of a command line. */
export async function xsHostCommand(): Promise<string[]> {
  const root = testDirectory.replace(/\/js\/test$/, '');
  const host = engine === 'node' ? `${root}/lin/release/xs-ipsec-lin` : (await import('lin/process')).execPath();
  return [host, '--modules', `${root}/xs-modules`];
}

/** Runs the XS host on a module, to completion. */
export async function runXsHost(args: string[]): Promise<{ status: number; output: string }> {
  return runProgram([...await xsHostCommand(), ...args]);
}

/** Runs fn with a new empty directory under /tmp, removed afterwards. */
export async function withTemporaryDirectory(fn: (path: string) => Promise<void>): Promise<void> {
  const made = await runProgram(['mktemp', '-d', '/tmp/xs-ipsec-test-XXXXXX']);
  if (made.status !== 0) throw new Error(`mktemp: ${made.output}`);
  const path = made.output.trim();
  try {
    await fn(path);
  } finally {
    await runProgram(['rm', '-rf', path]);
  }
}

/** Writes a file's bytes on either engine (replacing it). */
export async function writeBytes(path: string, bytes: Uint8Array): Promise<void> {
  if (engine === 'node') (await import('node:fs')).writeFileSync(path, bytes);
  else (await import('lin/process')).writeFileAtomic(path, bytes);
}

/** Loads a JSON vector file compiled to an ES module by scripts/setup.mjs (test/vectors/<path>.json). */
export async function loadVectors<T = any>(path: string): Promise<T> {
  return (await import(`./vectors/${path}.js`)).default as T;
}
