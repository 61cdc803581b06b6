/**
 * XS memory figures through the Moddable `instrumentation` module: what the firmware's heap
 * holds (chunks for strings, buffers and byte code; slots for objects) and how many
 * collections have run. The data path's "no allocation per packet" claims are checked
 * with these figures before and after a batch of packets.
 */
import Instrumentation from 'instrumentation';

export interface XsMemory {
  /** bytes of the chunk heap in use */
  chunksUsed: number;
  /** bytes of the slot heap in use (16-byte slots on 32-bit targets, 32 on 64-bit hosts) */
  slotsUsed: number;
  garbageCollections: number;
}

function read(name: Parameters<typeof Instrumentation.map>[0]): number {
  const index = Instrumentation.map(name);
  const value = index === undefined ? undefined : Instrumentation.get(index);
  if (typeof value !== 'number') throw new Error(`instrumentation has no "${name}"`);
  return value;
}

export function xsMemory(): XsMemory {
  return {
    chunksUsed: read('XS Chunk Heap Used'),
    slotsUsed: read('XS Slot Heap Used'),
    garbageCollections: read('XS Garbage Collection Count'),
  };
}

/**
 * The same figures, or null where the build has no instrumentation (a release build without
 * mxInstrument, as the bench host and a device release build are): for status output that must
 * not fail there.
 */
export function xsMemoryIfInstrumented(): XsMemory | null {
  const index = Instrumentation.map('XS Chunk Heap Used');
  return index === undefined || typeof Instrumentation.get(index) !== 'number' ? null : xsMemory();
}
