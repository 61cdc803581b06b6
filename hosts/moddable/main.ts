/**
 * Firmware entry: what the device (and the desktop simulator) runs at boot.
 * Today it brings up native crypto, runs the power-on self-test and reports memory; the
 * gateway (src/gateway.ts: sockets, tunnel interface, data path, then IKEv2) is wired in by
 * later work, see the README's feature table. A failed self-test stops the firmware (exit status 1 in the
 * simulator) instead of letting it send or accept packets with broken crypto.
 */
import { selfTest } from '../../src/crypto/selftest.js';
import { NativeCrypto } from './crypto-native.js';
import { xsMemoryIfInstrumented } from './memory.js';

declare function trace(...args: unknown[]): void;

const crypto = new NativeCrypto();
const results = selfTest(crypto);
const failed = results.filter((r) => !r.ok);
trace(`xs-ipsec: crypto self-test ${failed.length ? 'FAILED' : 'passed'}: ${results.map((r) => `${r.name} ${r.ok ? 'ok' : 'FAIL'}`).join(', ')}\n`);
if (failed.length) throw new Error(`crypto self-test failed: ${failed.map((r) => `${r.name}${r.error ? ` (${r.error})` : ''}`).join(', ')}`);
const groups = ['curve25519', 'ecp256', 'ecp384', 'modp2048'].map((g) => `${g} ${crypto.implementation(g)}`).join(', ');
trace(`xs-ipsec: crypto provider ${crypto.name}: AES/SHA/ChaCha20 native; key exchange: ${groups}\n`);
const memory = xsMemoryIfInstrumented();
trace(memory
  ? `xs-ipsec: XS heap in use: ${memory.chunksUsed} bytes of chunks, ${memory.slotsUsed} bytes of slots, ${memory.garbageCollections} collections\n`
  : 'xs-ipsec: XS heap figures: not in this build (no instrumentation)\n');
trace('xs-ipsec: the gateway needs a tunnel interface: in the simulator a TUN device (hosts/lin/gateway-main.ts, `sudo npm start`); on an ESP32 the lwIP netif of the board support (not built yet, see README "Status").\n');
