/**
 * examples/sensor-uplink as a user runs it, in the simulator against strongSwan:
 *   - headquarters ($B, 192.0.2.2): charon with the example's own hq-swanctl.conf (one
 *     connection for the fleet, a key per device), and the example's collector.mjs on
 *     10.2.0.1:5140;
 *   - the device ($A, 192.0.2.1): the example application (its main.js, with the modules its
 *     manifest maps for the lin platform) on the XS simulator. Its built-in configuration is
 *     the example manifest's `config`, with the classic ESP32 board's (boards/esp32) merged in
 *     as mcconfig merges them, and the interval set to 1 s as on mcconfig's command line; the
 *     device's identity, PSK, gateway address and inner address are provisioned in its
 *     Preference store with `xs-ipsec provision --simulator` (on a device: --out, the NVS image).
 * The device must dial headquarters with the board's first proposals, and the collector must
 * receive consecutive readings from the provisioned inner address, carrying the provisioned
 * identity. Root and strongSwan needed, else skipped with the reason.
 */
import { deepEqual, ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { BUILD, REPO, twoSites } from '../gateway/sites.js';
import { swanConfig, swanctl, swanDir, swanExitReason, swanStart, swanTest } from './swan.js';

const DEVICE = { id: '@sensor-17.example.com', psk: '0sU2Vuc29yIDE3OiBnZW5lcmF0ZSB5b3VyIG93biBrZXk=', gateway: '192.0.2.2', address: '10.1.0.17/32' };

/** shell: writes the device's built-in configuration (mc/config) from the example's and the board's manifests */
function mcConfig(file: string): string {
  const merge = `
const fs = require('fs');
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const app = read('${REPO}/examples/sensor-uplink/manifest.json');
const board = read('${REPO}/boards/esp32/manifest.json');
const config = { ...app.config, ...board.config };
config.sensor = { ...config.sensor, interval: 1 };
fs.writeFileSync('${file}', JSON.stringify(config));`;
  return `node -e "${merge.replace(/"/g, '\\"')}" || exit 70`;
}

swanTest('examples/sensor-uplink: a provisioned device dials strongSwan with the board\'s proposals and its readings reach the collector through the tunnel', async () => {
  const r = uniqueId();
  const dir = swanDir('$B');
  const conf = swanConfig({ name: 'sensors', local_addrs: '192.0.2.2', remote_addrs: '%any', local_id: '@hq.example.com', remote_id: '%any', psk: 'unused', inner: '10.2.0.1', child: { name: 'sensors', local_ts: '10.2.0.0/16', remote_ts: '10.1.0.0/16' } });
  const script = `${twoSites('xu', r)}
${swanStart('$B', dir, { ...conf, swanctlConf: '__HQ__' })}
ip netns exec $B node ${REPO}/examples/sensor-uplink/collector.mjs --address 10.2.0.1 --port 5140 > /tmp/$B.readings 2> /tmp/$B.collector & echo $! > /tmp/$B.pid
${mcConfig('/tmp/$A.mc.json')}
node ${REPO}/scripts/provision.mjs --id ${DEVICE.id} --psk ${DEVICE.psk} --gateway ${DEVICE.gateway} --address ${DEVICE.address} --simulator /tmp/$A.preferences > /tmp/$A.provision 2>&1 || { cat /tmp/$A.provision; exit 71; }
ip netns exec $A ${BUILD}/lin/release/xs-ipsec-lin --modules ${BUILD}/xs-modules --config /tmp/$A.mc.json --preferences /tmp/$A.preferences ${BUILD}/js/examples/sensor-uplink/main.js > /tmp/$A.log 2>&1 & echo $! > /tmp/$A.pid
i=0; until [ $(grep -c '"seq"' /tmp/$B.readings 2>/dev/null || echo 0) -ge 4 ]; do [ $i -ge 200 ] && { echo "fewer than 4 readings after 20 s"; echo "--- device"; cat /tmp/$A.log; echo "--- collector"; cat /tmp/$B.readings /tmp/$B.collector; exit 72; }; sleep 0.1; i=$((i+1)); done
echo "--- strongSwan SAs"
${swanctl(dir, '--list-sas')}
echo "--- readings"
cat /tmp/$B.readings
echo "--- device log"
cat /tmp/$A.log
exit 0
`;
  // the example's swanctl.conf, as the README shows it, in place of the harness's one
  const hq = await runProgram(['cat', `${REPO}/examples/sensor-uplink/hq-swanctl.conf`]);
  ok(hq.status === 0, hq.output);
  const result = await runProgram(['sh', '-c', script.replace('__HQ__', hq.output.endsWith('\n') ? hq.output : `${hq.output}\n`)], 90_000);
  const out = result.output;
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${out}`);
  // strongSwan: the fleet connection, the device's identity, the board's first proposals
  ok(/sensors: #\d+, ESTABLISHED, IKEv2/.test(out), `strongSwan's IKE SA:\n${out}`);
  ok(/remote 'sensor-17\.example\.com' @ 192\.0\.2\.1/.test(out), `the provisioned identity:\n${out}`);
  ok(/AES_CBC-128\/HMAC_SHA2_256_128\/PRF_HMAC_SHA2_256\/CURVE_25519/.test(out), `IKE with the esp32 board's first proposal:\n${out}`);
  ok(/sensors: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128\/HMAC_SHA2_256_128/.test(out), `ESP with the board's first proposal:\n${out}`);
  ok(/remote 10\.1\.0\.17\/32/.test(out), `remote_ts narrowed to the provisioned inner address:\n${out}`);
  // the collector: consecutive readings from the inner address, with the provisioned identity
  const readings = out.slice(out.indexOf('--- readings'), out.indexOf('--- device log')).split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { from: string; device: string; seq: number; value: number; unit: string });
  ok(readings.length >= 4, out);
  for (const reading of readings) {
    deepEqual([reading.from, reading.device, reading.unit], ['10.1.0.17', 'sensor-17.example.com', 'celsius'], JSON.stringify(reading));
    ok(typeof reading.value === 'number' && reading.value > 15 && reading.value < 30, JSON.stringify(reading));
  }
  const seqs = readings.map((x) => x.seq);
  ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1), `consecutive sequence numbers once the tunnel is up: ${seqs}`);
});
