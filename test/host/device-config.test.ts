/**
 * The firmware's configuration document (hosts/moddable/device-config.ts) in the simulator:
 * mc/config's (--config FILE), replaced as a whole by a JSON document provisioned in
 * Preference xs-ipsec/config. Both engines run the XS host on fixtures/print-config.js device
 * (and fixtures/preference-ops.js to provision), each test with its own preference store.
 */
import { deepEqual, equal, ok } from '../assert.js';
import { runXsHost, testDirectory, withTemporaryDirectory } from '../engine.js';
import { test } from '../harness.js';

const fixture = (name: string) => `${testDirectory}/fixtures/${name}`;
const site = { gateway: '192.0.2.2', tunnel: { name: 'xsipsec0', routes: ['10.2.0.0/16'] }, retries: 3, verbose: false };

async function deviceConfig(store: string, options: string[] = [], action: string[] = []): Promise<{ status: number; output: string }> {
  return runXsHost(['--preferences', store, ...options, fixture('print-config.js'), 'device', ...action]);
}

/** Stores a value (a JS expression) in Preference xs-ipsec/config. */
async function provision(store: string, expression: string): Promise<void> {
  const r = await runXsHost(['--preferences', store, fixture('preference-ops.js'), JSON.stringify([['set', 'xs-ipsec', 'config', expression]])]);
  equal(r.output, '{"type":"undefined"}\n', 'the value is stored');
}

test('device config: without a provisioned document, mc/config\'s (the --config file, else {})', async () => {
  await withTemporaryDirectory(async (store) => {
    const withFile = await deviceConfig(store, ['--config', fixture('config-site.json')]);
    equal(withFile.status, 0, withFile.output);
    deepEqual(JSON.parse(withFile.output), { config: site, frozen: true });
    const without = await deviceConfig(store);
    deepEqual(JSON.parse(without.output), { config: {}, frozen: true });
  });
});

test('device config: a document provisioned in Preference xs-ipsec/config replaces mc/config\'s as a whole, deeply frozen', async () => {
  await withTemporaryDirectory(async (store) => {
    const provisioned = { gateway: '198.51.100.7', psk: 'c2VjcmV0', tunnel: { routes: ['10.3.0.0/16'] } };
    await provision(store, JSON.stringify(JSON.stringify(provisioned)));
    const r = await deviceConfig(store, ['--config', fixture('config-site.json')]);
    equal(r.status, 0, r.output);
    deepEqual(JSON.parse(r.output), { config: provisioned, frozen: true });
  });
});

test('device config: an unusable provisioned value is an error that names it, not a silent fallback', async () => {
  await withTemporaryDirectory(async (store) => {
    const cases: [string, RegExp][] = [
      ['"{\\"gateway\\": "', /SyntaxError: Preference xs-ipsec\/config is not valid JSON/],
      ['"[1, 2]"', /TypeError: Preference xs-ipsec\/config must hold a JSON object/],
      ['Uint8Array.of(123, 125).buffer', /TypeError: Preference xs-ipsec\/config holds an ArrayBuffer, not a JSON string/],
      ['1', /TypeError: Preference xs-ipsec\/config holds a number, not a JSON string/],
    ];
    for (const [expression, message] of cases) {
      await provision(store, expression);
      const r = await deviceConfig(store, ['--config', fixture('config-site.json')]);
      ok(r.status === 1 && message.test(r.output), `${expression}: status ${r.status}, output ${JSON.stringify(r.output)}`);
    }
  });
});

test('device config: storeDeviceConfig provisions a document, clearDeviceConfig goes back to mc/config\'s', async () => {
  await withTemporaryDirectory(async (store) => {
    const options = ['--config', fixture('config-site.json')];
    const stored = await deviceConfig(store, options, ['store', '{"gateway":"203.0.113.9"}']);
    deepEqual(JSON.parse(stored.output), { config: { gateway: '203.0.113.9' }, frozen: true }, stored.output);
    deepEqual(JSON.parse((await deviceConfig(store, options)).output).config, { gateway: '203.0.113.9' }, 'kept for the next start');
    const cleared = await deviceConfig(store, options, ['clear']);
    deepEqual(JSON.parse(cleared.output), { config: site, frozen: true }, cleared.output);
    const big = await deviceConfig(store, options, ['store', JSON.stringify({ psk: 'x'.repeat(4000) })]);
    ok(big.status === 1 && /RangeError: Preference: a string of 4010 bytes/.test(big.output), `a document larger than NVS holds: ${JSON.stringify(big.output)}`);
  });
});
