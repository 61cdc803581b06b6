#!/usr/bin/env node
/**
 * `npm test`: sets everything up (scripts/setup.mjs), then runs the same compiled test files
 * on two engines:
 *   node: node:test (node --test), reporter output on the terminal;
 *   xs:   the desktop XS host, build/js/test/xs-runner.js.
 * Prints one summary line per engine, "node: N passed, M failed" and "xs: N passed, M failed",
 * and exits non-zero on any failure, or when the engines ran different numbers of tests.
 *
 *   npm test [-- FILTER...]   only test files whose path below test/ contains one of the filters
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { JS_OUT, ROOT, setup, XS_HOST, XS_MODULES } from './setup.mjs';

await setup({ tests: true });

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

const filters = process.argv.slice(2);
const files = [...walk(join(JS_OUT, 'test'))]
  .filter((f) => f.endsWith('.test.js'))
  // matched below build/js/test, so a filter never matches the checkout's own path
  .filter((f) => filters.length === 0 || filters.some((x) => relative(join(JS_OUT, 'test'), f).includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

/** Runs a command with its output on our terminal; resolves with its exit code and its stdout. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? 128, signal, out }));
  });
}

console.log(`\n# node: ${files.length} test files`);
const tapFile = join(ROOT, 'build/node-tap.txt');
const node = await run(process.execPath, [
  '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files,
]);
const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const count = (name) => Number((tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const nodePassed = count('pass');
const nodeFailed = count('fail') + count('cancelled') + (node.code !== 0 && count('fail') === 0 ? 1 : 0);

console.log(`\n# xs: ${files.length} test files on ${relative(ROOT, XS_HOST)}`);
const xs = await run(XS_HOST, ['--modules', XS_MODULES, join(JS_OUT, 'test/xs-runner.js'), ...files]);
const summary = xs.out.match(/^xs: (\d+) passed, (\d+) failed$/m);
const xsPassed = summary ? Number(summary[1]) : 0;
const xsFailed = summary ? Number(summary[2]) + (xs.code !== 0 && Number(summary[2]) === 0 ? 1 : 0) : 1;
if (!summary) console.error(`xs host exited ${xs.signal ?? xs.code} before printing its summary`);

console.log('');
console.log(`node: ${nodePassed} passed, ${nodeFailed} failed`);
console.log(`xs: ${xsPassed} passed, ${xsFailed} failed`);
// tests that cannot run here (test/harness.ts skip(): not root, a tool missing), with the reasons above
const nodeSkipped = count('skipped');
const xsSkipped = Number((xs.out.match(/^xs: (\d+) skipped$/m) ?? [])[1] ?? 0);
if (nodeSkipped || xsSkipped) console.log(`skipped: node ${nodeSkipped}, xs ${xsSkipped}`);
if (nodePassed + nodeFailed !== xsPassed + xsFailed) {
  console.error(`the engines ran different numbers of tests (node ${nodePassed + nodeFailed}, xs ${xsPassed + xsFailed})`);
  process.exit(1);
}
process.exit(nodeFailed || xsFailed ? 1 : 0);
