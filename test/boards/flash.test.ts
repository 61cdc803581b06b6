/**
 * `xs-ipsec flash`: the exact command lines for every board in both modes (Moddable SDK build,
 * prebuilt images), each refusal, and the command itself with --dry-run (it runs node; on XS
 * through the host's process module). Images are real files in a temporary directory.
 */
import { commandLine, FlashError, flashPlan, type BoardDescription, type FlashRequest } from '../../hosts/node/flash-plan.js';
import { deepEqual, equal, ok, throws } from '../assert.js';
import { runProgram, withTemporaryDirectory } from '../engine.js';
import { test } from '../harness.js';
import { BOARDS, readJson, root } from './checkout.js';

const boards = async () => Promise.all(BOARDS.map((b) => readJson<BoardDescription>(`boards/${b}/board.json`)));

/** The files under dir, as a predicate over paths. */
async function filesIn(dir: string): Promise<(path: string) => boolean> {
  const r = await runProgram(['find', dir, '-type', 'f']);
  equal(r.status, 0, r.output);
  const files = new Set(r.output.split('\n').filter(Boolean));
  return (path) => files.has(path);
}

async function withImages(fn: (dir: string, exists: (path: string) => boolean) => Promise<void>, files = ['bootloader.bin', 'partition-table.bin', 'xs_esp32.bin', 'nvs.bin']): Promise<void> {
  await withTemporaryDirectory(async (dir) => {
    if (files.length) {
      const made = await runProgram(['touch', ...files.map((f) => `${dir}/${f}`)]);
      equal(made.status, 0, made.output);
    }
    await fn(dir, await filesIn(dir));
  });
}

const BOOTLOADER: Record<string, string> = { esp32: '0x1000', esp32s3: '0x0', esp32c3: '0x0', esp32c6: '0x0' };
const PLATFORM: Record<string, string> = { esp32: 'esp32', esp32s3: 'esp32/esp32s3', esp32c3: 'esp32/esp32c3', esp32c6: 'esp32/esp32c6' };

test('flash: prebuilt images, every board: one esptool write-flash at the board\'s offsets', async () => {
  const all = await boards();
  await withImages(async (dir, exists) => {
    for (const board of BOARDS) {
      const base: FlashRequest = { board, port: '/dev/ttyUSB0', images: dir, manifest: '/repo/manifest.json' };
      const esptool = `esptool --chip ${board} --port /dev/ttyUSB0 --baud 921600 write-flash --flash-mode dio --flash-freq 80m --flash-size 4MB`;
      deepEqual(flashPlan(all, base, exists).map(commandLine), [
        `${esptool} ${BOOTLOADER[board]} ${dir}/bootloader.bin 0x8000 ${dir}/partition-table.bin 0x10000 ${dir}/xs_esp32.bin`,
      ], board);
      // with an NVS image, in flash order; a trailing slash on the directory changes nothing; $MODDABLE does not take over from --images
      deepEqual(flashPlan(all, { ...base, images: `${dir}/`, nvs: `${dir}/nvs.bin`, moddable: '/opt/moddable' }, exists).map(commandLine), [
        `${esptool} ${BOOTLOADER[board]} ${dir}/bootloader.bin 0x8000 ${dir}/partition-table.bin 0x9000 ${dir}/nvs.bin 0x10000 ${dir}/xs_esp32.bin`,
      ], `${board} with nvs`);
    }
  });
});

test('flash: with $MODDABLE, every board: UPLOAD_PORT=P mcconfig -d -m -p <platform>, after the NVS image', async () => {
  const all = await boards();
  await withImages(async (dir, exists) => {
    for (const board of BOARDS) {
      const base: FlashRequest = { board, port: '/dev/ttyACM0', moddable: '/opt/moddable', manifest: '/repo/manifest.json' };
      const mcconfig = `UPLOAD_PORT=/dev/ttyACM0 mcconfig -d -m -p ${PLATFORM[board]} /repo/manifest.json`;
      deepEqual(flashPlan(all, base, exists).map(commandLine), [mcconfig], board);
      deepEqual(flashPlan(all, { ...base, nvs: `${dir}/nvs.bin`, configValues: ['ssid=office', 'password=two words'] }, exists).map(commandLine), [
        `esptool --chip ${board} --port /dev/ttyACM0 --baud 921600 write-flash 0x9000 ${dir}/nvs.bin`,
        `${mcconfig} ssid=office 'password=two words'`,
      ], `${board} with nvs`);
    }
    // the port travels in the environment of mcconfig only, not as an mc/config value
    const [build] = flashPlan(all, { board: 'esp32', port: '/dev/ttyUSB1', moddable: '/m', manifest: 'm.json' }, exists);
    deepEqual(build.env, { UPLOAD_PORT: '/dev/ttyUSB1' });
    deepEqual(build.argv, ['mcconfig', '-d', '-m', '-p', 'esp32', 'm.json']);
  });
});

test('flash: refusals name what is wrong', async () => {
  const all = await boards();
  await withImages(async (dir, exists) => {
    const valid: FlashRequest = { board: 'esp32', port: '/dev/ttyUSB0', moddable: '/opt/moddable', manifest: 'manifest.json' };
    const cases: [Partial<FlashRequest>, RegExp][] = [
      [{ board: undefined }, /^--board B is required \(known boards: esp32, esp32c3, esp32c6, esp32s3\)$/],
      [{ board: 'esp8266' }, /^unknown board "esp8266" \(known boards: esp32, esp32c3, esp32c6, esp32s3\)$/],
      [{ port: undefined }, /^--port P is required/],
      [{ port: '' }, /^--port P is required/],
      [{ moddable: undefined }, /^set \$MODDABLE .* or give --images DIR/],
      [{ nvs: `${dir}/missing-nvs.bin` }, /^--nvs \S+missing-nvs\.bin: no such file$/],
      [{ images: dir }, new RegExp(`^--images ${dir}: missing ${dir}/partition-table\\.bin, ${dir}/xs_esp32\\.bin `)],
      [{ images: `${dir}/nowhere` }, /missing \S+\/nowhere\/bootloader\.bin, \S+\/nowhere\/partition-table\.bin, \S+\/nowhere\/xs_esp32\.bin/],
      [{ images: dir, configValues: ['ssid=x'] }, /^ssid=x: mc\/config values are built into the firmware/],
    ];
    for (const [change, message] of cases) {
      const e = throws(() => flashPlan(all, { ...valid, ...change }, exists), FlashError);
      ok(message.test(e.message), `${JSON.stringify(change)}: ${e.message}`);
    }
  }, ['bootloader.bin']);
});

const cli = (args: string[], moddable = '') => runProgram(['env', `MODDABLE=${moddable}`, 'node', `${root}/bin/xs-ipsec.js`, 'flash', ...args]);

test('flash: xs-ipsec flash --dry-run prints the commands and runs none', async () => {
  await withImages(async (dir) => {
    const images = await cli(['--board', 'esp32c3', '--port', '/dev/ttyUSB0', '--images', dir, '--nvs', `${dir}/nvs.bin`, '--dry-run']);
    equal(images.status, 0, images.output);
    equal(images.output, `esptool --chip esp32c3 --port /dev/ttyUSB0 --baud 921600 write-flash --flash-mode dio --flash-freq 80m --flash-size 4MB 0x0 ${dir}/bootloader.bin 0x8000 ${dir}/partition-table.bin 0x9000 ${dir}/nvs.bin 0x10000 ${dir}/xs_esp32.bin\n`);
    // $MODDABLE points nowhere real: with --dry-run nothing is run, so nothing fails
    const build = await cli(['--board', 'esp32', '--port', '/dev/ttyUSB0', '--dry-run', 'ssid=lab'], '/nonexistent/moddable');
    equal(build.status, 0, build.output);
    equal(build.output, `UPLOAD_PORT=/dev/ttyUSB0 mcconfig -d -m -p esp32 ${root}/manifest.json ssid=lab\n`);
  });
});

test('flash: xs-ipsec flash refuses with status 2 and one message', async () => {
  const cases: [string[], RegExp][] = [
    [['--board', 'nano', '--port', 'p', '--dry-run'], /^xs-ipsec flash: unknown board "nano" \(known boards: esp32, esp32c3, esp32c6, esp32s3\)\n$/],
    [['--board', 'esp32', '--dry-run'], /^xs-ipsec flash: --port P is required/],
    [['--board', 'esp32', '--port', '/dev/ttyUSB0', '--dry-run'], /^xs-ipsec flash: set \$MODDABLE/],
    [['--board', 'esp32', '--port', '/dev/ttyUSB0', '--images', '/nonexistent', '--dry-run'], /^xs-ipsec flash: --images \/nonexistent: missing \/nonexistent\/bootloader\.bin/],
    [['--board'], /^xs-ipsec flash: --board needs a value\nusage: xs-ipsec flash /],
    [['--board', 'esp32', '--colour'], /^xs-ipsec flash: unknown argument "--colour"\nusage: /],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    equal(r.status, 2, `${args.join(' ')}: ${r.output}`);
    ok(message.test(r.output), `${args.join(' ')}: ${JSON.stringify(r.output)}`);
  }
});
