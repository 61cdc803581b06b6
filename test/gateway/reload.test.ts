/**
 * A wrong key on one side: its packets are dropped and counted as authentication failures
 * (seen through `xs-ipsec status`), nothing crashes, and traffic resumes once the key is
 * fixed and the configuration reloaded (`xs-ipsec reload`). Two simulators in namespaces this
 * test makes; needs root.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { REPO, start, twoSites } from './sites.js';
import { test } from '../harness.js';

test('wrong key: authentication failures counted, no crash; traffic resumes after the fix and a reload', async () => {
  const r = uniqueId();
  const repo = REPO;
  const cli = `node ${repo}/bin/xs-ipsec.js`;
  const script = `${twoSites('xr', r, true)}
cp ${repo}/config/site-a.json /tmp/$A.json
sed 's/"1111111111111111111111111111111111111111"/"3333333333333333333333333333333333333333"/' ${repo}/config/site-b.json > /tmp/$B.json
${start('$A', '/tmp/$A.json')}
${start('$B', '/tmp/$B.json')}
sleep 1
if ip netns exec $A ping -c 2 -W 1 -I 10.1.0.1 10.2.0.1 >/dev/null; then echo "UNEXPECTED: ping with a wrong key"; exit 92; fi
echo "=== status with the wrong key"
ip netns exec $B ${cli} status || exit 93
cp ${repo}/config/site-b.json /tmp/$B.json
echo "=== reload"
ip netns exec $B ${cli} reload || exit 94
ip netns exec $A ping -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || exit 95
kill -0 $(cat /tmp/$A.pid) $(cat /tmp/$B.pid) || { echo "a gateway died"; exit 96; }
exit 0
`;
  const result = await runProgram(['sh', '-c', script]);
  ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
  const status = result.output.slice(result.output.indexOf('=== status'), result.output.indexOf('=== reload'));
  ok(/"spi": "0x1001"[\s\S]*?"auth failure": [1-9]/.test(status), `authentication failures counted on SA 0x1001:\n${status}`);
  ok(/"inboundOpenFailed": [1-9]/.test(status), status);
  ok(/"chunksUsed": \d+/.test(status), 'the status shows XS memory figures');
  ok(/reloaded: 2 SAs/.test(result.output), result.output);
  ok(/\[ESP\] SA 0x1001 dropped: auth failure \+[1-9]/.test(result.output), `the log reports the authentication failures:\n${result.output}`);
  ok(/\[CFG\] configuration reloaded, 2 SAs/.test(result.output), result.output);
  ok(/3 packets transmitted, 3 received/.test(result.output), result.output);
});
