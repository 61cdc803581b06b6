#!/usr/bin/env node
/**
 * `npm start`: sets up (scripts/setup.mjs), then runs the gateway in the desktop simulator.
 *
 * As root: two sites, each a network namespace with a simulator running the gateway
 * (hosts/lin/gateway-main.ts) on a TUN device, joined by a veth pair, with the embedded
 * configuration config/site-a.json and config/site-b.json (static SAs, AES-128-GCM). It pings
 * from one site's LAN address to the other's through the tunnel every second and prints the
 * gateways' counters, until Ctrl-C (or after three pings with `npm start -- --once`); the
 * namespaces are removed on the way out. Nothing outside the namespaces is touched.
 *
 * Without root: boots the firmware (crypto self-test, memory figures) and says how to get the
 * rest.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { JS_OUT, ROOT, setup, XS_HOST, XS_MODULES } from './setup.mjs';

await setup();
const once = process.argv.includes('--once');
const say = (message) => console.log(`start: ${message}`);

if (process.getuid?.() !== 0) {
  const entry = join(JS_OUT, 'hosts/moddable/main.js');
  say(`not root: booting the firmware only (${relative(ROOT, XS_HOST)} ${relative(ROOT, entry)})`);
  const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, entry], { stdio: 'inherit' });
  say('the two-site tunnel needs network namespaces, TUN devices and raw sockets: run `sudo npm start`.');
  process.exit(r.status ?? 1);
}

const id = String(process.pid);
const sites = [
  { ns: `xs-site-a-${id}`, veth: `xsva${id}`.slice(0, 15), address: '192.0.2.1/24', config: 'config/site-a.json', lan: '10.1.0.1', peerLan: '10.2.0.1' },
  { ns: `xs-site-b-${id}`, veth: `xsvb${id}`.slice(0, 15), address: '192.0.2.2/24', config: 'config/site-b.json', lan: '10.2.0.1', peerLan: '10.1.0.1' },
];
const ip = (...args) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};
const children = [];
function cleanup() {
  for (const child of children) child.kill('SIGTERM');
  for (const site of sites) spawnSync('ip', ['netns', 'del', site.ns]);
  for (const site of sites) rmSync(`/tmp/${site.ns}.preferences`, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  say('stopping: removing the namespaces');
  cleanup();
  process.exit(0);
});

try {
  say(`creating two sites: namespaces ${sites[0].ns} and ${sites[1].ns}, joined by a veth pair (192.0.2.1 <-> 192.0.2.2)`);
  for (const site of sites) ip('netns', 'add', site.ns);
  ip('link', 'add', sites[0].veth, 'netns', sites[0].ns, 'type', 'veth', 'peer', 'name', sites[1].veth, 'netns', sites[1].ns);
  for (const site of sites) {
    ip('-n', site.ns, 'link', 'set', 'lo', 'up');
    ip('-n', site.ns, 'addr', 'add', site.address, 'dev', site.veth);
    ip('-n', site.ns, 'link', 'set', site.veth, 'up');
    say(`starting the gateway in ${site.ns} with ${site.config} built in (mc/config): TUN xsipsec0 ${site.lan}, static SAs, AES-128-GCM`);
    // as on a device: the built-in document (--config feeds mc/config), and a Preference
    // store of the site's own in which nothing is provisioned
    const child = spawn('ip', ['netns', 'exec', site.ns, XS_HOST, '--modules', XS_MODULES, '--config', join(ROOT, site.config),
      '--preferences', `/tmp/${site.ns}.preferences`, join(JS_OUT, 'hosts/lin/gateway-main.js')],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (let round = 1; !once || round <= 3; round++) {
    const r = spawnSync('ip', ['netns', 'exec', sites[0].ns, 'ping', '-c', '1', '-W', '2', '-I', sites[0].lan, sites[0].peerLan], { encoding: 'utf8' });
    const rtt = r.stdout.match(/time=([\d.]+ ms)/);
    say(`ping ${sites[0].lan} -> ${sites[0].peerLan} through the tunnel: ${r.status === 0 ? `reply in ${rtt?.[1]}` : 'no reply'}`);
    if (once && r.status !== 0) throw new Error('no reply through the tunnel');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  say('done: removing the namespaces');
  cleanup();
} catch (error) {
  console.error(`start: ${error.message}`);
  cleanup();
  process.exit(1);
}
