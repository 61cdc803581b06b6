/**
 * The simulator's XS heap stays flat under traffic: iperf3 TCP through two simulators for 60 s;
 * the gateway's heap figures (after a collection, through `xs-ipsec status`) at 10 s and at
 * 60 s must not grow with the packets that passed in between. Needs root.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { REPO, start, twoSites } from './sites.js';
import { test } from '../harness.js';

test('XS heap after 60 s of iperf3 traffic through the simulators is flat', async () => {
  const r = uniqueId();
  const repo = REPO;
  const script = `${twoSites('xh', r)}
${start('$A', `${repo}/config/site-a.json`)}
${start('$B', `${repo}/config/site-b.json`)}
sleep 1
ip netns exec $B iperf3 -s -B 10.2.0.1 -1 -D || exit 94
sleep 0.5
ip netns exec $A iperf3 -c 10.2.0.1 -B 10.1.0.1 -t 60 > /tmp/$A.iperf 2>&1 &
IPERF=$!
sleep 10
echo "=== at 10 s"; ip netns exec $A node ${repo}/bin/xs-ipsec.js status | grep -A3 '"memory"'
sleep 50
echo "=== at 60 s"; ip netns exec $A node ${repo}/bin/xs-ipsec.js status | grep -A3 '"memory"'
wait $IPERF
tail -4 /tmp/$A.iperf
exit 0
`;
  const result = await runProgram(['sh', '-c', script], 110_000);
  ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
  const figures = [...result.output.matchAll(/"chunksUsed": (\d+),\s*"slotsUsed": (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  ok(figures.length === 2, result.output);
  const [[chunks10, slots10], [chunks60, slots60]] = figures;
  console.log(`XS heap of the gateway after a collection: at 10 s ${chunks10} B chunks, ${slots10} B slots; at 60 s ${chunks60} B chunks, ${slots60} B slots`);
  // flat: no more than 1% growth while tens of thousands of packets passed
  ok(chunks60 <= chunks10 * 1.01 && slots60 <= slots10 * 1.01, `heap grew: ${JSON.stringify(figures)}\n${result.output}`);
  ok(/sender/.test(result.output), `iperf3 ran: ${result.output}`);
});
