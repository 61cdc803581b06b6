/**
 * The XS half of `npm run bench`, run by bench/run.mjs on the desktop XS host:
 *   xs-ipsec-lin ... xs-bench.js time  SUITE PROVIDER MS      -> JSON lines {op, opsPerSecond, implementation}
 *   xs-bench.js count SUITE PROVIDER N [OP] -> under callgrind: each op instrumented for N runs,
 *                                              dumped as part "op:<index>:<N>"
 * SUITE is "crypto" (bench/crypto-ops.ts), "esp" (bench/esp-ops.ts), "gateway"
 * (bench/gateway-ops.ts) or "handshake" (bench/handshake-ops.ts); PROVIDER is "software"
 * (@noble) or "native" (PSA/Mbed TLS).
 * Handshakes are counted as N runs exactly (not N/10 as other heavy ops), each split by role:
 * a part "hs:<index>:<role>" is dumped after each role's share of the work ('a' initiator,
 * 'b' responder, 'x' checks and teardown), and "op:<index>:<N>" holds what is left at the end.
 * A handshake that fails prints {op, error} instead of its figures, and the next op runs.
 */
import { fillRandom } from 'random';
import * as callgrind from 'lin/callgrind';
import { exit, argv, now } from 'lin/process';
import { NativeCrypto } from '../hosts/moddable/crypto-native.js';
import { SoftwareCrypto } from '../src/crypto/software/provider.js';
import { OPS, timeOp } from './crypto-ops.js';
import { espOps } from './esp-ops.js';
import { gatewayOps } from './gateway-ops.js';
import { handshakeOps, type HandshakeOp, type Role } from './handshake-ops.js';

const [, mode, suite, providerName, amount, only] = argv();
const ops = suite === 'esp' ? espOps() : suite === 'gateway' ? gatewayOps() : suite === 'handshake' ? handshakeOps() : OPS;
const crypto = providerName === 'native' ? new NativeCrypto() : new SoftwareCrypto({ random: fillRandom });

function measure(i: number): void {
  const op = ops[i];
  // handshakes: callgrind parts by role, only while measuring
  let measuring = false;
  const mark = (role: Role) => {
    if (measuring) callgrind.dump(`hs:${i}:${role}`);
  };
  const run = suite === 'handshake' ? (op as HandshakeOp).prepare(crypto, mark) : op.prepare(crypto);
  if (mode === 'time') {
    const ms = Number(amount) * (op.heavy ? 1.5 : 1);
    const opsPerSecond = timeOp(run, ms, now, op.heavy || providerName === 'software' ? 2 : 50);
    console.log(JSON.stringify({ op: op.name, opsPerSecond, implementation: crypto.implementation(op.algorithm) }));
  } else {
    const n = suite === 'handshake' ? Number(amount) : Math.max(1, Math.round(Number(amount) / (op.heavy ? 10 : 1)));
    run(); // warm-up outside the measurement: first-call costs (lazy tables) are not per-op costs
    callgrind.start();
    measuring = true;
    try {
      for (let k = 0; k < n; k++) run();
    } finally {
      measuring = false;
      callgrind.stop(`op:${i}:${n}`);
    }
  }
}

for (let i = 0; i < ops.length; i++) {
  if (only !== undefined && Number(only) !== i) continue;
  if (suite !== 'handshake') {
    measure(i);
    continue;
  }
  // a handshake that fails is that row's failure (a JSON line saying why), not the others'
  try {
    measure(i);
  } catch (e) {
    console.log(JSON.stringify({ op: ops[i].name, error: String((e as Error)?.message ?? e) }));
  }
}
exit(0);
