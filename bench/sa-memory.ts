/**
 * What one IKE SA and one CHILD SA cost on the XS heap, per side, and where it goes. Two IKE
 * engines in memory (test/ike/ike-pair.ts: each side a real IkeEngine, PfKeyEngine, SPD and
 * Gateway, native crypto) establish PAIRS IKE SAs with one CHILD SA each, then a second CHILD
 * SA on each (CREATE_CHILD_SA); the heap is read after a collection at each step. Then the
 * pieces of the established SAs are let go one kind at a time (SPD entries, the data path's
 * ESP SAs, the IKE SA's CHILD SA records, its keys, the IKE SA itself), and what each freed is
 * its share. Run on the instrumented XS simulator after `node scripts/setup.mjs`:
 *
 *   build/lin/release/xs-ipsec-lin --modules build/xs-modules build/js/bench/sa-memory.js [--json]
 *
 * Slots are counted at this build's size (32 bytes on a 64-bit host); a device's are 16 bytes,
 * so "device bytes" below are chunks + slots * 16. Chunk bytes (strings, ArrayBuffers, arrays'
 * element storage) are nearly the same on 32 bits: an upper bound for the device.
 */
import { gc } from 'lin/process';
import { NativeCrypto } from '../hosts/moddable/crypto-native.js';
import { xsMemory } from '../hosts/moddable/memory.js';
import { SadbMsg, SadbSaType } from '../src/wire/pfkey.js';
import { connectionDoc, Pair } from '../test/ike/ike-pair.js';

declare function trace(...args: unknown[]): void;
declare const scriptArgs: string[] | undefined;

const PAIRS = 8;
/** the slot size of a 32-bit XS build (ESP32) */
const DEVICE_SLOT = 16;

interface Heap {
  chunks: number;
  slots: number;
}

function heap(): Heap {
  gc();
  gc();
  const m = xsMemory();
  // slotsUsed is in bytes at this build's slot size
  return { chunks: m.chunksUsed, slots: m.slotsUsed / slotSize() };
}

let measuredSlotSize = 0;
/** This build's slot size: 32 on 64 bits, 16 on 32 (one empty object is one slot). */
function slotSize(): number {
  if (measuredSlotSize) return measuredSlotSize;
  gc();
  const before = xsMemory().slotsUsed;
  const keep: object[] = [];
  for (let i = 0; i < 1000; i++) keep.push({});
  gc();
  const after = xsMemory().slotsUsed;
  // 1000 objects of one slot each, and the array's 1000 element slots are chunk storage
  measuredSlotSize = Math.round((after - before) / 1000 / 8) * 8 || 32;
  keep.length = 0;
  return measuredSlotSize;
}

interface Row {
  what: string;
  chunks: number;
  slots: number;
  device: number;
}

const rows: Row[] = [];
/** Records the difference between two heaps, per side (PAIRS pairs, two sides each, or `per`). */
function record(what: string, from: Heap, to: Heap, per = PAIRS * 2): void {
  const chunks = Math.round((to.chunks - from.chunks) / per);
  const slots = Math.round((to.slots - from.slots) / per);
  rows.push({ what, chunks, slots, device: chunks + slots * DEVICE_SLOT });
}

const crypto = new NativeCrypto();
// the classic ESP32's first proposals (boards/esp32): AES-CBC + HMAC-SHA-256, X25519
const children = (side: 'a' | 'b') => {
  const ts = (local: boolean, half: number) => ((side === 'a') === local ? `10.1.${half}.0/24` : '10.2.0.0/16');
  const child = (half: number) => ({
    local_ts: ts(true, half), remote_ts: ts(false, half), esp_proposals: ['aes128-sha256'],
    rekey_time: '0', life_time: '0', rand_time: '0', start_action: 'none',
  });
  return { first: child(0), second: child(1) };
};
const doc = (side: 'a' | 'b') => connectionDoc(side, { proposals: ['aes128-sha256-x25519'], children: children(side) });
const pairs: Pair[] = [];
for (let i = 0; i < PAIRS; i++) pairs.push(new Pair(crypto, doc('a'), doc('b')));
const quiet = () => {
  for (const p of pairs) for (const s of [p.a, p.b]) s.lines.length = 0;
};

/** Initiates a CHILD SA on every pair (the first one with its IKE SA) and returns the heap after. */
function establish(child: string): Heap {
  for (const p of pairs) {
    p.a.engine.initiate('net', child);
    p.run();
  }
  quiet();
  return heap();
}
const idle = heap();
const one = establish('first');
record('IKE SA + first CHILD SA (IKE_AUTH)', idle, one);
const two = establish('second');
record('second CHILD SA (CREATE_CHILD_SA)', one, two);
for (const p of pairs) {
  for (const s of [p.a, p.b]) {
    if (s.engine.sas.length !== 1 || s.engine.sas[0].children.length !== 2) throw new Error(`side ${s.name}: not 1 IKE SA + 2 CHILD SAs\n${p.logs()}`);
  }
}

// the breakdown: let go of one kind of piece at a time
let at = two;
const drop = (what: string, action: (p: Pair) => void) => {
  for (const p of pairs) action(p);
  quiet();
  const now = heap();
  record(what, now, at);
  at = now;
};
drop('  SPD entries (4 per CHILD SA) + compiled selectors', (p) => {
  for (const s of [p.a, p.b]) s.spd.flush();
});
drop('  ESP SAs in the PF_KEY engine (2 per CHILD SA)', (p) => {
  for (const s of [p.a, p.b]) s.pfkey.handle({ type: SadbMsg.FLUSH, errno: 0, satype: SadbSaType.UNSPEC, seq: 0, pid: 0 });
});
drop('  CHILD SA records (IkeSa.children)', (p) => {
  for (const s of [p.a, p.b]) s.engine.sas[0].children.length = 0;
});
drop('  IKE keys, algorithms, proposal', (p) => {
  for (const s of [p.a, p.b]) {
    const sa = s.engine.sas[0];
    sa.keys = null;
    sa.algorithms = null;
    sa.proposal = null;
  }
});
drop('  the IKE SA (its windows, kept messages, tasks, the rest)', (p) => {
  for (const s of [p.a, p.b]) {
    const sa = s.engine.sas[0];
    sa.context.destroyed(sa);
  }
});
record('  left in the engine (not per SA)', idle, at);

if (typeof scriptArgs !== 'undefined' && scriptArgs.includes('--json')) {
  trace(`${JSON.stringify({ slotSize: slotSize(), rows })}\n`);
} else {
  trace(`XS heap per side (${PAIRS} pairs; slots at ${DEVICE_SLOT} bytes on the device, this build ${slotSize()})\n`);
  trace('| what | chunks B | slots | device B |\n|---|--:|--:|--:|\n');
  for (const r of rows) trace(`| ${r.what} | ${r.chunks} | ${r.slots} | ${r.device} |\n`);
}
