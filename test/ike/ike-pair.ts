/**
 * Two IKE engines (src/ike/engine.ts) and their gateways in memory, for the engine tests:
 * A at 192.0.2.1 initiates, B at 198.51.100.2 responds; datagrams queue until `run()` hands
 * them over (so tests can drop, reorder or duplicate them), and a shared clock drives timers.
 * Each side's data path is a real Gateway over its own PfKeyEngine and SPD, so a tunnel the
 * engines negotiate is checked by sealing a packet on one side and opening it on the other.
 */
import { validateIkeConfig } from '../../src/config/ike-config.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { Gateway, OUTBOUND_OFFSET } from '../../src/gateway.js';
import type { Host } from '../../src/host.js';
import { IkeEngine, type IkeEngineOptions } from '../../src/ike/engine.js';
import type { Endpoint } from '../../src/ike/ike-sa.js';
import { Logger } from '../../src/log.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { parseAddress } from '../../src/policy/selector.js';
import { Spd } from '../../src/policy/spd.js';
import { IpProtocol, writeIpv4Header } from '../../src/wire/ip.js';
import { bytesEqual, equal } from '../assert.js';

export const A = '192.0.2.1';
export const B = '198.51.100.2';

export interface Datagram {
  from: Endpoint;
  to: Endpoint;
  bytes: Uint8Array;
}

export interface Side {
  name: 'a' | 'b';
  address: string;
  engine: IkeEngine;
  pfkey: PfKeyEngine;
  spd: Spd;
  gateway: Gateway;
  /** log lines */
  lines: string[];
  /** what this side sent and the pair has not yet delivered */
  outbox: Datagram[];
  delivered: Uint8Array[];
  keepalives: number;
}

export interface Clock {
  now: number;
}

/** A connection document for one side, in the configuration's JSON form. */
export function connectionDoc(side: 'a' | 'b', options: {
  proposals?: string[]; esp?: string[]; psk?: string; rekey?: string; childRekey?: string; childLife?: string; dpd?: string;
  encap?: boolean; fragmentation?: 'yes' | 'no'; localTs?: string; remoteTs?: string; children?: Record<string, unknown>;
} = {}): unknown {
  const me = side === 'a' ? A : B;
  const peer = side === 'a' ? B : A;
  const child = {
    local_ts: options.localTs ?? (side === 'a' ? '10.1.0.0/16' : '10.2.0.0/16'),
    remote_ts: options.remoteTs ?? (side === 'a' ? '10.2.0.0/16' : '10.1.0.0/16'),
    esp_proposals: options.esp ?? ['aes128gcm16'],
    rekey_time: options.childRekey ?? '0',
    life_time: options.childLife ?? '0',
    rand_time: '0',
    start_action: side === 'a' ? 'start' : 'none',
  };
  return {
    connections: {
      net: {
        local_addrs: me,
        remote_addrs: side === 'a' ? peer : '%any',
        proposals: options.proposals ?? ['aes128gcm16-prfsha256-x25519'],
        rekey_time: options.rekey ?? '0',
        rand_time: '0',
        dpd_delay: options.dpd ?? '0',
        encap: options.encap ? 'yes' : 'no',
        fragmentation: options.fragmentation ?? 'yes',
        local: { auth: 'psk', id: side === 'a' ? '@sensor.example.com' : '@hq.example.com' },
        remote: { auth: 'psk', id: side === 'a' ? '@hq.example.com' : '@sensor.example.com' },
        children: options.children ?? { tunnel: child },
      },
    },
    secrets: { ike: [{ id: ['@sensor.example.com', '@hq.example.com'], secret: options.psk ?? 'a shared secret of some length' }] },
    logging: { default: 2 },
  };
}

export class Pair {
  readonly clock: Clock = { now: 1_000 };
  readonly a: Side;
  readonly b: Side;
  /** datagrams dropped by `run` because a filter said so */
  dropped = 0;

  constructor(readonly crypto: Crypto, docA: unknown, docB: unknown, options: Partial<IkeEngineOptions> = {}, optionsB: Partial<IkeEngineOptions> = {}, addressA = A) {
    this.a = this.#side('a', addressA, docA, options);
    this.b = this.#side('b', B, docB, { ...options, ...optionsB });
  }

  #side(name: 'a' | 'b', address: string, doc: unknown, options: Partial<IkeEngineOptions>): Side {
    const pfkey = new PfKeyEngine(this.crypto);
    const spd = new Spd();
    const lines: string[] = [];
    const outbox: Datagram[] = [];
    const delivered: Uint8Array[] = [];
    const pair = this;
    const side = { name, address, pfkey, spd, lines, outbox, delivered, keepalives: 0 } as Partial<Side> as Side;
    const host: Host = {
      now: () => pair.clock.now,
      sendEsp(_address, buffer, offset, length) {
        pair.#peer(side).gateway.inboundEsp(buffer.slice(offset - 20, offset + length), 0, length + 20);
        return true;
      },
      sendUdp(_address, _port, buffer, offset, length) {
        pair.#peer(side).gateway.inboundUdp(buffer.slice(offset, offset + length), 0, length);
        return true;
      },
      sendIke: () => true,
      deliver(buffer, offset, length) {
        delivered.push(buffer.slice(offset, offset + length));
        return true;
      },
    } as Host;
    side.gateway = new Gateway(host, spd, pfkey);
    side.engine = new IkeEngine({
      crypto: this.crypto,
      config: validateIkeConfig(doc),
      pfkey,
      spd,
      log: new Logger((line) => lines.push(line), { logging: { levels: { default: 2 } }, now: () => pair.clock.now, linesPerSecond: 100_000 }),
      localAddresses: [address],
      send: (localPort, remote, bytes) => outbox.push({ from: { address, port: localPort }, to: { ...remote }, bytes: bytes.slice() }),
      keepalive: () => side.keepalives++,
      now: () => pair.clock.now,
      ...options,
    });
    return side;
  }

  #peer(side: Side): Side {
    return side === this.a ? this.b : this.a;
  }

  /**
   * Delivers queued datagrams until none are left (or `limit` rounds); `filter` may drop
   * some (return false). Returns how many were delivered.
   */
  run(filter: (d: Datagram, to: Side) => boolean = () => true, limit = 100): number {
    let n = 0;
    for (let round = 0; round < limit; round++) {
      const batch: [Datagram, Side][] = [...this.a.outbox.splice(0).map((d): [Datagram, Side] => [d, this.b]), ...this.b.outbox.splice(0).map((d): [Datagram, Side] => [d, this.a])];
      if (batch.length === 0) break;
      for (const [d, to] of batch) {
        if (!filter(d, to)) {
          this.dropped++;
          continue;
        }
        n++;
        to.engine.receive(d.bytes, d.from, d.to.port);
        this.#healthy(to);
      }
    }
    return n;
  }

  /** An exception inside an engine is a bug, whatever the test is about: fail at once. */
  #healthy(side: Side): void {
    const errors = side.engine.counters.internalErrors + side.engine.sas.reduce((n, s) => n + s.counters.internalErrors, 0);
    if (errors > 0) throw new Error(`internal error in ${side.name}'s engine:\n${this.logs()}`);
  }

  /** Moves the clock on in steps, ticking both engines and delivering what they send. */
  advance(ms: number, step = 250, filter?: (d: Datagram, to: Side) => boolean): void {
    for (let t = 0; t < ms; t += step) {
      this.clock.now += Math.min(step, ms - t);
      this.a.engine.tick();
      this.b.engine.tick();
      this.#healthy(this.a);
      this.#healthy(this.b);
      this.run(filter);
    }
  }

  /** A packet from A's inner network to B's and back, through the negotiated SAs: both must arrive intact. */
  bothWays(tag: number, addresses = { a: '10.1.0.5', b: '10.2.0.9' }): void {
    const there = send(this.a.gateway, addresses.a, addresses.b, [tag, 1, 2]);
    const back = send(this.b.gateway, addresses.b, addresses.a, [tag, 3, 4, 5]);
    equal(this.b.delivered.length > 0, true, `B got nothing: ${JSON.stringify(this.b.gateway.counters)}`);
    bytesEqual(this.b.delivered[this.b.delivered.length - 1], there);
    equal(this.a.delivered.length > 0, true, `A got nothing: ${JSON.stringify(this.a.gateway.counters)}`);
    bytesEqual(this.a.delivered[this.a.delivered.length - 1], back);
  }

  /** Both sides' log lines, for failure messages. */
  logs(): string {
    return `--- A\n${this.a.lines.join('\n')}\n--- B\n${this.b.lines.join('\n')}`;
  }
}

export function send(gateway: Gateway, src: string, dst: string, payload: number[]): Uint8Array {
  const length = 28 + payload.length;
  const b = gateway.outboundBuffer;
  writeIpv4Header(b, OUTBOUND_OFFSET, length, IpProtocol.UDP, 1, 64, Uint8Array.from([...parseAddress(src), ...parseAddress(dst)]), 0, 4);
  b.set([0x30, 0x39, 0x00, 0x35, 0, 8 + payload.length, 0, 0, ...payload], OUTBOUND_OFFSET + 20);
  const copy = b.slice(OUTBOUND_OFFSET, OUTBOUND_OFFSET + length);
  gateway.outbound(length);
  return copy;
}

/** The established IKE SAs of a side. */
export function established(side: Side) {
  return side.engine.sas.filter((s) => s.state === 'established');
}
