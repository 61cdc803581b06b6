/**
 * src/config/device-values.ts: what a device's provisioned values (id, psk, gateway, address),
 * its network address and its board's proposal order change in the built-in gateway document,
 * and that the result is a valid document (checked as the firmware checks it).
 */
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';
import { applyDeviceValues, boardDefaults, gatewayDocument } from '../../src/config/device-values.js';
import { validateGatewayConfig } from '../../src/config/gateway-config.js';

/** a fleet document in the shape of examples/sensor-uplink/manifest.json's config.ipsec */
const fleet = () => ({
  tunnel: { name: 'xsipsec0', address: '10.1.0.100/32', routes: ['10.2.0.0/16'] },
  localAddresses: [] as string[],
  connections: {
    hq: {
      remote_addrs: '192.0.2.2',
      local: { auth: 'psk', id: '@sensor.example.com' },
      remote: { auth: 'psk', id: '@hq.example.com' },
      children: { sensors: { local_ts: '10.1.0.100/32', remote_ts: '10.2.0.0/16', start_action: 'start' } },
    },
  },
  secrets: { ike: [{ id: '@sensor.example.com', secret: 'placeholder' }] },
});

test('device values: none applied leaves the document as it was (a copy)', () => {
  const document = fleet();
  const out = applyDeviceValues(document, {});
  deepEqual(out, document);
  ok(out !== document);
});

test('device values: id, psk, gateway and address replace their fields in every connection; the input is not changed', () => {
  const document = fleet();
  const before = JSON.stringify(document);
  const out = applyDeviceValues(document, { id: '@sensor-17.example.com', psk: '0sc2VjcmV0', gateway: '198.51.100.2', address: '10.1.0.17/24' }) as ReturnType<typeof fleet>;
  equal(JSON.stringify(document), before, 'input unchanged');
  deepEqual(out.connections.hq.local, { auth: 'psk', id: '@sensor-17.example.com' });
  equal(out.connections.hq.remote_addrs, '198.51.100.2');
  deepEqual(out.secrets.ike, [{ id: '@sensor-17.example.com', secret: '0sc2VjcmV0' }], 'the provisioned key replaces the placeholder, for the provisioned id');
  equal(out.tunnel.address, '10.1.0.17/24');
  equal(out.connections.hq.children.sensors.local_ts, '10.1.0.0/24', 'local_ts: the inner address\'s network');
  const config = validateGatewayConfig(out);
  equal(config.connections[0].local.id.text, 'sensor-17.example.com');
  equal(config.secrets.ike.length, 1);
});

test('device values: a PSK without an id serves any peer; the network\'s address fills an empty localAddresses only', () => {
  const out = applyDeviceValues(fleet(), { psk: 'text key', localAddress: '192.0.2.1' });
  deepEqual(out.secrets, { ike: [{ secret: 'text key' }] });
  deepEqual(out.localAddresses, ['192.0.2.1']);
  const listed = applyDeviceValues({ ...fleet(), localAddresses: ['192.0.2.9'] }, { localAddress: '192.0.2.1' });
  deepEqual(listed.localAddresses, ['192.0.2.9'], 'a document that lists its addresses keeps them');
  validateGatewayConfig(out);
});

test('device values: the board\'s proposals serve connections and CHILD_SAs that list none', () => {
  const board = { name: 'esp32', ike_proposals: ['aes128-sha256-x25519'], esp_proposals: ['aes128-sha256'] };
  const document = fleet() as ReturnType<typeof fleet> & { connections: { hq: { proposals?: string[] } } };
  const out = applyDeviceValues(document, { board }) as typeof document & { connections: { hq: { children: { sensors: { esp_proposals?: string[] } } } } };
  deepEqual(out.connections.hq.proposals, ['aes128-sha256-x25519']);
  deepEqual(out.connections.hq.children.sensors.esp_proposals, ['aes128-sha256']);
  const own = fleet() as ReturnType<typeof fleet> & { connections: { hq: { proposals?: string[] } } };
  own.connections.hq.proposals = ['aes256gcm16-prfsha384-ecp384'];
  deepEqual((applyDeviceValues(own, { board }).connections as typeof own.connections).hq.proposals, ['aes256gcm16-prfsha384-ecp384'], 'a connection\'s own proposals win');
  const config = validateGatewayConfig(out);
  equal(config.connections[0].proposals.length, 1);
});

test('device values: malformed connections are left for the validator to report, not a crash', () => {
  const out = applyDeviceValues({ connections: { a: 'nonsense', b: { children: { c: 7 } } }, secrets: 'x' }, { id: '@d', psk: 'k', gateway: '192.0.2.2' });
  deepEqual((out.connections as Record<string, unknown>).a, 'nonsense');
  deepEqual(((out.connections as Record<string, { children: unknown }>).b.children as Record<string, unknown>).c, 7);
  let threw = false;
  try {
    validateGatewayConfig(out);
  } catch (e) {
    threw = Array.isArray((e as { problems?: unknown }).problems);
  }
  ok(threw, 'a ConfigError with its problems');
});

test('device values: the gateway document is mc/config\'s ipsec key when it has one; board defaults only when well-formed', () => {
  deepEqual(gatewayDocument({ ssid: 'x', ipsec: { tunnel: 1 } }), { tunnel: 1 });
  const whole = { tunnel: 1 };
  equal(gatewayDocument(whole), whole);
  deepEqual(boardDefaults({ board: { name: 'esp32c3', ike_proposals: ['a'], esp_proposals: 'b' } }), { name: 'esp32c3', ike_proposals: ['a'], esp_proposals: undefined });
  equal(boardDefaults({}), undefined);
});
