#!/usr/bin/env node
/**
 * `xs-ipsec flash --board B --port P [--nvs nvs.bin] [--images DIR] [--manifest M] [--dry-run] [NAME=VALUE...]`
 * Builds and flashes the firmware with the Moddable SDK ($MODDABLE set), or writes prebuilt
 * images (--images DIR) with esptool, at the offsets of boards/<B>/board.json. The command
 * lines come from hosts/node/flash-plan.ts; --dry-run prints them and runs nothing.
 * NAME=VALUE words are mc/config values for the build (ssid=... password=... for Wi-Fi).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const USAGE = 'usage: xs-ipsec flash --board B --port P [--nvs nvs.bin] [--images DIR] [--manifest M] [--dry-run] [NAME=VALUE...]';
const VALUE_OPTIONS = new Set(['--board', '--port', '--nvs', '--images', '--manifest']);

function fail(message) {
  console.error(`xs-ipsec flash: ${message}`);
  process.exit(2);
}

/** The options as { board, port, nvs, images, manifest, dryRun, configValues }. */
function parse(args) {
  const options = { configValues: [], dryRun: false };
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (word === '--dry-run') options.dryRun = true;
    else if (VALUE_OPTIONS.has(word)) {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) fail(`${word} needs a value\n${USAGE}`);
      options[word.slice(2)] = value;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) options.configValues.push(word);
    else fail(`unknown argument "${word}"\n${USAGE}`);
  }
  return options;
}

/** Every boards/<name>/board.json. */
function readBoards(root) {
  const dir = join(root, 'boards');
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory() && existsSync(join(dir, name, 'board.json')))
    .map((name) => JSON.parse(readFileSync(join(dir, name, 'board.json'), 'utf8')));
}

export async function flash(root, jsOut, args) {
  const { flashPlan, commandLine, FlashError } = await import(join(jsOut, 'hosts/node/flash-plan.js'));
  const options = parse(args);
  let plan;
  try {
    plan = flashPlan(readBoards(root), {
      board: options.board,
      port: options.port,
      nvs: options.nvs,
      images: options.images,
      moddable: process.env.MODDABLE || undefined,
      manifest: options.manifest ?? join(root, 'manifest.json'),
      configValues: options.configValues,
    }, (path) => existsSync(path) && statSync(path).isFile());
  } catch (e) {
    if (e instanceof FlashError) fail(e.message);
    throw e;
  }
  for (const command of plan) {
    console.log(commandLine(command));
    if (options.dryRun) continue;
    const r = spawnSync(command.argv[0], command.argv.slice(1), { stdio: 'inherit', env: { ...process.env, ...command.env } });
    if (r.error) fail(`${command.argv[0]}: ${r.error.code === 'ENOENT' ? 'not found on PATH' : r.error.message}`);
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
