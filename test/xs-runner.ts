/**
 * Runs test files on the XS host: xs-ipsec-lin --modules build/xs-modules build/js/test/xs-runner.js FILE...
 * Imports every file (they queue their tests through ./harness.js), runs the tests in order,
 * prints one line per test and a line "xs: N passed, M failed" (then "xs: K skipped" when tests
 * were skipped, see harness.ts skip()); exits 1 on any failure.
 */
import { argv, exit, now } from 'lin/process';
import Timer from 'timer';
import { queuedTests, TEST_TIMEOUT_MS } from './harness.js';

/** Resolves with the test's outcome, or rejects when it runs past TEST_TIMEOUT_MS. */
function withTimeout(run: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = Timer.set(() => reject(new Error(`test timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
    run.then(
      () => (Timer.clear(timer), resolve()),
      (e) => (Timer.clear(timer), reject(e)),
    );
  });
}

const files = argv().slice(1);
let passed = 0;
let failed = 0;
let skipped = 0;

for (const file of files) {
  try {
    await import(file);
  } catch (e) {
    failed++;
    console.log(`not ok - ${file}: cannot load`);
    console.log(e);
  }
}

for (const { name, fn, skip } of queuedTests) {
  if (skip !== undefined) {
    skipped++;
    console.log(`ok - ${name} # SKIP ${skip}`);
    continue;
  }
  const start = now();
  try {
    await withTimeout(Promise.resolve().then(fn));
    passed++;
    console.log(`ok - ${name} (${(now() - start).toFixed(0)} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}`);
    console.log(e);
  }
}

console.log(`xs: ${passed} passed, ${failed} failed`);
if (skipped) console.log(`xs: ${skipped} skipped`);
exit(failed ? 1 : 0);
