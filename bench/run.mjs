#!/usr/bin/env node
/**
 * `npm run bench`: these tables, each measured side by side in one run on this machine.
 *
 * 1. Crypto primitives: Node (node:crypto and @noble), XS software (@noble) and XS native
 *    (PSA / Mbed TLS), ops/s; and XS instructions per operation under callgrind.
 * 2. ESP data path: seal and open per transform and payload size, packets/s on Node
 *    (node:crypto), XS native and XS software; XS native instructions per packet, the crypto
 *    calls' own share (the same provider calls made alone), and our JS overhead beyond it.
 *    Open is measured as (seal+open) - seal, and the benchmark loop's own work before each
 *    seal ("harness only") is subtracted from seal: see bench/esp-ops.ts.
 * 3. Gateway path: what src/gateway.ts adds to an ESP seal or open (bench/gateway-ops.ts).
 * 4. Tunnel: iperf3 TCP Mbit/s and UDP packets/s through two of our simulators and through two
 *    strongSwan charons (kernel-libipsec), and the ratio: see bench/tunnel.mjs. Needs root.
 * 5. Handshakes: complete IKEv2 handshakes (IKE_SA_INIT + IKE_AUTH with one CHILD SA installed)
 *    for X25519, ECP-256 and MODP-2048. In one process (bench/handshake-ops.ts): handshakes/s
 *    on Node (node:crypto, @noble) and XS (native, software), and XS instructions per handshake
 *    split by role. Over the network (bench/handshake-net.mjs, needs root): handshakes/s of our
 *    initiator on Node against our simulator responding and against strongSwan responding.
 * 6. Footprint: the firmware's XS heap idle, with 1 IKE SA + 2 CHILD SAs and with 8 + 16, against
 *    strongSwan (bench/footprint.mjs, on the instrumented simulator). Needs root.
 *
 * XS runs on the host built without mxDebug (GOAL=bench), as a device release build would.
 * Instruction counts come from `valgrind --tool=callgrind` with only the measured loop
 * instrumented (lin/callgrind): exact and repeatable, unlike wall-clock time here.
 * "XS native impl" says where the native provider runs a row ("software" = fallback).
 *
 *   npm run bench [-- --ms 400] [-- --no-callgrind] [-- --only crypto|esp|gateway|tunnel|handshake|footprint] [-- --json FILE]
 *                 [-- --seconds 5] [-- --rounds 3]    (tunnel: seconds per iperf3 run, runs per side;
 *                                                       handshake: seconds per run, runs per side and group)
 *                 [-- --slots 8]                      (handshake: IKE SAs the initiator keeps in flight)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JS_OUT, ROOT, setup, XS_BENCH_HOST as XS_HOST, XS_MODULES } from '../scripts/setup.mjs';
import { footprint, footprintTable } from './footprint.mjs';
import { handshakeNetBench, handshakeNetTable } from './handshake-net.mjs';
import { tunnelBench, tunnelTable } from './tunnel.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const MS = Number(option('--ms', '400'));
const CALLGRIND = !args.includes('--no-callgrind');
const ONLY = option('--only', undefined);
const JSON_OUT = option('--json', undefined);
const SECONDS = Number(option('--seconds', '5'));
const ROUNDS = Number(option('--rounds', '3'));
const SLOTS = Number(option('--slots', '8'));

await setup({ bench: true });

const { OPS, timeOp } = await import(join(JS_OUT, 'bench/crypto-ops.js'));
const { espOps } = await import(join(JS_OUT, 'bench/esp-ops.js'));
const { gatewayOps } = await import(join(JS_OUT, 'bench/gateway-ops.js'));
const { handshakeOps } = await import(join(JS_OUT, 'bench/handshake-ops.js'));
const { NodeCrypto } = await import(join(JS_OUT, 'hosts/node/crypto-node.js'));
const { SoftwareCrypto } = await import(join(JS_OUT, 'src/crypto/software/provider.js'));
const { randomFillSync } = await import('node:crypto');
const now = () => performance.now();
const nodeProviders = { node: new NodeCrypto(), nodeNoble: new SoftwareCrypto({ random: (b) => randomFillSync(b) }) };

/** ops/s of every op of a suite on Node, for the given providers */
function nodeRates(ops, providers) {
  const rows = ops.map((op) => ({ op: op.name }));
  for (const column of providers) {
    console.error(`bench: Node, ${column}`);
    ops.forEach((op, i) => {
      rows[i][column] = timeOp(op.prepare(nodeProviders[column]), MS, now, op.heavy ? 2 : 20);
    });
  }
  return rows;
}

/** ops/s on XS for one provider: { name: { opsPerSecond, implementation } } */
function xsRates(suite, provider) {
  console.error(`bench: XS, ${suite}, ${provider}`);
  const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, join(JS_OUT, 'bench/xs-bench.js'), 'time', suite, provider, String(MS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`XS bench failed: ${r.stdout}${r.stderr}`);
  return Object.fromEntries(r.stdout.trim().split('\n').map((line) => {
    const { op, opsPerSecond, implementation } = JSON.parse(line);
    return [op, { opsPerSecond, implementation }];
  }));
}

/** Instructions per op on XS, from callgrind's dumps: one dump per stop("op:<index>:<n>"). */
function xsInstructions(suite, provider, runs) {
  if (!CALLGRIND) return {};
  console.error(`bench: XS, ${suite}, ${provider}, instructions per op (callgrind)`);
  const dir = mkdtempSync(join(tmpdir(), 'xs-ipsec-callgrind-'));
  try {
    const r = spawnSync('valgrind', [
      '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.out`,
      XS_HOST, '--modules', XS_MODULES, join(JS_OUT, 'bench/xs-bench.js'), 'count', suite, provider, String(runs),
    ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`valgrind exited ${r.status}: ${r.stderr.slice(-2000)}`);
    const counts = {};
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      const part = text.match(/^desc: Trigger: Client Request: op:(\d+):(\d+)$/m);
      const totals = text.match(/^(?:totals|summary): (\d+)/m);
      if (part && totals) counts[Number(part[1])] = Number(totals[1]) / Number(part[2]);
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n) => (n === undefined || Number.isNaN(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

function printTable(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

const stamp = `${new Date().toISOString()}, ${MS} ms per cell, Node ${process.version}`;
const results = {};

if (!ONLY || ONLY === 'crypto') {
  const rows = nodeRates(OPS, ['node', 'nodeNoble']);
  const software = xsRates('crypto', 'software');
  const native = xsRates('crypto', 'native');
  const nativeInstr = xsInstructions('crypto', 'native', 200);
  const softwareInstr = xsInstructions('crypto', 'software', 10);
  rows.forEach((r, i) => {
    Object.assign(r, {
      xsSoftware: software[r.op]?.opsPerSecond, xsNative: native[r.op]?.opsPerSecond, nativeImpl: native[r.op]?.implementation,
      xsSoftwareInstr: softwareInstr[i], xsNativeInstr: nativeInstr[i],
    });
  });
  results.crypto = rows;
  printTable(`xs-ipsec crypto bench, ${stamp}`,
    ['algorithm', 'Node node:crypto ops/s', 'Node @noble ops/s', 'XS software ops/s', 'XS native ops/s', 'XS native impl',
      'XS native / node:crypto', 'XS software instr/op', 'XS native instr/op'],
    rows.map((r) => [r.op, fmt(r.node), fmt(r.nodeNoble), fmt(r.xsSoftware), fmt(r.xsNative), r.nativeImpl ?? '-',
      r.xsNative && r.node ? `${(r.xsNative / r.node).toFixed(2)}x` : '-', fmt(r.xsSoftwareInstr), fmt(r.xsNativeInstr)]));
}

if (!ONLY || ONLY === 'esp') {
  const ops = espOps();
  const node = nodeRates(ops, ['node']);
  const software = xsRates('esp', 'software');
  const native = xsRates('esp', 'native');
  const nativeInstr = xsInstructions('esp', 'native', 200);
  const softwareInstr = xsInstructions('esp', 'software', 2);
  const byName = (name) => ops.findIndex((op) => op.name === name);
  const rows = [];
  const harness = nativeInstr[byName('harness only')] ?? 0;
  const rate = (sealRate, bothRate) => (sealRate && bothRate ? 1 / (1 / bothRate - 1 / sealRate) : undefined);
  for (const op of ops) {
    const m = op.name.match(/^ESP seal (.*)$/);
    if (!m) continue;
    const index = (kind) => byName(`${kind} ${m[1]}`);
    const sealInstr = nativeInstr[index('ESP seal')] - harness;
    const openInstr = nativeInstr[index('ESP seal+open')] - nativeInstr[index('ESP seal')];
    const cryptoSeal = nativeInstr[index('crypto seal')];
    const cryptoOpen = nativeInstr[index('crypto seal+open')] - cryptoSeal;
    const at = (table, kind) => table[`${kind} ${m[1]}`]?.opsPerSecond;
    rows.push({
      case: m[1],
      nodeSeal: node[index('ESP seal')].node, nodeOpen: rate(node[index('ESP seal')].node, node[index('ESP seal+open')].node),
      xsNativeSeal: at(native, 'ESP seal'), xsNativeOpen: rate(at(native, 'ESP seal'), at(native, 'ESP seal+open')),
      xsSoftwareSeal: at(software, 'ESP seal'), xsSoftwareOpen: rate(at(software, 'ESP seal'), at(software, 'ESP seal+open')),
      sealInstr, openInstr, cryptoSeal, cryptoOpen,
      sealOverhead: sealInstr - cryptoSeal, openOverhead: openInstr - cryptoOpen,
      softwareSealInstr: softwareInstr[index('ESP seal')],
    });
  }
  results.esp = rows;
  printTable(`xs-ipsec ESP data path bench (tunnel mode, IPv4; payload = UDP payload of the inner packet), ${stamp}`,
    ['transform, payload', 'Node seal/s', 'Node open/s', 'XS native seal/s', 'XS native open/s', 'XS software seal/s',
      'XS software open/s', 'XS native instr/seal', 'of which crypto', 'JS overhead/seal', 'XS native instr/open', 'of which crypto',
      'JS overhead/open', 'XS software instr/seal'],
    rows.map((r) => [r.case, fmt(r.nodeSeal), fmt(r.nodeOpen), fmt(r.xsNativeSeal), fmt(r.xsNativeOpen), fmt(r.xsSoftwareSeal),
      fmt(r.xsSoftwareOpen), fmt(r.sealInstr), fmt(r.cryptoSeal), fmt(r.sealOverhead), fmt(r.openInstr), fmt(r.cryptoOpen),
      fmt(r.openOverhead), fmt(r.softwareSealInstr)]));
}

if (!ONLY || ONLY === 'gateway') {
  // one packet through src/gateway.ts beside the same packet through the ESP SA alone: what
  // the SPD lookup, the SA lookup, the NAT-T classification and the RFC 4301 §5.2 check add
  const ops = gatewayOps();
  const native = xsRates('gateway', 'native');
  const instr = xsInstructions('gateway', 'native', 200);
  const harness = instr[ops.findIndex((op) => op.name.startsWith('harness'))] ?? 0;
  const esp = results.esp?.find((r) => r.case === 'aes128gcm16 1400 B');
  const rows = ops.filter((op) => op.name.startsWith('gateway')).map((op) => {
    const i = ops.indexOf(op);
    const inbound = op.name.includes('inbound');
    const count = instr[i] === undefined ? undefined : instr[i] - (inbound ? harness : 0);
    const espAlone = esp ? (inbound ? esp.openInstr : esp.sealInstr) : undefined;
    return { op: op.name, perSecond: native[op.name]?.opsPerSecond, instr: count, espAlone, added: count !== undefined && espAlone !== undefined ? count - espAlone : undefined };
  });
  results.gateway = rows;
  printTable(`xs-ipsec gateway path bench (XS native; ESP alone from the ESP table when it ran), ${stamp}`,
    ['path', 'XS native packets/s', 'XS instr/packet', 'ESP alone instr', 'added by the gateway'],
    rows.map((r) => [r.op, fmt(r.perSecond), fmt(r.instr), fmt(r.espAlone), fmt(r.added)]));
}

if (!ONLY || ONLY === 'tunnel') {
  try {
    const tunnel = await tunnelBench({
      xsHost: XS_HOST, xsModules: XS_MODULES, gatewayMain: join(JS_OUT, 'hosts/lin/gateway-main.js'),
      siteConfig: (side) => join(ROOT, `config/site-${side}.json`), seconds: SECONDS, rounds: ROUNDS,
    });
    results.tunnel = tunnel;
    if (!tunnel.skipped) {
      const { title, header, rows } = tunnelTable(tunnel, fmt);
      printTable(`${title}, ${new Date().toISOString()}`, header, rows);
    }
  } catch (e) {
    // a tunnel that did not come up: what failed and the logs' tails, no figures, exit status 1
    console.error(`bench: tunnel failed: ${e.message}`);
    results.tunnel = { error: e.message };
    process.exitCode = 1;
  }
}

/**
 * XS handshakes of one provider: ops/s, or the error of a handshake that failed, by op name.
 * Like xsRates, but a failed handshake is a row's failure, not the bench's.
 */
function xsHandshakeRates(provider) {
  console.error(`bench: XS, handshake, ${provider}`);
  const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, join(JS_OUT, 'bench/xs-bench.js'), 'time', 'handshake', provider, String(MS)], { encoding: 'utf8' });
  const rows = Object.fromEntries(r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((line) => {
    const row = JSON.parse(line);
    return [row.op, row];
  }));
  if (r.status !== 0) for (const op of handshakeOps()) rows[op.name] ??= { error: `XS bench exited ${r.status}: ${(r.stdout + r.stderr).slice(-1000)}` };
  return rows;
}

/**
 * XS instructions per handshake under callgrind, by role: { [index]: { a, b, x } } (per
 * handshake), or { [index]: { error } }. Each handshake is dumped in parts, one per role's
 * share of the work (bench/xs-bench.ts); the parts are summed by role and divided by `runs`.
 */
function xsHandshakeInstructions(provider, runs) {
  if (!CALLGRIND) return {};
  console.error(`bench: XS, handshake, ${provider}, instructions per handshake by role (callgrind, ${runs} handshakes per group)`);
  const dir = mkdtempSync(join(tmpdir(), 'xs-ipsec-callgrind-'));
  try {
    const r = spawnSync('valgrind', [
      '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.out`,
      XS_HOST, '--modules', XS_MODULES, join(JS_OUT, 'bench/xs-bench.js'), 'count', 'handshake', provider, String(runs),
    ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const counts = {};
    for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('{'))) {
      const { op, error } = JSON.parse(line);
      counts[handshakeOps().findIndex((o) => o.name === op)] = { error };
    }
    if (r.status !== 0) throw new Error(`valgrind exited ${r.status}: ${r.stderr.slice(-2000)}`);
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      const part = text.match(/^desc: Trigger: Client Request: hs:(\d+):([abx])$/m);
      const totals = text.match(/^(?:totals|summary): (\d+)/m);
      if (!part || !totals) continue;
      const row = (counts[Number(part[1])] ??= { a: 0, b: 0, x: 0 });
      if (!row.error) row[part[2]] += Number(totals[1]) / runs;
    }
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Node handshakes/s of one provider, or the error; warmed up for half a cell first (V8 compiles the engine's code on the way). */
function nodeHandshakeRate(op, provider) {
  try {
    const run = op.prepare(nodeProviders[provider]);
    for (const end = now() + MS / 2; now() < end;) run();
    return { rate: timeOp(run, MS, now, 2) };
  } catch (e) {
    return { error: e.message };
  }
}

if (!ONLY || ONLY === 'handshake') {
  // in one process: both engines, every handshake checked (bench/handshake-ops.ts)
  const ops = handshakeOps();
  const NATIVE_RUNS = 10;
  const SOFTWARE_RUNS = 3;
  const node = ops.map((op) => {
    console.error(`bench: Node, ${op.name}`);
    return { node: nodeHandshakeRate(op, 'node'), nodeNoble: nodeHandshakeRate(op, 'nodeNoble') };
  });
  const native = xsHandshakeRates('native');
  const software = xsHandshakeRates('software');
  const nativeInstr = xsHandshakeInstructions('native', NATIVE_RUNS);
  const softwareInstr = xsHandshakeInstructions('software', SOFTWARE_RUNS);
  const rows = ops.map((op, i) => {
    const instr = (counts) => (counts[i] === undefined ? undefined : counts[i].error ? { error: counts[i].error } : { initiator: counts[i].a, responder: counts[i].b, handshake: counts[i].a + counts[i].b, checksAndTeardown: counts[i].x });
    return {
      group: op.group, proposal: op.proposal,
      node: node[i].node, nodeNoble: node[i].nodeNoble,
      xsNative: native[op.name]?.error ? { error: native[op.name].error } : { rate: native[op.name]?.opsPerSecond },
      xsSoftware: software[op.name]?.error ? { error: software[op.name].error } : { rate: software[op.name]?.opsPerSecond },
      nativeImpl: native[op.name]?.implementation,
      xsNativeInstr: instr(nativeInstr), xsSoftwareInstr: instr(softwareInstr),
    };
  });
  const errors = rows.flatMap((r) => [r.node, r.nodeNoble, r.xsNative, r.xsSoftware, r.xsNativeInstr, r.xsSoftwareInstr].filter((c) => c?.error).map((c) => `${r.group}: ${c.error}`));
  for (const e of errors) console.error(`bench: handshake FAILED: ${e}`);
  if (errors.length) process.exitCode = 1;
  const rate = (c) => (c?.error ? 'failed' : fmt(c?.rate));
  const count = (c, key) => (c?.error ? 'failed' : fmt(c?.[key]));
  results.handshake = { inProcess: { rows, instructionRuns: { native: NATIVE_RUNS, software: SOFTWARE_RUNS } } };
  printTable(`xs-ipsec handshake bench in one process: complete handshakes/s (IKE_SA_INIT + IKE_AUTH, one CHILD SA installed on both sides; `
    + `both engines' work, then both IKE SAs forgotten), XS instructions per handshake (mean of ${NATIVE_RUNS} native, ${SOFTWARE_RUNS} software; `
    + `the initiator's and the responder's shares, checks and teardown not counted), ${stamp}`,
  ['group', 'Node node:crypto hs/s', 'Node @noble hs/s', 'XS native hs/s', 'XS software hs/s', 'XS native DH impl',
    'XS native instr/hs', 'of which initiator', 'of which responder', 'XS software instr/hs', 'of which initiator', 'of which responder'],
  rows.map((r) => [`${r.group} (${r.proposal})`, rate(r.node), rate(r.nodeNoble), rate(r.xsNative), rate(r.xsSoftware), r.nativeImpl ?? '-',
    count(r.xsNativeInstr, 'handshake'), count(r.xsNativeInstr, 'initiator'), count(r.xsNativeInstr, 'responder'),
    count(r.xsSoftwareInstr, 'handshake'), count(r.xsSoftwareInstr, 'initiator'), count(r.xsSoftwareInstr, 'responder')]));

  // over the network: the same initiator against our simulator and against charon (needs root)
  try {
    const net = await handshakeNetBench({
      xsHost: XS_HOST, xsModules: XS_MODULES, gatewayMain: join(JS_OUT, 'hosts/lin/gateway-main.js'), jsOut: JS_OUT,
      cli: join(ROOT, 'bin/xs-ipsec.js'), seconds: SECONDS, rounds: ROUNDS, slots: SLOTS,
    });
    results.handshake.network = net;
    if (!net.skipped) {
      const { title, header, rows: netRows } = handshakeNetTable(net, fmt);
      printTable(`${title}, ${new Date().toISOString()}`, header, netRows);
      if (net.groups.some((g) => !g.ours || !g.strongswan)) process.exitCode = 1;
    }
  } catch (e) {
    console.error(`bench: handshake over the network failed: ${e.message}`);
    results.handshake.network = { error: e.message };
    process.exitCode = 1;
  }
}

if (!ONLY || ONLY === 'footprint') {
  // the firmware's XS heap with SAs up against strongSwan (instrumented simulator; needs root)
  if (process.getuid?.() !== 0) {
    console.log('footprint: skipped (needs root: network namespaces, TUN, raw sockets)');
  } else {
    try {
      results.footprint = await footprint();
      console.log(`\nxs-ipsec firmware XS heap with SAs up, against strongSwan (bench/footprint.mjs), ${new Date().toISOString()}`);
      console.log(footprintTable(results.footprint));
    } catch (e) {
      console.error(`bench: footprint failed: ${e.message}`);
      results.footprint = { error: e.message };
      process.exitCode = 1;
    }
  }
}

if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
