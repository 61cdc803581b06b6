/**
 * `xs-ipsec provision` as a user runs it, on both engines (the command as a child process):
 * --out writes an NVS image that the independent reader (nvs_read.py) reads back to the same
 * values; --simulator writes the simulator's Preference store, which the XS host then reads
 * with Preference.get (test/fixtures/preference-ops.js), as the firmware does; refused values
 * exit 1 with one line each and write nothing; bad usage exits 2; the PSK never appears in
 * the output. All but the first run scripts/provision.mjs directly: `xs-ipsec` runs the whole
 * setup (tsc) first, which takes seconds per call.
 */
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, runXsHost, testDirectory, withTemporaryDirectory, writeBytes } from '../engine.js';
import { skip, test } from '../harness.js';
import { utf8Bytes } from '../../src/crypto/bytes.js';
import { exampleConfig, largeConfig, root } from './configs.js';

const PSK = '0sc2VjcmV0IHNlY3JldA==';
const VALUES = ['--id', '@sensor-17.example.com', '--psk', PSK, '--gateway', '198.51.100.2'];
const PYTHON = '/usr/bin/python3';
const hasPython = (await runProgram(['sh', '-c', `test -x ${PYTHON} && echo yes`])).output.trim() === 'yes';

const provision = (args: string[]) => runProgram(['node', `${root}/scripts/provision.mjs`, ...args]);

async function readImage(path: string): Promise<Record<string, Record<string, { type: string; value: unknown }>>> {
  const r = await runProgram([PYTHON, `${root}/test/provision/nvs_read.py`, path]);
  equal(r.status, 0, r.output);
  return JSON.parse(r.output).values;
}

async function exists(path: string): Promise<boolean> {
  return (await runProgram(['test', '-e', path])).status === 0;
}

const withPython = hasPython ? test : (name: string) => skip(name, `${PYTHON} is not installed`);

withPython('provision: xs-ipsec provision --out writes an NVS image that reads back to the values', async () => {
  await withTemporaryDirectory(async (dir) => {
    const config = await exampleConfig();
    await writeBytes(`${dir}/config.json`, utf8Bytes(config));
    const r = await runProgram(['node', `${root}/bin/xs-ipsec.js`, 'provision', ...VALUES, '--config', `${dir}/config.json`, '--out', `${dir}/nvs.bin`]);
    equal(r.status, 0, r.output);
    ok(r.output.includes('psk <secret>') && !r.output.includes(PSK) && !r.output.includes('c2VjcmV0'), r.output);
    ok(r.output.includes(`${dir}/nvs.bin: NVS partition image, 24576 bytes (0x6000)`), r.output);
    const size = await runProgram(['stat', '-c', '%s', `${dir}/nvs.bin`]);
    equal(size.output.trim(), '24576');
    deepEqual(await readImage(`${dir}/nvs.bin`), {
      'xs-ipsec': {
        id: { type: 'string', value: '@sensor-17.example.com' },
        psk: { type: 'string', value: PSK },
        gateway: { type: 'string', value: '198.51.100.2' },
        config: { type: 'string', value: JSON.stringify(JSON.parse(config)) },
      },
    });
  });
});

withPython('provision: --size gives the partition size', async () => {
  await withTemporaryDirectory(async (dir) => {
    const r = await provision([...VALUES, '--size', '0x3000', '--out', `${dir}/nvs.bin`]);
    equal(r.status, 0, r.output);
    equal((await runProgram(['stat', '-c', '%s', `${dir}/nvs.bin`])).output.trim(), '12288');
    equal((await readImage(`${dir}/nvs.bin`))['xs-ipsec'].gateway.value, '198.51.100.2');
  });
});

test('provision: --simulator writes the Preference store that the simulator reads', async () => {
  await withTemporaryDirectory(async (dir) => {
    const r = await provision(['--id', '@sensor-17.example.com', '--psk', PSK, '--gateway', '10.0.0.1', '--simulator', `${dir}/prefs`]);
    equal(r.status, 0, r.output);
    ok(!r.output.includes(PSK), r.output);
    const read = await runXsHost(['--preferences', `${dir}/prefs`, `${testDirectory}/fixtures/preference-ops.js`,
      JSON.stringify([['keys', 'xs-ipsec'], ['get', 'xs-ipsec', 'id'], ['get', 'xs-ipsec', 'psk'], ['get', 'xs-ipsec', 'gateway'], ['get', 'xs-ipsec', 'config']])]);
    equal(read.status, 0, read.output);
    deepEqual(read.output.trim().split('\n').map((line) => JSON.parse(line)), [
      { type: 'object', value: ['gateway', 'id', 'psk'] },
      { type: 'string', value: '@sensor-17.example.com' },
      { type: 'string', value: PSK },
      { type: 'string', value: '10.0.0.1' },
      { type: 'undefined' },
    ]);
  });
});

test('provision: refused values exit 1, one line each, nothing written, the PSK not shown', async () => {
  await withTemporaryDirectory(async (dir) => {
    const out = ['--out', `${dir}/nvs.bin`, '--simulator', `${dir}/prefs`];
    const bad = await provision(['--id', 'bad name', '--psk', '0xabc', '--gateway', '192.0.2.300', ...out]);
    equal(bad.status, 1, bad.output);
    deepEqual(bad.output.trim().split('\n').map((l) => l.replace(/: expected .*/, '')), [
      'xs-ipsec provision: --id "bad name"',
      'xs-ipsec provision: --psk <secret>',
      'xs-ipsec provision: --gateway "192.0.2.300"',
    ]);
    ok(!bad.output.includes('0xabc'), bad.output);
    await writeBytes(`${dir}/big.json`, utf8Bytes(await largeConfig()));
    const big = await provision([...VALUES, '--config', `${dir}/big.json`, ...out]);
    equal(big.status, 1, big.output);
    ok(new RegExp(`^xs-ipsec provision: --config ${dir}/big.json \\(compact JSON\\): \\d+ bytes; a Preference string holds at most 3999`).test(big.output), big.output);
    await writeBytes(`${dir}/invalid.json`, utf8Bytes('{"tunnel": {"mtu": 10}}'));
    const invalid = await provision([...VALUES, '--config', `${dir}/invalid.json`, ...out]);
    equal(invalid.status, 1, invalid.output);
    ok(invalid.output.trim().split('\n').every((l) => l.startsWith(`xs-ipsec provision: --config ${dir}/invalid.json: $.`)), invalid.output);
    ok(!await exists(`${dir}/nvs.bin`) && !await exists(`${dir}/prefs`), 'nothing written');
  });
});

test('provision: bad usage exits 2 with the usage', async () => {
  const cases: [string[], string][] = [
    [['--id', 'a.example', '--psk', 'x', '--out', '/tmp/never.bin'], '--gateway is required'],
    [[...VALUES], '--out FILE or --simulator DIR (or both) is required'],
    [[...VALUES, '--out'], '--out needs a value'],
    [[...VALUES, '--colour', 'red', '--out', '/tmp/never.bin'], 'unknown argument "--colour"'],
    [[...VALUES, '--id', 'again', '--out', '/tmp/never.bin'], '--id given twice'],
    [[...VALUES, '--size', '24k', '--out', '/tmp/never.bin'], '--size 24k: a number of bytes (decimal or 0x hex)'],
    [[...VALUES, '--size', '0x2000', '--out', '/tmp/never.bin'], 'NVS partition size 8192: a multiple of 4096 from 0x3000'],
    [[...VALUES, '--config', '/nonexistent.json', '--out', '/tmp/never.bin'], '--config /nonexistent.json: no such file'],
  ];
  for (const [args, message] of cases) {
    const r = await provision(args);
    equal(r.status, 2, `${args.join(' ')}: ${r.output}`);
    ok(r.output.startsWith(`xs-ipsec provision: ${message}`), r.output);
    ok(!r.output.includes(PSK), r.output);
  }
  ok(!await exists('/tmp/never.bin'));
  const help = await provision(['--help']);
  equal(help.status, 0);
  ok(help.output.startsWith('usage: xs-ipsec provision --id ID --psk SECRET --gateway ADDRESS'), help.output);
});
