/**
 * One test API for both engines. On Node, `test()` is node:test's; on XS, tests are queued
 * here and run in order by test/xs-runner.ts. Test files import only this, ./assert.js and
 * ./engine.js, so the same compiled files run unchanged on V8 and on the XS host.
 */
export type TestFunction = () => void | Promise<void>;

interface QueuedTest {
  name: string;
  fn: TestFunction;
  /** why the test is not run here (see skip()) */
  skip?: string;
}

/** Tests registered on XS, in file order; empty on Node. */
export const queuedTests: QueuedTest[] = [];

/** A test that has not finished after this long fails (on both engines) instead of hanging the run. */
export const TEST_TIMEOUT_MS = 120_000;

const nodeTest: ((name: string, options: { timeout: number; skip?: string }, fn: TestFunction) => unknown) | undefined =
  typeof process !== 'undefined' && process.versions?.node ? (await import('node:test')).test : undefined;

export function test(name: string, fn: TestFunction): void {
  if (nodeTest) nodeTest(name, { timeout: TEST_TIMEOUT_MS }, fn);
  else queuedTests.push({ name, fn });
}

/**
 * A test that cannot run on this machine (not root, a tool missing), registered so that the
 * run says so instead of passing silently: node:test reports it skipped with the reason, the XS
 * runner prints "ok - NAME # SKIP reason"; neither counts it as passed.
 */
export function skip(name: string, reason: string): void {
  if (nodeTest) nodeTest(name, { timeout: TEST_TIMEOUT_MS, skip: reason }, () => {});
  else queuedTests.push({ name, fn: () => {}, skip: reason });
}
