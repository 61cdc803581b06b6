/**
 * `xs-ipsec provision`: one device's identity, PSK, gateway address and (optionally) whole
 * configuration document, checked, then written
 *   --out FILE       as an ESP-IDF NVS partition image (src/provision/nvs-image.ts), to flash
 *                    at the board's nvs offset (`xs-ipsec flash --nvs FILE`): the firmware
 *                    reads the values with Preference.get("xs-ipsec", KEY);
 *   --simulator DIR  into the desktop simulator's Preference store DIR (what
 *                    `xs-ipsec-lin --preferences DIR` reads), through the simulator's own
 *                    `preference` module (hosts/lin/provision-main.ts).
 * Values and their checks: src/provision/provision-values.ts. Exit status 2 for bad usage, 1
 * for refused values (one line per problem), 0 when written. The PSK is never printed.
 *
 * `node scripts/provision.mjs ARGS` runs it on an existing build (no setup step): what the
 * tests do, as `xs-ipsec provision` spends most of its time in scripts/setup.mjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const USAGE = `usage: xs-ipsec provision --id ID --psk SECRET --gateway ADDRESS [--address A/N] [--config FILE]
                          [--size BYTES] (--out nvs.bin | --simulator DIR)...
  --id ID           the device's IKE identity (@name, user@domain, an address, @#hex, type:value)
  --psk SECRET      its pre-shared key: text, 0x<hex> or 0s<base64> (swanctl.conf syntax)
  --gateway ADDRESS the central gateway's IPv4 address (its connections' remote_addrs)
  --address A/N     the device's inner address with its prefix, e.g. 10.1.0.17/32 (the tunnel
                    interface's address and its CHILD_SAs' local_ts)
  --config FILE     a whole configuration document (JSON, checked as xs-ipsec check does),
                    stored compact; at most 3999 bytes
  --size BYTES      the NVS partition's size (default 0x6000, the ESP32 default partition
                    table's nvs: 24 KB); a multiple of 4096, at least 0x3000
  --out FILE        write an NVS partition image, to flash at the board's nvs offset
  --simulator DIR   write the values into the simulator's Preference store DIR
                    (xs-ipsec-lin --preferences DIR)`;

const OPTIONS = ['--id', '--psk', '--gateway', '--address', '--config', '--size', '--out', '--simulator'];
const DEFAULT_SIZE = 0x6000;

/** Thrown for bad usage: exit status 2. */
class Usage extends Error {}

function parseArguments(args) {
  const options = {};
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]];
    if (!OPTIONS.includes(name)) throw new Usage(`unknown argument ${JSON.stringify(name)}`);
    if (value === undefined || OPTIONS.includes(value)) throw new Usage(`${name} needs a value`);
    if (name in options) throw new Usage(`${name} given twice`);
    options[name] = value;
  }
  for (const name of ['--id', '--psk', '--gateway']) if (!(name in options)) throw new Usage(`${name} is required`);
  if (!options['--out'] && !options['--simulator']) throw new Usage('--out FILE or --simulator DIR (or both) is required');
  return options;
}

/**
 * Runs the command; returns its exit status. paths: { JS_OUT, XS_HOST, XS_MODULES } from
 * scripts/setup.mjs (the compiled modules and the simulator).
 */
export async function provision(args, { JS_OUT, XS_HOST, XS_MODULES }, out = console) {
  if (args.includes('--help') || args.includes('-h')) {
    out.log(USAGE);
    return 0;
  }
  let options;
  let size = DEFAULT_SIZE;
  let configText;
  try {
    options = parseArguments(args);
    if (options['--size'] !== undefined) {
      if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(options['--size'])) throw new Usage(`--size ${options['--size']}: a number of bytes (decimal or 0x hex)`);
      size = Number(options['--size']);
    }
    const config = options['--config'];
    if (config !== undefined) {
      if (!existsSync(config)) throw new Usage(`--config ${config}: no such file`);
      configText = readFileSync(config, 'utf8');
    }
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    out.error(`xs-ipsec provision: ${e.message}\n${USAGE}`);
    return 2;
  }

  const { provisionItems } = await import(join(JS_OUT, 'src/provision/provision-values.js'));
  const { buildNvsImage } = await import(join(JS_OUT, 'src/provision/nvs-image.js'));
  const { items, problems } = provisionItems({
    id: options['--id'], psk: options['--psk'], gateway: options['--gateway'], address: options['--address'],
    config: configText === undefined ? undefined : { text: configText, file: options['--config'] },
  });
  if (problems.length) {
    for (const p of problems) out.error(`xs-ipsec provision: ${p}`);
    return 1;
  }
  const stored = items.map((i) => i.key).join(', ');

  const image = options['--out'];
  if (image !== undefined) {
    let bytes;
    try {
      bytes = buildNvsImage(items, size);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      out.error(`xs-ipsec provision: ${e.message}`);
      // a size that is no partition size is bad usage; values that do not fit are refused
      return /^NVS partition size/.test(e.message) ? 2 : 1;
    }
    writeFileSync(image, bytes);
    out.log(`${image}: NVS partition image, ${size} bytes (0x${size.toString(16)}), namespace "xs-ipsec": ${stored}; flash it at the board's nvs offset`);
  }

  const simulator = options['--simulator'];
  if (simulator !== undefined) {
    const values = items.map(({ namespace, key, value }) => ({ namespace, key, value }));
    const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, '--preferences', resolve(simulator), join(JS_OUT, 'hosts/lin/provision-main.js')], {
      env: { ...process.env, XS_IPSEC_PROVISION: JSON.stringify(values) },
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      out.error(`xs-ipsec provision: the simulator could not store the values in ${simulator} (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
      return 1;
    }
    out.log(`${simulator}: simulator Preference store, domain "xs-ipsec": ${stored} (xs-ipsec-lin --preferences ${simulator})`);
  }
  out.log(`id ${JSON.stringify(options['--id'])}, psk <secret>, gateway ${JSON.stringify(options['--gateway'])}${options['--address'] ? `, address ${options['--address']}` : ''}${configText === undefined ? '' : `, config ${options['--config']}`}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await provision(process.argv.slice(2), await import('./setup.mjs')));
}
