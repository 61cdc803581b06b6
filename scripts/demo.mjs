#!/usr/bin/env node
/**
 * `xs-ipsec demo` (root): a working IKEv2 tunnel in one command.
 *
 *   headquarters  namespace xs-demo-hq-PID, 198.51.100.2, LAN 10.2.0.1: strongSwan 5.9.8
 *                 (charon with kernel-libipsec) configured with config/example-hq-swanctl.conf
 *   device        namespace xs-demo-dev-PID, 192.0.2.1, LAN 10.1.0.1: our firmware in the XS
 *                 simulator, configured with config/example-ike.json (both files are the
 *                 README's examples)
 *
 * joined by a veth pair. The device dials headquarters (IKE_SA_INIT, IKE_AUTH with PSK, one
 * CHILD_SA), then pings go both ways through the tunnel, both sides' SAs are printed, and
 * everything is removed again (also on Ctrl-C or failure). Exit status 0 when the pings
 * passed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JS_OUT, ROOT, setup, XS_HOST, XS_MODULES } from './setup.mjs';
import { strongswanConf } from './strongswan-conf.mjs';

const say = (message) => console.log(`demo: ${message}`);
const CHARON = '/usr/lib/ipsec/charon';
const SWANCTL = '/usr/sbin/swanctl';
const PACKAGES = 'strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins libstrongswan-extra-plugins';

if (process.getuid?.() !== 0) {
  say('needs root (network namespaces, TUN devices, raw sockets): run `sudo npx xs-ipsec demo`');
  process.exit(2);
}
await setup();
for (const file of [CHARON, SWANCTL, '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so']) {
  if (!existsSync(file)) {
    say(`strongSwan is missing (${file}): sudo apt-get install -y ${PACKAGES}`);
    process.exit(2);
  }
}

const id = String(process.pid);
const hq = { ns: `xs-demo-hq-${id}`, veth: `xdh${id}`.slice(0, 15), address: '198.51.100.2', lan: '10.2.0.1' };
const device = { ns: `xs-demo-dev-${id}`, veth: `xdd${id}`.slice(0, 15), address: '192.0.2.1', lan: '10.1.0.1' };
const dir = mkdtempSync(join(tmpdir(), 'xs-ipsec-demo-'));
const children = [];

function run(argv, options = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  if (r.status !== 0 && !options.mayFail) throw new Error(`${argv.join(' ')}: ${r.stderr || r.stdout}`);
  return r;
}
const inNs = (ns, argv, options) => run(['ip', 'netns', 'exec', ns, ...argv], options);
const swanEnv = { ...process.env, STRONGSWAN_CONF: join(dir, 'strongswan.conf'), SWANCTL_DIR: join(dir, 'swanctl') };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const ns of [hq.ns, device.ns]) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  say('interrupted: removing the namespaces');
  cleanup();
  process.exit(130);
});

async function waitFor(check, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return true;
  return check();
}

try {
  say(`headquarters: namespace ${hq.ns}, ${hq.address}, LAN ${hq.lan}, strongSwan with config/example-hq-swanctl.conf`);
  say(`device:       namespace ${device.ns}, ${device.address}, LAN ${device.lan}, xs-ipsec (XS simulator) with config/example-ike.json`);
  for (const site of [hq, device]) run(['ip', 'netns', 'add', site.ns]);
  run(['ip', 'link', 'add', device.veth, 'netns', device.ns, 'type', 'veth', 'peer', 'name', hq.veth, 'netns', hq.ns]);
  for (const [site, peer] of [[hq, device], [device, hq]]) {
    run(['ip', '-n', site.ns, 'link', 'set', 'lo', 'up']);
    run(['ip', '-n', site.ns, 'addr', 'add', `${site.address}/24`, 'dev', site.veth]);
    run(['ip', '-n', site.ns, 'link', 'set', site.veth, 'up']);
    // the two addresses are in different /24s: each reaches the other on the link
    run(['ip', '-n', site.ns, 'route', 'add', `${peer.address}/32`, 'dev', site.veth]);
  }
  // strongSwan: IPv6 off (no MOBIKE noise), its LAN address on lo (libipsec routes from it)
  run(['ip', 'netns', 'exec', hq.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  run(['ip', '-n', hq.ns, 'addr', 'add', `${hq.lan}/32`, 'dev', 'lo']);
  mkdirSync(join(dir, 'run'));
  for (const d of ['x509', 'x509ca', 'private', 'conf.d']) mkdirSync(join(dir, 'swanctl', d), { recursive: true });
  writeFileSync(join(dir, 'strongswan.conf'), strongswanConf(dir, { logName: 'demo' }));
  writeFileSync(join(dir, 'swanctl', 'swanctl.conf'), readFileSync(join(ROOT, 'config/example-hq-swanctl.conf')));
  // charon in the foreground with its own /run (it always writes /var/run/charon.pid)
  const charon = spawn('ip', ['netns', 'exec', hq.ns, 'sh', '-c', `mount --bind ${dir}/run /run && exec ${CHARON}`], { env: swanEnv, stdio: 'ignore' });
  children.push(charon);
  if (!(await waitFor(() => existsSync(join(dir, 'charon.vici')), 10_000))) throw new Error('strongSwan did not start');
  run([SWANCTL, '--load-all'], { env: swanEnv });
  say('strongSwan is up and has loaded its configuration');

  const deviceLog = join(dir, 'device.log');
  const out = [];
  const sim = spawn('ip', ['netns', 'exec', device.ns, XS_HOST, '--modules', XS_MODULES, '--config', join(ROOT, 'config/example-ike.json'),
    '--preferences', join(dir, 'preferences'), join(JS_OUT, 'hosts/lin/gateway-main.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(sim);
  for (const stream of [sim.stdout, sim.stderr]) {
    stream.on('data', (data) => {
      for (const line of data.toString().split('\n')) {
        if (!line) continue;
        out.push(line);
        if (/\[(IKE|CHD)\].*(established|initiating|authentication)|\[CFG\] gateway up/.test(line)) console.log(`  device | ${line.replace(/^xs-ipsec /, '')}`);
      }
    });
  }
  writeFileSync(deviceLog, '');
  say('device started: it dials headquarters (start_action = start)');
  const up = await waitFor(() => out.some((l) => /CHILD_SA \S+\{[^}]*\} established/.test(l)), 20_000);
  if (!up) throw new Error(`no CHILD_SA after 20 s; the device said:\n${out.join('\n')}\n--- strongSwan:\n${readFileSync(join(dir, 'charon.log'), 'utf8').split('\n').slice(-30).join('\n')}`);

  let failed = 0;
  for (const [from, to] of [[device, hq], [hq, device]]) {
    const r = inNs(from.ns, ['ping', '-c', '3', '-i', '0.3', '-W', '2', '-I', from.lan, to.lan], { mayFail: true });
    const summary = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    say(`ping ${from.lan} -> ${to.lan} through the tunnel: ${summary ? `${summary[2]} of ${summary[1]} replies` : 'failed'}`);
    if (r.status !== 0) failed++;
  }

  say('the device\'s SAs (xs-ipsec status):');
  const status = inNs(device.ns, [process.execPath, join(ROOT, 'bin/xs-ipsec.js'), 'status'], { mayFail: true });
  try {
    const s = JSON.parse(status.stdout);
    for (const sa of s.ike?.sas ?? []) {
      console.log(`  ${sa.name}: ${sa.state}, ${sa.initiator ? 'initiator' : 'responder'}, ${sa.spis}`);
      console.log(`    local  '${sa.localId}' @ ${sa.local}`);
      console.log(`    remote '${sa.remoteId}' @ ${sa.remote}`);
      for (const c of sa.children) console.log(`    ${c.name}: ${c.state}, SPIs ${c.spiIn}_i ${c.spiOut}_o`);
    }
  } catch {
    console.log(status.stdout || status.stderr);
  }
  say('headquarters\' SAs (swanctl --list-sas):');
  console.log(run([SWANCTL, '--list-sas'], { env: swanEnv }).stdout.replace(/^/gm, '  '));
  say(failed ? 'pings failed' : 'the tunnel works. Removing the namespaces.');
  cleanup();
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(`demo: ${error.message}`);
  cleanup();
  process.exit(1);
}
