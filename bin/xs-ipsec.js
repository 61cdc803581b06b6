#!/usr/bin/env node
/**
 * The xs-ipsec command line (package.json "bin").
 *   xs-ipsec algorithms        the algorithm registry: strongSwan keywords, IANA IDs, legacy status
 *   xs-ipsec check --config F  validate a configuration file: every problem with its JSON path
 *   xs-ipsec run --config F    run the gateway in the simulator (as root, in the current network namespace)
 *   xs-ipsec status | reload    ask the running gateway (its control socket on 127.0.0.1:4510)
 *   xs-ipsec sim [MODULE.js]   run a module (default: the firmware) in the desktop simulator
 *   xs-ipsec bench [...]       the crypto benchmark table (npm run bench)
 *   xs-ipsec demo              (root) strongSwan and our simulator in namespaces: a tunnel, pings, the SAs
 *   xs-ipsec initiate C [CH] | terminate C   ask the running gateway to start or delete an IKE SA
 *   xs-ipsec provision ...     one device's identity, PSK and gateway as an NVS partition image
 *                              or into the simulator's Preference store (scripts/provision.mjs)
 *   xs-ipsec flash --board B --port P [...]  build and flash an ESP32 board (scripts/flash.mjs)
 *   xs-ipsec help
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'help', ...rest] = process.argv.slice(2);

async function ready() {
  process.env.XS_IPSEC_SETUP_QUIET ??= '1';
  const { setup } = await import(join(ROOT, 'scripts/setup.mjs'));
  await setup();
  return import(join(ROOT, 'scripts/setup.mjs'));
}

switch (command) {
  case 'algorithms': {
    const { JS_OUT } = await ready();
    const { ALGORITHMS } = await import(join(JS_OUT, 'src/crypto/registry.js'));
    const types = { 1: 'ENCR', 2: 'PRF', 3: 'INTEG', 4: 'KE', 5: 'ESN' };
    console.log('keyword              type   IANA id  key bits  RFC       legacy');
    for (const a of ALGORITHMS) {
      console.log(`${a.name.padEnd(20)} ${types[a.type].padEnd(6)} ${String(a.id ?? '-').padStart(7)}  ${String(a.keyBits || '-').padStart(8)}  ${a.rfc.padEnd(9)} ${a.legacy ? 'refused unless legacy is enabled' : ''}`);
    }
    break;
  }
  case 'check':
  case 'run': {
    const at = rest.indexOf('--config');
    const file = at >= 0 ? rest[at + 1] : undefined;
    if (!file || !existsSync(file)) {
      console.error(`xs-ipsec ${command}: --config FILE is required${file ? ` (${file}: no such file)` : ''}`);
      process.exit(2);
    }
    const { JS_OUT, XS_HOST, XS_MODULES } = await ready();
    if (command === 'check') {
      const { validateGatewayConfig } = await import(join(JS_OUT, 'src/config/gateway-config.js'));
      let document;
      try {
        document = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8'));
      } catch (e) {
        console.error(`${file}: not JSON: ${e.message}`);
        process.exit(1);
      }
      try {
        const config = validateGatewayConfig(document);
        const children = config.connections.reduce((n, c) => n + c.children.length, 0);
        console.log(`${file}: valid: tunnel ${config.tunnel.name} ${config.tunnel.address}, ${config.sas.length} SAs, ${config.policies.length} policies, ${config.connections.length} IKE connections with ${children} CHILD_SAs`);
      } catch (e) {
        console.error(`${file}: ${e.problems ? `${e.problems.length} problem(s)\n${e.message}` : e.message}`);
        process.exit(1);
      }
      break;
    }
    const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, join(JS_OUT, 'hosts/lin/gateway-main.js'), resolve(file)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
    break;
  }
  case 'demo': {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/demo.mjs'), ...rest], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
    break;
  }
  case 'status':
  case 'reload':
  case 'initiate':
  case 'terminate': {
    // the running gateway's control socket (hosts/lin/gateway-main.ts), on loopback
    const at = rest.indexOf('--port');
    const port = at >= 0 ? Number(rest[at + 1]) : 4510;
    const dgram = await import('node:dgram');
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      console.error(`xs-ipsec ${command}: no gateway answered on 127.0.0.1:${port}`);
      process.exit(1);
    }, 2000);
    socket.on('message', (data) => {
      clearTimeout(timer);
      const text = data.toString();
      console.log(command === 'status' && text.startsWith('{') ? JSON.stringify(JSON.parse(text), null, 2) : text);
      socket.close();
      // a refusal is a line of text; status is JSON (whose keys may say "unknown": unknownSpi)
      process.exit(!text.startsWith('{') && /refused|unknown|no IKE/.test(text) ? 1 : 0);
    });
    const words = rest.filter((w, i) => w !== '--port' && rest[i - 1] !== '--port');
    socket.send([command, ...words].join(' '), port, '127.0.0.1');
    break;
  }
  case 'sim': {
    const { JS_OUT, XS_HOST, XS_MODULES } = await ready();
    const entry = rest[0] ? resolve(rest[0]) : join(JS_OUT, 'hosts/moddable/main.js');
    if (!existsSync(entry)) {
      console.error(`xs-ipsec sim: ${entry}: no such module`);
      process.exit(2);
    }
    const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, entry, ...rest.slice(1)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
    break;
  }
  case 'provision': {
    const paths = await ready();
    const { provision } = await import(join(ROOT, 'scripts/provision.mjs'));
    process.exit(await provision(rest, paths));
    break;
  }
  case 'flash': {
    // its command lines come from the compiled hosts/node/flash-plan.ts: the whole setup (tsc,
    // make: ~20 s) runs only when that is missing or older than its source
    const { JS_OUT } = await import(join(ROOT, 'scripts/setup.mjs'));
    const compiled = join(JS_OUT, 'hosts/node/flash-plan.js');
    if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(join(ROOT, 'hosts/node/flash-plan.ts')).mtimeMs) await ready();
    const { flash } = await import(join(ROOT, 'scripts/flash.mjs'));
    await flash(ROOT, JS_OUT, rest);
    break;
  }
  case 'bench': {
    const r = spawnSync(process.execPath, [join(ROOT, 'bench/run.mjs'), ...rest], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
    break;
  }
  case 'help':
  case '--help':
  case '-h':
    console.log(`usage: xs-ipsec <command>
  algorithms        list the algorithm registry (strongSwan keywords, IANA IDs, legacy status)
  check --config F  validate a configuration file (every problem: JSON path, expected, got)
  run --config F    run the gateway in the simulator (root: TUN device, raw sockets)
  status [--port P] the running gateway's SAs, policies, counters and XS memory
  reload [--port P] make the running gateway re-read its configuration
  initiate C [CH]   make the running gateway start connection C (and CHILD_SA CH), as swanctl --initiate
  terminate C       make the running gateway delete the IKE SAs of connection C
  demo              (root) strongSwan as headquarters and our firmware as a device, in network
                    namespaces: the tunnel comes up, pings pass both ways, both sides' SAs are shown
  sim [MODULE.js]   run a module (default: the firmware) in the desktop XS simulator
  provision --id ID --psk SECRET --gateway ADDRESS [--address A/N] [--config F] [--size BYTES] --out nvs.bin | --simulator DIR
                    one device's values as an NVS partition image (flashed at the nvs offset) or
                    into the simulator's Preference store (xs-ipsec provision --help for more)
  bench [--ms N]    crypto benchmark: Node vs XS, native vs software, callgrind instructions
  flash --board B --port P [--nvs nvs.bin] [--images DIR] [--manifest M] [--dry-run] [NAME=VALUE...]
                    put the firmware on an ESP32 board (boards/: esp32, esp32s3, esp32c3, esp32c6):
                    with $MODDABLE set, build and flash with the Moddable SDK's mcconfig
                    (NAME=VALUE: mc/config values, e.g. ssid=... password=...); with --images DIR,
                    write prebuilt bootloader.bin, partition-table.bin, xs_esp32.bin with esptool;
                    --nvs also writes a provisioned NVS image; --dry-run prints the commands only
  help              this text`);
    break;
  default:
    console.error(`xs-ipsec: unknown command "${command}" (try: xs-ipsec help)`);
    process.exit(2);
}
