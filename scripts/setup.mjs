#!/usr/bin/env node
/**
 * Everything `npm start`, `npm test` and `npm run bench` need, from a fresh clone, in order:
 *   1. npm dependencies (npm ci, without install scripts: @agoric/xsnap's own postinstall
 *      builds xsnap-worker, which we don't use);
 *   2. system packages: Mbed TLS headers (libmbedtls-dev) for the XS host, strongSwan (the
 *      interop tests' peer, when root; the tunnel bench's yardstick), for the tests Debian's
 *      lwIP (liblwip-dev), and with --bench valgrind; installed with apt-get when root, else
 *      one line says which command to run;
 *   3. the desktop XS host, hosts/lin -> build/lin/release/xs-ipsec-lin (make, incremental);
 *      for the tests also the ESP32 C's compile check and the host's variant with the device's
 *      tunnel netif over lwIP (make -C hosts/esp32 -> build/lin/release/xs-ipsec-lin-netif);
 *   4. TypeScript -> build/js (tsc), and the portable core type-checked without Node types;
 *   5. the XS module tree build/xs-modules: the @noble packages transpiled for XS (esbuild,
 *      class static fields lowered: XS bug, see ../shared/notes/xs-engine.md), the host
 *      binding modules, and the JSON test vectors as ES modules.
 * Only Node built-ins are used before step 1 has run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const XS_HOST = join(ROOT, 'build/lin/release/xs-ipsec-lin');
/** the same host without mxDebug, as a device release build: what bench/ measures */
export const XS_BENCH_HOST = join(ROOT, 'build/lin/bench/xs-ipsec-lin');
/** the host with the device's tunnel netif over Debian's lwIP (hosts/esp32): test/esp32 runs it */
export const XS_NETIF_HOST = join(ROOT, 'build/lin/release/xs-ipsec-lin-netif');
export const XS_MODULES = join(ROOT, 'build/xs-modules');
export const JS_OUT = join(ROOT, 'build/js');

const quiet = process.env.XS_IPSEC_SETUP_QUIET === '1';
function say(message) {
  if (!quiet) console.error(`setup: ${message}`);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`setup: ${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function newer(a, b) {
  return !existsSync(b) || statSync(a).mtimeMs > statSync(b).mtimeMs;
}

/**
 * Files of build/ are written only when they change: a set-up that a command runs (xs-ipsec
 * provision, flash) while simulators load modules from build/ must not rewrite a file under them.
 */
function copyIfNewer(from, to) {
  if (newer(from, to)) copyFileSync(from, to);
}
function writeIfChanged(to, text) {
  if (!existsSync(to) || readFileSync(to, 'utf8') !== text) writeFileSync(to, text);
}

function npmDependencies() {
  const marker = join(ROOT, 'node_modules/.package-lock.json');
  if (existsSync(marker) && !newer(join(ROOT, 'package-lock.json'), marker)) return;
  say('installing npm dependencies (npm ci --ignore-scripts)');
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}

function systemPackages(bench, tests) {
  const missing = [];
  if (!existsSync('/usr/include/psa/crypto.h') || !existsSync('/usr/include/mbedtls/version.h')) missing.push('libmbedtls-dev');
  // the ESP32 tunnel netif's compile check and desktop test (hosts/esp32, test/esp32)
  if (tests && !existsSync('/usr/include/lwip/lwip/netif.h')) missing.push('liblwip-dev');
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  if (!has('make')) missing.push('make');
  if (!has('cc')) missing.push('gcc');
  if (bench && !has('valgrind')) missing.push('valgrind');
  // the tunnel bench and the interop tests (test/interop/swan.ts) run strongSwan charons with
  // kernel-libipsec (userspace ESP), openssl and x25519; the tests skip without them, so only
  // the bench requires them of a user who is not root
  const strongswan = ['/usr/lib/ipsec/charon', '/usr/sbin/swanctl',
    ...['kernel-libipsec', 'curve25519', 'openssl'].map((plugin) => `/usr/lib/ipsec/plugins/libstrongswan-${plugin}.so`)];
  if ((bench || process.getuid?.() === 0) && !strongswan.every((file) => existsSync(file))) {
    missing.push('strongswan-charon', 'strongswan-swanctl', 'libcharon-extra-plugins', 'libstrongswan-standard-plugins', 'libstrongswan-extra-plugins');
  }
  // the simulator tests build network namespaces and ping through tunnel interfaces
  if (!has('ip')) missing.push('iproute2');
  if (!has('ping')) missing.push('iputils-ping');
  if (!has('iperf3')) missing.push('iperf3');
  // the NAT interop test masquerades in a router namespace
  if (!has('iptables')) missing.push('iptables');
  // the key-log tests check that Wireshark decrypts our IKE and ESP with our tables
  if (process.getuid?.() === 0 && !has('tshark')) missing.push('tshark');
  if (process.getuid?.() === 0 && !has('xxd')) missing.push('xxd');
  // the ESP cross-check against scapy (test/interop) uses Debian's Python and its scapy
  if (spawnSync('/usr/bin/python3', ['-c', 'import scapy.layers.ipsec, cryptography'], { stdio: 'ignore' }).status !== 0) {
    missing.push('python3-scapy', 'python3-cryptography');
  }
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    say(`installing ${missing.join(' ')} with apt-get`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return;
  }
  console.error(`setup: missing system packages. Run: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}

function xsHost(bench, tests) {
  say('building the XS host (hosts/lin)');
  run('make', ['-C', 'hosts/lin', '-j2', 'GOAL=release']);
  if (bench) run('make', ['-C', 'hosts/lin', '-j2', 'GOAL=bench']);
  if (tests) {
    say('checking the ESP32 C and building the host with its tunnel netif (hosts/esp32)');
    run('make', ['-C', 'hosts/esp32', '-j2']);
  }
}

function typescript() {
  say('compiling TypeScript');
  // incremental: when nothing changed tsc writes nothing, so a set-up run by a command while
  // simulators are loading build/js (a CLI test beside a namespace test) never rewrites a
  // module under them; and a second set-up takes seconds instead of twenty
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', join(ROOT, 'build/tsconfig.tsbuildinfo')]);
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'src/tsconfig.json', '--incremental', '--tsBuildInfoFile', join(ROOT, 'build/src-tsconfig.tsbuildinfo')]);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

async function xsModules() {
  say('preparing the XS module tree (build/xs-modules)');
  const esbuild = await import('esbuild');
  for (const pkg of ['hashes', 'ciphers', 'curves']) {
    const from = join(ROOT, 'node_modules/@noble', pkg);
    for (const file of walk(from)) {
      const rel = relative(from, file);
      if (!file.endsWith('.js') || rel.startsWith('src/') || rel.startsWith('esm/')) continue;
      const to = join(XS_MODULES, '@noble', pkg, rel);
      if (!newer(file, to)) continue;
      mkdirSync(dirname(to), { recursive: true });
      const { code } = await esbuild.transform(readFileSync(file, 'utf8'), {
        loader: 'js', format: 'esm', target: 'es2022', supported: { 'class-static-field': false },
      });
      writeFileSync(to, code);
    }
  }
  // fast-check for the property tests, bundled into one module (it imports pure-rand) with
  // setTimeout/clearTimeout over the timer module (fast-check captures them when it loads)
  const fastCheck = join(XS_MODULES, 'fast-check.js');
  if (newer(join(ROOT, 'node_modules/fast-check/package.json'), fastCheck)) {
    await esbuild.build({
      entryPoints: [join(ROOT, 'node_modules/fast-check/lib/fast-check.js')], bundle: true, format: 'esm', target: 'es2022',
      supported: { 'class-static-field': false }, inject: [join(ROOT, 'test/xs/web-timers.js')], external: ['timer'],
      outfile: fastCheck, logLevel: 'warning',
    });
  }
  // Binding modules, by their Moddable module names ("timer", "crypto-psa", "lin/process", ...,
  // and the desktop-only "esp32-desktop/native" and "esp32-desktop/lwip-test" of the netif tests)
  for (const dir of ['hosts/lin/modules', 'hosts/native', 'hosts/esp32/desktop/modules']) {
    for (const file of walk(join(ROOT, dir))) {
      if (!file.endsWith('.js')) continue;
      const to = join(XS_MODULES, relative(join(ROOT, dir), file));
      mkdirSync(dirname(to), { recursive: true });
      copyIfNewer(file, to);
    }
  }
  // Platform modules by name, so that an application imports them by the same names in the
  // simulator as on the device: "xs-ipsec/boot" is the simulator's boot (hosts/lin/boot: a TUN
  // device; the Moddable SDK's own lin platform has no tunnel, so manifest.json cannot map it
  // there), and the examples' modules as their manifests map them for `lin` (sensor-uplink's
  // simulated sensor). One re-exporting module each.
  const platformModules = [['xs-ipsec/boot', join(JS_OUT, 'hosts/lin/boot.js')]];
  for (const manifest of exampleManifests()) {
    const modules = JSON.parse(readFileSync(manifest, 'utf8')).platforms?.lin?.modules ?? {};
    for (const [name, path] of Object.entries(modules)) {
      if (name === '*' || typeof path !== 'string' || !path.startsWith('./')) continue;
      platformModules.push([name, join(JS_OUT, relative(ROOT, join(dirname(manifest), path))) + '.js']);
    }
  }
  for (const [name, target] of platformModules) {
    // only modules compiled from TypeScript; binding modules (.js beside their .c) are copied above
    if (!existsSync(target)) continue;
    const to = join(XS_MODULES, `${name}.js`);
    mkdirSync(dirname(to), { recursive: true });
    const from = relative(dirname(to), target);
    writeIfChanged(to, `export * from ${JSON.stringify(from.startsWith('.') ? from : `./${from}`)};\n`);
  }
  // Test fixtures (plain modules the host tests run, some failing on purpose) and the
  // interop helpers (Python scripts run by the interop tests)
  for (const dir of ['test/fixtures', 'test/interop']) {
    for (const file of walk(join(ROOT, dir))) {
      if (file.endsWith('.ts')) continue;
      const to = join(JS_OUT, relative(ROOT, file));
      mkdirSync(dirname(to), { recursive: true });
      copyIfNewer(file, to);
    }
  }
  // JSON test vectors as ES modules, so both engines import them the same way
  const vectors = join(ROOT, 'test/vectors');
  for (const file of walk(vectors)) {
    if (!file.endsWith('.json')) continue;
    const to = join(JS_OUT, 'test/vectors', relative(vectors, file)).replace(/\.json$/, '.js');
    if (!newer(file, to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, `export default ${JSON.stringify(JSON.parse(readFileSync(file, 'utf8')))};\n`);
  }
}

/** The examples' manifests (examples/<name>/manifest.json), whose `lin` platform modules the simulator maps. */
function exampleManifests() {
  const examples = join(ROOT, 'examples');
  return existsSync(examples) ? readdirSync(examples).map((d) => join(examples, d, 'manifest.json')).filter((f) => existsSync(f)) : [];
}

/** bench: also the bench host and valgrind; tests: also what only the tests need (lwIP) */
export async function setup({ bench = false, tests = false } = {}) {
  npmDependencies();
  systemPackages(bench, tests);
  xsHost(bench, tests);
  typescript();
  await xsModules();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await setup({ bench: process.argv.includes('--bench'), tests: true });
  if (!existsSync(XS_HOST)) process.exit(1);
  say('ready');
}

