/**
 * The hot path does not allocate (DESIGN.md principle 6): 10,000 packets sealed and opened
 * with the host provider, reusing one buffer as a device would. On XS the heap figures
 * (chunks, slots) and the collection count must not move; on Node the same loop must simply
 * deliver every packet intact (V8 offers no exact figure to compare).
 */
import { equal } from '../assert.js';
import { engine, providerSlots } from '../engine.js';
import { test } from '../harness.js';
import { ipPacket, saPair } from './packets.js';

const PACKETS = 10_000;

for (const [transform, integrity] of [['aes128gcm16', null], ['aes128', 'sha256']] as const) {
  test(`hot path: ${PACKETS} packets of ${transform}${integrity ? '-' + integrity : ''} sealed and opened without allocating`, async () => {
    const crypto = providerSlots[1].make();
    const { out, in: inbound } = saPair(crypto, transform, integrity, { replayWindow: 1024 });
    const template = ipPacket(4, Uint8Array.from({ length: 1000 }, (_, i) => i));
    const inner = template.buffer.slice(template.offset, template.offset + template.length);
    const buffer = template.buffer;
    const packet = { buffer, offset: 0, length: 0 };
    let delivered = 0;
    const run = (count: number) => {
      for (let n = 0; n < count; n++) {
        buffer.set(inner, template.offset);
        packet.offset = template.offset;
        packet.length = inner.length;
        if (!out.seal(packet)) break;
        // the receiver's view: ESP after the 20-byte outer IPv4 header
        packet.offset += 20;
        packet.length -= 20;
        if (!inbound.open(packet)) break;
        if (packet.length === inner.length && buffer[packet.offset + 100] === inner[100]) delivered++;
      }
    };
    run(100); // first calls may set up lazily (key slots, caches)
    if (engine === 'xs') {
      const { xsMemory } = await import('../../hosts/moddable/memory.js');
      // the same measuring code around 0 and around 10,000 packets: any difference is per packet
      const measure = (count: number) => {
        const before = xsMemory();
        run(count);
        const after = xsMemory();
        return { chunks: after.chunksUsed - before.chunksUsed, slots: after.slotsUsed - before.slotsUsed, collections: after.garbageCollections - before.garbageCollections };
      };
      const baseline = measure(0);
      delivered = 0;
      const loaded = measure(PACKETS);
      console.log(`XS heap change around 0 packets ${JSON.stringify(baseline)}, around ${PACKETS} packets ${JSON.stringify(loaded)}`);
      equal(delivered, PACKETS, `packets delivered; drops ${JSON.stringify(inbound.drops)} / ${JSON.stringify(out.drops)}`);
      equal(loaded.slots, baseline.slots, 'slot heap growth per packet');
      equal(loaded.chunks, baseline.chunks, 'chunk heap growth per packet');
      equal(loaded.collections, 0, 'collections during 10,000 packets');
    } else {
      delivered = 0;
      run(PACKETS);
      equal(delivered, PACKETS, `packets delivered; drops ${JSON.stringify(inbound.drops)} / ${JSON.stringify(out.drops)}`);
    }
  });
}
