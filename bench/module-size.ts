/**
 * What the firmware's modules take once loaded: the XS heap after importing the firmware's
 * module graph (hosts/moddable/firmware.ts and what it imports: the data path, IKE, config,
 * native crypto bindings, Moddable adapters), minus the heap before. On a device, mcconfig
 * preloads these modules: their byte code, functions, classes and constant objects are
 * frozen into flash by the build, so this is the flash image of the firmware's JS, and the
 * RAM a device would need for them if they were not preloaded. Run on the instrumented XS
 * simulator: prints one JSON line { chunks, slots, modules } (bytes; slots at this build's
 * slot size, 32 bytes on 64 bits; the device's are 16).
 *
 *   xs-ipsec-lin --modules build/xs-modules build/js/bench/module-size.js
 */
import { gc } from 'lin/process';
import { xsMemory } from '../hosts/moddable/memory.js';

declare function trace(...args: unknown[]): void;

gc();
const before = xsMemory();
// the firmware as a device runs it, less the platform's boot (the TUN or netif glue)
await import('../hosts/moddable/firmware.js');
await import('../hosts/moddable/device-config.js');
await import('../hosts/moddable/self-test.js');
gc();
const after = xsMemory();
trace(`${JSON.stringify({ chunks: after.chunksUsed - before.chunksUsed, slots: after.slotsUsed - before.slotsUsed })}\n`);
