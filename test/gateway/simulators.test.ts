/**
 * Two simulators, each in a network namespace this test makes, joined by a veth pair: each
 * runs the gateway (hosts/lin/gateway-main.ts) with a TUN device and matching static SAs;
 * ping goes both ways through the tunnel, over raw ESP and over UDP 4500. Needs root.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { BUILD, start, twoSites } from './sites.js';

const INTEGRITY = `${BUILD}/js/test/interop/tcp_integrity.py`;
import { test } from '../harness.js';

function config(side: 'a' | 'b', natT: boolean): string {
  const common = { protocol: 'esp', mode: 'tunnel', encryption: 'aes128gcm16', natT: natT ? { sourcePort: 4500, destinationPort: 4500 } : undefined };
  const sas = [
    { ...common, spi: 0x1001, source: '192.0.2.1', destination: '192.0.2.2', encryptionKey: '11'.repeat(20) },
    { ...common, spi: 0x1002, source: '192.0.2.2', destination: '192.0.2.1', encryptionKey: '22'.repeat(20) },
  ];
  const [lan, remote, out, inbound, local] = side === 'a'
    ? ['10.1.0.0/16', '10.2.0.0/16', 0x1001, 0x1002, '192.0.2.1']
    : ['10.2.0.0/16', '10.1.0.0/16', 0x1002, 0x1001, '192.0.2.2'];
  return JSON.stringify({
    tunnel: { name: 'xsipsec0', address: side === 'a' ? '10.1.0.1/16' : '10.2.0.1/16', mtu: 1400, routes: [remote] },
    localAddresses: [local],
    sas,
    policies: [
      { name: 'out', direction: 'out', local: lan, remote, action: 'protect', spi: out },
      { name: 'in', direction: 'in', local: lan, remote, action: 'protect', spi: inbound },
    ],
  });
}

for (const natT of [false, true]) {
  test(`two simulators in namespaces: ping both ways, then iperf3 TCP for 5 s, through the tunnel (${natT ? 'ESP in UDP 4500' : 'raw ESP'})`, async () => {
    const r = uniqueId();
    const script = `${twoSites('xs', r, true)}
cat > /tmp/$A.json <<'EOF_A'
${config('a', natT)}
EOF_A
cat > /tmp/$B.json <<'EOF_B'
${config('b', natT)}
EOF_B
${start('$A', '/tmp/$A.json')}
${start('$B', '/tmp/$B.json')}
sleep 1
ip netns exec $A ping -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || exit 92
ip netns exec $B ping -c 3 -i 0.2 -W 2 -I 10.2.0.1 10.1.0.1 || exit 93
ip netns exec $B iperf3 -s -B 10.2.0.1 -1 -D --logfile /tmp/$B.iperf || exit 94
sleep 0.5
ip netns exec $A iperf3 -c 10.2.0.1 -B 10.1.0.1 -t 5 -J > /tmp/$A.iperf.json || { cat /tmp/$A.iperf.json; exit 95; }
echo "iperf3 bits/s: $(grep -o '"bits_per_second":[^,]*' /tmp/$A.iperf.json | tail -1 | cut -d: -f2 | tr -d ' \t')"
echo "iperf3 retransmits: $(grep -o '"retransmits":[^,]*' /tmp/$A.iperf.json | tail -1 | cut -d: -f2 | tr -d ' \t')"
ip netns exec $B /usr/bin/python3 ${INTEGRITY} server 10.2.0.1 > /tmp/$B.integrity & sleep 0.5
ip netns exec $A /usr/bin/python3 ${INTEGRITY} client 10.2.0.1 10.1.0.1 20000000 || exit 96
sleep 1; cat /tmp/$B.integrity
exit 0
`;
    const result = await runProgram(['sh', '-c', script]);
    ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
    const pings = result.output.match(/3 packets transmitted, 3 received/g) ?? [];
    ok(pings.length === 2, result.output);
    // iperf3 moved data through the tunnel for 5 s
    const rate = Number((result.output.match(/iperf3 bits\/s:\s*([0-9.e+]+)/) ?? [])[1]);
    ok(rate > 1e6, `iperf3 throughput ${rate} bits/s:\n${result.output}`);
    // 20 MB of random bytes arrive intact (what iperf3 does not check)
    const sent = (result.output.match(/sent (\d+) bytes sha256 ([0-9a-f]{64})/) ?? []).slice(1).join(' ');
    const received = (result.output.match(/received (\d+) bytes sha256 ([0-9a-f]{64})/) ?? []).slice(1).join(' ');
    ok(sent.length > 0 && sent === received, `sent "${sent}", received "${received}":\n${result.output}`);
    console.log(`iperf3 TCP through the simulators (${natT ? 'UDP 4500' : 'raw ESP'}): ${(rate / 1e6).toFixed(1)} Mbit/s`);
    // the gateways said they were up, with their SAs and policies
    ok((result.output.match(/xs-ipsec \[CFG\] gateway up on xsipsec0 \(10\.[12]\.0\.1\/16, MTU 1400\), 2 SAs, 2 policies/g) ?? []).length === 2, result.output);
  });
}
