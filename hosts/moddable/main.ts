/**
 * Boot check: native crypto, the power-on self-test and the XS heap figures, without a tunnel
 * interface (what `npm start` runs when it is not root). The gateway itself: the simulator's
 * hosts/lin/gateway-main.ts, the device's hosts/esp32/main.ts. A failed self-test stops it
 * (exit status 1 in the simulator).
 */
import { NativeCrypto } from './crypto-native.js';
import { xsMemoryIfInstrumented } from './memory.js';
import { runSelfTest } from './self-test.js';

declare function trace(...args: unknown[]): void;

const print = (line: string) => trace(`xs-ipsec: ${line}\n`);
runSelfTest(new NativeCrypto(), print);
const memory = xsMemoryIfInstrumented();
print(memory
  ? `XS heap in use: ${memory.chunksUsed} bytes of chunks, ${memory.slotsUsed} bytes of slots, ${memory.garbageCollections} collections`
  : 'XS heap figures: not in this build (no instrumentation)');
print('the gateway needs a tunnel interface: in the simulator a TUN device (hosts/lin/gateway-main.ts, `sudo npm start`); on an ESP32 the lwIP netif (hosts/esp32/main.ts)');
