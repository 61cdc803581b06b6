/**
 * The cookie defence under a flood (RFC 7296 §2.6): while thousands of IKE_SA_INIT requests a
 * second from spoofed addresses (./ike_flood.py, inside the test's namespaces only) hit our
 * responder (the simulator on XS in $A), a legitimate strongSwan peer in $B still establishes
 * (it answers our COOKIE), the tunnel carries a ping, and our half-open state stays within
 * its limit the whole time. Root and strongSwan needed, else skipped with the reason.
 */
import { ok } from '../assert.js';
import { runProgram, testDirectory, uniqueId } from '../engine.js';
import { REPO, start, twoSites } from '../gateway/sites.js';
import { ourConfig, PSK } from './ours.js';
import { swanConfig, swanctl, swanDir, swanExitReason, swanInitiate, swanStart, swanTest, swanWaitSa } from './swan.js';

const FLOOD = `${testDirectory}/interop/ike_flood.py`;
const RATE = 4000;
const SECONDS = 6;
const HALF_OPEN_LIMIT = 30;

swanTest(`interop: cookie flood, ${RATE} spoofed IKE_SA_INIT/s for ${SECONDS} s: strongSwan still establishes, half-open state stays bounded (RFC 7296 §2.6)`, async () => {
  const r = uniqueId();
  const [ike, esp] = ['aes128gcm16-prfsha256-x25519', 'aes128gcm16'];
  const ours = ourConfig({ ike, esp, initiator: 'strongswan', daemon: { cookie_threshold: 5, init_limit_half_open: HALF_OPEN_LIMIT } });
  const dir = swanDir('$B');
  const status = `ip netns exec $A node ${REPO}/bin/xs-ipsec.js status`;
  const script = `${twoSites('xc', r)}
cat > /tmp/$A.json <<'XS_EOF'
${JSON.stringify(ours)}
XS_EOF
# answers to spoofed addresses go toward $B, which drops them
ip -n $A route add default via 192.0.2.2
${swanStart('$B', dir, swanConfig({
    name: 'hq', local_addrs: '192.0.2.2', remote_addrs: '192.0.2.1', local_id: '@hq.example.com', remote_id: '@sensor.example.com',
    psk: PSK, proposals: ike, encap: true, inner: '10.2.0.1',
    child: { name: 'net', local_ts: '10.2.0.0/16', remote_ts: '10.1.0.0/16', esp_proposals: esp },
  }))}
${start('$A', '/tmp/$A.json')}
sleep 0.5
ip netns exec $B python3 ${FLOOD} 192.0.2.1 ${RATE} ${SECONDS} > /tmp/$A.flood 2>&1 &
FLOOD=$!
sleep 1
${swanInitiate(dir, 'net', 15)}
${swanWaitSa(dir, 'net', 10)}
ip netns exec $A ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > /dev/null || { echo "no ping through the tunnel"; exit 85; }
max=0
while kill -0 $FLOOD 2>/dev/null; do
  h=$(${status} 2>/dev/null | sed -n 's/.*"halfOpen": \\([0-9]*\\).*/\\1/p')
  [ -n "$h" ] && [ "$h" -gt "$max" ] && max=$h
  sleep 0.3
done
echo "flood: $(cat /tmp/$A.flood)"
echo "largest half-open count seen: $max"
echo "=== our status"
${status}
echo "=== strongSwan"
${swanctl(dir, '--list-sas')}
grep -c "received 1 cookie" ${dir}/charon.log | sed 's/^/cookie answers seen by strongSwan: /'
exit 0
`;
  const result = await runProgram(['sh', '-c', script], 90_000);
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
  const out = result.output;
  const sent = Number(/flood: sent (\d+)/.exec(out)?.[1] ?? 0);
  ok(sent >= RATE * SECONDS * 0.5, `the flood sent ${sent} requests:\n${out}`);
  const cookies = Number(/"cookiesSent": (\d+)/.exec(out)?.[1] ?? 0);
  // on 2 busy cores (the flood itself, charon and the simulator share them) the simulator
  // answers about half; what does not fit the socket's queue is dropped by the kernel, which
  // is fine: no state is kept either way
  ok(cookies >= sent * 0.25, `we answered ${cookies} of ${sent} with a COOKIE:\n${out}`);
  const max = Number(/largest half-open count seen: (\d+)/.exec(out)?.[1] ?? -1);
  ok(max >= 0 && max <= HALF_OPEN_LIMIT, `half-open stayed within ${HALF_OPEN_LIMIT}: ${max}\n${out}`);
  ok(/hq: #\d+, ESTABLISHED/.test(out) && /net: #\d+, reqid \d+, INSTALLED/.test(out), `strongSwan established:\n${out}`);
  ok(/"internalErrors": 0/.test(out), out);
});
