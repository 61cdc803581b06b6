/**
 * The gateway in the simulator:
 *   xs-ipsec-lin ... gateway-main.js CONFIG.json      the document in a file (`xs-ipsec run`);
 *   xs-ipsec-lin --config FILE ... gateway-main.js    as on the device: the built-in document
 *       (mc/config) unless one is provisioned in Preference (hosts/moddable/device-config.ts).
 * Reads the configuration, creates the tunnel interface (a TUN device) with its address,
 * MTU and routes, installs the static SAs and policies through PF_KEY, and runs until killed.
 * Logs what it does on stdout; every problem in the configuration is reported with its path.
 *
 * A control socket on 127.0.0.1 (UDP, port `control.port`, 4510 by default; loopback only,
 * inside the gateway's network namespace) answers `xs-ipsec status` and `xs-ipsec reload`:
 *   "status" -> JSON: counters, SAs with their packets, bytes and drops, policies, XS memory
 *               (read right after a collection);
 *   "reload" -> re-reads the document (the file, or Preference then mc/config) and replaces SAs
 *               and policies, or reports the problems.
 */
import { Socket } from 'socket';
import { argv, gc, readFile, run } from 'lin/process';
import { Tun } from 'lin/tun';
import { sizeTunnelMtu, validateGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.js';
import { parseAddress } from '../../src/policy/selector.js';
import Timer from 'timer';
import { ACTION_NAMES } from '../../src/policy/spd.js';
import { EspSa } from '../../src/esp/sa.js';
import { Gateway } from '../../src/gateway.js';
import { applyStatic } from '../../src/policy/manual.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { Spd } from '../../src/policy/spd.js';
import { NativeCrypto } from '../moddable/crypto-native.js';
import { ModdableHost } from '../moddable/host.js';
import { xsMemory } from '../moddable/memory.js';
import { loadDeviceConfig } from '../moddable/device-config.js';

declare function trace(...args: unknown[]): void;

const path = argv()[1];
const readDocument = (): unknown => (path ? JSON.parse(readFile(path)) : loadDeviceConfig());
const load = (): GatewayConfig => validateGatewayConfig(readDocument());
const config = load();
const crypto = new NativeCrypto();

/** SAs and policies from a configuration, or the problems that refused them. */
function keying(c: GatewayConfig): { engine: PfKeyEngine; spd: Spd } {
  const engine = new PfKeyEngine(crypto);
  const spd = new Spd();
  const problems = applyStatic(engine, spd, c.sas, c.policies, c.localAddresses);
  if (problems.length) throw new Error(`configuration refused:\n${problems.join('\n')}`);
  return { engine, spd };
}

/** What the outbound ESP SAs of a configuration can carry once sealed on the configured path. */
function innerLimits(c: GatewayConfig, engine: PfKeyEngine): number[] {
  const limits: number[] = [];
  for (const sa of engine.all()) {
    if (!(sa instanceof EspSa) || !sa.outbound || sa.mode !== 'tunnel') continue;
    sa.setPathMtu(c.tunnel.pathMtu);
    limits.push(sa.maxInnerLength);
  }
  return limits;
}

let current = keying(config);
const sized = sizeTunnelMtu(config, innerLimits(config, current.engine));
if (sized.warning) trace(`xs-ipsec: warning: ${sized.warning}\n`);
const tun = new Tun({ name: config.tunnel.name });
for (const command of [
  ['ip', 'addr', 'add', config.tunnel.address, 'dev', tun.name],
  ['ip', 'link', 'set', tun.name, 'mtu', String(sized.mtu), 'up'],
  ...config.tunnel.routes.map((route) => ['ip', 'route', 'add', route, 'dev', tun.name]),
  // The gateway answers packets too big for an SA with ICMP from its tunnel address (RFC 4301
  // §8.1). On a device that reaches other hosts; in the simulator the sender may be this very
  // kernel, which drops packets from its own address unless told to accept them.
  ['sysctl', '-qw', `net.ipv4.conf.${tun.name}.accept_local=1`],
]) {
  const r = run(command);
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.output}`);
}
const host = new ModdableHost(tun, undefined, true);
const tunnelAddress = parseAddress(config.tunnel.address.slice(0, config.tunnel.address.indexOf('/')));
const gateway = new Gateway(host, current.spd, current.engine, { pathMtu: config.tunnel.pathMtu, tunnelAddress });
host.attach(gateway);
Timer.repeat(() => gateway.tick(), 1000);
trace(`xs-ipsec: gateway up on ${tun.name} (${config.tunnel.address}, MTU ${sized.mtu}), ${current.engine.size} SAs, ${current.spd.entries('out').length + current.spd.entries('in').length} policies\n`);

function status(): string {
  const sas = (load().sas).map((sa) => {
    const live = current.engine.sa(sa.spi);
    const drops = live instanceof EspSa ? Object.fromEntries(Object.entries(live.drops).filter(([, n]) => n > 0)) : {};
    return { spi: `0x${sa.spi.toString(16)}`, direction: live?.direction, mode: live?.mode, encryption: sa.encryption, packets: live?.packets ?? 0, bytes: live?.bytes ?? 0, drops };
  });
  const policies = [...current.spd.entries('out'), ...current.spd.entries('in')].map((e) => ({ name: e.name, direction: e.direction, action: ACTION_NAMES[e.action], spi: `0x${e.spi.toString(16)}`, hits: e.hits }));
  gc(); // the figures after a collection: what the gateway holds, not garbage not yet collected
  return JSON.stringify({ tunnel: tun.name, counters: gateway.counters, sas, policies, memory: xsMemory() });
}

type ControlSocket = { callback: (message: number, count?: number, address?: string, port?: number) => void; read(t: typeof String): string; write(ip: string, port: number, data: ArrayBuffer): void };
const control = new (Socket as unknown as new (o: object) => ControlSocket)({ kind: 'UDP', port: (readDocument() as { control?: { port?: number } }).control?.port ?? 4510 });
control.callback = (message, _count, address, port) => {
  if (message !== 2 || address !== '127.0.0.1') return; // loopback only
  const command = control.read(String).trim();
  let answer: string;
  if (command === 'status') {
    answer = status();
  } else if (command === 'reload') {
    try {
      current = keying(load());
      gateway.reconfigure(current.spd, current.engine);
      answer = `reloaded: ${current.engine.size} SAs`;
      trace(`xs-ipsec: configuration reloaded, ${current.engine.size} SAs\n`);
    } catch (e) {
      answer = `reload refused: ${(e as Error).message}`;
    }
  } else {
    answer = `unknown command "${command}" (status, reload)`;
  }
  control.write(address!, port!, new TextEncoder().encode(answer).buffer as ArrayBuffer);
};
