/**
 * The XS host's exit status can be trusted: a module that throws, a missing import, an
 * unhandled rejection, an exception in a timer and a syntax error each end the process with a
 * non-zero status and print the message (and the JS stack where there is one); a module that
 * finishes its work exits 0. On both engines these run the XS host itself as a child process.
 */
import { equal, ok } from '../assert.js';
import { runXsHost, testDirectory } from '../engine.js';
import { test } from '../harness.js';

const fixture = (name: string) => `${testDirectory}/fixtures/${name}`;

const failures: [string, string, RegExp][] = [
  ['a module that throws', 'throws.js', /TypeError: fixture: bad configuration\n at configure \(\S*throws\.js:3\)/],
  ['a missing import', 'missing-import.js', /no-such-module\.js.*not found/],
  ['an unhandled rejection', 'unhandled-rejection.js', /unhandled rejection: RangeError: fixture: nobody awaits me\n at fail \(\S*unhandled-rejection\.js:3\)/],
  ['an exception in a timer callback', 'timer-throws.js', /uncaught exception: Error: fixture: thrown in a timer/],
  ['a syntax error', 'syntax-error.js', /syntax-error\.js:2: error: missing expression/],
];

for (const [what, file, message] of failures) {
  test(`XS host exits non-zero on ${what}`, async () => {
    const r = await runXsHost([fixture(file)]);
    ok(r.status !== 0, `exit status ${r.status} for ${file}`);
    ok(message.test(r.output), `output of ${file} does not match ${message}: ${JSON.stringify(r.output)}`);
  });
}

test('XS host runs timers (set, repeat, clear, schedule) and exits 0 when idle', async () => {
  const r = await runXsHost([fixture('timers-ok.js')]);
  equal(r.status, 0, `exit status; output ${JSON.stringify(r.output)}`);
  ok(/events a,r1,b,r2,s,r3 elapsed ok/.test(r.output), `timer order: ${JSON.stringify(r.output)}`);
});

test('XS host knows its C stack limit: nesting too deep is a SyntaxError in a regular expression and "xs: stack overflow" in JSON, not a crash', async () => {
  const r = await runXsHost([fixture('deep-nesting.js')]);
  equal(r.status, 1, `exit status; output ${JSON.stringify(r.output)}`);
  ok(/regexp: SyntaxError\n[\s\S]*xs: stack overflow/.test(r.output), `output: ${JSON.stringify(r.output)}`);
});

test('XS host reports a missing entry file and bad usage with status 2', async () => {
  equal((await runXsHost([fixture('does-not-exist.js')])).status, 2);
  equal((await runXsHost(['--no-such-option'])).status, 2);
});
