/**
 * outerPeers (src/config/gateway-config.ts): the outer IPv4 addresses a device's tunnel
 * interface must never carry (hosts/esp32/boot.ts passes them to the lwIP tunnel netif as
 * `peers`): single remote_addrs of every connection and the static SAs' far ends.
 */
import { deepEqual } from '../assert.js';
import { test } from '../harness.js';
import { outerPeers, validateGatewayConfig } from '../../src/config/gateway-config.js';

const connection = (child: string, remote_addrs: string | string[]) => ({
  remote_addrs,
  local: { auth: 'psk', id: '@sensor.example.com' },
  remote: { auth: 'psk', id: '@hq.example.com' },
  children: { [child]: { local_ts: '10.1.0.17/32', remote_ts: '10.2.0.0/16' } },
});

test('outer peers: single IPv4 remote_addrs of every connection, once each; prefixes, ranges, %any and IPv6 are no one IPv4 peer', () => {
  const config = validateGatewayConfig({
    tunnel: { name: 'xsipsec0', address: '10.1.0.17/32', routes: ['10.2.0.0/16'] },
    localAddresses: [],
    connections: {
      hq: connection('sensors', ['192.0.2.2', '2001:db8::2', '198.51.100.0/24', '203.0.113.1-203.0.113.9']),
      backup: connection('sensors-backup', ['%any', '192.0.2.3', '192.0.2.2']),
    },
    secrets: { ike: [{ id: '@sensor.example.com', secret: 'placeholder' }] },
  });
  deepEqual(outerPeers(config), ['192.0.2.2', '192.0.2.3']);
});

test('outer peers: the static SAs\' ends that are not this host\'s addresses', () => {
  const sa = (spi: number, source: string, destination: string) => ({
    protocol: 'esp', mode: 'tunnel', encryption: 'aes128gcm16', spi, source, destination, encryptionKey: '11'.repeat(20),
  });
  const config = validateGatewayConfig({
    tunnel: { name: 'xsipsec0', address: '10.1.0.1/16', routes: ['10.2.0.0/16'] },
    localAddresses: ['192.0.2.1'],
    sas: [sa(4097, '192.0.2.1', '192.0.2.2'), sa(4098, '192.0.2.2', '192.0.2.1'), sa(4099, '192.0.2.1', '198.51.100.7')],
    policies: [],
  });
  deepEqual(outerPeers(config), ['192.0.2.2', '198.51.100.7']);
});

test('outer peers: none without connections or static SAs', () => {
  const config = validateGatewayConfig({ tunnel: { name: 'xsipsec0', address: '10.1.0.1/16' }, localAddresses: [] });
  deepEqual(outerPeers(config), []);
});
