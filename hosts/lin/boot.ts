/**
 * The firmware's boot in the simulator (module "xs-ipsec/boot" on the `lin` platform; on an
 * ESP32 it is hosts/esp32/boot.ts): boot() runs the firmware (hosts/moddable/firmware.ts:
 * static SAs and policies through PF_KEY, the data path, IKE) with a TUN device as its tunnel
 * interface, given the configuration's address, MTU and routes, and returns it running.
 * ./gateway-main.ts boots it alone; an application (examples/sensor-uplink) boots it and then
 * uses the tunnel.
 *
 * The document: the file named by the entry's first argument (`xs-ipsec run --config F`), or
 * as on a device the built-in one (mc/config: `xs-ipsec-lin --config FILE`; its `ipsec` key if
 * it has one) with the provisioned values applied (hosts/moddable/device-config.ts). A
 * document that lists no localAddresses gets the address this host would send to its first
 * peer from, as a device gets its address from DHCP. Logs what it does on stdout; every
 * problem in the configuration is reported with its path.
 *
 * A control socket on 127.0.0.1 (UDP, port `control.port`, 4510 by default; loopback only,
 * inside the gateway's network namespace) answers the `xs-ipsec` commands:
 *   "status" -> JSON: counters, SAs with their packets, bytes and drops, policies, IKE SAs,
 *               XS memory (read right after a collection);
 *   "reload" -> re-reads the document and replaces SAs and policies, or reports the problems;
 *   "initiate CONNECTION [CHILD]", "terminate CONNECTION".
 */
import { Socket } from 'socket';
import { argv, gc, getenv, now, readFile, run, writeFileAtomic } from 'lin/process';
import { Tun } from 'lin/tun';
import type { GatewayConfig } from '../../src/config/gateway-config.js';
import { LogLevel, type Logger } from '../../src/log.js';
import { Firmware } from '../moddable/firmware.js';
import { describeDeviceConfig, loadGatewayDocument } from '../moddable/device-config.js';

declare function trace(...args: unknown[]): void;


/**
 * The simulator's tunnel interface: a TUN device with the configuration's address, MTU and
 * routes (the device's counterpart is the lwIP netif of hosts/esp32/tunnel.ts).
 */
function openTun(config: GatewayConfig, mtu: number, log: Logger): Tun {
  const tun = new Tun({ name: config.tunnel.name });
  for (const command of [
    ['ip', 'addr', 'add', config.tunnel.address, 'dev', tun.name],
    ['ip', 'link', 'set', tun.name, 'mtu', String(mtu), 'up'],
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
  return tun;
}

/**
 * The address this host sends from toward `peer` (`ip route get`), or undefined when there is
 * no route: the simulator's stand-in for the address a device's network gives it.
 */
function sourceAddressToward(peer: string): string | undefined {
  const r = run(['ip', '-4', 'route', 'get', peer]);
  return r.status === 0 ? /\bsrc (\S+)/.exec(r.output)?.[1] : undefined;
}

/** The document the simulator runs: the entry's file argument, or the device's built-in and provisioned one. */
function readDocument(): unknown {
  const path = argv()[1];
  if (path) return JSON.parse(readFile(path));
  const document = loadGatewayDocument();
  const listed = Array.isArray(document.localAddresses) && document.localAddresses.length > 0;
  const peer = Object.values((document.connections ?? {}) as Record<string, { remote_addrs?: unknown }>)
    .map((c) => (Array.isArray(c.remote_addrs) ? c.remote_addrs[0] : c.remote_addrs))
    .find((a): a is string => typeof a === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(a));
  return listed || !peer ? document : loadGatewayDocument(sourceAddressToward(peer));
}

/** Boots the firmware with a TUN device and the control socket; returns it running. */
export function boot(): Firmware {
  // Decryption tables (with logging.keylog only) go to the directory in $XS_IPSEC_KEYLOG_DIR,
  // else the working directory.
  const keylogDirectory = getenv('XS_IPSEC_KEYLOG_DIR') ?? '.';
  const keylogTables = new Map<string, string>();
  const firmware = new Firmware({
    readDocument,
    source: argv()[1] ?? describeDeviceConfig(),
    openTunnel: openTun,
    print: (line) => trace(`xs-ipsec ${line}\n`),
    now,
    icmp: true,
    gc,
    keylog: (table, line) => {
      const text = (keylogTables.get(table) ?? '') + line + '\n';
      keylogTables.set(table, text);
      writeFileAtomic(`${keylogDirectory}/${table}`, new TextEncoder().encode(text));
    },
  });
  firmware.start();
  const tunnelName = (firmware.tunnel as Tun).name;

  /** the largest control answer: one UDP datagram (65,507 bytes of payload over IPv4), less a margin */
  const MAX_ANSWER = 60_000;

  function status(): string {
    const whole = { tunnel: tunnelName, ...firmware.status() } as Record<string, unknown> & { ike?: { sas: unknown[] } };
    let text = JSON.stringify(whole);
    // the answer is one UDP datagram: with many IKE SAs, only as many as fit, and how many there are
    const ike = whole.ike;
    let shown = ike?.sas.length ?? 0;
    while (text.length > MAX_ANSWER && ike && shown > 0) {
      shown >>= 1;
      text = JSON.stringify({ ...whole, ike: { ...ike, sas: ike.sas.slice(0, shown), sasTotal: ike.sas.length } });
    }
    return text;
  }

  type ControlSocket = { callback: (message: number, count?: number, address?: string, port?: number) => void; read(t: typeof String): string; write(ip: string, port: number, data: ArrayBuffer): void };
  const controlPort = (readDocument() as { control?: { port?: number } }).control?.port ?? 4510;
  const control = new (Socket as unknown as new (o: object) => ControlSocket)({ kind: 'UDP', port: controlPort });
  control.callback = (message, _count, address, port) => {
    if (message !== 2) return;
    const { log } = firmware;
    if (address !== '127.0.0.1') {
      log.log('net', LogLevel.CONTROL, `control request from ${address} ignored (loopback only)`);
      return;
    }
    const command = control.read(String).trim();
    log.log('net', LogLevel.DIAGNOSE, `control: ${command}`);
    const answer = command === 'status' ? status() : command === 'reload' ? firmware.reload() : firmware.command(command);
    try {
      control.write(address!, port!, new TextEncoder().encode(answer).buffer as ArrayBuffer);
    } catch (e) {
      // an answer the socket refuses must not end the gateway
      log.log('net', LogLevel.CONTROL, `control: answer of ${answer.length} bytes not sent: ${(e as Error).message}`);
    }
  };
  return firmware;
}
