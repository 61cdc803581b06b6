/**
 * The checkout's files as the board tests see them, on either engine: text through `cat`, the
 * list of files through one `find` (the XS host has no directory API), JSON parsed with the
 * file name in the error.
 */
import { equal } from '../assert.js';
import { runProgram, testDirectory } from '../engine.js';

export const root = testDirectory.replace(/\/build\/js\/test$/, '');

export const BOARDS = ['esp32', 'esp32s3', 'esp32c3', 'esp32c6'] as const;

export async function readText(path: string): Promise<string> {
  const r = await runProgram(['cat', `${root}/${path}`]);
  equal(r.status, 0, `cat ${path}: ${r.output}`);
  return r.output;
}

export async function readJson<T = any>(path: string): Promise<T> {
  const text = await readText(path);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

/** Every file of the checkout, relative to its root, without build output, dependencies and git. */
export async function checkoutFiles(): Promise<Set<string>> {
  const r = await runProgram(['sh', '-c', `cd '${root}' && find . \\( -name node_modules -o -name build -o -name .git \\) -prune -o -type f -print`]);
  equal(r.status, 0, r.output);
  return new Set(r.output.split('\n').filter(Boolean).map((p) => p.replace(/^\.\//, '')));
}
