/**
 * The tunnel row of `npm run bench`: iperf3 through a real tunnel, ours against strongSwan, in
 * one run on this machine, so that both sides see the same kernel, CPU and background load.
 *
 *   ours:       two simulators (the XS host built without mxDebug, running the gateway,
 *               hosts/lin/gateway-main.ts) with the static SAs of config/site-{a,b}.json,
 *               switched to ESP in UDP 4500 (NAT-T), AES-128-GCM, TUN MTU 1400;
 *   strongSwan: two charons (5.9.8) with kernel-libipsec, the userspace ESP this kernel needs
 *               (it has no ESP in XFRM), which always puts ESP in UDP 4500; AES-128-GCM, TUN
 *               MTU 1400 (libipsec's default). IKEv2 with a PSK brings the CHILD_SA up.
 *
 * Each side gets two fresh network namespaces joined by a veth pair (192.0.2.1 <-> 192.0.2.2)
 * and the inner addresses 10.1.0.1 and 10.2.0.1, as test/gateway/simulators.test.ts does.
 * Then, interleaved (ours, strongSwan, ours, strongSwan, ...) so that a burst of background
 * load does not hit one side only: iperf3 TCP for N seconds, and iperf3 UDP with 1300-byte
 * datagrams offered as fast as the client can send them (-b 0), receiver-side figures.
 * The machine is a noisy shared 2-core VM: load from elsewhere only ever lowers a run's figures,
 * so each side reports its BEST run (its TCP and UDP runs picked separately); every run is in
 * the JSON.
 *
 * Needs root (namespaces, TUN devices); without root it says so and measures nothing.
 * Namespaces and processes are removed when it ends, also on an error, SIGINT or SIGTERM.
 */
import { strongswanConf as sharedConf } from '../scripts/strongswan-conf.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CHARON = '/usr/lib/ipsec/charon';
const PSK = 'xs-ipsec tunnel bench';
const INNER = { a: '10.1.0.1', b: '10.2.0.1' };
const OUTER = { a: '192.0.2.1', b: '192.0.2.2' };
const SUBNET = { a: '10.1.0.0/16', b: '10.2.0.0/16' };
const other = (side) => (side === 'a' ? 'b' : 'a');

/** strongswan.conf for a bench charon (scripts/strongswan-conf.mjs): `level` for every subsystem, `extra` charon settings */
export const strongswanConf = (dir, options = {}) => sharedConf(dir, { logName: 'bench', ...options });

/**
 * swanctl.conf: one connection, PSK, the bench's proposals. `encap = yes` asks for ESP in UDP
 * even without NAT (libipsec does so anyway); identities are the outer addresses.
 */
const swanctlConf = (side) => `
connections {
  bench {
    version = 2
    local_addrs = ${OUTER[side]}
    remote_addrs = ${OUTER[other(side)]}
    encap = yes
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = ${OUTER[side]}
    }
    remote {
      auth = psk
      id = ${OUTER[other(side)]}
    }
    children {
      bench {
        local_ts = ${SUBNET[side]}
        remote_ts = ${SUBNET[other(side)]}
        esp_proposals = aes128gcm16
        start_action = none
      }
    }
  }
}
secrets {
  ike-bench {
    secret = "${PSK}"
  }
}
`;

/**
 * What this run made (namespaces, processes, files), undone by cleanup(): from the normal end,
 * an exception, process exit, or SIGINT/SIGTERM.
 */
export class Testbed {
  id = randomBytes(3).toString('hex');
  namespaces = [];
  children = [];

  /** `bench` names its directory: /tmp/xs-ipsec-<bench>-bench-XXXXXX */
  constructor(bench = 'tunnel') {
    this.dir = mkdtempSync(join(tmpdir(), `xs-ipsec-${bench}-bench-`));
    this.cleanup = this.cleanup.bind(this);
    this.onSignal = (signal) => {
      this.cleanup();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('exit', this.cleanup);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  cleanup() {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    // give charon and the simulators a moment to close their TUN devices before the
    // namespaces go (spawnSync blocks: this also runs from the 'exit' handler)
    if (this.children.length) spawnSync('sleep', ['0.3']);
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    this.children = [];
    this.namespaces = [];
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.cleanup);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** runs a short command (ip, swanctl, ping), returns its output; throws if it fails */
  run(argv, { env, allowFailure = false } = {}) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0 && !allowFailure) throw new Error(`${argv.join(' ')} failed (exit ${r.status ?? r.signal}):\n${output}`);
    return { ok: r.status === 0, output };
  }

  /** `ip netns exec NS argv...` */
  inNs(ns, argv, options) {
    return this.run(['ip', 'netns', 'exec', ns, ...argv], options);
  }

  /** a long-running process in a namespace, its output in `log`; killed by cleanup() */
  background(ns, argv, log, env) {
    const fd = openSync(log, 'a');
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    closeSync(fd); // the child has its own copy
    this.children.push(child);
    return child;
  }

  /**
   * Two sites: namespaces bt<id><tag>a and bt<id><tag>b, veth 192.0.2.1 <-> 192.0.2.2,
   * loopback up, IPv6 off (else charon sends MOBIKE updates as link-local addresses come and go).
   */
  twoSites(tag) {
    const ns = { a: `bt${this.id}${tag}a`, b: `bt${this.id}${tag}b` };
    for (const side of ['a', 'b']) {
      this.run(['ip', 'netns', 'add', ns[side]]);
      this.namespaces.push(ns[side]);
      this.inNs(ns[side], ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      this.run(['ip', '-n', ns[side], 'link', 'set', 'lo', 'up']);
    }
    const veth = { a: `${ns.a}v`, b: `${ns.b}v` };
    this.run(['ip', 'link', 'add', veth.a, 'netns', ns.a, 'type', 'veth', 'peer', 'name', veth.b, 'netns', ns.b]);
    for (const side of ['a', 'b']) {
      this.run(['ip', '-n', ns[side], 'addr', 'add', `${OUTER[side]}/24`, 'dev', veth[side]]);
      this.run(['ip', '-n', ns[side], 'link', 'set', veth[side], 'up']);
    }
    return ns;
  }
}

/** polls `check` every 100 ms until it returns true or `ms` have passed */
export async function waitFor(check, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return true;
  return check();
}

export const tail = (file, lines = 40) => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : `(no ${file})`);

/**
 * Before measuring: inner traffic from each side must leave through the tunnel device (not
 * some other route) and ping must pass both ways.
 */
function checkTunnel(bed, ns, device, name) {
  for (const side of ['a', 'b']) {
    const to = INNER[other(side)];
    const route = bed.inNs(ns[side], ['ip', 'route', 'get', to, 'from', INNER[side]]).output;
    if (!route.includes(`dev ${device} `)) throw new Error(`${name}: ${to} from ${INNER[side]} is not routed through ${device}:\n${route}`);
    const ping = bed.inNs(ns[side], ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', INNER[side], to], { allowFailure: true });
    if (!ping.ok) throw new Error(`${name}: ping ${INNER[side]} -> ${to} through the tunnel failed:\n${ping.output}`);
  }
}

/**
 * One simulator running the gateway with `config` (written to <name>.json in the testbed's
 * directory, its output in <name>.log) in namespace `ns`, under `prefix` (e.g. taskset) when
 * given; resolves once it says "gateway up".
 */
export async function startSimulator(bed, ns, { xsHost, xsModules, gatewayMain }, config, name, prefix = []) {
  const file = join(bed.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const log = join(bed.dir, `${name}.log`);
  const child = bed.background(ns, [...prefix, xsHost, '--modules', xsModules, gatewayMain, file], log);
  const up = await waitFor(() => child.exitCode === null && existsSync(log) && readFileSync(log, 'utf8').includes('gateway up'), 10_000);
  if (!up) throw new Error(`xs-ipsec simulator in ${ns} did not come up:\n${tail(log)}`);
  return { child, log };
}

/** ours: two simulators running the gateway with config/site-{a,b}.json, switched to NAT-T */
async function startOurs(bed, { xsHost, xsModules, gatewayMain, siteConfig }) {
  const ns = bed.twoSites('x');
  for (const side of ['a', 'b']) {
    const config = JSON.parse(readFileSync(siteConfig(side), 'utf8'));
    // as the NAT-T case of test/gateway/simulators.test.ts: ESP in UDP 4500 both ways
    for (const sa of config.sas) sa.natT = { sourcePort: 4500, destinationPort: 4500 };
    if (config.tunnel.mtu !== 1400) throw new Error(`${siteConfig(side)}: the bench expects TUN MTU 1400, not ${config.tunnel.mtu}`);
    await startSimulator(bed, ns[side], { xsHost, xsModules, gatewayMain }, config, `xs-${side}`);
  }
  checkTunnel(bed, ns, 'xsipsec0', 'xs-ipsec');
  return ns;
}

/**
 * One charon in namespace `ns`, its files in the testbed's directory `name`: strongswan.conf
 * from `conf(dir)`, swanctl.conf `swanctl`; `inner` on lo (this kernel has no dummy links;
 * charon routes the remote subnet through its TUN device, ipsec0, with this address as
 * source). Runs in the foreground with its own /run (ip netns exec gives it a private mount
 * namespace), under `prefix` (e.g. taskset) when given. `loaded()` waits for its vici socket
 * and loads the configuration; `logs()` is the tail of its log and output.
 */
export function startCharon(bed, ns, name, conf, swanctl, inner, prefix = '') {
  const dir = join(bed.dir, name);
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'swanctl'));
  writeFileSync(join(dir, 'strongswan.conf'), conf(dir));
  writeFileSync(join(dir, 'swanctl', 'swanctl.conf'), swanctl);
  const env = { STRONGSWAN_CONF: join(dir, 'strongswan.conf'), SWANCTL_DIR: join(dir, 'swanctl') };
  bed.run(['ip', '-n', ns, 'addr', 'add', `${inner}/32`, 'dev', 'lo']);
  const child = bed.background(ns, ['sh', '-c', `mount --bind ${dir}/run /run && exec ${prefix} ${CHARON}`], join(dir, 'charon.out'), env);
  return {
    dir, env, child,
    logs: () => `log tail:\n${tail(join(dir, 'charon.log'))}\n${tail(join(dir, 'charon.out'), 10)}`,
    async loaded() {
      if (!(await waitFor(() => existsSync(join(dir, 'charon.vici')), 10_000))) throw new Error(`charon in ${ns} did not open its vici socket`);
      bed.inNs(ns, ['swanctl', '--load-all'], { env });
    },
  };
}

/** strongSwan: two charons with kernel-libipsec, side a initiates the CHILD_SA */
async function startStrongswan(bed) {
  const ns = bed.twoSites('s');
  const charons = {};
  for (const side of ['a', 'b']) {
    charons[side] = startCharon(bed, ns[side], `strongswan-${side}`, strongswanConf, swanctlConf(side), INNER[side]);
  }
  const env = { a: charons.a.env, b: charons.b.env };
  const logs = () => ['a', 'b'].map((side) => `--- charon ${side} (${ns[side]}), ${charons[side].logs()}`).join('\n');
  try {
    for (const side of ['a', 'b']) await charons[side].loaded();
    bed.inNs(ns.a, ['swanctl', '--initiate', '--child', 'bench', '--timeout', '15'], { env: env.a });
    // the CHILD_SA installed on both sides (the responder installs it as it answers IKE_AUTH)
    const installed = (side) => /INSTALLED, TUNNEL-in-UDP/.test(bed.inNs(ns[side], ['swanctl', '--list-sas'], { env: env[side] }).output);
    if (!(await waitFor(() => installed('a') && installed('b'), 5_000))) throw new Error('the CHILD_SA was not installed on both sides');
    checkTunnel(bed, ns, 'ipsec0', 'strongSwan');
  } catch (e) {
    throw new Error(`strongSwan tunnel did not come up: ${e.message}\n${logs()}`);
  }
  return ns;
}

/** resolves true when the child has exited, false if it still runs after `ms` */
export function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * One iperf3 run from site a to site b through the tunnel: a one-off server in b (-1), the
 * client in a, its JSON. TCP: Mbit/s received, the sender's retransmits and mean RTT.
 * UDP (1300-byte datagrams, -b 0 = no rate limit): the receiver's figures, which the client's
 * JSON carries in end.sum_received; "packets" there counts what was sent, lost_packets what
 * never arrived.
 * Both iperf3 processes are the testbed's children, so an interrupt ends them too.
 */
async function iperf(bed, ns, protocol, seconds) {
  const name = `iperf3-${ns.a}-${protocol}`;
  const serverLog = join(bed.dir, `${name}-server.log`);
  const output = join(bed.dir, `${name}-client.json`);
  for (const file of [serverLog, output]) rmSync(file, { force: true }); // from an earlier round
  // --forceflush: the server's "Server listening" line, not stuck in a pipe buffer
  const server = bed.background(ns.b, ['iperf3', '-s', '-1', '--forceflush', '-B', INNER.b], serverLog);
  if (!(await waitFor(() => existsSync(serverLog) && readFileSync(serverLog, 'utf8').includes('Server listening'), 5_000))) {
    throw new Error(`iperf3 server did not start:\n${tail(serverLog)}`);
  }
  const udp = protocol === 'udp' ? ['-u', '-b', '0', '-l', '1300'] : [];
  const client = bed.background(ns.a, ['iperf3', '-c', INNER.b, '-B', INNER.a, '-t', String(seconds), '-J', ...udp], output);
  if (!(await exited(client, (seconds + 30) * 1000))) throw new Error(`iperf3 ${protocol} client still running after ${seconds + 30} s:\n${tail(output)}`);
  // the one-off server exits after its test; the next run starts a new one on the same port
  if (!(await exited(server, 5_000))) server.kill('SIGTERM');
  const stdout = readFileSync(output, 'utf8');
  const result = JSON.parse(stdout);
  if (result.error) throw new Error(`iperf3 ${protocol}: ${result.error}`);
  const received = result.end.sum_received;
  if (protocol === 'tcp') {
    // the sender's smoothed RTT (Linux TCP_INFO, averaged by iperf3): how much the tunnel queues
    const meanRttMs = result.end.streams[0].sender.mean_rtt / 1000;
    return { mbps: received.bits_per_second / 1e6, retransmits: result.end.sum_sent.retransmits, meanRttMs };
  }
  return {
    packetsPerSecond: (received.packets - received.lost_packets) / received.seconds,
    mbps: received.bits_per_second / 1e6,
    lossPercent: received.lost_percent,
  };
}

export function strongswanVersion() {
  const r = spawnSync(CHARON, ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').trim() || 'strongSwan';
}

/**
 * Runs the tunnel bench. Returns { skipped } without root (and prints why), else the best run
 * of each side, the ratios, and every run.
 *   xsHost, xsModules, gatewayMain: the simulator to run; siteConfig(side): config/site-<side>.json
 *   seconds: per iperf3 run; rounds: runs per side and protocol; log: progress lines
 */
export async function tunnelBench({ xsHost, xsModules, gatewayMain, siteConfig, seconds = 5, rounds = 3, log = console.error }) {
  if (process.getuid?.() !== 0) {
    console.log('tunnel bench: skipped, it needs root (network namespaces, TUN devices): sudo npm run bench -- --only tunnel');
    return { skipped: 'needs root' };
  }
  for (const tool of [CHARON, '/usr/sbin/swanctl', '/usr/bin/iperf3', xsHost]) {
    if (!existsSync(tool)) throw new Error(`tunnel bench: ${tool} is missing (npm run bench installs strongSwan and iperf3 when root)`);
  }
  const bed = new Testbed();
  // other work on the machine lowers the figures: the 1-minute load average says how much there was
  const loadBefore = loadavg()[0];
  try {
    log('bench: tunnel, starting two XS simulators and two charons');
    const sides = {
      ours: await startOurs(bed, { xsHost, xsModules, gatewayMain, siteConfig }),
      strongswan: await startStrongswan(bed),
    };
    const runs = { ours: { tcp: [], udp: [] }, strongswan: { tcp: [], udp: [] } };
    for (let round = 1; round <= rounds; round++) {
      for (const protocol of ['tcp', 'udp']) {
        for (const side of ['ours', 'strongswan']) {
          const r = await iperf(bed, sides[side], protocol, seconds);
          runs[side][protocol].push(r);
          log(`bench: tunnel, round ${round}/${rounds}, ${side}, ${protocol}: ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
        }
      }
    }
    const best = (list, key) => list.reduce((a, b) => (b[key] > a[key] ? b : a));
    const pick = (side) => ({ tcp: best(runs[side].tcp, 'mbps'), udp: best(runs[side].udp, 'packetsPerSecond') });
    const ours = pick('ours');
    const strongswan = pick('strongswan');
    return {
      seconds, rounds, statistic: 'best', strongswanVersion: strongswanVersion(), loadAverage: { before: loadBefore, after: loadavg()[0] },
      ours, strongswan,
      ratio: { tcpMbps: ours.tcp.mbps / strongswan.tcp.mbps, udpPacketsPerSecond: ours.udp.packetsPerSecond / strongswan.udp.packetsPerSecond },
      runs,
    };
  } finally {
    bed.cleanup();
  }
}

/** the table for bench/run.mjs's printTable: { title, header, rows } */
export function tunnelTable(result, fmt) {
  const title = `xs-ipsec tunnel bench: iperf3 through two gateways (AES-128-GCM, ESP in UDP 4500, TUN MTU 1400), `
    + `${result.seconds} s per run, best of ${result.rounds} interleaved runs per side, `
    + `load average ${result.loadAverage.before.toFixed(1)} before and ${result.loadAverage.after.toFixed(1)} after`;
  const header = ['tunnel', 'TCP Mbit/s', 'TCP retransmits', 'UDP packets/s received', 'UDP Mbit/s received', 'UDP loss %'];
  const row = (name, r) => [name, fmt(r.tcp.mbps), r.tcp.retransmits.toLocaleString('en-US'), fmt(r.udp.packetsPerSecond), fmt(r.udp.mbps), r.udp.lossPercent.toFixed(1)];
  const rows = [
    row('xs-ipsec (2 XS simulators)', result.ours),
    row(`${result.strongswanVersion.replace(/^Linux /, '')} kernel-libipsec`, result.strongswan),
    ['ratio ours/strongSwan', `${result.ratio.tcpMbps.toFixed(2)}x`, '-', `${result.ratio.udpPacketsPerSecond.toFixed(2)}x`, '-', '-'],
  ];
  return { title, header, rows };
}
