/**
 * Runs test files on the XS host: xs-ipsec-lin --modules build/xs-modules build/js/test/xs-runner.js FILE...
 * Imports every file (they queue their tests through ./harness.js), runs the tests in order,
 * prints one line per test and a last line "xs: N passed, M failed"; exits 1 on any failure.
 */
import { argv, exit, now } from 'lin/process';
import { queuedTests } from './harness.js';

const files = argv().slice(1);
let passed = 0;
let failed = 0;

for (const file of files) {
  try {
    await import(file);
  } catch (e) {
    failed++;
    console.log(`not ok - ${file}: cannot load`);
    console.log(e);
  }
}

for (const { name, fn } of queuedTests) {
  const start = now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${(now() - start).toFixed(0)} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}`);
    console.log(e);
  }
}

console.log(`xs: ${passed} passed, ${failed} failed`);
exit(failed ? 1 : 0);
