/**
 * `xs-ipsec status` of a gateway with an IKE connection, in a namespace this test makes (needs
 * root): the CLI exits 0 (the JSON has the IKE counters, among them `unknownSpi`, which the CLI
 * used to take for a refusal and exit 1), and the gateway on the host built without
 * instrumentation (build/lin/bench, as a device release build: `npm run bench` builds it)
 * answers with `"memory": null` instead of dying on the missing heap figures.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { test } from '../harness.js';
import { BUILD, REPO, start, twoSites } from './sites.js';

const config = {
  tunnel: { name: 'xsipsec0', address: '10.1.0.1/16', routes: ['10.2.0.0/16'] },
  localAddresses: ['192.0.2.1'],
  connections: {
    peers: {
      local_addrs: '192.0.2.1', remote_addrs: '%any', proposals: ['aes128gcm16-prfsha256-x25519'],
      local: { auth: 'psk', id: '@gateway.example.com' }, remote: { auth: 'psk', id: '%any' },
      children: { net: { local_ts: '10.1.0.0/16', remote_ts: '10.2.0.0/16', esp_proposals: ['aes128gcm16'] } },
    },
  },
  secrets: { ike: [{ secret: 'status test secret' }] },
};

test('xs-ipsec status with IKE connections exits 0; the gateway on the uninstrumented (bench) host answers it with memory null and keeps running', async () => {
  const r = uniqueId();
  const cli = `node ${REPO}/bin/xs-ipsec.js`;
  const bench = `${BUILD}/lin/bench/xs-ipsec-lin`;
  const script = `${twoSites('xq', r)}
cat > /tmp/$A.json <<'EOF'
${JSON.stringify(config)}
EOF
${start('$A', '/tmp/$A.json')}
sleep 1
echo "=== release host"
ip netns exec $A ${cli} status || exit 93
kill $(cat /tmp/$A.pid); sleep 0.3
echo "=== bench host"
if [ -x ${bench} ]; then
  ip netns exec $A ${bench} --modules ${BUILD}/xs-modules ${BUILD}/js/hosts/lin/gateway-main.js /tmp/$A.json > /tmp/$A.log 2>&1 & echo $! > /tmp/$A.pid
  sleep 1
  ip netns exec $A ${cli} status || { cat /tmp/$A.log; exit 94; }
  sleep 0.3
  kill -0 $(cat /tmp/$A.pid) || { echo "the gateway died"; cat /tmp/$A.log; exit 95; }
else
  echo "no bench host (npm run bench builds it): not tried"
fi
exit 0
`;
  const result = await runProgram(['sh', '-c', script]);
  ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
  const [release, bench_] = result.output.split('=== bench host');
  ok(/"unknownSpi": 0/.test(release) && /"chunksUsed": \d+/.test(release), `status of the release host:\n${release}`);
  ok(/"memory": null/.test(bench_) || /no bench host/.test(bench_), `status of the bench host:\n${bench_}`);
});
