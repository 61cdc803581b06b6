/**
 * The board folders: each board's default proposals are valid strongSwan proposals of our
 * registry, AES-CBC + HMAC-SHA-256 first (both in the accelerators; GCM's GHASH is software on
 * these chips); the XS memory the fragment asks for fits the chip's RAM; board.json has the
 * flash layout of the Moddable SDK's partitions.csv and the chip's ROM bootloader offset.
 */
import { proposalList, type Proposal } from '../../src/config/proposals.js';
import type { Problem } from '../../src/config/validate.js';
import type { BoardDescription } from '../../hosts/node/flash-plan.js';
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';
import { BOARDS, readJson } from './checkout.js';
import { SLOT_BYTES } from './mcconfig-model.js';

function parse(protocol: 'ike' | 'esp', value: unknown, path: string): Proposal[] {
  const problems: Problem[] = [];
  const proposals = proposalList(protocol)(value, path, problems);
  deepEqual(problems, [], path);
  return proposals;
}

test('boards: each board\'s proposals parse, and AES-CBC with HMAC-SHA-256 comes first', async () => {
  for (const board of BOARDS) {
    const { config } = await readJson(`boards/${board}/manifest.json`);
    equal(config.board.name, board);
    for (const protocol of ['ike', 'esp'] as const) {
      const proposals = parse(protocol, config.board[`${protocol}_proposals`], `boards/${board} ${protocol}_proposals`);
      ok(proposals.length >= 2, `${board} ${protocol}: ${proposals.length} proposals`);
      const first = proposals[0];
      equal(first.encryption[0].algorithm.primitive.kind === 'cipher' && first.encryption[0].algorithm.primitive.cipher, 'aes-cbc', `${board} ${protocol} first encryption`);
      equal(first.integrity[0].algorithm.name, 'sha256', `${board} ${protocol} first integrity`);
      if (protocol === 'ike') ok(proposals.every((p) => p.ke.length > 0), `${board}: every IKE proposal has a key exchange`);
      // AEAD stays offered, after the hardware-friendly ones
      ok(proposals.slice(1).some((p) => p.aead), `${board} ${protocol}: an AEAD proposal is offered too`);
    }
  }
});

test('boards: the ESP32-C6 prefers ecp256 (its ECC accelerator), the others curve25519', async () => {
  for (const board of BOARDS) {
    const { config } = await readJson(`boards/${board}/manifest.json`);
    const [first] = parse('ike', config.board.ike_proposals, board);
    equal(first.ke[0].algorithm.name, board === 'esp32c6' ? 'ecp256' : 'curve25519', board);
  }
});

test('boards: a proposal our registry does not have is refused by the same check', () => {
  const problems: Problem[] = [];
  proposalList('esp')(['aes128-sha256-noesn', 'aes128-sha3_256-noesn'], 'board', problems);
  equal(problems.length, 1);
  equal(problems[0].path, 'board[1]');
});

/** What the XS machine takes at start: the static block, or the chunk and slot pools and the stack. */
function startBytes(creation: { static: number; chunk: { initial: number }; heap: { initial: number }; stack: number }): number {
  return creation.static > 0 ? creation.static : creation.chunk.initial + (creation.heap.initial + creation.stack) * SLOT_BYTES;
}

test('boards: the XS memory at start takes at most a third of the chip\'s SRAM, and room for the gateway', async () => {
  for (const board of BOARDS) {
    const { creation } = await readJson(`boards/${board}/manifest.json`);
    const { sramBytes } = await readJson<BoardDescription>(`boards/${board}/board.json`);
    const bytes = startBytes(creation);
    ok(bytes <= sramBytes / 3, `${board}: ${bytes} bytes of ${sramBytes}`);
    // at least the SDK's defaults for plain -p esp32 (32 KB chunks + 2,048 slots), plus the 48 KB our 1 IKE + 2 CHILD SA target allows
    ok(bytes >= 32768 + 2048 * SLOT_BYTES + 48 * 1024, `${board}: ${bytes} bytes is less than the SDK default plus 48 KB`);
    ok(creation.stack >= 384, `${board}: stack of ${creation.stack} slots`);
  }
});

test('boards: board.json flash layout (bootloader 0x1000 on the ESP32, 0x0 on S3/C3/C6; table 0x8000; nvs 0x9000; app 0x10000)', async () => {
  const platforms: Record<string, string> = { esp32: 'esp32', esp32s3: 'esp32/esp32s3', esp32c3: 'esp32/esp32c3', esp32c6: 'esp32/esp32c6' };
  for (const board of BOARDS) {
    const b = await readJson<BoardDescription>(`boards/${board}/board.json`);
    deepEqual([b.name, b.chip, b.platform], [board, board, platforms[board]]);
    deepEqual(b.offsets, { bootloader: board === 'esp32' ? '0x1000' : '0x0', partitionTable: '0x8000', nvs: '0x9000', app: '0x10000' }, board);
    equal(b.nvsSize, '0x6000');
    deepEqual(b.flash, { mode: 'dio', freq: '80m', size: '4MB' }, board);
    // the bootloader ends before the partition table, nvs after it, the app after nvs and phy_init (0xf000, 0x1000)
    const offsets = Object.values(b.offsets).map((o) => Number.parseInt(o, 16));
    deepEqual([...offsets].sort((x, y) => x - y), offsets, `${board}: offsets in flash order`);
    ok(Number.parseInt(b.offsets.nvs, 16) + Number.parseInt(b.nvsSize, 16) <= 0xf000, `${board}: nvs ends before phy_init`);
  }
});
