/**
 * Path MTU through real sockets and TUN devices (RFC 4301 §8.1): site A's path toward B is
 * configured smaller than its tunnel MTU, so a ping that fits the tunnel interface but not
 * the path once sealed, sent with DF, is answered by the gateway with ICMP "fragmentation
 * needed" carrying the size that fits; the kernel learns it and refuses larger packets
 * itself. Without DF the same ping passes (the outer packet is fragmented). With no MTU
 * configured, the tunnel interface is sized to what fits. Two simulators in namespaces; root.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { REPO, start, twoSites } from './sites.js';
import { test } from '../harness.js';

test('path MTU: DF packets too big for the SA get ICMP "fragmentation needed" with the size that fits; without DF they pass; an unset tunnel MTU is sized to fit', async () => {
  const r = uniqueId();
  const site = (name: string, tunnel: Record<string, unknown>) =>
    `node -e 'const fs = require("fs"); const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); Object.assign(c.tunnel, JSON.parse(process.argv[2])); if (!("mtu" in JSON.parse(process.argv[2]))) delete c.tunnel.mtu; fs.writeFileSync(process.argv[3], JSON.stringify(c))' ${REPO}/config/${name}.json '${JSON.stringify(tunnel)}'`;
  const script = `${twoSites('xp', r, true)}
${site('site-a', { mtu: 1400, pathMtu: 1300 })} /tmp/$A.json || exit 90
${site('site-b', {})} /tmp/$B.json || exit 90
${start('$A', '/tmp/$A.json')}
${start('$B', '/tmp/$B.json')}
sleep 1
echo "=== DF, too big"
ip netns exec $A ping -c 2 -i 0.3 -W 1 -M do -s 1300 -I 10.1.0.1 10.2.0.1
echo "=== DF, fits"
ip netns exec $A ping -c 1 -W 2 -M do -s 1200 -I 10.1.0.1 10.2.0.1 || exit 92
echo "=== no DF, too big"
ip netns exec $A ping -c 1 -W 2 -M dont -s 1300 -I 10.1.0.1 10.2.0.1 || exit 93
echo "=== B's tunnel"
ip -n $B link show xsipsec0
echo "=== A's counters"
ip netns exec $A node ${REPO}/bin/xs-ipsec.js status || exit 94
exit 0
`;
  const result = await runProgram(['sh', '-c', script]);
  ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
  const tooBig = result.output.slice(result.output.indexOf('=== DF, too big'), result.output.indexOf('=== DF, fits'));
  // 1300 - 20 - 16 (ESP + IV) - 16 (ICV), in 4-byte blocks, minus the 2-byte trailer
  ok(/mtu ?= ?1246/.test(tooBig), `the kernel was told 1246 fits:\n${result.output}`);
  ok(/warning: tunnel MTU 1400 is more than the 1246 bytes/.test(result.output), result.output);
  ok(/"icmpTooBigSent": [1-9]/.test(result.output), result.output);
  ok(/gateway up on xsipsec0 \(10\.2\.0\.1\/16, MTU 1446\)/.test(result.output), `B (raw ESP) sized its tunnel for a 1500 path: 1500 - 20 - 16 - 16 in 4-byte blocks, minus the 2-byte trailer:\n${result.output}`);
  ok(/xsipsec0: <[^>]*> mtu 1446/.test(result.output), result.output);
});
