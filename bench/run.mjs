#!/usr/bin/env node
/**
 * `npm run bench`: three tables, each measured side by side in one run on this machine.
 *
 * 1. Crypto primitives: Node (node:crypto and @noble), XS software (@noble) and XS native
 *    (PSA / Mbed TLS), ops/s; and XS instructions per operation under callgrind.
 * 2. ESP data path: seal and open per transform and payload size, packets/s on Node
 *    (node:crypto), XS native and XS software; XS native instructions per packet, the crypto
 *    calls' own share (the same provider calls made alone), and our JS overhead beyond it.
 *    Open is measured as (seal+open) - seal, and the benchmark loop's own work before each
 *    seal ("harness only") is subtracted from seal: see bench/esp-ops.ts.
 * 3. Tunnel: iperf3 TCP Mbit/s and UDP packets/s through two of our simulators and through two
 *    strongSwan charons (kernel-libipsec), and the ratio: see bench/tunnel.mjs. Needs root.
 *
 * XS runs on the host built without mxDebug (GOAL=bench), as a device release build would.
 * Instruction counts come from `valgrind --tool=callgrind` with only the measured loop
 * instrumented (lin/callgrind): exact and repeatable, unlike wall-clock time here.
 * "XS native impl" says where the native provider runs a row ("software" = fallback).
 *
 *   npm run bench [-- --ms 400] [-- --no-callgrind] [-- --only crypto|esp|gateway|tunnel] [-- --json FILE]
 *                 [-- --seconds 5] [-- --rounds 3]    (tunnel: seconds per iperf3 run, runs per side)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JS_OUT, ROOT, setup, XS_BENCH_HOST as XS_HOST, XS_MODULES } from '../scripts/setup.mjs';
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

await setup({ bench: true });

const { OPS, timeOp } = await import(join(JS_OUT, 'bench/crypto-ops.js'));
const { espOps } = await import(join(JS_OUT, 'bench/esp-ops.js'));
const { gatewayOps } = await import(join(JS_OUT, 'bench/gateway-ops.js'));
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

if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
