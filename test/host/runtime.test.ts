/**
 * The runtime services every host provides, tested on both engines through the same API:
 * Moddable-compatible timers (the XS host's native `timer`; hosts/node/timer.ts on Node) and,
 * on XS, the memory figures of the `instrumentation` module.
 */
import { equal, ok } from '../assert.js';
import { engine } from '../engine.js';
import { test } from '../harness.js';

interface TimerApi {
  set(callback: (timer: unknown) => void, delay?: number, repeat?: number): unknown;
  repeat(callback: (timer: unknown) => void, interval: number): unknown;
  schedule(timer: unknown, delay?: number, repeat?: number): void;
  clear(timer: unknown): void;
}

const Timer: TimerApi = engine === 'node'
  ? (await import('../../hosts/node/timer.js')).default as unknown as TimerApi
  : (await import('timer')).default as unknown as TimerApi;

const sleep = (ms: number) => new Promise<void>((resolve) => Timer.set(() => resolve(), ms));

test('timer: one-shot timers fire in deadline order and receive their timer', async () => {
  const events: string[] = [];
  let received: unknown;
  const t2 = Timer.set(() => events.push('late'), 30);
  const t1 = Timer.set((timer) => {
    received = timer;
    events.push('early');
  }, 10);
  await sleep(50);
  equal(events.join(','), 'early,late');
  ok(received === t1 && t1 !== t2, 'the callback gets its own timer');
});

test('timer: repeat fires until cleared; schedule moves a timer; clear(null) is harmless', async () => {
  let count = 0;
  const r = Timer.repeat(() => {
    if (++count === 3) Timer.clear(r);
  }, 10);
  let moved = false;
  const m = Timer.set(() => (moved = true), 60_000);
  Timer.schedule(m, 20);
  let cleared = false;
  const c = Timer.set(() => (cleared = true), 5);
  Timer.clear(c);
  Timer.clear(null);
  Timer.clear(undefined);
  await sleep(80);
  equal(count, 3, 'repeat count');
  ok(moved, 'rescheduled timer fired');
  ok(!cleared, 'cleared timer did not fire');
});

test('memory figures: heap in use and GC count are readable (XS instrumentation)', async () => {
  if (engine === 'node') {
    const m = process.memoryUsage();
    ok(m.heapUsed > 0);
    return;
  }
  const { xsMemory } = await import('../../hosts/moddable/memory.js');
  const { gc } = await import('lin/process');
  gc(); // so that no collection of earlier garbage lands between the two readings
  const before = xsMemory();
  ok(before.chunksUsed > 0 && before.slotsUsed > 0, `figures ${JSON.stringify(before)}`);
  const garbage: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) garbage.push(new Uint8Array(1000));
  const during = xsMemory();
  ok(during.chunksUsed >= before.chunksUsed + 90_000 || during.garbageCollections > before.garbageCollections,
    `allocating 100 KB shows in the chunk heap: ${JSON.stringify(before)} -> ${JSON.stringify(during)}`);
  garbage.length = 0;
  gc();
  const after = xsMemory();
  ok(after.garbageCollections > before.garbageCollections, 'a forced collection is counted');
});
