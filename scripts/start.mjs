#!/usr/bin/env node
/**
 * `npm start`: sets up (scripts/setup.mjs) and boots the firmware (hosts/moddable/main.ts)
 * in the desktop simulator, the XS host hosts/lin, saying what it does at each step.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { JS_OUT, ROOT, setup, XS_HOST, XS_MODULES } from './setup.mjs';

await setup();
const entry = join(JS_OUT, 'hosts/moddable/main.js');
console.error(`start: booting the firmware in the simulator: ${relative(ROOT, XS_HOST)} ${relative(ROOT, entry)}`);
const r = spawnSync(XS_HOST, ['--modules', XS_MODULES, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
