/**
 * The gateway firmware, the same on an ESP32 and in the desktop simulator: from a validated
 * configuration it installs the static SAs and policies (PF_KEY), opens the tunnel interface
 * the host gives it (an lwIP netif on the device: hosts/esp32/tunnel.ts; a TUN device in the
 * simulator: hosts/lin/gateway-main.ts), the sockets (UDP 500/4500, RAW protocol 50), runs
 * the data path (src/gateway.ts) and, when the configuration has connections, the IKEv2
 * engine, with their timers. What differs per host is only what the constructor is given.
 *
 * It answers what an operator asks (status, reload, initiate, terminate): the simulator's
 * control socket, or a device application, calls these methods.
 */
import { sizeTunnelMtu, validateGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.js';
import { fromHex } from '../../src/crypto/bytes.js';
import { EspSa } from '../../src/esp/sa.js';
import { Gateway } from '../../src/gateway.js';
import { createIkeEngine } from '../../src/ike-host.js';
import type { IkeEngine } from '../../src/ike/engine.js';
import type { KeyLogSink } from '../../src/ike/keylog.js';
import { CounterWatch, Logger, LogLevel } from '../../src/log.js';
import { applyStatic } from '../../src/policy/manual.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { parseAddress } from '../../src/policy/selector.js';
import { ACTION_NAMES, Spd } from '../../src/policy/spd.js';
import Timer from 'timer';
import { NativeCrypto } from './crypto-native.js';
import { ModdableHost, type TunnelInterface } from './host.js';
import { xsMemoryIfInstrumented, type XsMemory } from './memory.js';

export interface FirmwareOptions {
  /** reads the configuration document (again at each reload) */
  readDocument: () => unknown;
  /** where it came from, for the log ("mc/config", a file name...) */
  source: string;
  /** opens the tunnel interface for a configuration, with the MTU the SAs allow (sizeTunnelMtu) */
  openTunnel: (config: GatewayConfig, mtu: number, log: Logger) => TunnelInterface;
  /** where log lines go (without a newline) */
  print: (line: string) => void;
  /** the clock the log prints (seconds) */
  now?: () => number;
  /** also read ICMP about our packets (RAW protocol 1): see SocketHostOptions.icmp */
  icmp?: boolean;
  /** where decryption-table lines go with `logging.keylog` on */
  keylog?: KeyLogSink;
  /** collects garbage before memory figures are read (lin/process gc; absent on the device) */
  gc?: () => void;
  /** runs once the crypto provider exists, before any SA, socket or tunnel (the device's self-test) */
  beforeStart?: (crypto: NativeCrypto) => void;
}

/** The static SAs and policies of a configuration (the IKE engine adds its own to them). */
interface Keying {
  engine: PfKeyEngine;
  spd: Spd;
}

/** How often the gateway reports what it counted (drops by reason), in seconds. */
const REPORT_SECONDS = 5;
/** counters that count work done, not drops: reported only at the DIAGNOSE level */
const QUIET = new Set(['outboundProtected', 'inboundDelivered']);

export class Firmware {
  #config: GatewayConfig;
  readonly log: Logger;
  readonly crypto = new NativeCrypto();
  readonly host: ModdableHost;
  readonly gateway: Gateway;
  readonly tunnel: TunnelInterface;
  readonly mtu: number;
  #keys: Keying;
  #ike: IkeEngine | null;
  readonly #options: FirmwareOptions;
  readonly #watch = new CounterWatch();
  #seconds = 0;

  constructor(options: FirmwareOptions) {
    this.#options = options;
    options.beforeStart?.(this.crypto);
    const config = (this.#config = validateGatewayConfig(options.readDocument()));
    const log = (this.log = new Logger(options.print, { logging: config.logging, now: options.now }));
    log.log('cfg', LogLevel.AUDIT, `configuration from ${options.source}: ${config.sas.length} SAs, ${config.policies.length} policies`);
    this.#keys = this.#keying(config);
    const sized = sizeTunnelMtu(config, this.#innerLimits(config));
    if (sized.warning) log.log('cfg', LogLevel.AUDIT, `warning: ${sized.warning}`);
    this.mtu = sized.mtu;
    this.tunnel = options.openTunnel(config, sized.mtu, log);
    this.host = new ModdableHost(this.tunnel, { icmp: options.icmp, ikePort: config.ike.port, udpPort: config.ike.port_nat_t });
    const tunnelAddress = parseAddress(config.tunnel.address.slice(0, config.tunnel.address.indexOf('/')));
    this.gateway = new Gateway(this.host, this.#keys.spd, this.#keys.engine, { pathMtu: config.tunnel.pathMtu, tunnelAddress });
    this.#ike = this.#makeIke(config, this.#keys);
    this.host.attach(this.gateway, (message, address, port, localPort) => this.#ike?.receive(message, { address, port }, localPort));
    const ports = config.ike.port === config.ike.port_nat_t ? `UDP ${config.ike.port} (IKE and ESP)` : `UDP ${config.ike.port} (IKE), UDP ${config.ike.port_nat_t} (NAT-T)`;
    log.log('net', LogLevel.CONTROL, `listening on ${ports}, raw ESP (IP protocol 50)${options.icmp ? ' and ICMP' : ''}`);
  }

  /** The configuration running now (replaced by a reload). */
  get config(): GatewayConfig {
    return this.#config;
  }

  /** The IKE engine, when the configuration has connections. */
  get ike(): IkeEngine | null {
    return this.#ike;
  }

  /** Starts the connections (start_action = start) and the timers. */
  start(): void {
    const { config, log } = this;
    if (this.#ike) {
      log.log('cfg', LogLevel.AUDIT, `${config.connections.length} IKE connection${config.connections.length === 1 ? '' : 's'}: ${config.connections.map((c) => c.name).join(', ')}`);
      this.#ike.startAll();
    }
    // retransmissions, DPD, keepalives, rekeys and lifetimes; packets caught by trap policies
    Timer.repeat(() => {
      for (const name of this.gateway.acquires.splice(0)) this.#ike?.acquire(name);
      this.#ike?.tick();
    }, 200);
    // path MTU aging every second, and every REPORT_SECONDS what the data path counted in the
    // meantime (drops by reason, per SA and for the gateway): drops reach the log without the
    // data path logging per packet
    Timer.repeat(() => {
      this.gateway.tick();
      if (++this.#seconds % REPORT_SECONDS === 0) this.#reportCounters();
    }, 1000);
    const k = this.#keys;
    log.log('cfg', LogLevel.AUDIT, `gateway up on ${config.tunnel.name} (${config.tunnel.address}, MTU ${this.mtu}), ${k.engine.size} SAs, ${k.spd.entries('out').length + k.spd.entries('in').length} policies`);
  }

  /** SAs and policies from a configuration, or the problems that refused them. */
  #keying(c: GatewayConfig): Keying {
    const { log } = this;
    const engine = new PfKeyEngine(this.crypto);
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
  #innerLimits(c: GatewayConfig): number[] {
    const limits: number[] = [];
    for (const sa of this.#keys.engine.all()) {
      if (!(sa instanceof EspSa) || !sa.outbound || sa.mode !== 'tunnel') continue;
      sa.setPathMtu(c.tunnel.pathMtu);
      limits.push(sa.maxInnerLength);
    }
    return limits;
  }

  #makeIke(c: GatewayConfig, keys: Keying): IkeEngine | null {
    if (c.connections.length === 0) return null;
    return createIkeEngine({ host: this.host, config: c, crypto: this.crypto, pfkey: keys.engine, spd: keys.spd, log: this.log, keylog: this.#options.keylog });
  }

  /** Logs what the data path counted since the last report: drops at CONTROL, the rest at DIAGNOSE. */
  #reportCounters(): void {
    const { log, gateway } = this;
    const changes = this.#watch.changes('gateway', gateway.counters as unknown as Record<string, number>);
    const drops = changes.filter((c) => !QUIET.has(c.slice(0, c.indexOf(' '))));
    if (drops.length) log.log('esp', LogLevel.CONTROL, `since the last report: ${drops.join(', ')}`);
    log.log('esp', LogLevel.DIAGNOSE, () => `since the last report: ${changes.join(', ') || 'no packets'}`);
    for (const sa of this.#keys.engine.all()) {
      if (!(sa instanceof EspSa)) continue;
      const saDrops = this.#watch.changes(`sa${sa.spi}`, sa.drops as unknown as Record<string, number>);
      if (saDrops.length) log.log('esp', LogLevel.CONTROL, `SA 0x${sa.spi.toString(16)} dropped: ${saDrops.join(', ')}`);
    }
  }

  /**
   * Re-reads the document and replaces the static SAs and policies, and the IKE engine (its
   * IKE SAs are deleted, the peers told, then the connections started anew). The tunnel
   * interface and sockets stay. Returns what happened, or why the new document was refused
   * (the running one then stays as it was).
   */
  reload(): string {
    const { log } = this;
    try {
      const document = validateGatewayConfig(this.#options.readDocument());
      const next = this.#keying(document);
      this.#reportCounters(); // what the SAs being replaced counted
      if (this.#ike) for (const sa of this.#ike.sas) this.#ike.terminate(sa, 'configuration reloaded');
      this.#keys = next;
      this.#config = document;
      this.gateway.reconfigure(next.spd, next.engine);
      this.#ike = this.#makeIke(document, next);
      this.#ike?.startAll();
      log.log('cfg', LogLevel.AUDIT, `configuration reloaded, ${next.engine.size} SAs`);
      return `reloaded: ${next.engine.size} SAs`;
    } catch (e) {
      const answer = `reload refused: ${(e as Error).message}`;
      log.log('cfg', LogLevel.AUDIT, answer);
      return answer;
    }
  }

  /** `initiate CONNECTION [CHILD]` and `terminate CONNECTION`, as swanctl --initiate / --terminate. */
  command(text: string): string {
    const [verb, name, child] = text.trim().split(/\s+/);
    const ike = this.#ike;
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
    return `unknown command "${text}" (status, reload, initiate CONNECTION [CHILD], terminate CONNECTION)`;
  }

  /** XS heap figures after a collection (what the firmware holds, not garbage), when the build is instrumented. */
  memory(): XsMemory | null {
    this.#options.gc?.();
    return xsMemoryIfInstrumented();
  }

  /**
   * What the gateway holds and counted: counters, the static SAs with their packets, bytes and
   * drops, the policies with their hits, the IKE SAs, and the XS heap after a collection.
   */
  status(): Record<string, unknown> {
    const memory = this.memory(); // first: what the firmware holds, before this answer's own objects
    const k = this.#keys;
    const sas = this.#config.sas.map((sa) => {
      const live = k.engine.sa(sa.spi);
      const drops = live instanceof EspSa ? Object.fromEntries(Object.entries(live.drops).filter(([, n]) => n > 0)) : {};
      return { spi: `0x${sa.spi.toString(16)}`, direction: live?.direction, mode: live?.mode, encryption: sa.encryption, packets: live?.packets ?? 0, bytes: live?.bytes ?? 0, drops };
    });
    const policies = [...k.spd.entries('out'), ...k.spd.entries('in')].map((e) => ({ name: e.name, direction: e.direction, action: ACTION_NAMES[e.action], spi: `0x${e.spi.toString(16)}`, hits: e.hits }));
    const ike = this.#ike ? { sas: this.#ike.describe(), counters: this.#ike.counters, halfOpen: this.#ike.halfOpen } : undefined;
    return { counters: this.gateway.counters, sas, policies, ike, memory };
  }
}
