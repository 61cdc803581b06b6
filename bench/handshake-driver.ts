/**
 * The initiator of the network handshake rows (bench/handshake-net.mjs): our IKE engine on
 * Node (node:crypto) over a dgram socket, driving full handshakes against one responder, the
 * same driver for our simulator and for strongSwan. Run in the initiator's namespace:
 *
 *   node handshake-driver.js '{"proposal": "...", "slots": 32, "seconds": 5, "warmup": 1, "drain": 15,
 *                             "watchPid": 1234, "local": "192.0.2.1", "remote": "192.0.2.2"}'
 *
 * prints one JSON line with what it measured. `slots` IKE SAs are in flight at all times
 * (closed loop): each slot is one connection of bench/handshake-ops.ts's initiatorDoc (its own
 * identity and inner address); it starts IKE_SA_INIT, then IKE_AUTH with its CHILD SA, and
 * once the IKE SA is established with the CHILD SA installed, it is counted and deleted
 * (INFORMATIONAL with a Delete for the IKE SA, RFC 7296 §1.4.1), so that the responder's state
 * stays bounded; when the responder has answered the delete, the slot starts its next
 * handshake. A handshake counts in the measured window if it completed in it (after `warmup`
 * seconds, for `seconds` seconds); then no new ones start and the ones in flight finish
 * (`drain` seconds at most).
 *
 * The responder does a fresh key exchange every time, so that is what is measured; the
 * initiator reuses its own key share for all its IKE SAs (RFC 7296 §2.12 allows reusing
 * Diffie-Hellman values), so that it is less likely to be the bottleneck. Its CPU use over the
 * window is reported: near 100% means the figure is the initiator's limit, not the responder's.
 *
 * Nothing counts that did not complete: an IKE SA that failed or was never established, a
 * CHILD SA missing, or a delete that was not answered is a failure, with the last log lines,
 * and its slot starts no more handshakes.
 */
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { validateIkeConfig } from '../src/config/ike-config.js';
import type { KeyExchange } from '../src/crypto/provider.js';
import { IkeEngine } from '../src/ike/engine.js';
import type { IkeSa } from '../src/ike/ike-sa.js';
import { Logger } from '../src/log.js';
import { PfKeyEngine } from '../src/policy/pfkey-engine.js';
import { Spd } from '../src/policy/spd.js';
import { NodeCrypto } from '../hosts/node/crypto-node.js';
import { initiatorDoc, LOG_LEVEL } from './handshake-ops.js';

interface Options {
  proposal: string;
  slots: number;
  seconds: number;
  warmup: number;
  drain: number;
  /** the responder's pid: its CPU time over the window is read from /proc */
  watchPid?: number;
  local: string;
  remote: string;
  port?: number;
}

/** node:crypto, with one key share per group for every IKE SA (RFC 7296 §2.12). */
class ReusedShareCrypto extends NodeCrypto {
  readonly #shares = new Map<number, KeyExchange>();
  override keyExchange(group: number): KeyExchange {
    let share = this.#shares.get(group);
    if (!share) {
      share = super.keyExchange(group);
      this.#shares.set(group, share);
    }
    return share;
  }
}

/** CPU seconds (user + system, all threads) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14, 15) in USER_HZ
}

interface Slot {
  name: string;
  sa: IkeSa | null;
  phase: 'idle' | 'connecting' | 'deleting';
  started: number;
  /** messages the SA had received when the delete was sent (an answer raises it) */
  receivedBeforeDelete: number;
  /** something failed: the slot starts no more handshakes (no storm against a responder in trouble) */
  failed: boolean;
}

const o: Options = JSON.parse(process.argv[2]);
const port = o.port ?? 500;
const crypto = new ReusedShareCrypto();
const lines: string[] = [];
const log = new Logger((line) => {
  if (lines.push(line) > 60) lines.shift();
}, { logging: { levels: { default: LOG_LEVEL } }, linesPerSecond: 1_000_000 });
const socket = dgram.createSocket({ type: 'udp4' });
let sent = 0;
const engine = new IkeEngine({
  crypto, config: validateIkeConfig(initiatorDoc(o.proposal, o.slots, o.remote, o.local)),
  pfkey: new PfKeyEngine(crypto), spd: new Spd(), log, localAddresses: [o.local], ports: { ike: port, natT: 4500 },
  send: (_localPort, remote, bytes) => {
    sent++;
    socket.send(Buffer.from(bytes), remote.port, remote.address);
  },
  keepalive: () => {},
  now: () => performance.now(),
});

const slots: Slot[] = Array.from({ length: o.slots }, (_, n) => ({ name: `s${n}`, sa: null, phase: 'idle', started: 0, receivedBeforeDelete: 0, failed: false }));
const bySpi = new Map<string, Slot>();
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

let running = true;
const start = performance.now();
const windowStart = start + o.warmup * 1000;
const windowEnd = windowStart + o.seconds * 1000;
const counts = { started: 0, completed: 0, inWindow: 0, deleted: 0, retransmits: 0 };
const failures: string[] = [];
const latencies: number[] = [];
let cpu: { self: NodeJS.CpuUsage; peer: number; at: number } | null = null;
let measured: { selfCpu: number; peerCpu: number | null; elapsed: number } | null = null;

function fail(slot: Slot, why: string): void {
  slot.failed = true;
  if (failures.length < 5) failures.push(`${slot.name}: ${why}\n${lines.slice(-20).join('\n')}`);
  else failures.push(`${slot.name}: ${why}`);
}

function begin(slot: Slot): void {
  if (slot.sa) bySpi.delete(hex(slot.sa.spiI));
  slot.sa = null;
  slot.phase = 'idle';
  if (!running || slot.failed) return;
  const sa = engine.initiate(slot.name);
  if (typeof sa === 'string') throw new Error(sa);
  slot.sa = sa;
  slot.phase = 'connecting';
  slot.started = performance.now();
  bySpi.set(hex(sa.spiI), slot);
  counts.started++;
}

/** Moves a slot on after its SA changed: counted and deleted once up, next handshake once deleted. */
function advance(slot: Slot): void {
  const sa = slot.sa;
  if (!sa) return;
  const now = performance.now();
  if (slot.phase === 'connecting') {
    if (sa.state === 'destroyed') {
      fail(slot, 'the IKE SA failed before it was established');
      begin(slot);
    } else if (sa.state === 'established' && !sa.busy) {
      counts.retransmits += sa.counters.retransmitted;
      if (sa.children.length !== 1 || sa.children[0].state !== 'installed') {
        fail(slot, `established with ${sa.children.length} CHILD SAs`);
      } else {
        counts.completed++;
        if (now >= windowStart && now < windowEnd) {
          counts.inWindow++;
          latencies.push(now - slot.started);
        }
      }
      slot.phase = 'deleting';
      slot.receivedBeforeDelete = sa.counters.received;
      engine.terminate(sa, 'bench');
    }
  } else if (slot.phase === 'deleting' && sa.state === 'destroyed') {
    if (sa.counters.received > slot.receivedBeforeDelete) counts.deleted++;
    else fail(slot, 'the delete was not answered');
    begin(slot);
  }
}

function sample(): void {
  const now = performance.now();
  if (!cpu && now >= windowStart) {
    cpu = { self: process.cpuUsage(), peer: o.watchPid ? cpuSeconds(o.watchPid) : 0, at: now };
  }
  if (cpu && !measured && now >= windowEnd) {
    const self = process.cpuUsage(cpu.self);
    measured = {
      selfCpu: (self.user + self.system) / 1e6,
      peerCpu: o.watchPid ? cpuSeconds(o.watchPid) - cpu.peer : null,
      elapsed: (now - cpu.at) / 1000,
    };
    running = false;
  }
}

socket.on('message', (data, remote) => {
  engine.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { address: remote.address, port: remote.port }, port);
  if (data.length >= 8) {
    const slot = bySpi.get(data.subarray(0, 8).toString('hex'));
    if (slot) advance(slot);
  }
  sample();
});

await new Promise<void>((resolve, reject) => {
  socket.once('error', reject);
  socket.bind(port, o.local, () => resolve());
});
for (const slot of slots) begin(slot);
const done = new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    engine.tick();
    for (const slot of slots) advance(slot);
    sample();
    const idle = slots.every((s) => s.phase === 'idle');
    if (!running && (idle || performance.now() > windowEnd + o.drain * 1000)) {
      clearInterval(timer);
      resolve();
    }
  }, 50);
});
await done;
socket.close();

const unfinished = slots.filter((s) => s.phase !== 'idle').length;
if (unfinished) failures.push(`${unfinished} handshakes or deletes still in flight ${o.drain} s after the window\n${lines.slice(-20).join('\n')}`);
latencies.sort((x, y) => x - y);
const m = measured!;
console.log(JSON.stringify({
  proposal: o.proposal, slots: o.slots, seconds: m.elapsed,
  handshakesPerSecond: counts.inWindow / m.elapsed,
  ...counts, sent, failures: failures.length, failureDetails: failures.slice(0, 5),
  latencyMs: latencies.length ? { median: latencies[latencies.length >> 1], p90: latencies[Math.floor(latencies.length * 0.9)] } : null,
  initiatorCpu: m.selfCpu / m.elapsed,
  responderCpu: m.peerCpu === null ? null : m.peerCpu / m.elapsed,
  responderCpuMsPerHandshake: m.peerCpu === null || counts.inWindow === 0 ? null : (m.peerCpu * 1000) / counts.inWindow,
  ikeSasLeft: engine.sas.length, internalErrors: engine.counters.internalErrors,
}));
