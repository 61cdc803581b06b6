/**
 * The simulator's `mc/config` (hosts/lin/modules/mc/config.js, hosts/lin/config.c): the JSON
 * object of `xs-ipsec-lin --config FILE`, deeply frozen as mcconfig's generated module is, or a
 * frozen {} without the option; a file that cannot serve stops the host before any JS runs,
 * with status 2 and one line naming the file. Run on both engines through the XS host.
 */
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, runXsHost, testDirectory, withTemporaryDirectory } from '../engine.js';
import { test } from '../harness.js';

const fixture = (name: string) => `${testDirectory}/fixtures/${name}`;

async function printConfig(options: string[]): Promise<{ config: unknown; frozen: boolean }> {
  const r = await runXsHost([...options, fixture('print-config.js')]);
  equal(r.status, 0, `exit status; output ${JSON.stringify(r.output)}`);
  return JSON.parse(r.output);
}

test('mc/config: the --config file, deeply frozen', async () => {
  deepEqual(await printConfig(['--config', fixture('config-site.json')]), {
    config: { gateway: '192.0.2.2', tunnel: { name: 'xsipsec0', routes: ['10.2.0.0/16'] }, retries: 3, verbose: false },
    frozen: true,
  });
});

test('mc/config: without --config, a frozen {}', async () => {
  deepEqual(await printConfig([]), { config: {}, frozen: true });
});

test('mc/config: a file that cannot serve stops the host with status 2 and one line naming it, before the entry runs', async () => {
  const cases: [string, RegExp][] = [
    [fixture('config-malformed.json'), /^xs-ipsec-lin: --config \S*config-malformed\.json: not valid JSON: line 4: .+\n$/],
    [fixture('does-not-exist.json'), /^xs-ipsec-lin: --config \S*does-not-exist\.json: No such file or directory\n$/],
    [fixture('throws.js'), /^xs-ipsec-lin: --config \S*throws\.js: not valid JSON: line 1: .+\n$/],
    [testDirectory, /^xs-ipsec-lin: --config \S+: Is a directory\n$/],
  ];
  for (const [file, message] of cases) {
    const r = await runXsHost(['--config', file, fixture('print-config.js')]);
    equal(r.status, 2, `exit status for ${file}; output ${JSON.stringify(r.output)}`);
    ok(message.test(r.output), `output for ${file}: ${JSON.stringify(r.output)} does not match ${message}`);
  }
});

test('mc/config: a JSON document that is not an object is refused, as a manifest\'s "config" must be one', async () => {
  await withTemporaryDirectory(async (dir) => {
    for (const document of ['[1, 2]', '"text"', 'null', '7']) {
      const made = await runProgram(['sh', '-c', `printf '%s' '${document}' > ${dir}/config.json`]);
      equal(made.status, 0, made.output);
      const r = await runXsHost(['--config', `${dir}/config.json`, fixture('print-config.js')]);
      equal(r.status, 2, `exit status for ${document}; output ${JSON.stringify(r.output)}`);
      equal(r.output, `xs-ipsec-lin: --config ${dir}/config.json: the document must be a JSON object, as a manifest's "config" is\n`);
    }
  });
});

test('xs-ipsec-lin --help documents --config and --preferences', async () => {
  const r = await runXsHost(['--help']);
  equal(r.status, 0);
  ok(/--config FILE .*mc\/config/.test(r.output) && /--preferences DIR .*preference/.test(r.output) && /XS_IPSEC_PREFERENCES/.test(r.output), r.output);
});
