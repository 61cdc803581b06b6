/**
 * The simulator's tunnel interface (lin/tun): inside a network namespace this test makes, the
 * XS host creates a TUN device, and a real ping through it is answered by JS that reads and
 * writes the packets. Needs root (namespaces, CAP_NET_ADMIN), as the simulator tests do.
 */
import { equal, ok } from '../assert.js';
import { runProgram, testDirectory, uniqueId } from '../engine.js';
import { test } from '../harness.js';

test('tunnel interface: pings routed into a TUN device are answered by the XS host', async () => {
  const ns = `xsipsec-tun-${uniqueId()}`;
  const root = testDirectory.replace(/\/js\/test$/, '');
  const host = `${root}/lin/release/xs-ipsec-lin`;
  const script = [
    `ip netns add ${ns}`,
    `ip netns exec ${ns} ip link set lo up`,
    `(ip netns exec ${ns} ${host} --modules ${root}/xs-modules ${testDirectory}/fixtures/tun-echo.js tun7 10.99.0.1/24 & echo $! > /tmp/${ns}.pid)`,
    'sleep 0.5',
    `ip netns exec ${ns} ping -c 3 -i 0.2 -W 2 10.99.0.2; status=$?`,
    `wait $(cat /tmp/${ns}.pid) 2>/dev/null; rm -f /tmp/${ns}.pid`,
    `ip netns del ${ns}`,
    'exit $status',
  ].join('\n');
  const r = await runProgram(['sh', '-c', script]);
  equal(r.status, 0, `ping through the tunnel: ${r.output}`);
  ok(/3 packets transmitted, 3 received/.test(r.output), r.output);
  ok(/tun-echo: answered 3 on tun7/.test(r.output), r.output);
});
