#!/usr/bin/env node
/**
 * `npm run bench`: the crypto table, side by side in one run on this machine.
 *   - Node (V8): node:crypto (OpenSSL) and software (@noble), ops/s;
 *   - XS (desktop host built without mxDebug, like a device release): software (@noble) and
 *     native (PSA / Mbed TLS), ops/s;
 *   - XS instructions per operation under `valgrind --tool=callgrind` (exact and repeatable,
 *     unlike wall-clock): only the measured loop is instrumented (lin/callgrind).
 * "XS native impl" says where the native provider really runs each row: "software" marks a
 * fallback (MODP groups: no finite-field DH in Mbed TLS 2.28's PSA).
 *
 *   npm run bench [-- --ms 400] [-- --no-callgrind] [-- --json FILE]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { JS_OUT, setup, XS_BENCH_HOST as XS_HOST, XS_MODULES } from '../scripts/setup.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const MS = Number(option('--ms', '400'));
const CALLGRIND = !args.includes('--no-callgrind');
const JSON_OUT = option('--json', undefined);

await setup({ bench: true });

const { OPS, timeOp } = await import(join(JS_OUT, 'bench/crypto-ops.js'));
const { NodeCrypto } = await import(join(JS_OUT, 'hosts/node/crypto-node.js'));
const { SoftwareCrypto } = await import(join(JS_OUT, 'src/crypto/software/provider.js'));
const { randomFillSync } = await import('node:crypto');

const rows = OPS.map((op) => ({ op: op.name }));
const now = () => performance.now();

console.error('bench: Node, node:crypto and @noble');
for (const [column, crypto] of [['node', new NodeCrypto()], ['nodeNoble', new SoftwareCrypto({ random: (b) => randomFillSync(b) })]]) {
  OPS.forEach((op, i) => {
    rows[i][column] = timeOp(op.prepare(crypto), MS, now, op.heavy ? 2 : 20);
  });
}

const xsArgs = ['--modules', XS_MODULES, join(JS_OUT, 'bench/xs-bench.js')];
for (const provider of ['software', 'native']) {
  console.error(`bench: XS, ${provider}`);
  const r = spawnSync(XS_HOST, [...xsArgs, 'time', provider, String(MS)], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  for (const line of r.stdout.trim().split('\n')) {
    const { op, opsPerSecond, implementation } = JSON.parse(line);
    const row = rows.find((x) => x.op === op);
    row[provider === 'native' ? 'xsNative' : 'xsSoftware'] = opsPerSecond;
    if (provider === 'native') row.nativeImpl = implementation;
  }
}

/** Instructions per op from callgrind's dumps: one dump file per stop("op:<index>:<n>"). */
function callgrindCounts(provider, runs) {
  const dir = mkdtempSync(join(tmpdir(), 'xs-ipsec-callgrind-'));
  try {
    const r = spawnSync('valgrind', [
      '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.out`,
      XS_HOST, ...xsArgs, 'count', provider, String(runs),
    ], { encoding: 'utf8' });
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

if (CALLGRIND) {
  for (const [provider, runs, column] of [['native', 200, 'xsNativeInstr'], ['software', 10, 'xsSoftwareInstr']]) {
    console.error(`bench: XS, ${provider}, instructions per op (callgrind)`);
    const counts = callgrindCounts(provider, runs);
    OPS.forEach((_, i) => {
      rows[i][column] = counts[i];
    });
  }
}

const fmt = (n) => (n === undefined ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const header = ['algorithm', 'Node node:crypto ops/s', 'Node @noble ops/s', 'XS software ops/s', 'XS native ops/s', 'XS native impl',
  'XS native / node:crypto', 'XS software instr/op', 'XS native instr/op'];
const table = rows.map((r) => [r.op, fmt(r.node), fmt(r.nodeNoble), fmt(r.xsSoftware), fmt(r.xsNative), r.nativeImpl ?? '-',
  r.xsNative && r.node ? `${(r.xsNative / r.node).toFixed(2)}x` : '-', fmt(r.xsSoftwareInstr), fmt(r.xsNativeInstr)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(`\nxs-ipsec crypto bench, ${new Date().toISOString()}, ${MS} ms per cell, Node ${process.version}`);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
for (const row of table) console.log(line(row));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(rows, null, 2));
