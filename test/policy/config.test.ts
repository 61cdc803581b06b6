/**
 * Configuration validation: precise errors (JSON path, expected, got), all at once, for the
 * manual-keying document; a valid document comes back typed.
 */
import { ConfigError } from '../../src/config/validate.js';
import { validateManualKeying } from '../../src/config/manual-keying.js';
import { equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

const good = {
  sas: [{ spi: 4097, protocol: 'esp', mode: 'tunnel', source: '192.0.2.1', destination: '198.51.100.2', encryption: 'aes128gcm16', encryptionKey: '11'.repeat(20) }],
  policies: [{ name: 'site', direction: 'out', local: '10.1.0.0/16', remote: '10.2.0.0/16', action: 'protect', spi: 4097 }],
};

test('config: a valid manual-keying document is accepted and typed', () => {
  const config = validateManualKeying(good);
  equal(config.sas[0].spi, 4097);
  equal(config.policies[0].action, 'protect');
  equal(validateManualKeying({}).sas.length, 0, 'both lists are optional');
});

test('config: every problem is reported with its JSON path, what was expected and what was found', () => {
  const bad = {
    sas: [
      { ...good.sas[0], spi: 255, mode: 'tunel', source: '192.0.2.300', encryptionKey: '11'.repeat(16) },
      { spi: 5000, protocol: 'esp', mode: 'transport', source: '::1', destination: '::2', encryption: 'aes128', encryptionKey: '22'.repeat(16) },
      { spi: 6000, protocol: 'ah', mode: 'tunnel', source: '10.0.0.1', destination: '10.0.0.2', integirty: 'sha256' },
    ],
    policies: [{ name: 'x', direction: 'sideways', local: '10.0.0.0/33', remote: 'any', action: 'protect' }],
  };
  const e = throws(() => validateManualKeying(bad), ConfigError) as ConfigError;
  const lines = e.message.split('\n');
  const expect = [
    '$.sas[0].spi: expected an SPI from 256 to 4294967295 (1-255 are reserved, RFC 4303 §2.1), got 255',
    '$.sas[0].mode: expected one of "tunnel", "transport", got "tunel"',
    '$.sas[0].source: expected an IPv4 or IPv6 address, got "192.0.2.300"',
    '$.sas[0].encryptionKey: expected 20 bytes (40 hex digits) for aes128gcm16, got 16 bytes',
    '$.sas[1].integrity: expected an integrity algorithm to go with aes128, got nothing',
    '$.sas[2].integirty: expected no such key',
    '$.sas[2].integrity: expected an integrity algorithm for an AH SA, got nothing',
    '$.policies[0].direction: expected one of "out", "in", got "sideways"',
    '$.policies[0].local: expected an address, prefix',
    '$.policies[0].remote: expected an address, prefix',
  ];
  for (const line of expect) ok(lines.some((l) => l.startsWith(line)), `missing "${line}" in:\n${e.message}`);
  equal(e.problems.length, expect.length, e.message);
  throws(() => validateManualKeying([]), /\$: expected an object, got \[\]/);
  const key = 'ab'.repeat(19) + 'a';
  const leak = throws(() => validateManualKeying({ sas: [{ ...good.sas[0], encryptionKey: key }] }), ConfigError);
  equal(leak.message.split('\n')[0], '$.sas[0].encryptionKey: expected an even number of hex digits, got "<secret>"');
  ok(!leak.message.includes(key.slice(0, 8)), 'a key is never shown');
  throws(() => validateManualKeying({ sas: {} }), /\$\.sas: expected an array, got \{\}/);
});

test('config: the embedded two-site configuration is valid; xs-ipsec check reports every problem and exits 1', async () => {
  const { validateGatewayConfig } = await import('../../src/config/gateway-config.js');
  const { runProgram, testDirectory } = await import('../engine.js');
  const root = testDirectory.replace(/\/build\/js\/test$/, '');
  for (const site of ['site-a', 'site-b']) {
    const r = await runProgram(['cat', `${root}/config/${site}.json`]);
    const config = validateGatewayConfig(JSON.parse(r.output));
    equal(config.sas.length, 2, site);
    equal(config.tunnel.mtu, 1400);
  }
  throws(() => validateGatewayConfig({ tunnel: { name: 'a-name-longer-than-15', address: '10.0.0.1/8' }, localAddresses: [] }), /\$\.tunnel\.name: expected an interface name/);
  const good = await runProgram(['node', `${root}/bin/xs-ipsec.js`, 'check', '--config', `${root}/config/site-a.json`]);
  equal(good.status, 0, good.output);
  ok(/valid: tunnel xsipsec0 10\.1\.0\.1\/16, 2 SAs, 2 policies/.test(good.output), good.output);
  const missing = await runProgram(['node', `${root}/bin/xs-ipsec.js`, 'check', '--config', `${root}/no-such.json`]);
  equal(missing.status, 2, missing.output);
});
