/**
 * The device entry when the firmware runs alone, as a gateway with no application of its own
 * (manifest.json's esp32 "main"): ./boot.ts, which runs the crypto self-test first.
 * Applications boot it themselves instead: examples/sensor-uplink/main.ts.
 */
import { boot } from './boot.js';

boot();
