/**
 * The gateway in the simulator:
 *   xs-ipsec-lin ... gateway-main.js CONFIG.json      the document in a file (`xs-ipsec run`);
 *   xs-ipsec-lin --config FILE ... gateway-main.js    as on the device: the built-in document
 *       (mc/config) unless one is provisioned in Preference (hosts/moddable/device-config.ts).
 * Runs the firmware (hosts/moddable/firmware.ts: static SAs and policies through PF_KEY, the
 * data path, IKE) with a TUN device as its tunnel interface, given the configuration's
 * address, MTU and routes, and runs until killed. The document is the file, or as on a device
 * the built-in one (its `ipsec` key if it has one) with the provisioned values applied
 * (hosts/moddable/device-config.ts). Logs what it does on stdout; every problem in the
 * configuration is reported with its path.
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
import type { GatewayConfig } from '../../src/config/gateway-config.js';
import { LogLevel, type Logger } from '../../src/log.js';
import { Firmware } from '../moddable/firmware.js';
import { describeDeviceConfig, loadGatewayDocument } from '../moddable/device-config.js';

declare function trace(...args: unknown[]): void;

const path = argv()[1];

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

// Decryption tables (with logging.keylog only) go to the directory in $XS_IPSEC_KEYLOG_DIR,
// else the working directory.
const keylogDirectory = getenv('XS_IPSEC_KEYLOG_DIR') ?? '.';
const keylogTables = new Map<string, string>();
const firmware = new Firmware({
  readDocument: () => (path ? JSON.parse(readFile(path)) : loadGatewayDocument()),
  source: path ?? describeDeviceConfig(),
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
const controlPort = (() => {
  const document = (path ? JSON.parse(readFile(path)) : loadGatewayDocument()) as { control?: { port?: number } };
  return document.control?.port ?? 4510;
})();
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
