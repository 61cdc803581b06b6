/**
 * The gateway's configuration document: the tunnel interface, the host's own addresses, the
 * manual-keying SAs and policies (./manual-keying.ts), and the IKE sections in swanctl.conf's
 * vocabulary: connections, secrets, logging, allowLegacy (./ike-config.ts). Every problem is
 * reported with its JSON path, what was expected and what was found.
 * Examples: config/site-a.json (manual keying), config/example-ike.json (IKE); the README's
 * configuration section describes every key.
 */
import type { StaticPolicy, StaticSa } from '../policy/manual.js';
import { parseAddress, parseRange } from '../policy/selector.js';
import { validateIkeConfig, type IkeConfig } from './ike-config.js';
import { validateManualKeying } from './manual-keying.js';
import { array, ConfigError, integer, keyPath, object, optional, parses, string, validate, type Problem } from './validate.js';

/**
 * The IKE daemon's settings, under strongswan.conf's charon.* names (times in seconds):
 * ports, retransmission, fragment size, half-open limits.
 */
export interface IkeDaemonConfig {
  /** UDP port for IKE (charon.port, 500) and for NAT-T (charon.port_nat_t, 4500); equal ports: IKE and ESP share one */
  port: number;
  port_nat_t: number;
  /** charon.retransmit_timeout (4 s), retransmit_base (1.8), retransmit_tries (5) */
  retransmit_timeout: number;
  retransmit_base: number;
  retransmit_tries: number;
  /** charon.fragment_size: the largest IKE datagram sent whole once fragmentation is agreed (1280) */
  fragment_size: number;
  /** charon.cookie_threshold: half-open IKE SAs from which cookies are required (10) */
  cookie_threshold: number;
  /** half-open IKE SAs beyond which IKE_SA_INIT requests are dropped (charon.init_limit_half_open; 100 here, 0 is not allowed: memory is bounded) */
  init_limit_half_open: number;
}

export const IKE_DAEMON_DEFAULTS: IkeDaemonConfig = {
  port: 500, port_nat_t: 4500, retransmit_timeout: 4, retransmit_base: 1.8, retransmit_tries: 5,
  fragment_size: 1280, cookie_threshold: 10, init_limit_half_open: 100,
};

export interface GatewayConfig extends IkeConfig {
  ike: IkeDaemonConfig;
  /**
   * mtu: the tunnel interface's MTU; when absent, the largest inner packet every outbound
   * SA can carry once sealed on a path of pathMtu (hosts size it: sizeTunnelMtu).
   * pathMtu: the path MTU toward the peers (RFC 4301 §8), 1500 unless set.
   */
  tunnel: { name: string; address: string; mtu?: number; pathMtu: number; routes: string[] };
  localAddresses: string[];
  sas: StaticSa[];
  policies: StaticPolicy[];
}

const shape = object({
  tunnel: object({
    name: string('an interface name of 1 to 15 characters', (s) => s.length > 0 && s.length <= 15),
    address: string('an address with its prefix, e.g. 10.1.0.1/16', (s) => s.includes('/') && parses(parseRange)(s)),
    mtu: optional(integer(576, 2000, 'an MTU from 576 to 2000')),
    pathMtu: optional(integer(576, 9000, 'a path MTU from 576 to 9000'), 1500),
    routes: optional(array(string('a prefix, e.g. 10.2.0.0/16', parses(parseRange))), []),
  }),
  localAddresses: array(string('an IPv4 or IPv6 address', parses(parseAddress))),
  sas: optional((v) => v),
  policies: optional((v) => v),
  control: optional(object({ port: integer(1, 65535) })),
  ike: optional(object({
    port: optional(integer(1, 65535)),
    port_nat_t: optional(integer(1, 65535)),
    retransmit_timeout: optional(integer(1, 3600, 'whole seconds from 1 to 3600')),
    retransmit_base: optional((v, path, problems) => {
      if (typeof v === 'number' && v >= 1 && v <= 10) return v;
      problems.push({ path, expected: 'a number from 1 to 10', got: JSON.stringify(v) });
      return 1.8;
    }),
    retransmit_tries: optional(integer(0, 20)),
    fragment_size: optional(integer(200, 65535)),
    cookie_threshold: optional(integer(0, 10000)),
    init_limit_half_open: optional(integer(1, 10000)),
  })),
  allowLegacy: optional((v) => v),
  connections: optional((v) => v),
  secrets: optional((v) => v),
  logging: optional((v) => v),
});

/** Runs one part's validator, collecting its problems. */
function part<T>(run: () => T, problems: Problem[]): T | undefined {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}

/** A connection's own single addresses must be addresses of this host. */
function checkLocalAddrs(ike: IkeConfig, localAddresses: string[], raw: unknown, problems: Problem[]): void {
  const ours = localAddresses.filter(parses(parseAddress)).map(parseAddress);
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  for (const c of ike.connections) {
    const written = Array.isArray((raw as Record<string, { local_addrs?: unknown }>)[c.name]?.local_addrs);
    c.local_addrs.forEach((a, i) => {
      if (a.single && a.range && !ours.some((o) => same(o, a.range!.start))) {
        problems.push({ path: `${keyPath('$.connections', c.name)}.local_addrs${written ? `[${i}]` : ''}`, expected: `an address of this host (localAddresses: ${localAddresses.join(', ')})`, got: JSON.stringify(a.text) });
      }
    });
  }
}

/** Validates a whole configuration document; throws ConfigError listing every problem. */
export function validateGatewayConfig(document: unknown): GatewayConfig {
  const problems: Problem[] = [];
  const base = part(() => validate(shape, document), problems);
  const d = (typeof document === 'object' && document !== null && !Array.isArray(document) ? document : {}) as Record<string, unknown>;
  const keying = part(() => validateManualKeying({ sas: d.sas, policies: d.policies }), problems);
  const ike = part(() => validateIkeConfig({ allowLegacy: d.allowLegacy, connections: d.connections, secrets: d.secrets, logging: d.logging }), problems);
  if (base && ike) checkLocalAddrs(ike, base.localAddresses, d.connections, problems);
  if (problems.length || !base || !keying || !ike) throw new ConfigError(problems);
  return {
    tunnel: { name: base.tunnel.name, address: base.tunnel.address, mtu: base.tunnel.mtu, pathMtu: base.tunnel.pathMtu ?? 1500, routes: base.tunnel.routes ?? [] },
    localAddresses: base.localAddresses,
    ike: { ...IKE_DAEMON_DEFAULTS, ...Object.fromEntries(Object.entries(base.ike ?? {}).filter(([, v]) => v !== undefined)) },
    sas: keying.sas,
    policies: keying.policies,
    ...ike,
  };
}

/**
 * The peers' outer IPv4 addresses: every connection's remote_addrs that name one address, and
 * the ends of the static SAs that are not one of localAddresses. A host keeps them out of the
 * tunnel interface's routes, or IKE and ESP to them would loop into the tunnel. Prefixes,
 * ranges and %any name no one peer; IPv6 never meets an IPv4 route.
 */
export function outerPeers(config: GatewayConfig): string[] {
  const addresses = [
    ...config.connections.flatMap((c) => c.remote_addrs.filter((a) => a.single).map((a) => a.text)),
    ...config.sas.flatMap((sa) => [sa.source, sa.destination]).filter((a) => !config.localAddresses.includes(a)),
  ];
  return [...new Set(addresses.filter((a) => parseAddress(a).length === 4))];
}

/** Without SAs to size it from (keys yet to be negotiated): strongSwan's kernel-libipsec default. */
export const DEFAULT_TUNNEL_MTU = 1400;

/**
 * The tunnel interface's MTU: the configured one, or the largest inner packet that every
 * outbound SA can carry on the configured path once sealed (`maxInnerLength` of each, as the
 * gateway sets them), so that the host's stack fragments or sends ICMP itself and the
 * gateway rarely has to (RFC 4301 §8.1). Returns the MTU and, when a configured MTU is larger
 * than what fits, a warning saying so.
 */
export function sizeTunnelMtu(config: GatewayConfig, fits: number[]): { mtu: number; warning?: string } {
  const limit = fits.length ? Math.min(...fits) : undefined;
  const configured = config.tunnel.mtu;
  if (configured === undefined) return { mtu: limit ?? DEFAULT_TUNNEL_MTU };
  if (limit !== undefined && configured > limit) {
    return { mtu: configured, warning: `tunnel MTU ${configured} is more than the ${limit} bytes an SA carries on a path MTU of ${config.tunnel.pathMtu}: larger packets with DF set get ICMP "fragmentation needed", others are fragmented after sealing` };
  }
  return { mtu: configured };
}
