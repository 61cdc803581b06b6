/**
 * The gateway in the simulator: xs-ipsec-lin ... gateway-main.js CONFIG.json
 * Reads the configuration, creates the tunnel interface (a TUN device) with its address,
 * MTU and routes, installs the static SAs and policies through PF_KEY, and runs until killed.
 * Logs what it does on stdout; every problem in the configuration is reported with its path.
 *
 * Configuration (this slice): {
 *   "tunnel": { "name": "xsipsec0", "address": "10.1.0.1/16", "mtu": 1400, "routes": ["10.2.0.0/16"] },
 *   "localAddresses": ["192.0.2.1"], "sas": [...], "policies": [...]   (see src/config/manual-keying.ts)
 * }
 */
import Timer from 'timer';
import { argv, readFile, run } from 'lin/process';
import { Tun } from 'lin/tun';
import { validateGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway.js';
import { applyStatic } from '../../src/policy/manual.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { Spd } from '../../src/policy/spd.js';
import { NativeCrypto } from '../moddable/crypto-native.js';
import { ModdableHost } from '../moddable/host.js';

declare function trace(...args: unknown[]): void;

const path = argv()[1];
if (!path) throw new Error('usage: gateway-main.js CONFIG.json');
const { tunnel, localAddresses, ...keying } = validateGatewayConfig(JSON.parse(readFile(path)));

const tun = new Tun({ name: tunnel.name });
for (const command of [
  ['ip', 'addr', 'add', tunnel.address, 'dev', tun.name],
  ['ip', 'link', 'set', tun.name, 'mtu', String(tunnel.mtu), 'up'],
  ...tunnel.routes.map((route) => ['ip', 'route', 'add', route, 'dev', tun.name]),
]) {
  const r = run(command);
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.output}`);
}
const crypto = new NativeCrypto();
const engine = new PfKeyEngine(crypto);
const spd = new Spd();
const problems = applyStatic(engine, spd, keying.sas, keying.policies, localAddresses);
if (problems.length) throw new Error(`configuration refused:\n${problems.join('\n')}`);
const host = new ModdableHost(tun);
const gateway = new Gateway(host, spd, engine);
host.attach(gateway);
trace(`xs-ipsec: gateway up on ${tun.name} (${tunnel.address}), ${engine.size} SAs, ${spd.entries('out').length + spd.entries('in').length} policies\n`);
// keep the machine alive and report counters now and then
Timer.repeat(() => trace(`xs-ipsec: counters ${JSON.stringify(gateway.counters)}\n`), 5000);
