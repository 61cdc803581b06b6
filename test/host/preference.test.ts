/**
 * The simulator's `preference` module (hosts/lin/modules/preference.js): Moddable's API with the
 * ESP32's limits, kept in files. On both engines the tests run the XS host on
 * fixtures/preference-ops.js, each with its own store (--preferences DIR under /tmp), and look
 * at the files with ordinary tools: persistence across processes, typed values, refused names,
 * values and types, damaged files, and a crash in the middle of a write.
 */
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, runXsHost, testDirectory, withTemporaryDirectory, xsHostCommand } from '../engine.js';
import { test } from '../harness.js';

const fixture = `${testDirectory}/fixtures/preference-ops.js`;

interface Outcome {
  type?: string;
  value?: unknown;
  error?: string;
  message?: string;
}
/** ["set", domain, key, JS expression] | ["get" | "delete", domain, key] | ["keys", domain] */
type Call = (string | number)[];

/** The calls as an ASCII argument (the fixture's argv crosses exec as bytes). */
const argument = (calls: Call[]) => JSON.stringify(calls).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function outcomes(r: { status: number; output: string }): Outcome[] {
  equal(r.status, 0, `exit status; output ${JSON.stringify(r.output)}`);
  return r.output.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Outcome);
}

/** Runs the calls in one simulator process on the store in dir. */
async function preferences(dir: string, calls: Call[]): Promise<Outcome[]> {
  return outcomes(await runXsHost(['--preferences', dir, fixture, argument(calls)]));
}

const sh = (script: string) => runProgram(['sh', '-c', script]);
const none = { type: 'undefined' };

test('preference: each type reads back as the same type and value', async () => {
  await withTemporaryDirectory(async (dir) => {
    const cases: [string, Outcome][] = [
      ['true', { type: 'boolean', value: true }],
      ['false', { type: 'boolean', value: false }],
      ['0', { type: 'number', value: 0 }],
      ['-0', { type: 'number', value: 0 }],
      ['-1', { type: 'number', value: -1 }],
      ['2147483647', { type: 'number', value: 2147483647 }],
      ['-2147483648', { type: 'number', value: -2147483648 }],
      ['""', { type: 'string', value: '' }],
      ['"h\\u00e9llo \\u{1F600}"', { type: 'string', value: 'h\u00e9llo \u{1F600}' }],
      ['new ArrayBuffer(0)', { type: 'ArrayBuffer', value: [] }],
      ['Uint8Array.of(0, 1, 254, 255).buffer', { type: 'ArrayBuffer', value: [0, 1, 254, 255] }],
    ];
    const got = await preferences(dir, [
      ...cases.map(([expression], i): Call => ['set', 'types', `k${i}`, expression]),
      ...cases.map((_, i): Call => ['get', 'types', `k${i}`]),
    ]);
    deepEqual(got.slice(0, cases.length), cases.map(() => none), 'set returns nothing');
    deepEqual(got.slice(cases.length), cases.map(([, outcome]) => outcome));
  });
});

test('preference: values persist across separate simulator processes; set replaces a value, also by another type', async () => {
  await withTemporaryDirectory(async (dir) => {
    await preferences(dir, [['set', 'wifi', 'ssid', '"linksys"'], ['set', 'wifi', 'channel', '6'], ['set', 'wifi', 'psk', 'Uint8Array.of(7, 7).buffer']]);
    deepEqual(await preferences(dir, [['get', 'wifi', 'ssid'], ['get', 'wifi', 'channel'], ['get', 'wifi', 'psk'], ['keys', 'wifi']]), [
      { type: 'string', value: 'linksys' },
      { type: 'number', value: 6 },
      { type: 'ArrayBuffer', value: [7, 7] },
      { type: 'object', value: ['channel', 'psk', 'ssid'] },
    ]);
    await preferences(dir, [['set', 'wifi', 'channel', '"eleven"']]);
    deepEqual(await preferences(dir, [['get', 'wifi', 'channel'], ['keys', 'wifi']]), [
      { type: 'string', value: 'eleven' },
      { type: 'object', value: ['channel', 'psk', 'ssid'] },
    ]);
  });
});

test('preference: delete removes a key (an absent key or domain is no error); keys lists a domain, sorted', async () => {
  await withTemporaryDirectory(async (dir) => {
    const got = await preferences(dir, [
      ['set', 'one', 'c', '3'], ['set', 'one', 'a', '1'], ['set', 'one', 'b', '2'], ['set', 'two', 'x', 'true'],
      ['delete', 'one', 'b'], ['delete', 'one', 'b'], ['delete', 'nowhere', 'b'],
      ['get', 'one', 'b'], ['get', 'nowhere', 'b'], ['keys', 'one'], ['keys', 'two'], ['keys', 'nowhere'],
    ]);
    deepEqual(got.slice(4), [
      none, none, none, none, none,
      { type: 'object', value: ['a', 'c'] },
      { type: 'object', value: ['x'] },
      { type: 'object', value: [] },
    ]);
  });
});

test('preference: names are 1 to 15 bytes of UTF-8 (ESP32 NVS); any such name works, "/" and "." included', async () => {
  await withTemporaryDirectory(async (dir) => {
    const odd = ['.hidden', '..', 'a/b', '%41', 'sp ace', '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9a', 'fifteen-chars-x'];
    const got = await preferences(dir, [
      ...odd.map((key, i): Call => ['set', 'names', key, String(i)]),
      ['keys', 'names'],
      ...odd.map((key): Call => ['get', 'names', key]),
      ['set', '.', '..', '1'], ['keys', '.'],
    ]);
    deepEqual(got.slice(odd.length), [
      { type: 'object', value: [...odd].sort() },
      ...odd.map((_, i) => ({ type: 'number', value: i })),
      none, { type: 'object', value: ['..'] },
    ]);
    const refused = await preferences(dir, [
      ['set', 'names', 'sixteen-chars-xx', '1'], ['get', 'names', 'sixteen-chars-xx'], ['delete', 'names', 'sixteen-chars-xx'],
      ['set', 'sixteen-chars-xx', 'k', '1'], ['keys', 'sixteen-chars-xx'],
      ['set', 'names', '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', '1'], // 8 characters, 16 bytes
      ['set', 'names', '', '1'], ['keys', ''], ['set', 'names', 'a\u0000b', '1'],
    ]);
    for (const r of refused) ok(r.error === 'RangeError' && /names are 1 to 15 bytes/.test(r.message ?? ''), JSON.stringify(r));
    const notStrings = await preferences(dir, [['get', 'names', 5], ['keys', 5]]);
    for (const r of notStrings) ok(r.error === 'TypeError' && /must be a string/.test(r.message ?? ''), JSON.stringify(r));
  });
});

test('preference: the ESP32 size limits: strings of 3999 bytes of UTF-8, ArrayBuffers of 4000 bytes, int32 integers', async () => {
  await withTemporaryDirectory(async (dir) => {
    const got = await preferences(dir, [
      ['set', 'sizes', 's', '"x".repeat(3999)'], ['set', 'sizes', 'b', 'new ArrayBuffer(4000)'],
      ['set', 'sizes', 's', '"x".repeat(4000)'], ['set', 'sizes', 's', '"\\u00e9".repeat(2000)'],
      ['set', 'sizes', 'b', 'new ArrayBuffer(4001)'],
      ['set', 'sizes', 'i', '2 ** 31'], ['set', 'sizes', 'i', '-(2 ** 31) - 1'],
      ['set', 'sizes', 'z', '"a\\u0000b"'], ['set', 'sizes', 'z', '"\\ud800"'],
      ['get', 'sizes', 's'], ['get', 'sizes', 'b'], ['keys', 'sizes'],
    ]);
    deepEqual(got.slice(0, 2), [none, none]);
    const messages = [/a string of 4000 bytes.*at most 3999/, /a string of 4000 bytes/, /an ArrayBuffer of 4001 bytes.*at most 4000/,
      /2147483648 is outside the int32 range/, /-2147483649 is outside the int32 range/, /holds a NUL/, /not well-formed Unicode/];
    messages.forEach((m, i) => ok(got[2 + i].error === 'RangeError' && m.test(got[2 + i].message ?? ''), `${m}: ${JSON.stringify(got[2 + i])}`));
    equal((got[9].value as string).length, 3999, 'the 3999-byte string is kept');
    equal((got[10].value as number[]).length, 4000, 'the 4000-byte ArrayBuffer is kept');
    deepEqual(got[11].value, ['b', 's'], 'nothing refused was stored');
  });
});

test('preference: other types are refused with a TypeError, and the value in place stays', async () => {
  await withTemporaryDirectory(async (dir) => {
    const wrong = ['1.5', 'NaN', 'Infinity', 'null', 'undefined', '({})', '[1]', 'Uint8Array.of(1)', 'new DataView(new ArrayBuffer(1))',
      '1n', 'Symbol("s")', '() => 1', 'new Date(0)', 'new String("boxed")'];
    const got = await preferences(dir, [['set', 'types', 'k', '7'], ...wrong.map((e): Call => ['set', 'types', 'k', e]), ['get', 'types', 'k']]);
    wrong.forEach((e, i) => ok(got[1 + i].error === 'TypeError' && /not an integer|cannot store/.test(got[1 + i].message ?? ''), `${e}: ${JSON.stringify(got[1 + i])}`));
    deepEqual(got[wrong.length + 1], { type: 'number', value: 7 });
  });
});

test('preference: a truncated, damaged or foreign value file makes get throw an Error naming it; delete and set replace it', async () => {
  await withTemporaryDirectory(async (dir) => {
    await preferences(dir, [['set', 'd', 'cut', '"a value to cut"'], ['set', 'd', 'flip', '"a value to damage"'], ['set', 'd', 'other', '1'], ['set', 'd', 'empty', '1']]);
    const damage = await sh([
      `truncate -s -1 ${dir}/d/cut`,
      `printf X | dd of=${dir}/d/flip bs=1 seek=10 conv=notrunc 2>/dev/null`,
      `echo '{"not": "ours"}' > ${dir}/d/other`,
      `: > ${dir}/d/empty`,
    ].join(' && '));
    equal(damage.status, 0, damage.output);
    const got = await preferences(dir, [['get', 'd', 'cut'], ['get', 'd', 'flip'], ['get', 'd', 'other'], ['get', 'd', 'empty'], ['keys', 'd']]);
    const expected: [string, RegExp][] = [['cut', /truncated/], ['flip', /bad checksum/], ['other', /not a preference file/], ['empty', /not a preference file/]];
    expected.forEach(([key, reason], i) => {
      const r = got[i];
      ok(r.error === 'Error' && r.message?.includes(`Preference d/${key}: ${dir}/d/${key} is damaged`) && reason.test(r.message), `${key}: ${JSON.stringify(r)}`);
    });
    deepEqual(got[4].value, ['cut', 'empty', 'flip', 'other'], 'a damaged value is still a key');
    deepEqual(await preferences(dir, [['delete', 'd', 'cut'], ['set', 'd', 'flip', '"repaired"'], ['get', 'd', 'cut'], ['get', 'd', 'flip']]).then((r) => r.slice(2)),
      [none, { type: 'string', value: 'repaired' }]);
  });
});

test('preference: writes are atomic: a process killed in the middle of a write (ulimit -f) leaves the old value', async () => {
  await withTemporaryDirectory(async (dir) => {
    await preferences(dir, [['set', 'd', 'k', '"old"']]);
    // the 4012-byte value file outgrows the 512-byte limit: SIGXFSZ kills the host mid-write
    const crash = await runProgram(['sh', '-c', 'ulimit -f 1; exec "$@"', 'sh', ...await xsHostCommand(), '--preferences', dir, fixture,
      argument([['set', 'd', 'k', 'new ArrayBuffer(4000)'], ['get', 'd', 'k']])]);
    ok(crash.status !== 0 && !crash.output.includes('"type"'), `the writer was killed: ${JSON.stringify(crash)}`);
    const left = await sh(`ls -A ${dir}/d`);
    ok(/^\.k\.\w{6}$/m.test(left.output), `the crash left a partial temporary file: ${JSON.stringify(left.output)}`);
    deepEqual(await preferences(dir, [['get', 'd', 'k'], ['keys', 'd'], ['set', 'd', 'k', '"new"'], ['get', 'd', 'k']]), [
      { type: 'string', value: 'old' },
      { type: 'object', value: ['k'] },
      none,
      { type: 'string', value: 'new' },
    ]);
  });
});

test('preference: a successful write leaves no temporary file; files are private (0600 in 0700 directories)', async () => {
  await withTemporaryDirectory(async (dir) => {
    const store = `${dir}/store`; // made by the module
    await preferences(store, [['set', 'd', 'a', '1'], ['set', 'd', 'a', '2'], ['set', 'd', 'b', '"psk"'], ['delete', 'd', 'a']]);
    const r = await sh(`ls -A ${store}/d && stat -c %a ${store} ${store}/d ${store}/d/b`);
    deepEqual(r.output.trim().split('\n'), ['b', '700', '700', '600'], r.output);
  });
});

test('preference: the store is --preferences DIR, else $XS_IPSEC_PREFERENCES, else $XDG_STATE_HOME/xs-ipsec/preferences, else ~/.local/state/xs-ipsec/preferences', async () => {
  await withTemporaryDirectory(async (dir) => {
    const host = await xsHostCommand();
    const set = (env: string[], options: string[] = []) =>
      runProgram(['env', '-u', 'XS_IPSEC_PREFERENCES', '-u', 'XDG_STATE_HOME', ...env, ...host, ...options, fixture, argument([['set', 'where', 'k', 'true']])]);
    outcomes(await set([`HOME=${dir}/home`]));
    outcomes(await set([`HOME=${dir}/home`, `XDG_STATE_HOME=${dir}/state`]));
    outcomes(await set([`HOME=${dir}/home`, `XDG_STATE_HOME=${dir}/state`, `XS_IPSEC_PREFERENCES=${dir}/env`]));
    outcomes(await set([`HOME=${dir}/home`, `XDG_STATE_HOME=${dir}/state`, `XS_IPSEC_PREFERENCES=${dir}/env`], ['--preferences', `${dir}/option`]));
    const r = await sh(`cd ${dir} && find . -type f | sort`);
    deepEqual(r.output.trim().split('\n'), [
      './env/where/k',
      './home/.local/state/xs-ipsec/preferences/where/k',
      './option/where/k',
      './state/xs-ipsec/preferences/where/k',
    ]);
  });
});
