/**
 * The strongSwan harness (./swan.ts) checked against itself: two charons (5.9.8, kernel-libipsec)
 * in the namespaces of twoSites, B responding and A initiating, PSK with FQDN identities,
 * aes128gcm16-prfsha256-x25519 / ESP aes128gcm16, encap = yes. Ping passes through the tunnel
 * both ways (inner 10.1.0.1 in A, 10.2.0.1 in B, on lo) and swanctl --list-sas shows the SAs
 * on both sides; then the same with IKE fragments forced (charon.fragment_size) seen in both
 * logs, and with custom IKE ports; every option swanConfig writes is checked as text (no root
 * needed) and as charon loads it. Root and strongSwan needed, else skipped with the reason.
 */
import { equal, ok, throws } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { test } from '../harness.js';
import { twoSites } from '../gateway/sites.js';
import { swanConfig, swanctl, swanDir, swanExitReason, swanInitiate, swanStart, swanTest, swanWaitSa, type SwanOptions } from './swan.js';

/**
 * A's PSK is text with what swanctl.conf must quote and escape (`"`, `\`, `#`, spaces); B's
 * is the same bytes in hex (0x...): the SAs come up only if charon read A's text exactly.
 */
const PSK = 'xs-ipsec "harness" #1 \\ check';
const PSK_HEX = `0x${Array.from(new TextEncoder().encode(PSK), (b) => b.toString(16).padStart(2, '0')).join('')}`;

/** the options of side a (initiator) or b (responder), with changes for both */
function side(which: 'a' | 'b', more: Partial<SwanOptions> = {}): SwanOptions {
  const [local, remote, lan, far, inner] = which === 'a'
    ? ['192.0.2.1', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16', '10.1.0.1']
    : ['192.0.2.2', '192.0.2.1', '10.2.0.0/16', '10.1.0.0/16', '10.2.0.1'];
  return {
    name: 'xs',
    local_addrs: local,
    remote_addrs: remote,
    local_id: `@${which}.example`,
    remote_id: `@${which === 'a' ? 'b' : 'a'}.example`,
    psk: which === 'a' ? PSK : PSK_HEX,
    proposals: 'aes128gcm16-prfsha256-x25519',
    encap: true,
    inner,
    ...more,
    child: { local_ts: lan, remote_ts: far, esp_proposals: 'aes128gcm16', ...more.child },
    charon: { ...more.charon },
  };
}

/**
 * Two charons up, A initiates, both wait for the CHILD_SA, ping both ways, then each side's
 * --list-sas after a "=== list-sas X" line; `after` runs before the script ends (charon's
 * files are gone once it has).
 */
async function tunnel(more: Partial<SwanOptions>, after = ''): Promise<{ output: string; sas: Record<'a' | 'b', string> }> {
  const r = uniqueId();
  const [dirA, dirB] = [swanDir('$A'), swanDir('$B')];
  const script = `${twoSites('xw', r)}
${swanStart('$B', dirB, swanConfig(side('b', more)))}
${swanStart('$A', dirA, swanConfig(side('a', more)))}
${swanInitiate(dirA, 'xs')}
${swanWaitSa(dirA, 'xs', 5)}
${swanWaitSa(dirB, 'xs', 5)}
echo "=== ping A -> B"
ip netns exec $A ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || exit 1
echo "=== ping B -> A"
ip netns exec $B ping -c 2 -i 0.2 -W 2 -I 10.2.0.1 10.1.0.1 || exit 2
echo "=== list-sas a"
${swanctl(dirA, '--list-sas')}
echo "=== list-sas b"
${swanctl(dirB, '--list-sas')}
echo "=== end"
${after}
exit 0
`;
  const result = await runProgram(['sh', '-c', script], 30_000);
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
  const between = (from: string, to: string) => result.output.slice(result.output.indexOf(from), result.output.indexOf(to));
  const sas = { a: between('=== list-sas a', '=== list-sas b'), b: between('=== list-sas b', '=== end') };
  for (const [which, text] of Object.entries(sas)) {
    ok(/^xs: #\d+, ESTABLISHED, IKEv2/m.test(text), `IKE_SA established on ${which}:\n${result.output}`);
    ok(/AES_GCM_16-128\/PRF_HMAC_SHA2_256\/CURVE_25519/.test(text), `IKE proposal on ${which}:\n${text}`);
    ok(/^ +xs: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128/m.test(text), `CHILD_SA installed on ${which}:\n${text}`);
  }
  ok(/local +'a\.example' @ 192\.0\.2\.1\[4500\]/.test(sas.a) && /remote +'b\.example' @ 192\.0\.2\.2\[4500\]/.test(sas.a), `A's identities and ports:\n${sas.a}`);
  ok(/local +'b\.example' @ 192\.0\.2\.2\[4500\]/.test(sas.b) && /remote +'a\.example' @ 192\.0\.2\.1\[4500\]/.test(sas.b), `B's identities and ports:\n${sas.b}`);
  ok(/local +10\.1\.0\.0\/16\n +remote 10\.2\.0\.0\/16/.test(sas.a) && /local +10\.2\.0\.0\/16\n +remote 10\.1\.0\.0\/16/.test(sas.b), `traffic selectors:\n${result.output}`);
  ok((result.output.match(/2 packets transmitted, 2 received/g) ?? []).length === 2, `ping both ways:\n${result.output}`);
  return { output: result.output, sas };
}

swanTest('strongSwan harness: two charons (B responds, A initiates), PSK with FQDN ids, x25519 + AES-GCM, encap: ping both ways, --list-sas on both', async () => {
  await tunnel({});
});

swanTest('strongSwan harness: charon.fragment_size 200 splits IKE_AUTH into fragments both ways, reassembled on the other side', async () => {
  const grep = (dir: string) => `grep -E 'fragment|EF\\(|sending packet' "${dir}/charon.log"`;
  const logs = `echo "=== log a"; ${grep(swanDir('$A'))}; echo "=== log b"; ${grep(swanDir('$B'))}; echo "=== logs end"`;
  const { output } = await tunnel({ fragmentation: 'yes', charon: { fragment_size: 200 } }, logs);
  const log = { a: output.slice(output.indexOf('=== log a'), output.indexOf('=== log b')), b: output.slice(output.indexOf('=== log b'), output.indexOf('=== logs end')) };
  // 5.9.8's words: "splitting IKE message (263 bytes) into 2 fragments", then "generating IKE_AUTH
  // request 1 [ EF(1/2) ]" per fragment; the receiver: "received fragment #1 of 2, waiting for
  // complete IKE message", "received fragment #2 of 2, reassembled fragmented IKE message (263 bytes)"
  for (const [from, to, message] of [['a', 'b', 'request'], ['b', 'a', 'response']] as const) {
    const split = log[from].match(/splitting IKE message \((\d+) bytes\) into (\d+) fragments/);
    ok(split && Number(split[2]) >= 2, `${from} split its IKE_AUTH ${message}:\n${output}`);
    ok(log[from].includes(`generating IKE_AUTH ${message} 1 [ EF(1/${split![2]}) ]`), `${from} sent EF(1/${split![2]}):\n${output}`);
    // charon's worker threads may take the fragments in any order: the last one taken reassembles
    ok(new RegExp(`received fragment #\\d+ of ${split![2]}, reassembled fragmented IKE message \\(${split![1]} bytes\\)`).test(log[to]), `${to} reassembled the ${split![1]} bytes:\n${output}`);
  }
  // every IKE packet after IKE_SA_INIT (which RFC 7383 never fragments) fits 200 bytes: 20 IP + 8 UDP + 4 non-ESP marker + the logged bytes
  for (const side of ['a', 'b'] as const) {
    const sizes = [...log[side].matchAll(/sending packet: from [\d.]+\[4500\] to [\d.]+\[4500\] \((\d+) bytes\)/g)].map((m) => Number(m[1]));
    ok(sizes.length >= 2 && sizes.every((n) => n + 32 <= 200), `${side}'s IKE packets on 4500 fit 200 bytes: ${sizes}:\n${output}`);
  }
});

swanTest('strongSwan harness: custom IKE ports (A on 4601, B on 4602): IKE and ESP share them, no float to 4500', async () => {
  const ports = (which: 'a' | 'b') => (which === 'a' ? { local_port: 4601, remote_port: 4602 } : { local_port: 4602, remote_port: 4601 });
  const r = uniqueId();
  const script = `${twoSites('xw', r)}
${swanStart('$B', swanDir('$B'), swanConfig(side('b', ports('b'))))}
${swanStart('$A', swanDir('$A'), swanConfig(side('a', ports('a'))))}
${swanInitiate(swanDir('$A'), 'xs')}
${swanWaitSa(swanDir('$B'), 'xs', 5)}
ip netns exec $A ping -c 2 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || exit 1
${swanctl(swanDir('$A'), '--list-sas')}
exit 0
`;
  const result = await runProgram(['sh', '-c', script], 30_000);
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
  ok(/local +'a\.example' @ 192\.0\.2\.1\[4601\]/.test(result.output) && /remote +'b\.example' @ 192\.0\.2\.2\[4602\]/.test(result.output), result.output);
  ok(/2 packets transmitted, 2 received/.test(result.output), result.output);
});

/** every option at once: what swanConfig writes, then (root) what charon makes of it */
const EVERY: SwanOptions = {
  name: 'gw-1', local_addrs: '192.0.2.2', remote_addrs: '192.0.2.1', local_port: 4600, remote_port: 4601,
  proposals: 'aes256-sha256-modp2048, aes128gcm16-prfsha256-ecp256', local_id: 'C=CH, O=xs, CN=gw', remote_id: '@#0a0b0c',
  psk: 'a "quoted" # secret', rekey_time: '2h', reauth_time: 0, over_time: 60, rand_time: 30,
  dpd_delay: 5, dpd_timeout: 20, fragmentation: 'force', encap: true, mobike: false, unique: 'replace', keyingtries: 0,
  child: {
    name: 'net', local_ts: '10.2.0.0/16', remote_ts: '10.1.0.0/16[udp]', esp_proposals: 'aes128-sha256-modp2048',
    start_action: 'trap', mode: 'tunnel', rekey_time: '20m', life_time: 1500, rand_time: 60, dpd_action: 'restart', close_action: 'trap',
  },
  charon: { fragment_size: 576, keep_alive: '10s', retransmit_timeout: 1, retransmit_tries: 2, retransmit_base: 1.4 },
  log: { ike: 4, net: 2 },
  inner: '10.2.0.1',
};

test('strongSwan harness: swanConfig writes swanctl.conf and strongswan.conf from the options (quoting, times, custom ports, secrets)', () => {
  const c = swanConfig(EVERY);
  equal(c.name, 'gw-1');
  equal(c.child, 'net');
  const has = (text: string, line: string) => ok(text.split('\n').some((l) => l.trim() === line), `${JSON.stringify(line)} in:\n${text}`);
  for (const line of ['proposals = "aes256-sha256-modp2048, aes128gcm16-prfsha256-ecp256"', 'local_port = 4600', 'remote_port = 4601',
    'rekey_time = 2h', 'reauth_time = 0s', 'over_time = 60s', 'rand_time = 30s', 'dpd_delay = 5s', 'dpd_timeout = 20s', 'fragmentation = force',
    'encap = yes', 'mobike = no', 'unique = replace', 'keyingtries = 0', 'id = "C=CH, O=xs, CN=gw"', 'id = "@#0a0b0c"', 'net {',
    'remote_ts = "10.1.0.0/16[udp]"', 'start_action = trap', 'rekey_time = 20m', 'life_time = 1500s', 'dpd_action = restart',
    'close_action = trap', 'id-1 = "C=CH, O=xs, CN=gw"', 'id-2 = "@#0a0b0c"', 'secret = "a \\"quoted\\" # secret"']) has(c.swanctlConf, line);
  // custom local port: charon's own port random, the NAT-T one local_port (no float)
  for (const line of ['port = 0', 'port_nat_t = 4600', 'fragment_size = 576', 'keep_alive = 10s', 'retransmit_timeout = 1', 'retransmit_tries = 2',
    'retransmit_base = 1.4', 'ike = 4', 'net = 2', 'cfg = 2', 'path = @DIR@/charon.log', 'socket = unix://@DIR@/charon.vici']) has(c.strongswanConf, line);
  ok(/load = [^\n]*kernel-libipsec kernel-netlink/.test(c.strongswanConf), 'kernel-libipsec before kernel-netlink');
  // the defaults: 500 is no custom port, the harness's short retransmissions, hex PSK as is, no ids in the secret
  const d = swanConfig({ psk: '0x00ff', local_port: 500 });
  ok(!/port/.test(d.strongswanConf) && /retransmit_tries = 3/.test(d.strongswanConf), d.strongswanConf);
  ok(/secret = 0x00ff\n/.test(d.swanctlConf) && !/id-1/.test(d.swanctlConf) && /children \{\n {6}xs \{/.test(d.swanctlConf), d.swanctlConf);
  throws(() => swanConfig({ psk: 'x', name: 'a b' }), /not a plain name/);
  throws(() => swanConfig({ psk: 'x', local_id: 'a\nb' }), /one line/);
  throws(() => swanConfig({ psk: 'x', log: { ike: 5 } }), /-1\.\.4/);
});

swanTest('strongSwan harness: charon 5.9.8 loads every option swanConfig writes', async () => {
  const r = uniqueId();
  const dir = swanDir('$B');
  const script = `${twoSites('xw', r)}
${swanStart('$B', dir, swanConfig(EVERY))}
${swanctl(dir, '--list-conns')}
${swanctl(dir, '--list-pols')}
grep -E '_port = ' "${dir}/charon.log"
ip -n $B -o addr show dev lo
ip netns exec $B sysctl net.ipv6.conf.all.disable_ipv6
exit 0
`;
  const result = await runProgram(['sh', '-c', script], 30_000);
  ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
  // --list-conns, then --list-pols (start_action = trap installed a trap policy), then what
  // charon logged of the ports, the inner address, IPv6 off
  for (const text of ['gw-1: IKEv2, no reauthentication, rekeying every 7200s, dpd delay 5s', 'local:  192.0.2.2', 'remote: 192.0.2.1',
    'id: C=CH, O=xs, CN=gw', 'id: 0a:0b:0c', 'net: TUNNEL, rekeying every 1200s, dpd action is start', 'local:  10.2.0.0/16',
    'remote: 10.1.0.0/16[udp]', 'gw-1/net, TUNNEL', 'local_port = 4600', 'remote_port = 4601', 'inet 10.2.0.1/32', 'disable_ipv6 = 1']) {
    ok(result.output.includes(text), `${JSON.stringify(text)} in:\n${result.output}`);
  }
});
