/**
 * The configuration examples: config/example-ike.json is valid and means what the README says,
 * `xs-ipsec check` accepts it, and every JSON block the README marks `<!-- file: PATH -->` is
 * that file, character for character, so the documentation cannot drift from what is tested.
 */
import { validateGatewayConfig } from '../../src/config/gateway-config.js';
import { IdType } from '../../src/config/identity.js';
import { deepEqual, equal, ok } from '../assert.js';
import { runProgram, testDirectory } from '../engine.js';
import { test } from '../harness.js';

const root = testDirectory.replace(/\/build\/js\/test$/, '');

async function read(path: string): Promise<string> {
  const r = await runProgram(['cat', `${root}/${path}`]);
  equal(r.status, 0, `cat ${path}`);
  return r.output;
}

test('config example: config/example-ike.json is valid and typed', async () => {
  const c = validateGatewayConfig(JSON.parse(await read('config/example-ike.json')));
  equal(c.connections.length, 1);
  const hq = c.connections[0];
  deepEqual(hq.proposals.map((p) => p.text), ['aes128gcm16-prfsha256-curve25519', 'aes256-prfsha256-sha256-modp2048']);
  deepEqual([hq.dpd_delay, hq.keep_alive, hq.rekey_time, hq.over_time, hq.rand_time], [30, 20, 14400, 1440, 1440]);
  deepEqual([hq.local.id.type, hq.local.id.text, hq.remote.id.text], [IdType.FQDN, 'branch1.example.com', 'hq.example.com']);
  const child = hq.children[0];
  equal(child.name, 'branch1-hq');
  deepEqual(child.esp_proposals.map((p) => p.text), ['aes128gcm16-curve25519-noesn', 'aes128gcm16-noesn']);
  deepEqual([child.rekey_time, child.life_time, child.rand_time], [3600, 3960, 360]);
  deepEqual([child.start_action, child.dpd_action, child.close_action], ['start', 'restart', 'start']);
  equal(c.secrets.ike[0].ids.length, 2);
  deepEqual([c.logging.levels.ike, c.logging.levels.cfg, c.logging.levels.net, c.logging.keylog], [2, 2, 1, false]);
});

test('config example: xs-ipsec check accepts it', async () => {
  const r = await runProgram(['node', `${root}/bin/xs-ipsec.js`, 'check', '--config', `${root}/config/example-ike.json`]);
  equal(r.status, 0, r.output);
  ok(/valid: tunnel xsipsec0 10\.1\.0\.1\/16, 0 SAs, 0 policies, 1 IKE connections with 1 CHILD_SAs/.test(r.output), r.output);
});

test('config example: the README\'s example blocks are the files they name', async () => {
  const readme = await read('README.md');
  const blocks = [...readme.matchAll(/<!-- file: (\S+) -->\n```(json)?\n([\s\S]*?)\n```/g)];
  deepEqual(blocks.map((b) => b[1]), ['config/example-ike.json', 'config/example-hq-swanctl.conf', 'config/site-a.json', 'examples/sensor-uplink/hq-swanctl.conf']);
  for (const [, path, json, text] of blocks) {
    equal(text, (await read(path)).replace(/\n$/, ''), `README block for ${path}`);
    if (json) validateGatewayConfig(JSON.parse(text));
  }
});
