/**
 * What the Moddable SDK's mcconfig (8.2.3: tools/mcconfig.js, tools/mcmanifest.js) does with a
 * manifest, as far as the board tests need it, restated from reading those files:
 *   - the keys it reads (mcmanifest.js parseManifest, mergePlatform, parseBuild; mcconfig.js
 *     filterCreation); any other key is silently ignored, so a misspelt key is a lost setting;
 *   - which one entry of `platforms` applies to `-p NAME` (matchPlatform);
 *   - which files a module source matches (Rule.iterate, ModulesRule.appendSource): `./dir/name`
 *     takes every file `name.<ext>` of dir, `./dir/*` every file of dir (subdirectories are
 *     skipped); .js/.ts become modules, .c/.h native code, .d.ts typings;
 *   - preload: wildcard patterns only match .js modules, TypeScript ones only by exact name
 *     (mcconfig.js filterPreload).
 */

/** Top-level keys (and `//`, our comment key, which mcconfig ignores). */
export const MANIFEST_KEYS = ['//', 'build', 'include', 'modules', 'preload', 'creation', 'defines', 'config', 'data', 'resources', 'platforms', 'typescript', 'strip'];
/** Keys of a `platforms` entry; `dependency` is read for esp32 only. */
export const PLATFORM_KEYS = ['build', 'include', 'modules', 'preload', 'creation', 'defines', 'config', 'data', 'resources', 'typescript', 'error', 'warning', 'dependency'];
export const CREATION_KEYS: Record<string, readonly string[] | null> = {
  static: null, stack: null, main: null, nativeStack: null,
  chunk: ['initial', 'incremental'], heap: ['initial', 'incremental'],
  keys: ['initial', 'incremental', 'name', 'symbol', 'available'], parser: ['buffer', 'table'],
};
/** On a 32-bit MCU an XS slot is 16 bytes (manifest.md, "static memory allocations"). */
export const SLOT_BYTES = 16;

/** The key of the one `platforms` entry mcconfig applies for `-p fullName`, or undefined. */
export function selectPlatform(platforms: Record<string, unknown>, fullName: string): string | undefined {
  const parts = fullName.split('/');
  // the full name first, then with its last part dropped; within one name, keys in file order
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join('/');
    for (const key of Object.keys(platforms)) {
      if (key.endsWith('/*') ? name.startsWith(key.slice(0, -1)) : key.startsWith('*/') ? name.endsWith(key.slice(1)) : name === key) return key;
    }
  }
  return Object.keys(platforms).includes('...') ? '...' : undefined;
}

const extensionOf = (file: string) => (file.endsWith('.d.ts') ? '.d.ts' : file.slice(file.lastIndexOf('.')));
const baseName = (file: string) => file.slice(file.lastIndexOf('/') + 1, file.length - extensionOf(file).length);

/** The files (relative to the checkout) a `./...` module source matches. */
export function matchSources(files: ReadonlySet<string>, source: string, manifestDirectory = ''): string[] {
  const path = (manifestDirectory ? `${manifestDirectory}/` : '') + source.replace(/^\.\//, '');
  const directory = path.slice(0, path.lastIndexOf('/'));
  const name = path.slice(path.lastIndexOf('/') + 1);
  return [...files].filter((f) => {
    if (f.slice(0, f.lastIndexOf('/')) !== directory) return false;
    return name === '*' || baseName(f) === name;
  }).sort();
}

export interface ModuleFiles {
  /** module specifier -> its .js/.ts source */
  readonly modules: Map<string, string[]>;
  /** C sources */
  readonly native: string[];
  /** sources that matched nothing */
  readonly unmatched: string[];
}

/** The modules, C files and unmatched sources of a `modules` object (sources starting with ./ only; $(MODDABLE) ones are the SDK's). */
export function moduleFiles(files: ReadonlySet<string>, modules: Record<string, string | string[]>, manifestDirectory = ''): ModuleFiles {
  const result: ModuleFiles = { modules: new Map(), native: [], unmatched: [] };
  for (const [target, value] of Object.entries(modules)) {
    for (const source of ([] as string[]).concat(value)) {
      if (!source.startsWith('./')) continue;
      const matched = matchSources(files, source, manifestDirectory);
      if (!matched.length) result.unmatched.push(source);
      for (const file of matched) {
        const extension = extensionOf(file);
        if (extension === '.c') result.native.push(file);
        if (extension !== '.js' && extension !== '.ts') continue;
        const name = target.endsWith('*') ? target.slice(0, -1) + baseName(file) : target;
        result.modules.set(name, [...(result.modules.get(name) ?? []), file]);
      }
    }
  }
  return result;
}
