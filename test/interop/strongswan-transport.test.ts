/**
 * More of our IKEv2 engine against strongSwan 5.9.8 (see ./strongswan.test.ts for the matrix):
 *
 *   - keys: with key logging on, our Wireshark tables (ikev2_decryption_table, esp_sa) hold
 *     exactly the SK_e/SK_a and ESP keys strongSwan logs at level 4 for the same SAs: both
 *     sides derived the same keys (RFC 7296 §2.14, §2.17), and our tables are right;
 *   - a real NAT: the device behind a masquerading router (iptables in a third namespace)
 *     detects it (NAT_DETECTION_*, §2.23), floats to 4500, encapsulates ESP in UDP, and sends
 *     NAT-T keepalives (RFC 3948 §2.3) that keep the mapping open for pings from strongSwan;
 *   - custom ports: IKE and ESP on one port (4600) on both sides, behind the non-ESP marker.
 *
 * Root and strongSwan needed (CI has both), else skipped with the reason.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { start, twoSites } from '../gateway/sites.js';
import { ourConfig, PSK, waitOurs, writeOurs, type Case } from './ours.js';
import { swanConfig, swanctl, swanDir, swanExitReason, swanInitiate, swanStart, swanTest, swanWaitSa, type SwanOptions } from './swan.js';


function swanSide(c: Case, more: Partial<SwanOptions> = {}): SwanOptions {
  return {
    name: 'hq', local_addrs: '192.0.2.2', remote_addrs: '192.0.2.1', local_id: '@hq.example.com', remote_id: '@sensor.example.com',
    psk: PSK, proposals: c.ike, encap: true, inner: '10.2.0.1', ...more,
    child: { name: 'net', local_ts: '10.2.0.0/16', remote_ts: '10.1.0.0/16', esp_proposals: c.esp, ...more.child },
  };
}

async function run(script: string, timeoutMs = 60_000): Promise<string> {
  const result = await runProgram(['sh', '-c', script], timeoutMs);
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
  return result.output;
}

/** The keys of a strongSwan level-4 log: "NAME => N bytes @ 0x..." then hex dump lines. */
function loggedKeys(log: string, names: string[]): Record<string, string> {
  const lines = log.split('\n');
  const keys: Record<string, string> = {};
  lines.forEach((line, i) => {
    for (const name of names) {
      const m = new RegExp(`\\] (?:<[^>]*> )?${name} => (\\d+) bytes`).exec(line);
      if (!m || keys[name]) continue;
      let hex = '';
      for (let j = i + 1; j < lines.length && hex.length < Number(m[1]) * 2; j++) {
        const dump = /\](?: <[^>]*>)?\s+\d+: ((?:[0-9A-F]{2} ?)+)/.exec(lines[j]);
        if (!dump) break;
        hex += dump[1].replace(/ /g, '').toLowerCase();
      }
      keys[name] = hex.slice(0, Number(m[1]) * 2);
    }
  });
  return keys;
}

swanTest('interop keys: our ikev2_decryption_table and esp_sa hold exactly the keys strongSwan logs for the same SAs (RFC 7296 §2.14, §2.17)', async () => {
  const r = uniqueId();
  const c: Case = { ike: 'aes256-sha256-modp2048', esp: 'aes256-sha256', initiator: 'strongswan' };
  const ours = ourConfig(c) as { logging: Record<string, unknown> };
  ours.logging.keylog = true;
  const dir = swanDir('$B');
  const output = await run(`${twoSites('xk', r)}
${writeOurs(ours, '/tmp/$A.json')}
${swanStart('$B', dir, swanConfig(swanSide(c, { log: { ike: 4, chd: 4 } })))}
mkdir -p /tmp/$A.keys
export XS_IPSEC_KEYLOG_DIR=/tmp/$A.keys
${start('$A', '/tmp/$A.json')}
sleep 0.3
${swanInitiate(dir, 'net')}
${swanWaitSa(dir, 'net', 10)}
${waitOurs(10)}
ip netns exec $B ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 > /dev/null || exit 82
echo "=== ikev2_decryption_table"; cat /tmp/$A.keys/ikev2_decryption_table
echo "=== esp_sa"; cat /tmp/$A.keys/esp_sa
echo "=== charon"; grep -A3 -E "(Sk_[ea][ir] secret|(encryption|integrity) (initiator|responder) key) =>" ${dir}/charon.log
echo "=== end"
exit 0
`);
  const part = (from: string, to: string) => output.slice(output.indexOf(from), output.indexOf(to));
  const ike = part('=== ikev2_decryption_table', '=== esp_sa');
  const esp = part('=== esp_sa', '=== charon');
  const logged = loggedKeys(part('=== charon', '=== end'), ['Sk_ei secret', 'Sk_er secret', 'Sk_ai secret', 'Sk_ar secret', 'encryption initiator key', 'encryption responder key', 'integrity initiator key', 'integrity responder key']);
  for (const [name, hex] of Object.entries(logged)) ok(hex.length >= 32, `strongSwan logged ${name}: ${hex}\n${output}`);
  ok(Object.keys(logged).length === 8, `strongSwan logged 8 keys:\n${JSON.stringify(logged)}\n${output}`);
  // ikev2_decryption_table: SPIi,SPIr,SK_ei,SK_er,"enc",SK_ai,SK_ar,"integ" (our keys from our derivation)
  const fields = ike.split('\n').find((l) => l.includes(','))!.split(',');
  ok(fields[2] === logged['Sk_ei secret'] && fields[3] === logged['Sk_er secret'], `SK_ei/SK_er agree:\n${ike}\n${JSON.stringify(logged)}`);
  ok(fields[5] === logged['Sk_ai secret'] && fields[6] === logged['Sk_ar secret'], `SK_ai/SK_ar agree:\n${ike}\n${JSON.stringify(logged)}`);
  for (const name of ['encryption initiator key', 'encryption responder key', 'integrity initiator key', 'integrity responder key']) {
    ok(esp.includes(`0x${logged[name]}`), `${name} in our esp_sa:\n${esp}\n${logged[name]}`);
  }
});

swanTest('interop NAT: behind a masquerading router the device detects the NAT, floats to 4500, sends keepalives, and strongSwan reaches it through the mapping (RFC 7296 §2.23, RFC 3948)', async () => {
  const r = uniqueId();
  const c: Case = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', initiator: 'us', ours: { keep_alive: '1s' } };
  const ours = ourConfig(c) as { localAddresses: string[]; connections: { hq: Record<string, unknown> } };
  ours.localAddresses = ['10.9.0.2'];
  ours.connections.hq.local_addrs = '10.9.0.2';
  const dir = swanDir('$B');
  // $A (device, 10.9.0.2) -- $N (router: 10.9.0.1, 192.0.2.3, MASQUERADE) -- $B (strongSwan, 192.0.2.2)
  const output = await run(`
A=xna${r}; N=xnn${r}; B=xnb${r}
CLEANUP_HOOKS=
cleanup() { eval "$CLEANUP_HOOKS"; kill $(cat /tmp/$A.pid 2>/dev/null) 2>/dev/null; sleep 0.2; ip netns del $A; ip netns del $N; ip netns del $B; rm -rf /tmp/$A.* /tmp/$B.*; }
trap cleanup EXIT; trap "exit 1" INT TERM
ip netns add $A && ip netns add $N && ip netns add $B || exit 90
ip link add xnva${r} netns $A type veth peer name xnvn${r} netns $N || exit 91
ip link add xnvo${r} netns $N type veth peer name xnvb${r} netns $B || exit 91
for ns in $A $N $B; do ip -n $ns link set lo up; done
ip -n $A addr add 10.9.0.2/24 dev xnva${r}; ip -n $A link set xnva${r} up; ip -n $A route add default via 10.9.0.1
ip -n $N addr add 10.9.0.1/24 dev xnvn${r}; ip -n $N link set xnvn${r} up
ip -n $N addr add 192.0.2.3/24 dev xnvo${r}; ip -n $N link set xnvo${r} up
ip -n $B addr add 192.0.2.2/24 dev xnvb${r}; ip -n $B link set xnvb${r} up
ip netns exec $N sysctl -qw net.ipv4.ip_forward=1
ip netns exec $N iptables -t nat -A POSTROUTING -o xnvo${r} -j MASQUERADE || { echo "no NAT here"; exit 92; }
# count the keepalives the router forwards: UDP to 4500 with one byte of payload (IP length 29)
ip netns exec $N iptables -A FORWARD -p udp --dport 4500 -m length --length 29 -j ACCEPT
${writeOurs(ours, '/tmp/$A.json')}
${swanStart('$B', dir, swanConfig(swanSide(c, { remote_addrs: '%any', encap: false })))}
${start('$A', '/tmp/$A.json')}
${swanWaitSa(dir, 'net', 15)}
${waitOurs(10)}
sleep 3.5
ip netns exec $B ping -c 2 -i 0.3 -W 2 -I 10.2.0.1 10.1.0.1 > /dev/null || { echo "strongSwan's ping did not reach the device"; cat /tmp/$A.log; exit 83; }
ip netns exec $A ping -c 2 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1 > /dev/null || { echo "the device's ping did not reach strongSwan"; exit 84; }
echo "keepalives forwarded: $(ip netns exec $N iptables -L FORWARD -v -n -x | awk '/length 29/ {print $1}')"
echo "=== strongSwan"; ${swanctl(dir, '--list-sas')}
echo "=== ours"; cat /tmp/$A.log
exit 0
`);
  ok(/\[IKE\] hq\[1\] NAT detected: local host is behind NAT/.test(output), `we saw our NAT:\n${output}`);
  ok(/switching to port 4500 -> 4500/.test(output), output);
  ok(/remote 'sensor\.example\.com' @ 192\.0\.2\.3\[\d+\]/.test(output), `strongSwan sees the router's address:\n${output}`);
  ok(/net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP/.test(output), output);
  const keepalives = Number(/keepalives forwarded: (\d+)/.exec(output)?.[1] ?? 0);
  ok(keepalives >= 2, `keepalives every second through the NAT: ${keepalives}\n${output}`);
});

swanTest('interop custom ports: IKE and ESP share UDP 4600 on both sides (non-ESP marker from the first message)', async () => {
  const r = uniqueId();
  const c: Case = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', initiator: 'strongswan', daemon: { port: 4600, port_nat_t: 4600 } };
  const dir = swanDir('$B');
  const output = await run(`${twoSites('xp', r)}
${writeOurs(ourConfig(c), '/tmp/$A.json')}
${swanStart('$B', dir, swanConfig(swanSide(c, { local_port: 4600, remote_port: 4600 })))}
${start('$A', '/tmp/$A.json')}
sleep 0.3
${swanInitiate(dir, 'net')}
${swanWaitSa(dir, 'net', 10)}
${waitOurs(10)}
ip netns exec $A ping -c 2 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1 > /dev/null || exit 82
ip netns exec $B ping -c 2 -i 0.3 -W 2 -I 10.2.0.1 10.1.0.1 > /dev/null || exit 83
echo "=== strongSwan"; ${swanctl(dir, '--list-sas')}
echo "=== ours"; cat /tmp/$A.log
exit 0
`);
  ok(/local +'hq\.example\.com' @ 192\.0\.2\.2\[4600\]/.test(output) && /remote 'sensor\.example\.com' @ 192\.0\.2\.1\[4600\]/.test(output), `both on 4600:\n${output}`);
  ok(/listening on UDP 4600 \(IKE and ESP\)/.test(output), output);
  ok(/IKE_SA established/.test(output), output);
});

swanTest('interop trap: the device\'s first packet toward headquarters brings the tunnel up (start_action = trap, acquire)', async () => {
  const r = uniqueId();
  const c: Case = { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', initiator: 'us', ourChild: { start_action: 'trap' } };
  const dir = swanDir('$B');
  const output = await run(`${twoSites('xt', r)}
${writeOurs(ourConfig(c), '/tmp/$A.json')}
${swanStart('$B', dir, swanConfig(swanSide(c)))}
${start('$A', '/tmp/$A.json')}
sleep 1
echo "IKE SAs before traffic: $(${swanctl(dir, '--list-sas')} | grep -c 'hq: #')"
ip netns exec $A ping -c 6 -i 0.3 -W 2 -I 10.1.0.1 10.2.0.1 | tail -n 2
${swanWaitSa(dir, 'net', 5)}
echo "=== ours"; cat /tmp/$A.log
exit 0
`);
  ok(/IKE SAs before traffic: 0/.test(output), output);
  ok(/trap installed/.test(output) && /acquire for hq\.net/.test(output), output);
  const received = Number(/6 packets transmitted, (\d+) received/.exec(output)?.[1] ?? 0);
  ok(received >= 4, `the first packets may go while the SA is made, the rest pass: ${received} of 6\n${output}`);
});
