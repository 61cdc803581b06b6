/**
 * manifest.json and the board fragments (boards/<board>/manifest.json) as the Moddable SDK's
 * mcconfig reads them (./mcconfig-model.ts): only keys it knows, every module source matching
 * files of the checkout, no module both .ts and .js, preload by exact module name, the platform
 * entry and board each `-p` selects, and the imports of the firmware's modules all provided.
 */
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';
import { BOARDS, checkoutFiles, readJson, readText } from './checkout.js';
import { CREATION_KEYS, MANIFEST_KEYS, moduleFiles, PLATFORM_KEYS, selectPlatform } from './mcconfig-model.js';

/**
 * The device's own modules (the entry, the boot and its alias, the lwIP tunnel netif binding
 * and its C, the gateway composition): named here so that losing one fails a test, even if
 * the manifest were changed along with it.
 */
const ADDED_FILES = ['hosts/esp32/main.ts', 'hosts/esp32/boot.ts', 'hosts/esp32/xs-ipsec-boot.js', 'hosts/esp32/tunnel.ts', 'hosts/esp32/tunnel.c', 'hosts/moddable/firmware.ts'];

/**
 * Modules the Moddable SDK provides to our code (bare specifiers), through the manifests
 * manifest.json includes: the instrumentation manifest, build/devices/esp32/manifest.json and
 * the simulators' manifest (timer, time; both through manifest_base), manifest_net (socket, net), the
 * preference manifest, and mcconfig itself (mc/config).
 */
const SDK_MODULES = ['instrumentation', 'mc/config', 'net', 'preference', 'socket', 'time', 'timer'];

type Manifest = Record<string, any>;

async function manifests(): Promise<[string, Manifest][]> {
  return [['manifest.json', await readJson('manifest.json')], ...await Promise.all(BOARDS.map(async (b): Promise<[string, Manifest]> => [`boards/${b}/manifest.json`, await readJson(`boards/${b}/manifest.json`)]))];
}

function checkKeys(path: string, object: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) ok(allowed.includes(key), `${path}: "${key}" is not a key mcconfig reads here (known: ${allowed.join(', ')})`);
}

function checkCreation(path: string, creation: Record<string, any>): void {
  checkKeys(path, creation, Object.keys(CREATION_KEYS));
  for (const [key, value] of Object.entries(creation)) {
    const inner = CREATION_KEYS[key];
    if (inner) checkKeys(`${path}.${key}`, value, inner);
    else if (key !== 'main') ok(Number.isInteger(value) && value >= 0, `${path}.${key}: ${JSON.stringify(value)} is not a size`);
  }
}

/** Comments ("//") are fine where mcconfig ignores keys, not where every key becomes output. */
function checkNoComments(path: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, inner] of Object.entries(value)) {
    ok(key !== '//', `${path}: a "//" key here would become a C define or an mc/config value`);
    checkNoComments(`${path}.${key}`, inner);
  }
}

function checkManifest(path: string, manifest: Manifest, platformEntry = false): void {
  checkKeys(path, manifest, platformEntry ? PLATFORM_KEYS : MANIFEST_KEYS);
  if (manifest.creation) checkCreation(`${path}.creation`, manifest.creation);
  for (const key of ['defines', 'config', 'creation']) checkNoComments(`${path}.${key}`, manifest[key]);
  checkNoComments(`${path}.typescript`, manifest.typescript?.tsconfig);
  if (manifest.dependency) ok(platformEntry, `${path}: mcconfig reads "dependency" only in an esp32 platforms entry`);
  for (const [name, entry] of Object.entries<Manifest>(manifest.platforms ?? {})) checkManifest(`${path}.platforms["${name}"]`, entry, true);
}

test('manifest: manifest.json and the board fragments are JSON with only keys mcconfig reads', async () => {
  for (const [path, manifest] of await manifests()) checkManifest(path, manifest);
});

test('manifest: each -p selects its own platform entry, which includes its board folder', async () => {
  const { platforms } = await readJson('manifest.json');
  const expected: [string, string, string | undefined][] = [
    ['esp32', 'esp32', 'esp32'], ['esp32/esp32s3', 'esp32/esp32s3', 'esp32s3'],
    ['esp32/esp32c3', 'esp32/esp32c3', 'esp32c3'], ['esp32/esp32c6', 'esp32/esp32c6', 'esp32c6'],
    ['esp32/moddable_two', 'esp32/*', undefined], ['lin', 'lin', undefined], ['mac', '...', undefined],
  ];
  for (const [platform, key, board] of expected) {
    equal(selectPlatform(platforms, platform), key, `-p ${platform}`);
    const entry = platforms[key];
    if (board) {
      deepEqual(entry.include, [`./boards/${board}/manifest.json`], `-p ${platform} include`);
      deepEqual(entry.dependency, [{ idf: 'mbedtls' }], `-p ${platform} dependency`);
    } else if (key !== 'lin') ok(typeof entry.error === 'string', `-p ${platform} is refused with an error`);
  }
});

test('manifest: every module source matches files of the checkout; no module is both .ts and .js', async () => {
  const files = await checkoutFiles();
  for (const [path, manifest] of await manifests()) {
    const directory = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    for (const modules of [manifest.modules ?? {}, ...Object.values<Manifest>(manifest.platforms ?? {}).map((p) => p.modules ?? {})]) {
      const found = moduleFiles(files, modules, directory);
      deepEqual(found.unmatched, [], `${path}: sources that match no file`);
      for (const [name, sources] of found.modules) equal(sources.length, 1, `${path}: module ${name} has ${sources.join(' and ')}`);
    }
  }
});

test('manifest: the device\'s own modules exist (entry, boot, tunnel netif, firmware)', async () => {
  const files = await checkoutFiles();
  deepEqual(ADDED_FILES.filter((f) => !files.has(f)), [], 'missing');
});

test('manifest: preload names modules it provides, by exact name, and every src module', async () => {
  const manifest = await readJson('manifest.json');
  const files = await checkoutFiles();
  const provided = moduleFiles(files, manifest.modules).modules;
  for (const name of manifest.preload) {
    ok(!name.includes('*'), `preload "${name}": wildcards only match .js modules (mcconfig.js filterPreload)`);
    ok(provided.has(name), `preload "${name}" is not a module of manifest.json`);
  }
  const src = [...provided.keys()].filter((n) => n.startsWith('src/'));
  deepEqual(src.filter((n) => !manifest.preload.includes(n)), [], 'src modules not preloaded');
  ok(src.length > 50, `src modules found: ${src.length}`);
});

test('manifest: every import of the firmware modules is a module of the esp32 build or of the SDK', async () => {
  const manifest = await readJson('manifest.json');
  const files = await checkoutFiles();
  const esp32 = manifest.platforms.esp32;
  const modules = new Map([...moduleFiles(files, manifest.modules).modules, ...moduleFiles(files, esp32.modules).modules]);
  const problems: string[] = [];
  for (const [name, [file]] of modules) {
    if (!file.endsWith('.ts')) continue;
    const text = await readText(file);
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm)) {
      const specifier = m[1];
      if (!specifier.startsWith('.')) {
        if (!modules.has(specifier) && !SDK_MODULES.includes(specifier)) problems.push(`${file}: '${specifier}' is not provided`);
        continue;
      }
      // as XS on the device resolves it (xs/platforms/mc/xsHosts.c fxFindModule): relative to the importing module's name, .js dropped
      const parts = name.split('/').slice(0, -1);
      for (const part of specifier.replace(/\.js$/, '').split('/')) {
        if (part === '..') parts.pop();
        else if (part !== '.') parts.push(part);
      }
      if (!modules.has(parts.join('/'))) problems.push(`${file}: '${specifier}' (module ${parts.join('/')}) is not in the build`);
    }
  }
  deepEqual(problems, []);
});

test('manifest: creation main, socket read queue and the TypeScript settings', async () => {
  const manifest = await readJson('manifest.json');
  equal(manifest.creation.main, 'hosts/esp32/main');
  equal(manifest.platforms.lin.creation.main, 'hosts/moddable/main');
  equal(manifest.defines.socket.readqueue, 16);
  // the SDK manifests that provide SDK_MODULES and bring Wi-Fi up before main (setup/network, config ssid/password)
  for (const include of ['examples/manifest_base.json', 'examples/manifest_net.json', 'modules/base/instrumentation/manifest.json', 'modules/files/preference/manifest.json']) {
    ok(manifest.include.includes(`$(MODDABLE)/${include}`), `includes ${include}`);
  }
  deepEqual(manifest.typescript.tsconfig.compilerOptions, { target: 'es2024', lib: ['es2024'], strict: true });
  // the board fragments, not manifest.json, size the XS heap: manifest.json merges after them and would win
  for (const key of ['static', 'chunk', 'heap', 'stack']) ok(!(key in manifest.creation), `manifest.json creation.${key} would override every board`);
  ok(!manifest.config, 'manifest.json config would override the boards\' proposal order');
});
