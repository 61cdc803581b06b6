/**
 * examples/sensor-uplink's settings check and reading line (examples/sensor-uplink/readings.ts),
 * on both engines: config.sensor as the manifest gives it, and every malformed, missing or
 * out-of-range value refused with its path. The whole example runs against strongSwan in
 * test/interop/sensor-uplink.test.ts.
 */
import { deepEqual, equal, throws } from '../assert.js';
import { test } from '../harness.js';
import { encodeReading, uplinkSettings } from '../../examples/sensor-uplink/readings.js';

test('sensor-uplink settings: the manifest\'s config.sensor is accepted as it is', () => {
  deepEqual(uplinkSettings({ collector: '10.2.0.1', port: 5140, interval: 10, pin: 34 }), { collector: '10.2.0.1', port: 5140, interval: 10 });
});

test('sensor-uplink settings: malformed, missing and out-of-range values are refused, each with its path', () => {
  const good = { collector: '10.2.0.1', port: 5140, interval: 10 };
  const cases: [unknown, RegExp][] = [
    [undefined, /collector: an IPv4 address, got undefined; config\.sensor\.port: .*; config\.sensor\.interval/],
    [{ ...good, collector: '10.2.0.300' }, /^config\.sensor\.collector: an IPv4 address, got "10\.2\.0\.300"$/],
    [{ ...good, collector: '2001:db8::1' }, /^config\.sensor\.collector: an IPv4 address/],
    [{ ...good, collector: 'hq.example.com' }, /^config\.sensor\.collector: an IPv4 address/],
    [{ ...good, collector: 10 }, /^config\.sensor\.collector: an IPv4 address, got 10$/],
    [{ ...good, port: 0 }, /^config\.sensor\.port: a port from 1 to 65535, got 0$/],
    [{ ...good, port: 65536 }, /^config\.sensor\.port: a port from 1 to 65535, got 65536$/],
    [{ ...good, port: '5140' }, /^config\.sensor\.port: a port from 1 to 65535, got "5140"$/],
    [{ ...good, interval: 0 }, /^config\.sensor\.interval: seconds from 0\.1 to 86400, got 0$/],
    [{ ...good, interval: 1e9 }, /^config\.sensor\.interval: seconds from 0\.1 to 86400/],
    [{ ...good, interval: Number.NaN }, /^config\.sensor\.interval: seconds from 0\.1 to 86400, got null$/],
  ];
  for (const [value, message] of cases) throws(() => uplinkSettings(value), message);
});

test('sensor-uplink reading: one JSON line with the device, sequence, uptime to a tenth of a second, sensor, value and unit', () => {
  const line = encodeReading('sensor-17.example.com', 3, 12.345, 'simulated temperature', { value: 21.5, unit: 'celsius' });
  equal(line, '{"device":"sensor-17.example.com","seq":3,"uptime":12.3,"sensor":"simulated temperature","value":21.5,"unit":"celsius"}');
});
