/**
 * The XS half of `npm run bench`, run by bench/run.mjs on the desktop XS host:
 *   xs-ipsec-lin ... xs-bench.js time  SUITE PROVIDER MS      -> JSON lines {op, opsPerSecond, implementation}
 *   xs-bench.js count SUITE PROVIDER N [OP] -> under callgrind: each op instrumented for N runs,
 *                                              dumped as part "op:<index>:<N>"
 * SUITE is "crypto" (bench/crypto-ops.ts), "esp" (bench/esp-ops.ts) or "gateway"
 * (bench/gateway-ops.ts); PROVIDER is "software"
 * (@noble) or "native" (PSA/Mbed TLS).
 */
import { fillRandom } from 'random';
import * as callgrind from 'lin/callgrind';
import { exit, argv, now } from 'lin/process';
import { NativeCrypto } from '../hosts/moddable/crypto-native.js';
import { SoftwareCrypto } from '../src/crypto/software/provider.js';
import { OPS, timeOp } from './crypto-ops.js';
import { espOps } from './esp-ops.js';
import { gatewayOps } from './gateway-ops.js';

const [, mode, suite, providerName, amount, only] = argv();
const ops = suite === 'esp' ? espOps() : suite === 'gateway' ? gatewayOps() : OPS;
const crypto = providerName === 'native' ? new NativeCrypto() : new SoftwareCrypto({ random: fillRandom });

for (let i = 0; i < ops.length; i++) {
  const op = ops[i];
  if (only !== undefined && Number(only) !== i) continue;
  const run = op.prepare(crypto);
  if (mode === 'time') {
    const ms = Number(amount) * (op.heavy ? 1.5 : 1);
    const opsPerSecond = timeOp(run, ms, now, op.heavy || providerName === 'software' ? 2 : 50);
    console.log(JSON.stringify({ op: op.name, opsPerSecond, implementation: crypto.implementation(op.algorithm) }));
  } else {
    const n = Math.max(1, Math.round(Number(amount) / (op.heavy ? 10 : 1)));
    run(); // warm-up outside the measurement: first-call costs (lazy tables) are not per-op costs
    callgrind.start();
    for (let k = 0; k < n; k++) run();
    callgrind.stop(`op:${i}:${n}`);
  }
}
exit(0);
