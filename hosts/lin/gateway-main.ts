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
import { argv, gc, getenv, now, readFile, run, writeFileAtomic } from 'lin/process';
import { Tun } from 'lin/tun';
import { sizeTunnelMtu, validateGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.js';
import { createIkeEngine } from '../../src/ike-host.js';
import type { IkeEngine } from '../../src/ike/engine.js';
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
import { xsMemoryIfInstrumented } from '../moddable/memory.js';
import { DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY, loadDeviceConfig } from '../moddable/device-config.js';
import Preference from 'preference';
import { CounterWatch, Logger, LogLevel } from '../../src/log.js';
import { fromHex } from '../../src/crypto/bytes.js';

declare function trace(...args: unknown[]): void;

const path = argv()[1];
const source = path ?? (Preference.get(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY) === undefined ? 'mc/config' : `Preference ${DEVICE_CONFIG_DOMAIN}/${DEVICE_CONFIG_KEY}`);
const readDocument = (): unknown => (path ? JSON.parse(readFile(path)) : loadDeviceConfig());
const load = (): GatewayConfig => validateGatewayConfig(readDocument());
const config = load();
const log = new Logger((line) => trace(`xs-ipsec ${line}\n`), { logging: config.logging, now });
const crypto = new NativeCrypto();
log.log('cfg', LogLevel.AUDIT, `configuration from ${source}: ${config.sas.length} SAs, ${config.policies.length} policies`);

/** SAs and policies from a configuration, or the problems that refused them. */
function keying(c: GatewayConfig): { engine: PfKeyEngine; spd: Spd } {
  const engine = new PfKeyEngine(crypto);
  const spd = new Spd();
  const problems = applyStatic(engine, spd, c.sas, c.policies, c.localAddresses);
  if (problems.length) throw new Error(`configuration refused:\n${problems.join('\n')}`);
  for (const sa of c.sas) {
    const algorithms = [sa.encryption, sa.integrity].filter((a) => a).join('-');
    const natT = sa.natT ? ` in UDP ${sa.natT.sourcePort}->${sa.natT.destinationPort}` : '';
    log.log('knl', LogLevel.CONTROL, `SA 0x${sa.spi.toString(16)} ${sa.protocol} ${sa.mode} ${sa.source} -> ${sa.destination} ${algorithms}${natT} installed`);
    if (log.keylog) {
      for (const [name, hex] of [['encryption', sa.encryptionKey], ['integrity', sa.integrityKey]]) {
        if (hex) log.log('knl', LogLevel.PRIVATE, `SA 0x${sa.spi.toString(16)} ${name} key ${log.secret(fromHex(hex))}`);
      }
    }
  }
  for (const p of c.policies) log.log('knl', LogLevel.DIAGNOSE, `policy ${p.name}: ${p.direction} ${p.local} <-> ${p.remote} ${p.action}${p.spi ? ` SA 0x${p.spi.toString(16)}` : ''}`);
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
if (sized.warning) log.log('cfg', LogLevel.AUDIT, `warning: ${sized.warning}`);
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
  log.log('net', LogLevel.DIAGNOSE, command.join(' '));
}
const host = new ModdableHost(tun, { icmp: true, ikePort: config.ike.port, udpPort: config.ike.port_nat_t });
const tunnelAddress = parseAddress(config.tunnel.address.slice(0, config.tunnel.address.indexOf('/')));
const gateway = new Gateway(host, current.spd, current.engine, { pathMtu: config.tunnel.pathMtu, tunnelAddress });

// IKE (RFC 7296): an engine over the same SAs and policies as the data path, when the
// configuration has connections. Decryption tables (with logging.keylog only) go to the
// directory in $XS_IPSEC_KEYLOG_DIR, else the working directory.
const keylogDirectory = getenv('XS_IPSEC_KEYLOG_DIR') ?? '.';
const keylogTables = new Map<string, string>();
const keylogSink = (table: string, line: string) => {
  const text = (keylogTables.get(table) ?? '') + line + '\n';
  keylogTables.set(table, text);
  writeFileAtomic(`${keylogDirectory}/${table}`, new TextEncoder().encode(text));
};
const makeIke = (c: GatewayConfig, keys: { engine: PfKeyEngine; spd: Spd }): IkeEngine | null =>
  c.connections.length === 0 ? null : createIkeEngine({ host, config: c, crypto, pfkey: keys.engine, spd: keys.spd, log, keylog: keylogSink });
let ike = makeIke(config, current);
host.attach(gateway, (message, address, port, localPort) => ike?.receive(message, { address, port }, localPort));
const ports = config.ike.port === config.ike.port_nat_t ? `UDP ${config.ike.port} (IKE and ESP)` : `UDP ${config.ike.port} (IKE), UDP ${config.ike.port_nat_t} (NAT-T)`;
log.log('net', LogLevel.CONTROL, `listening on ${ports}, raw ESP (IP protocol 50) and ICMP`);
if (ike) {
  log.log('cfg', LogLevel.AUDIT, `${config.connections.length} IKE connection${config.connections.length === 1 ? '' : 's'}: ${config.connections.map((c) => c.name).join(', ')}`);
  ike.startAll();
}
// retransmissions, DPD, keepalives, rekeys and lifetimes; packets caught by trap policies
Timer.repeat(() => {
  for (const name of gateway.acquires.splice(0)) ike?.acquire(name);
  ike?.tick();
}, 200);
log.log('cfg', LogLevel.AUDIT, `gateway up on ${tun.name} (${config.tunnel.address}, MTU ${sized.mtu}), ${current.engine.size} SAs, ${current.spd.entries('out').length + current.spd.entries('in').length} policies`);

// Timers: path MTU aging every second; every REPORT_SECONDS, what the data path counted in
// the meantime (drops by reason, per SA and for the gateway), so drops reach the log without
// the data path logging per packet.
const REPORT_SECONDS = 5;
const watch = new CounterWatch();
const QUIET = new Set(['outboundProtected', 'inboundDelivered']);
let seconds = 0;
function reportCounters(): void {
  const changes = watch.changes('gateway', gateway.counters as unknown as Record<string, number>);
  const drops = changes.filter((c) => !QUIET.has(c.slice(0, c.indexOf(' '))));
  if (drops.length) log.log('esp', LogLevel.CONTROL, `since the last report: ${drops.join(', ')}`);
  log.log('esp', LogLevel.DIAGNOSE, () => `since the last report: ${changes.join(', ') || 'no packets'}`);
  for (const sa of current.engine.all()) {
    if (!(sa instanceof EspSa)) continue;
    const saDrops = watch.changes(`sa${sa.spi}`, sa.drops as unknown as Record<string, number>);
    if (saDrops.length) log.log('esp', LogLevel.CONTROL, `SA 0x${sa.spi.toString(16)} dropped: ${saDrops.join(', ')}`);
  }
}
Timer.repeat(() => {
  gateway.tick();
  if (++seconds % REPORT_SECONDS === 0) reportCounters();
}, 1000);

/** the largest control answer: one UDP datagram (65,507 bytes of payload over IPv4), less a margin */
const MAX_ANSWER = 60_000;

function status(): string {
  const sas = (load().sas).map((sa) => {
    const live = current.engine.sa(sa.spi);
    const drops = live instanceof EspSa ? Object.fromEntries(Object.entries(live.drops).filter(([, n]) => n > 0)) : {};
    return { spi: `0x${sa.spi.toString(16)}`, direction: live?.direction, mode: live?.mode, encryption: sa.encryption, packets: live?.packets ?? 0, bytes: live?.bytes ?? 0, drops };
  });
  const policies = [...current.spd.entries('out'), ...current.spd.entries('in')].map((e) => ({ name: e.name, direction: e.direction, action: ACTION_NAMES[e.action], spi: `0x${e.spi.toString(16)}`, hits: e.hits }));
  gc(); // the figures after a collection: what the gateway holds, not garbage not yet collected
  const ikeSas = ike ? ike.describe() : [];
  const ikeStatus = ike ? { sas: ikeSas, counters: ike.counters, halfOpen: ike.halfOpen } : undefined;
  const whole = { tunnel: tun.name, counters: gateway.counters, sas, policies, ike: ikeStatus, memory: xsMemoryIfInstrumented() };
  let text = JSON.stringify(whole);
  // the answer is one UDP datagram: with many IKE SAs, only as many as fit, and how many there are
  let shown = ikeSas.length;
  while (text.length > MAX_ANSWER && ikeStatus && shown > 0) {
    shown >>= 1;
    text = JSON.stringify({ ...whole, ike: { ...ikeStatus, sas: ikeSas.slice(0, shown), sasTotal: ikeSas.length } });
  }
  return text;
}

/** `initiate CONNECTION [CHILD]` and `terminate CONNECTION`, as swanctl --initiate / --terminate. */
function ikeCommand(command: string): string {
  const [verb, name, child] = command.split(/\s+/);
  if (verb === 'initiate' && name) {
    if (!ike) return 'no IKE connections configured';
    const r = ike.initiate(name, child);
    return typeof r === 'string' ? `initiate refused: ${r}` : `initiating ${r.name}`;
  }
  if (verb === 'terminate' && name) {
    const sas = ike?.sas.filter((s) => s.connection.name === name) ?? [];
    for (const sa of sas) ike!.terminate(sa, 'terminated by the operator');
    return `terminating ${sas.length} IKE SA${sas.length === 1 ? '' : 's'} of ${name}`;
  }
  return `unknown command "${command}" (status, reload, initiate CONNECTION [CHILD], terminate CONNECTION)`;
}

type ControlSocket = { callback: (message: number, count?: number, address?: string, port?: number) => void; read(t: typeof String): string; write(ip: string, port: number, data: ArrayBuffer): void };
const control = new (Socket as unknown as new (o: object) => ControlSocket)({ kind: 'UDP', port: (readDocument() as { control?: { port?: number } }).control?.port ?? 4510 });
control.callback = (message, _count, address, port) => {
  if (message !== 2) return;
  if (address !== '127.0.0.1') {
    log.log('net', LogLevel.CONTROL, `control request from ${address} ignored (loopback only)`);
    return;
  }
  const command = control.read(String).trim();
  log.log('net', LogLevel.DIAGNOSE, `control: ${command}`);
  let answer: string;
  if (command === 'status') {
    answer = status();
  } else if (command === 'reload') {
    try {
      const document = load();
      const next = keying(document);
      reportCounters(); // what the SAs being replaced counted
      // the IKE SAs belong to the old SAs and policies: deleted (the peers are told), then started anew
      if (ike) for (const sa of ike.sas) ike.terminate(sa, 'configuration reloaded');
      current = next;
      gateway.reconfigure(current.spd, current.engine);
      ike = makeIke(document, current);
      ike?.startAll();
      answer = `reloaded: ${current.engine.size} SAs`;
      log.log('cfg', LogLevel.AUDIT, `configuration reloaded, ${current.engine.size} SAs`);
    } catch (e) {
      answer = `reload refused: ${(e as Error).message}`;
      log.log('cfg', LogLevel.AUDIT, answer);
    }
  } else {
    answer = ikeCommand(command);
  }
  try {
    control.write(address!, port!, new TextEncoder().encode(answer).buffer as ArrayBuffer);
  } catch (e) {
    // an answer the socket refuses must not end the gateway
    log.log('net', LogLevel.CONTROL, `control: answer of ${answer.length} bytes not sent: ${(e as Error).message}`);
  }
};
