/**
 * The network handshake rows of `npm run bench`: full IKEv2 handshakes per second (IKE_SA_INIT
 * + IKE_AUTH with one CHILD SA, then the IKE SA's delete) against two responders in one run,
 * on this machine, with the same initiator and the same proposals:
 *
 *   ours:       our gateway in the simulator (hosts/lin/gateway-main.ts on the XS host built
 *               without mxDebug, native crypto: X25519 and ECP in Mbed TLS, MODP in BigInt);
 *   strongSwan: charon 5.9.8 with kernel-libipsec (openssl plugin: X25519, ECP, MODP).
 *
 * The initiator is bench/handshake-driver.ts: our IKE engine on Node (node:crypto) over dgram,
 * keeping `slots` handshakes in flight (8 by default: enough to keep either responder busy, and
 * below what our responder can hold: with the native provider every CHILD SA keeps two of Mbed
 * TLS's 32 PSA key slots, and from about 15 CHILD SAs at once it can decrypt nothing more, not
 * even the deletes); see there for what counts. Each responder runs in a
 * namespace of its own pair (192.0.2.2, the initiator at 192.0.2.1), pinned to CPU 1 with
 * taskset, the initiator to CPU 0: each responder gets one core (ours is single-threaded;
 * charon's thread pool shares the one core), and the initiator the other. The responder's CPU
 * time over the window (/proc) gives its CPU milliseconds per handshake, which does not
 * depend on whether it was the bottleneck.
 *
 * Both responders accept every peer identity with one PSK, the three proposals, and a CHILD SA
 * from 10.2.0.0/16 to the initiator's /32 (each slot its own, as road warriors have). Limits
 * raised so that no cookie or block kicks in (the initiator keeps `slots` half-open SAs at
 * most): ours `ike.cookie_threshold` and `ike.init_limit_half_open` 10000; charon's
 * `cookie_threshold` and `block_threshold` (half-open SAs per peer address, 5 by default: all
 * ours come from one address) 100000, `init_limit_half_open` 0 (none, its default),
 * `ikesa_table_size` 1024 (default 1: one list), 16 threads (its default). Both log at level 0
 * (audit: established and deleted); charon installs a route per CHILD SA (its default,
 * kernel-libipsec routes through its TUN device), ours routes 10.1.0.0/16 statically.
 *
 * Runs are interleaved (for each round, each group: ours, then strongSwan) and each side
 * reports its best run, as the tunnel bench does. A run counts only if nothing failed: the
 * driver's checks (every handshake and delete completed), and the responder's state after it:
 * no IKE SA left (none leaked by the deletes), no cookie sent and nothing dropped for the
 * half-open limit (ours: its status counters; strongSwan: `swanctl --stats`, and its log
 * showing as many IKE SAs established as the initiator counted).
 *
 * Needs root (namespaces); without it, says so and measures nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHARON, exited, startCharon, startSimulator, strongswanConf, strongswanVersion, tail, Testbed } from './tunnel.mjs';

const RESPONDER_CPU = '1';
const INITIATOR_CPU = '0';

/** swanctl.conf of the strongSwan responder: the same as our responderDoc (bench/handshake-ops.ts) */
function swanctlConf(h) {
  const doc = h.responderDoc(h.HANDSHAKE_GROUPS.map((g) => g.proposal));
  const c = doc.connections.bench;
  const child = c.children.net;
  return `
connections {
  bench {
    version = 2
    local_addrs = ${c.local_addrs}
    proposals = ${c.proposals.join(', ')}
    local {
      auth = psk
      id = ${c.local.id}
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      net {
        local_ts = ${child.local_ts}
        remote_ts = ${child.remote_ts}
        esp_proposals = ${child.esp_proposals.join(', ')}
        start_action = none
      }
    }
  }
}
secrets {
  ike-bench {
    secret = "${h.BENCH_PSK}"
  }
}
`;
}

const CHARON_LIMITS = `
  cookie_threshold = 100000
  block_threshold = 100000
  init_limit_half_open = 0
  ikesa_table_size = 1024
  ikesa_table_segments = 16
  threads = 16
`;

/** our responder's configuration: the gateway (a TUN device, 10.2.0.1/16) and responderDoc */
function ourConfig(h) {
  return {
    tunnel: { name: 'xsipsec0', address: '10.2.0.1/16', routes: ['10.1.0.0/16'] },
    localAddresses: [h.RESPONDER_ADDRESS],
    ike: { cookie_threshold: 10000, init_limit_half_open: 10000 },
    ...h.responderDoc(h.HANDSHAKE_GROUPS.map((g) => g.proposal)),
  };
}

/** our responder's status (JSON) through its control socket, in its namespace (three tries); null if it does not answer */
function ourStatus(bed, ns, cli) {
  for (let i = 0; i < 3; i++) {
    const r = bed.inNs(ns, [process.execPath, cli, 'status'], { allowFailure: true });
    if (r.ok) return JSON.parse(r.output);
  }
  return null;
}

/** charon's IKE SA counts from `swanctl --stats` */
function swanStats(bed, responder) {
  const out = bed.inNs(responder.ns, ['swanctl', '--stats'], { env: responder.env }).output;
  const m = out.match(/IKE_SAs: (\d+) total, (\d+) half-open/);
  if (!m) throw new Error(`swanctl --stats said:\n${out}`);
  return { total: Number(m[1]), halfOpen: Number(m[2]) };
}

const established = (file) => (existsSync(file) ? (readFileSync(file, 'utf8').match(/IKE_SA bench\[\d+\] established between/g) ?? []).length : 0);

/** One run of the driver against a responder; the driver's figures plus the checks' problems. */
async function drive(bed, side, responder, proposal, o, log) {
  const output = join(bed.dir, `driver-${side}.json`);
  rmSync(output, { force: true });
  const before = side === 'ours' ? ourStatus(bed, responder.ns, o.cli)?.ike.counters : { established: established(responder.log) };
  const args = { proposal, slots: o.slots, seconds: o.seconds, warmup: 1, drain: 15, watchPid: responder.child.pid, local: '192.0.2.1', remote: '192.0.2.2' };
  const driver = bed.background(responder.initiatorNs, ['taskset', '-c', INITIATOR_CPU, process.execPath, o.driver, JSON.stringify(args)], output);
  if (!(await exited(driver, (o.seconds + 30) * 1000))) throw new Error(`the initiator still runs after ${o.seconds + 30} s:\n${tail(output)}`);
  const text = readFileSync(output, 'utf8').trim();
  const line = text.split('\n').pop();
  let r;
  try {
    r = JSON.parse(line);
  } catch {
    throw new Error(`the initiator (exit ${driver.exitCode}) said:\n${text.slice(-3000)}`);
  }
  const problems = [...r.failureDetails];
  if (r.failures > r.failureDetails.length) problems.push(`... ${r.failures - r.failureDetails.length} more failures`);
  if (r.internalErrors) problems.push(`initiator: ${r.internalErrors} internal errors`);
  await sleep(300); // the responder's last answers and its forgetting
  const status = side === 'ours' ? ourStatus(bed, responder.ns, o.cli) : null;
  if (side === 'ours' && (!before || !status)) {
    problems.push(`ours: no answer to xs-ipsec status ${before ? 'after' : 'before'} the run`);
  } else if (side === 'ours') {
    const c = status.ike.counters;
    const delta = (k) => c[k] - before[k];
    r.responder = { ikeSas: status.ike.sas.length, halfOpen: status.ike.halfOpen, received: delta('received'), memory: status.memory };
    if (status.ike.sas.length) problems.push(`ours: ${status.ike.sas.length} IKE SAs left after the deletes: ${JSON.stringify(status.ike.sas.slice(0, 3))}`);
    for (const k of ['cookiesSent', 'halfOpenLimit', 'internalErrors', 'malformed', 'noConnection']) if (delta(k)) problems.push(`ours: ${k} ${delta(k)}`);
    if (delta('received') !== r.sent) problems.push(`ours received ${delta('received')} IKE datagrams, the initiator sent ${r.sent}`);
  } else {
    const stats = swanStats(bed, responder);
    const made = established(responder.log) - before.established;
    r.responder = { ikeSas: stats.total, halfOpen: stats.halfOpen, established: made };
    if (stats.total) problems.push(`strongSwan: ${stats.total} IKE SAs left after the deletes`);
    if (made !== r.completed) problems.push(`strongSwan logged ${made} IKE SAs established, the initiator completed ${r.completed}`);
  }
  if (r.inWindow === 0) problems.push('no handshake completed in the window');
  r.problems = problems;
  r.limitedBy = limitedBy(r);
  log(`bench: handshake, ${side}, ${proposal}: ${problems.length ? `FAILED: ${problems[0].split('\n')[0]}` : `${r.handshakesPerSecond.toFixed(1)}/s`}, `
    + `responder CPU ${r.responderCpu === null ? '-' : `${(r.responderCpu * 100).toFixed(0)}%`}, initiator CPU ${(r.initiatorCpu * 100).toFixed(0)}%, retransmits ${r.retransmits}`);
  return r;
}

/**
 * The network handshake bench. Returns { skipped } without root (and prints why), else per
 * group and side the best run, the ratios, and every run.
 *   xsHost, xsModules, gatewayMain: the simulator; jsOut: the compiled TypeScript (driver,
 *   handshake-ops, the CLI); seconds per run, rounds per side and group, slots in flight
 */
export async function handshakeNetBench({ xsHost, xsModules, gatewayMain, jsOut, cli, seconds = 5, rounds = 3, slots = 32, log = console.error }) {
  if (process.getuid?.() !== 0) {
    console.log('handshake bench over the network: skipped, it needs root (network namespaces, TUN devices): sudo npm run bench -- --only handshake');
    return { skipped: 'needs root' };
  }
  for (const tool of [CHARON, '/usr/sbin/swanctl', '/usr/bin/taskset', xsHost]) {
    if (!existsSync(tool)) throw new Error(`handshake bench: ${tool} is missing (npm run bench installs strongSwan when root)`);
  }
  const h = await import(join(jsOut, 'bench/handshake-ops.js'));
  const o = { seconds, slots, driver: join(jsOut, 'bench/handshake-driver.js'), cli };
  const bed = new Testbed('handshake');
  const loadBefore = loadavg()[0];
  try {
    log('bench: handshake, starting our responder and charon');
    const nsOurs = bed.twoSites('x');
    const ours = await startSimulator(bed, nsOurs.b, { xsHost, xsModules, gatewayMain }, ourConfig(h), 'xs-responder', ['taskset', '-c', RESPONDER_CPU]);
    const nsSwan = bed.twoSites('s');
    const charon = startCharon(bed, nsSwan.b, 'strongswan-responder', (dir) => strongswanConf(dir, { level: 0, extra: CHARON_LIMITS }), swanctlConf(h), '10.2.0.1', `taskset -c ${RESPONDER_CPU}`);
    try {
      await charon.loaded();
    } catch (e) {
      throw new Error(`${e.message}\n${charon.logs()}`);
    }
    const responders = {
      ours: { ns: nsOurs.b, initiatorNs: nsOurs.a, child: ours.child, log: ours.log },
      strongswan: { ns: nsSwan.b, initiatorNs: nsSwan.a, child: charon.child, env: charon.env, log: join(charon.dir, 'charon.log') },
    };
    const runs = {};
    for (let round = 1; round <= rounds; round++) {
      for (const { group, proposal } of h.HANDSHAKE_GROUPS) {
        for (const side of ['ours', 'strongswan']) {
          log(`bench: handshake, round ${round}/${rounds}, ${group}, ${side}`);
          const r = await drive(bed, side, responders[side], proposal, o, log);
          ((runs[group] ??= {})[side] ??= []).push(r);
          for (const [name, responder] of Object.entries(responders)) {
            if (responder.child.exitCode !== null || responder.child.signalCode !== null) {
              throw new Error(`the ${name} responder exited (${responder.child.exitCode ?? responder.child.signalCode}):\n${name === 'ours' ? tail(ours.log) : charon.logs()}`);
            }
          }
        }
      }
    }
    // a side's figure: its best run without problems; none when every run had one
    const best = (list) => list.filter((r) => r.problems.length === 0).reduce((a, b) => (!a || b.handshakesPerSecond > a.handshakesPerSecond ? b : a), null);
    const groups = h.HANDSHAKE_GROUPS.map(({ group, proposal }) => {
      const ourBest = best(runs[group].ours);
      const swanBest = best(runs[group].strongswan);
      const failed = (side) => runs[group][side].filter((r) => r.problems.length).map((r) => r.problems);
      // CPU per handshake: the least of the good runs (other load on the machine only adds to it)
      const cpu = (side) => {
        const ms = runs[group][side].filter((r) => r.problems.length === 0 && r.responderCpuMsPerHandshake).map((r) => r.responderCpuMsPerHandshake);
        return ms.length ? Math.min(...ms) : null;
      };
      const cpuMs = { ours: cpu('ours'), strongswan: cpu('strongswan') };
      return {
        group, proposal, ours: ourBest, strongswan: swanBest, responderCpuMsPerHandshake: cpuMs,
        ratio: ourBest && swanBest ? ourBest.handshakesPerSecond / swanBest.handshakesPerSecond : null,
        cpuRatio: cpuMs.ours && cpuMs.strongswan ? cpuMs.ours / cpuMs.strongswan : null,
        failedRuns: { ours: failed('ours'), strongswan: failed('strongswan') },
      };
    });
    return {
      seconds, rounds, slots, statistic: 'best', strongswanVersion: strongswanVersion(),
      loadAverage: { before: loadBefore, after: loadavg()[0] }, groups, runs,
    };
  } finally {
    bed.cleanup();
  }
}

/**
 * What held a run back: the process near a whole core (90% or more), else neither (both
 * waited: other load on the machine took their cores' time, or the round trips did).
 */
export function limitedBy(r) {
  if (r.responderCpu !== null && r.responderCpu >= 0.9) return 'responder';
  if (r.initiatorCpu >= 0.9) return 'initiator';
  return 'neither';
}

/** the table for bench/run.mjs's printTable: { title, header, rows } */
export function handshakeNetTable(result, fmt) {
  const title = `xs-ipsec handshake bench over the network: full handshakes/s (IKE_SA_INIT + IKE_AUTH + CHILD SA, then the IKE SA's delete), `
    + `our initiator on Node (CPU ${INITIATOR_CPU}, ${result.slots} in flight) against each responder (CPU ${RESPONDER_CPU}); `
    + `responder CPU time per handshake from /proc (the least of the runs), and what one core of it would do (handshakes per CPU-second); `
    + `${result.seconds} s per run, best of ${result.rounds} interleaved runs, load average ${result.loadAverage.before.toFixed(1)} before and ${result.loadAverage.after.toFixed(1)} after`;
  const header = ['group, responder', 'handshakes/s', 'ours/strongSwan', 'responder CPU', 'responder CPU ms/hs', 'hs per responder CPU-s', 'ours/strongSwan',
    'initiator CPU', 'limited by', 'median ms', 'retransmits', 'failed runs'];
  const swan = result.strongswanVersion.replace(/^Linux /, '').replace(/ \(.*$/, '');
  const pct = (x) => (x === null || x === undefined ? '-' : `${Math.round(x * 100)}%`);
  const perCpuSecond = (ms) => (ms ? 1000 / ms : undefined);
  const rows = [];
  for (const g of result.groups) {
    for (const [side, name] of [['ours', 'xs-ipsec (XS simulator)'], ['strongswan', `${swan} kernel-libipsec`]]) {
      const r = g[side];
      const failed = `${g.failedRuns[side].length}/${result.rounds}`;
      if (!r) {
        rows.push([`${g.group}, ${name}`, 'failed', '-', '-', '-', '-', '-', '-', '-', '-', '-', failed]);
        continue;
      }
      const ours = side === 'ours';
      rows.push([`${g.group}, ${name}`, fmt(r.handshakesPerSecond), ours && g.ratio !== null ? `${g.ratio.toFixed(2)}x` : '-',
        pct(r.responderCpu), g.responderCpuMsPerHandshake[side]?.toFixed(2) ?? '-', fmt(perCpuSecond(g.responderCpuMsPerHandshake[side])),
        ours && g.cpuRatio !== null ? `${(1 / g.cpuRatio).toFixed(2)}x` : '-',
        pct(r.initiatorCpu), limitedBy(r), r.latencyMs ? r.latencyMs.median.toFixed(1) : '-', String(r.retransmits), failed]);
    }
  }
  return { title, header, rows };
}
