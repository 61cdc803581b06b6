/**
 * The command lines `xs-ipsec flash` runs (scripts/flash.mjs), computed without running
 * anything, so that `--dry-run` and the tests see exactly what a real run executes.
 *
 * Two ways to put the firmware on a board (boards/<name>/board.json describes each board):
 *   - with the Moddable SDK ($MODDABLE set): `mcconfig -d -m -p <platform> <manifest>` builds
 *     and flashes through ESP-IDF's `idf.py flash` (Moddable tools/mcconfig/make.esp32.mk). The
 *     serial port goes in the environment, `UPLOAD_PORT=<port> mcconfig ...`, as the SDK's
 *     documentation/devices/esp32.md writes it: a NAME=VALUE word after mcconfig's options is a
 *     mc/config value for the firmware (tools/mcmanifest.js), not a build setting;
 *   - prebuilt images (--images DIR): one `esptool write-flash` of the files a Moddable ESP32
 *     build leaves in $MODDABLE/build/bin/esp32/[<subclass>/]debug|release/<project>/
 *     (make.esp32.mk copies bootloader.bin, partition-table.bin and xs_esp32.bin there; the app
 *     image is xs_esp32.bin for every subclass) at the board's offsets.
 * esptool is invoked as `esptool` with dashed subcommands and options: ESP-IDF 6 (which SDK 8.x
 * expects) ships esptool v5, where `esptool.py` is a deprecated wrapper and `write_flash` a
 * deprecated alias (ESP-IDF components/esptool_py/project_include.cmake runs `write-flash`).
 *
 * An NVS image (--nvs, from `xs-ipsec provision`) is written at the board's nvs offset. In the
 * mcconfig mode it is written first: `idf.py flash` leaves the nvs partition alone, and after
 * flashing mcconfig stays attached to the serial port (xsbug or the monitor) until stopped.
 */

/** boards/<name>/board.json */
export interface BoardDescription {
  readonly name: string;
  readonly title: string;
  /** mcconfig's -p value */
  readonly platform: string;
  /** esptool's --chip value */
  readonly chip: string;
  readonly sramBytes: number;
  readonly flash: { readonly mode: string; readonly freq: string; readonly size: string };
  readonly offsets: { readonly bootloader: string; readonly partitionTable: string; readonly nvs: string; readonly app: string };
  readonly nvsSize: string;
}

export interface FlashRequest {
  board?: string;
  port?: string;
  /** an NVS partition image to write at the board's nvs offset */
  nvs?: string;
  /** a directory with prebuilt images; chosen over $MODDABLE when both are there */
  images?: string;
  /** $MODDABLE, when set */
  moddable?: string;
  /** the manifest mcconfig builds */
  manifest: string;
  /** NAME=VALUE words for mc/config (e.g. ssid=... password=...), mcconfig mode only */
  configValues?: readonly string[];
}

export interface Command {
  /** variables set for this command only */
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

/** The image files of a Moddable ESP32 build (Moddable tools/mcconfig/make.esp32.mk). */
export const IMAGE_FILES = { bootloader: 'bootloader.bin', partitionTable: 'partition-table.bin', app: 'xs_esp32.bin' } as const;

/** make.esp32.mk's UPLOAD_SPEED, the baud rate idf.py flash uses. */
export const UPLOAD_BAUD = 921600;

export class FlashError extends Error {}

function knownBoards(boards: readonly BoardDescription[]): string {
  return boards.map((b) => b.name).sort().join(', ');
}

function esptool(board: BoardDescription, port: string, writeOptions: readonly string[], pairs: readonly [string, string][]): Command {
  return {
    env: {},
    argv: ['esptool', '--chip', board.chip, '--port', port, '--baud', String(UPLOAD_BAUD), 'write-flash', ...writeOptions, ...pairs.flat()],
  };
}

/**
 * The commands for one request, in order. Throws FlashError with a message for the user when
 * the request cannot be carried out; `exists` tells whether a file is there.
 */
export function flashPlan(boards: readonly BoardDescription[], request: FlashRequest, exists: (path: string) => boolean): Command[] {
  if (!request.board) throw new FlashError(`--board B is required (known boards: ${knownBoards(boards)})`);
  const board = boards.find((b) => b.name === request.board);
  if (!board) throw new FlashError(`unknown board "${request.board}" (known boards: ${knownBoards(boards)})`);
  const port = request.port;
  if (!port) throw new FlashError('--port P is required: the serial port of the board, e.g. /dev/ttyUSB0');
  if (request.nvs !== undefined && !exists(request.nvs)) throw new FlashError(`--nvs ${request.nvs}: no such file`);
  const nvs: [string, string][] = request.nvs !== undefined ? [[board.offsets.nvs, request.nvs]] : [];

  if (request.images !== undefined) {
    if ((request.configValues ?? []).length) {
      throw new FlashError(`${request.configValues!.join(' ')}: mc/config values are built into the firmware; they need a build ($MODDABLE, without --images)`);
    }
    const dir = request.images.replace(/\/+$/, '') || '/';
    const path = (file: string) => `${dir}/${file}`;
    const missing = Object.values(IMAGE_FILES).map(path).filter((p) => !exists(p));
    if (missing.length) {
      throw new FlashError(`--images ${request.images}: missing ${missing.join(', ')} (a Moddable ESP32 build leaves them in $MODDABLE/build/bin/esp32/.../<project>/)`);
    }
    const { mode, freq, size } = board.flash;
    return [esptool(board, port, ['--flash-mode', mode, '--flash-freq', freq, '--flash-size', size], [
      [board.offsets.bootloader, path(IMAGE_FILES.bootloader)],
      [board.offsets.partitionTable, path(IMAGE_FILES.partitionTable)],
      ...nvs,
      [board.offsets.app, path(IMAGE_FILES.app)],
    ])];
  }
  if (!request.moddable) {
    throw new FlashError('set $MODDABLE (the Moddable SDK: build and flash with mcconfig) or give --images DIR (prebuilt bootloader.bin, partition-table.bin, xs_esp32.bin)');
  }
  const build: Command = {
    env: { UPLOAD_PORT: port },
    argv: ['mcconfig', '-d', '-m', '-p', board.platform, request.manifest, ...(request.configValues ?? [])],
  };
  return nvs.length ? [esptool(board, port, [], nvs), build] : [build];
}

/** A word as a POSIX shell reads it back: quoted only when it has to be. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command as one shell line: `NAME=value command args`. */
export function commandLine(command: Command): string {
  const env = Object.entries(command.env).map(([name, value]) => `${name}=${shellWord(value)}`);
  return [...env, ...command.argv.map(shellWord)].join(' ');
}
