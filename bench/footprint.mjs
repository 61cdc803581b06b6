#!/usr/bin/env node
/**
 * The firmware's XS heap with IKE and CHILD SAs up, against strongSwan (issue 6's memory
 * evidence). Root and strongSwan needed.
 *
 *   headquarters  namespace xs-fp-hq-PID, 192.0.2.2: charon (kernel-libipsec), one connection
 *                 for any device identity with one PSK
 *   device        namespace xs-fp-dev-PID, 192.0.2.1: our firmware (hosts/lin/gateway-main.ts)
 *                 on the instrumented XS simulator, with 8 connections of 2 CHILD_SAs each
 *                 (distinct identities @dev0..@dev7, inner networks 10.1.K.0/25 and
 *                 10.1.K.128/25), all with start_action none, and the classic ESP32 board's
 *                 first proposals (boards/esp32: AES-CBC + HMAC-SHA-256, X25519)
 *
 * Measured through `xs-ipsec status`, which reads XS's instrumentation right after a
 * collection: idle (the firmware up, no SA), then after `initiate dev0` (1 IKE SA + 2 CHILD
 * SAs), then after the other seven connections are initiated (8 + 16).
 *
 * What the figures are: the simulator is a 64-bit build, where an XS slot is 32 bytes; on the
 * ESP32 (32-bit) it is 16. Slots are counted exactly, so their device size is half. Chunks hold
 * strings, byte code, ArrayBuffers and slot arrays; only the slot arrays and chunk headers
 * shrink on 32 bits, so the chunk bytes measured here are an upper bound for the device. The
 * "device bound" column is chunks + slots / 2: what the device uses at most.
 *
 *   node bench/footprint.mjs [--json FILE] [--no-setup (already built: the test runs it so)]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JS_OUT, ROOT, setup, XS_HOST, XS_MODULES } from '../scripts/setup.mjs';
import { strongswanConf } from '../scripts/strongswan-conf.mjs';

const CHARON = '/usr/lib/ipsec/charon';
const SWANCTL = '/usr/sbin/swanctl';
const PSK = 'footprint bench: not for production';
const CONNECTIONS = 8;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(check, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return true;
  return check();
}
function run(argv, options = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  if (r.status !== 0 && !options.mayFail) throw new Error(`${argv.join(' ')}: ${r.stderr || r.stdout}`);
  return r;
}

/** The device's document: CONNECTIONS connections of 2 CHILD_SAs, none started, the esp32 board's first proposals. */
function deviceConfig() {
  const board = JSON.parse(readFileSync(join(ROOT, 'boards/esp32/manifest.json'), 'utf8')).config.board;
  const connections = {};
  for (let k = 0; k < CONNECTIONS; k++) {
    const child = (half) => ({ local_ts: `10.1.${k}.${half * 128}/25`, remote_ts: '10.2.0.0/16', esp_proposals: [board.esp_proposals[0]], start_action: 'none' });
    connections[`dev${k}`] = {
      local_addrs: '192.0.2.1', remote_addrs: '192.0.2.2', proposals: [board.ike_proposals[0]], rand_time: '0s',
      local: { auth: 'psk', id: `@dev${k}.example.com` }, remote: { auth: 'psk', id: '@hq.example.com' },
      children: { [`dev${k}a`]: child(0), [`dev${k}b`]: child(1) },
    };
  }
  return {
    tunnel: { name: 'xsipsec0', address: '10.1.0.1/16', routes: ['10.2.0.0/16'] },
    localAddresses: ['192.0.2.1'],
    connections,
    secrets: { ike: [{ secret: PSK }] },
    logging: { default: 1 },
  };
}

const swanctlConf = `connections {
  devices {
    local_addrs = 192.0.2.2
    remote_addrs = %any
    proposals = aes128-sha256-x25519, aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = @hq.example.com
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      devices {
        local_ts = 10.2.0.0/16
        remote_ts = 10.1.0.0/16
        esp_proposals = aes128-sha256, aes128gcm16
      }
    }
  }
}
secrets {
  ike-any {
    secret = "${PSK}"
  }
}
`;

/**
 * The heap the firmware's modules take once loaded (bench/module-size.ts): what mcconfig's
 * preload freezes into the device's flash.
 */
export function moduleSize() {
  const r = run([XS_HOST, '--modules', XS_MODULES, join(JS_OUT, 'bench/module-size.js')]);
  return JSON.parse(r.stdout);
}

/** Runs the scenario; returns the three measurements ({ chunksUsed, slotsUsed, garbageCollections, ikeSas, childSas } each). */
export async function footprint() {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, TUN, raw sockets)');
  for (const file of [CHARON, SWANCTL]) if (!existsSync(file)) throw new Error(`strongSwan is missing (${file})`);
  const id = String(process.pid);
  const hq = { ns: `xs-fp-hq-${id}`, veth: `xfh${id}`.slice(0, 15), address: '192.0.2.2' };
  const device = { ns: `xs-fp-dev-${id}`, veth: `xfd${id}`.slice(0, 15), address: '192.0.2.1' };
  const dir = mkdtempSync(join(tmpdir(), 'xs-ipsec-footprint-'));
  const children = [];
  const swanEnv = { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf'), SWANCTL_DIR: join(dir, 'swanctl') };
  const xsIpsec = (...words) => run(['ip', 'netns', 'exec', device.ns, process.execPath, join(ROOT, 'bin/xs-ipsec.js'), ...words], { mayFail: true });
  const status = () => {
    const r = xsIpsec('status');
    return r.status === 0 ? JSON.parse(r.stdout) : null;
  };
  const installed = (s) => (s?.ike?.sas ?? []).flatMap((sa) => sa.children ?? []).filter((c) => c.state === 'installed').length;
  const measure = (s) => ({
    ...s.memory,
    ikeSas: s.ike.sas.filter((sa) => sa.state === 'established').length,
    childSas: installed(s),
  });
  try {
    for (const site of [hq, device]) run(['ip', 'netns', 'add', site.ns]);
    run(['ip', 'link', 'add', device.veth, 'netns', device.ns, 'type', 'veth', 'peer', 'name', hq.veth, 'netns', hq.ns]);
    for (const site of [hq, device]) {
      run(['ip', '-n', site.ns, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', site.ns, 'addr', 'add', `${site.address}/24`, 'dev', site.veth]);
      run(['ip', '-n', site.ns, 'link', 'set', site.veth, 'up']);
    }
    run(['ip', 'netns', 'exec', hq.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    run(['ip', '-n', hq.ns, 'addr', 'add', '10.2.0.1/32', 'dev', 'lo']);
    mkdirSync(join(dir, 'run'));
    for (const d of ['x509', 'x509ca', 'private', 'conf.d']) mkdirSync(join(dir, 'swanctl', d), { recursive: true });
    writeFileSync(join(dir, 'strongswan.conf'), strongswanConf(dir, { logName: 'footprint' }));
    writeFileSync(join(dir, 'swanctl', 'swanctl.conf'), swanctlConf);
    children.push(spawn('ip', ['netns', 'exec', hq.ns, 'sh', '-c', `mount --bind ${dir}/run /run && exec ${CHARON}`], { env: swanEnv, stdio: 'ignore' }));
    if (!(await waitFor(() => existsSync(join(dir, 'charon.vici')), 10_000))) throw new Error('strongSwan did not start');
    run([SWANCTL, '--load-all'], { env: swanEnv });

    writeFileSync(join(dir, 'device.json'), JSON.stringify(deviceConfig()));
    const log = [];
    const sim = spawn('ip', ['netns', 'exec', device.ns, XS_HOST, '--modules', XS_MODULES, join(JS_OUT, 'hosts/lin/gateway-main.js'), join(dir, 'device.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sim);
    for (const stream of [sim.stdout, sim.stderr]) stream.on('data', (d) => log.push(d.toString()));
    const failed = (what) => new Error(`${what}; the device said:\n${log.join('')}\n--- strongSwan:\n${readFileSync(join(dir, 'charon.log'), 'utf8').split('\n').slice(-20).join('\n')}`);
    if (!(await waitFor(() => status() !== null, 10_000))) throw failed('the firmware did not answer status');
    await sleep(500);
    const idle = measure(status());
    // each connection with both its CHILD_SAs (the second in a CREATE_CHILD_SA exchange), all asked at once
    const up = async (from, to) => {
      for (let k = from; k < to; k++) xsIpsec('initiate', `dev${k}`);
      if (!(await waitFor(() => installed(status()) >= 2 * to, 20_000))) throw failed(`not all CHILD_SAs of dev${from}..dev${to - 1} installed`);
      await sleep(300);
      return measure(status());
    };
    const one = await up(0, 1);
    const eight = await up(1, CONNECTIONS);
    if (one.ikeSas !== 1 || one.childSas !== 2 || eight.ikeSas !== CONNECTIONS || eight.childSas !== 2 * CONNECTIONS) throw failed(`unexpected SA counts: ${JSON.stringify({ one, eight })}`);
    return { idle, one, eight, modules: moduleSize() };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await sleep(200);
    for (const ns of [hq.ns, device.ns]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** bytes a 32-bit device uses at most for a measurement taken on this 64-bit simulator */
export const deviceBound = (m) => m.chunksUsed + m.slotsUsed / 2;

/** The README table. */
export function footprintTable({ idle, one, eight, modules }) {
  const kb = (n) => (n / 1024).toFixed(1);
  const row = (name, m) => `| ${name} | ${m.ikeSas} / ${m.childSas} | ${kb(m.chunksUsed)} | ${kb(m.slotsUsed)} (${m.slotsUsed / 32} slots) | ${kb(deviceBound(m))} | ${m === idle ? '' : `+${kb(deviceBound(m) - deviceBound(idle))}`} |`;
  return [
    '| state | IKE / CHILD SAs | chunks KB (64-bit sim) | slots KB (64-bit sim) | device bound KB (chunks + slots/2) | beyond idle KB |',
    '|---|--:|--:|--:|--:|--:|',
    row('idle', idle), row('1 IKE + 2 CHILD', one), row('8 IKE + 16 CHILD', eight),
    '',
    `firmware modules once loaded (bench/module-size.ts; preloaded into flash on a device): ${kb(modules.chunks)} KB of chunks + ${kb(modules.slots)} KB of slots (64-bit sim) = at most ${kb(modules.chunks + modules.slots / 2)} KB on the device`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!process.argv.includes('--no-setup')) await setup();
  const at = process.argv.indexOf('--json');
  const result = await footprint();
  console.log(footprintTable(result));
  if (at >= 0) writeFileSync(process.argv[at + 1], JSON.stringify(result, null, 1));
}
