/**
 * The values `xs-ipsec provision` checks before writing anything
 * (src/provision/provision-values.ts), on both engines: accepted values become NVS strings in
 * namespace "xs-ipsec"; every refused identity, PSK (never shown), gateway address and
 * configuration document is one line naming the option. The largest-config case builds a
 * valid document over 3999 bytes of compact JSON.
 */
import { utf8Bytes } from '../../src/crypto/bytes.js';
import { PROVISION_NAMESPACE, provisionItems, type ProvisionInput } from '../../src/provision/provision-values.js';
import { deepEqual, equal, ok } from '../assert.js';
import { exampleConfig, largeConfig } from './configs.js';
import { test } from '../harness.js';

const GOOD: ProvisionInput = { id: '@sensor-17.example.com', psk: '0sc2VjcmV0IHNlY3JldA==', gateway: '198.51.100.2' };

function problems(changes: Partial<ProvisionInput>): string[] {
  return provisionItems({ ...GOOD, ...changes }).problems;
}

test('provision values: accepted values are NVS strings in namespace "xs-ipsec"; the config compact', async () => {
  const text = await exampleConfig();
  const { items, problems: none } = provisionItems({ ...GOOD, config: { text, file: 'example-ike.json' } });
  deepEqual(none, []);
  deepEqual(items.map((i) => [i.namespace, i.key, i.type]), ['id', 'psk', 'gateway', 'config'].map((k) => [PROVISION_NAMESPACE, k, 'string']));
  deepEqual(items.slice(0, 3).map((i) => i.value), [GOOD.id, GOOD.psk, GOOD.gateway]);
  equal(items[3].value, JSON.stringify(JSON.parse(text)));
  for (const gateway of ['10.0.0.1', '198.51.100.2', '0.0.0.0', '255.255.255.255']) {
    deepEqual(problems({ gateway }), [], gateway);
  }
  for (const id of ['@sensor-17.example.com', 'sensor@example.com', '192.0.2.7', '@#0a0b0c']) deepEqual(problems({ id }), [], id);
  for (const psk of ['text secret', '0x00ff00ff', '0sc2VjcmV0']) deepEqual(problems({ psk }), [], 'a psk');
});

test('provision values: refused identities', () => {
  deepEqual(problems({ id: '' }), ['--id "": expected an identity: an address, a name, user@domain, @#hex or type:value']);
  deepEqual(problems({ id: '%any' }), ['--id "%any": the device\'s own identity, not %any']);
  ok(/^--id "bad name": expected a host name/.test(problems({ id: 'bad name' })[0]), problems({ id: 'bad name' })[0]);
  ok(/^--id "C=CH, CN=x": expected no distinguished name/.test(problems({ id: 'C=CH, CN=x' })[0]));
});

test('provision values: refused PSKs, never shown', () => {
  const cases: [string, string][] = [
    ['', '--psk <secret>: expected a secret: text, 0x followed by hex, or 0s followed by base64'],
    ['0xabc', '--psk <secret>: expected an even number of hex digits after 0x'],
    ['0x', '--psk <secret>: expected an even number of hex digits after 0x'],
    ['0s!!secret!!', '--psk <secret>: expected base64 after 0s'],
    ['s'.repeat(4000), '--psk <secret>: 4000 bytes; a Preference string holds at most 3999 (ESP32 NVS: 4000 with its NUL)'],
  ];
  for (const [psk, problem] of cases) {
    deepEqual(problems({ psk }), [problem]);
  }
});

test('provision values: refused gateway addresses', () => {
  for (const gateway of ['192.0.2.300', '2001:db8::1', 'hq.example.com', 'bad_name.example', '', '12345', '10.0.0', '10.0.0.1.', '1.2.3.4/32']) {
    const found = problems({ gateway });
    equal(found.length, 1, `${gateway}: ${found}`);
    ok(found[0].startsWith(`--gateway ${JSON.stringify(gateway)}: expected an IPv4 address`), found[0]);
  }
  ok(/IPv4 only/.test(problems({ gateway: '2001:db8::1' })[0]));
});

test('provision values: refused configuration documents, every problem on its own line', async () => {
  deepEqual(problems({ config: { text: '{"tunnel": ', file: 'c.json' } }).map((p) => p.replace(/: not JSON: .*/, ': not JSON')), ['--config c.json: not JSON']);
  const document = JSON.parse(await exampleConfig());
  document.tunnel.mtu = 10;
  document.connections.hq.proposals = ['nonsense'];
  const found = problems({ config: { text: JSON.stringify(document), file: 'c.json' } });
  ok(found.length >= 2, found.join('\n'));
  ok(found.every((p) => p.startsWith('--config c.json: $.') && !p.includes('\n')), found.join('\n'));
  ok(found.some((p) => p.includes('$.tunnel.mtu')), found.join('\n'));
  // a secret inside the document is not shown either
  const secret = JSON.parse(await exampleConfig());
  secret.secrets.ike[0].secret = '0xabc';
  ok(problems({ config: { text: JSON.stringify(secret), file: 'c.json' } }).every((p) => !p.includes('0xabc')));
  const large = await largeConfig();
  const compact = utf8Bytes(JSON.stringify(JSON.parse(large))).length;
  ok(compact > 3999);
  deepEqual(problems({ config: { text: large, file: 'big.json' } }), [`--config big.json (compact JSON): ${compact} bytes; a Preference string holds at most 3999 (ESP32 NVS: 4000 with its NUL)`]);
  equal(problems({ id: '', psk: '', gateway: '', config: { text: '[', file: 'c' } }).length, 4, 'all problems at once');
});

test('provision values: the inner address (--address) is stored as "address"; refused unless IPv4 with a prefix length', () => {
  const { items, problems: found } = provisionItems({ ...GOOD, address: '10.1.0.17/32' });
  deepEqual(found, []);
  deepEqual(items.map((i) => [i.key, i.value]).slice(3), [['address', '10.1.0.17/32']]);
  for (const address of ['10.1.0.17', '10.1.0.17/33', '10.1.0.17/0', '10.1.0.300/24', '2001:db8::1/64', '10.1.0.17/24/1', 'ten/8', '10.1.0.17/']) {
    const p = problems({ address });
    equal(p.length, 1, `${address}: ${p}`);
    ok(p[0] === `--address ${JSON.stringify(address)}: expected an IPv4 address with its prefix length, e.g. 10.1.0.17/32`, p[0]);
  }
});
