/**
 * The handshake rows of the bench: one complete IKEv2 handshake, IKE_SA_INIT + IKE_AUTH with
 * one CHILD SA installed on both sides (RFC 7296 §1.2), between two IKE engines
 * (src/ike/engine.ts) in one process, as the gateway runs them: each side has its own
 * PF_KEY engine and SPD, and the CHILD SA goes into both. Datagrams are handed over in memory
 * (copied, as a network would). One run of an op is one handshake; afterwards both sides
 * forget their IKE SA (IkeSa.destroy: its CHILD SA leaves PF_KEY and the SPD, no DELETE
 * exchange), so that the engines stay the same size whatever the number of runs.
 *
 * Every run checks that the handshake really completed: one IKE SA established on each side
 * with one CHILD SA installed (two SAs in each PF_KEY engine, an inbound and an outbound SPD
 * entry), no internal error, and that nothing is left after the teardown. A run that fails
 * throws with the engines' last log lines, and the bench reports no figure for it.
 *
 * `mark(role)` (optional) is called after each part of the work: 'a' the initiator's, 'b' the
 * responder's, 'x' the checks and the teardown. bench/xs-bench.ts dumps callgrind's counts
 * there, which splits a handshake's instructions by role (the responder's share is what a
 * device answering peers pays).
 *
 * The connection documents are also what the network rows use (bench/handshake-net.mjs): our
 * responder's document and the initiator's (bench/handshake-driver.ts), with slots numbered
 * from 0, each slot an identity of its own and its own inner address.
 */
import { validateIkeConfig } from '../src/config/ike-config.js';
import type { Crypto } from '../src/crypto/provider.js';
import { IkeEngine } from '../src/ike/engine.js';
import type { Endpoint } from '../src/ike/ike-sa.js';
import { Logger } from '../src/log.js';
import { PfKeyEngine } from '../src/policy/pfkey-engine.js';
import { Spd } from '../src/policy/spd.js';
import type { BenchOp } from './crypto-ops.js';

/** The groups of the issue, each in an AES-GCM proposal with a SHA-256 PRF. */
export const HANDSHAKE_GROUPS = [
  { group: 'X25519', proposal: 'aes128gcm16-prfsha256-x25519', algorithm: 'curve25519' },
  { group: 'ECP-256', proposal: 'aes128gcm16-prfsha256-ecp256', algorithm: 'ecp256' },
  { group: 'MODP-2048', proposal: 'aes128gcm16-prfsha256-modp2048', algorithm: 'modp2048' },
] as const;

export const ESP_PROPOSAL = 'aes128gcm16';
export const BENCH_PSK = 'xs-ipsec handshake bench: not a secret';
export const INITIATOR_ADDRESS = '192.0.2.1';
export const RESPONDER_ADDRESS = '192.0.2.2';
export const RESPONDER_ID = '@responder.bench';
export const RESPONDER_TS = '10.2.0.0/16';
/** log level of every subsystem on both sides (0: audit, the established/deleted lines) */
export const LOG_LEVEL = 0;

/** A slot's identity and inner address: slot n is @i<n>.bench with 10.1.x.y/32 */
export const slotId = (n: number) => `@i${n}.bench`;
export const slotTs = (n: number) => `10.1.${(n >> 8) & 0xff}.${n & 0xff}/32`;

/**
 * The initiator's document: one connection per slot ("s0", "s1", ...), each its own identity
 * (so that INITIAL_CONTACT, which every first IKE SA of an identity carries, and strongSwan's
 * uniqueness checks never touch another slot's SA) and its own inner address (so that each
 * CHILD SA has its own policies on the responder, as road warriors have; CHILD names are unique
 * across connections: "c0", "c1", ...). One try each
 * (keyingtries 1): a handshake that fails is counted, not retried behind the bench's back.
 */
export function initiatorDoc(proposal: string, slots: number, remote = RESPONDER_ADDRESS, local = INITIATOR_ADDRESS): Record<string, unknown> {
  const connections: Record<string, unknown> = {};
  for (let n = 0; n < slots; n++) {
    connections[`s${n}`] = {
      local_addrs: local, remote_addrs: remote, proposals: [proposal],
      keyingtries: 1, rekey_time: '0', rand_time: '0', dpd_delay: '0',
      local: { auth: 'psk', id: slotId(n) },
      remote: { auth: 'psk', id: RESPONDER_ID },
      children: { [`c${n}`]: { local_ts: slotTs(n), remote_ts: RESPONDER_TS, esp_proposals: [ESP_PROPOSAL], rekey_time: '0', rand_time: '0', start_action: 'none' } },
    };
  }
  return { connections, secrets: { ike: [{ secret: BENCH_PSK }] }, logging: { default: LOG_LEVEL } };
}

/**
 * The responder's document: one connection for any peer and any identity (one secret without
 * ids), the given proposals, the inner network 10.2.0.0/16 toward 10.1.0.0/16 (narrowed to each
 * initiator's /32). Defaults otherwise, as a gateway would run.
 */
export function responderDoc(proposals: readonly string[], local = RESPONDER_ADDRESS): Record<string, unknown> {
  return {
    connections: {
      bench: {
        local_addrs: local, remote_addrs: '%any', proposals: [...proposals],
        local: { auth: 'psk', id: RESPONDER_ID },
        remote: { auth: 'psk', id: '%any' },
        children: { net: { local_ts: RESPONDER_TS, remote_ts: '10.1.0.0/16', esp_proposals: [ESP_PROPOSAL], start_action: 'none' } },
      },
    },
    secrets: { ike: [{ secret: BENCH_PSK }] },
    logging: { default: LOG_LEVEL },
  };
}

interface Datagram {
  from: Endpoint;
  port: number;
  bytes: Uint8Array;
}

interface End {
  engine: IkeEngine;
  pfkey: PfKeyEngine;
  spd: Spd;
  outbox: Datagram[];
  /** the last log lines, for a failure's message */
  lines: string[];
}

export type Role = 'a' | 'b' | 'x';

/** An initiator (a, slot 0) and a responder (b) in memory; `handshake()` runs one. */
export class HandshakePair {
  readonly a: End;
  readonly b: End;
  #now = 1_000;
  handshakes = 0;

  constructor(readonly crypto: Crypto, proposal: string) {
    this.a = this.#end(INITIATOR_ADDRESS, initiatorDoc(proposal, 1));
    this.b = this.#end(RESPONDER_ADDRESS, responderDoc([proposal]));
  }

  #end(address: string, doc: unknown): End {
    const pfkey = new PfKeyEngine(this.crypto);
    const spd = new Spd();
    const outbox: Datagram[] = [];
    const lines: string[] = [];
    const now = () => this.#now;
    const engine = new IkeEngine({
      crypto: this.crypto, config: validateIkeConfig(doc), pfkey, spd,
      log: new Logger((line) => {
        if (lines.push(line) > 40) lines.shift();
      }, { logging: { levels: { default: LOG_LEVEL } }, now, linesPerSecond: 1_000_000 }),
      localAddresses: [address],
      // a network copies the datagram: the receiver must not see the sender's buffers
      send: (localPort, _remote, bytes) => outbox.push({ from: { address, port: localPort }, port: 500, bytes: bytes.slice() }),
      keepalive: () => {},
      now,
    });
    return { engine, pfkey, spd, outbox, lines };
  }

  #fail(why: string): never {
    throw new Error(`handshake ${this.handshakes + 1} failed: ${why}\n--- initiator\n${this.a.lines.join('\n')}\n--- responder\n${this.b.lines.join('\n')}`);
  }

  /** One handshake, checked, then both IKE SAs forgotten; `mark` after each side's part. */
  handshake(mark: (role: Role) => void = () => {}): void {
    const { a, b } = this;
    this.#now += 10;
    const sa = a.engine.initiate('s0');
    if (typeof sa === 'string') this.#fail(sa);
    mark('a');
    for (let round = 0; a.outbox.length > 0 || b.outbox.length > 0; round++) {
      if (round === 8) this.#fail('still exchanging after 8 rounds');
      if (a.outbox.length > 0) {
        for (const d of a.outbox.splice(0)) b.engine.receive(d.bytes, d.from, d.port);
        mark('b');
      }
      if (b.outbox.length > 0) {
        for (const d of b.outbox.splice(0)) a.engine.receive(d.bytes, d.from, d.port);
        mark('a');
      }
    }
    this.#check(a, 'initiator');
    this.#check(b, 'responder');
    for (const end of [a, b]) {
      for (const s of end.engine.sas) s.destroy(this.#now, 'bench');
      if (end.engine.sas.length !== 0 || end.pfkey.size !== 0 || end.spd.entries('out').length + end.spd.entries('in').length !== 0) {
        this.#fail(`state left after the teardown: ${end.engine.sas.length} IKE SAs, ${end.pfkey.size} SAs in PF_KEY`);
      }
    }
    this.handshakes++;
    mark('x');
  }

  #check(end: End, role: string): void {
    const sas = end.engine.sas;
    const sa = sas[0];
    if (sas.length !== 1 || sa.state !== 'established') this.#fail(`${role}: ${sas.length} IKE SAs, ${sa?.state ?? 'none'}`);
    if (sa.children.length !== 1 || sa.children[0].state !== 'installed') this.#fail(`${role}: ${sa.children.length} CHILD SAs`);
    if (end.pfkey.size !== 2 || end.spd.entries('out').length !== 1 || end.spd.entries('in').length !== 1) this.#fail(`${role}: ${end.pfkey.size} SAs in PF_KEY`);
    const errors = end.engine.counters.internalErrors + sa.counters.internalErrors;
    if (errors > 0) this.#fail(`${role}: ${errors} internal errors`);
  }
}

export interface HandshakeOp extends BenchOp {
  group: string;
  proposal: string;
  prepare(crypto: Crypto, mark?: (role: Role) => void): () => void;
}

/** One op per group: a run is one complete handshake (both roles). */
export function handshakeOps(): HandshakeOp[] {
  return HANDSHAKE_GROUPS.map(({ group, proposal, algorithm }) => ({
    name: `handshake ${group} (${proposal})`, group, proposal, algorithm, heavy: true,
    prepare(crypto: Crypto, mark?: (role: Role) => void) {
      const pair = new HandshakePair(crypto, proposal);
      return () => pair.handshake(mark);
    },
  }));
}
