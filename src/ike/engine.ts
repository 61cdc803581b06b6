/**
 * The IKEv2 engine (RFC 7296), sans-IO: fed IKE datagrams (without the non-ESP marker, RFC
 * 3948 §2.2) and the time, it keeps the IKE SAs, answers and starts exchanges, and installs
 * the CHILD SAs into the data path through PF_KEY and the SPD it was given. What it sends
 * goes through the `send` and `keepalive` callbacks; a host calls `tick(now)` about every
 * 100-500 ms for retransmissions, DPD, keepalives, rekeys and lifetimes.
 *
 * Responder (§1.2, §2.6): a new IKE_SA_INIT request is checked against the half-open limits
 * before any state or Diffie-Hellman work: past `cookies.threshold` half-open SAs it must
 * carry a valid COOKIE (else the answer is a COOKIE, statelessly), past `cookies.hardLimit`
 * it is dropped. An IKE_SA_INIT request for an SA we already have (same SPIi and address)
 * gets its response again.
 *
 * Initiator: `initiate(connection)` starts IKE_SA_INIT, then IKE_AUTH with each CHILD SA
 * of the connection (the first in IKE_AUTH, the others in CREATE_CHILD_SA).
 */
import type { ConnectionConfig, IkeConfig } from '../config/ike-config.js';
import { sameIdentity } from '../config/identity.js';
import { toHex } from '../crypto/bytes.js';
import type { Crypto } from '../crypto/provider.js';
import { LogLevel, type Logger } from '../log.js';
import type { PfKeyEngine } from '../policy/pfkey-engine.js';
import { inRange, parseAddress } from '../policy/selector.js';
import type { Spd } from '../policy/spd.js';
import { CookieJar, type CookieJarOptions } from './cookies.js';
import type { RetransmitOptions } from './exchange-window.js';
import { IkeSa, type ChildSa, type Endpoint, type IkeContext } from './ike-sa.js';
import type { KeyLog } from './keylog.js';
import { encodeMessage, ExchangeType, IKE_HEADER_LENGTH, parseMessage } from './message.js';
import { NotifyType, PayloadType } from './payloads.js';
import { ChildCreateInitiator, ChildCreateResponder } from './tasks/child-create.js';
import { ChildDeleteResponder } from './tasks/child-delete.js';
import { IkeAuthInitiator, IkeAuthResponder } from './tasks/ike-auth.js';
import { IkeDeleteInitiator, IkeDeleteResponder, LivenessCheck } from './tasks/ike-delete.js';
import { IkeInitInitiator, IkeInitResponder } from './tasks/ike-init.js';
import { IkeRekeyInitiator, IkeRekeyResponder } from './tasks/ike-rekey.js';
import { InboundMessage, type Task } from './tasks/task.js';
import { jitter, policyName, tsRanges } from './tasks/common.js';
import { installTrap } from './child-install.js';
import { ProtocolId } from './types.js';

export interface IkeEngineOptions {
  crypto: Crypto;
  config: IkeConfig;
  pfkey: PfKeyEngine;
  spd: Spd;
  log: Logger;
  keylog?: KeyLog | null;
  /** this host's addresses; the first is the one we speak from unless a connection names one */
  localAddresses: readonly string[];
  /** our IKE and NAT-T ports (500 and 4500 unless configured) */
  ports?: { ike: number; natT: number };
  /** RFC 7383 §2.5.1: the largest datagram sent unfragmented; strongSwan's default 1280 */
  fragmentSize?: number;
  retransmit?: Partial<RetransmitOptions>;
  /** half-open limits (RFC 7296 §2.6); defaults: cookies from 10 half-open SAs, none admitted beyond 100 */
  cookies?: Partial<CookieJarOptions>;
  /** ms after which a half-open SA is dropped (strongSwan's half_open_timeout, 30 s) */
  halfOpenTimeout?: number;
  send(localPort: number, remote: Endpoint, bytes: Uint8Array): void;
  keepalive(remote: Endpoint): void;
  now(): number;
}

export interface IkeEngineCounters {
  received: number;
  /** shorter than a header, not IKEv2, or unparsable before any SA could be found */
  malformed: number;
  /** for an SPI we do not have (§2.21.4: not answered, to avoid being an oracle) */
  unknownSpi: number;
  cookiesSent: number;
  cookiesRejected: number;
  /** IKE_SA_INIT requests dropped at the half-open hard limit */
  halfOpenLimit: number;
  /** no connection for the peer's address */
  noConnection: number;
  /** exceptions caught at the engine's edge (a bug; logged) */
  internalErrors: number;
}

const ZERO_SPI = new Uint8Array(8);
/** ms during which more acquires for a CHILD config being negotiated are ignored (strongSwan's acquire timeout) */
const ACQUIRE_HOLD_MS = 10_000;
/** ms before a failed IKE SA is tried again (plus up to as much at random) */
const RETRY_DELAY = 5_000;

export class IkeEngine {
  readonly counters: IkeEngineCounters = { received: 0, malformed: 0, unknownSpi: 0, cookiesSent: 0, cookiesRejected: 0, halfOpenLimit: 0, noConnection: 0, internalErrors: 0 };
  readonly context: IkeContext;
  readonly cookies: CookieJar;
  readonly #options: IkeEngineOptions;
  /** IKE SAs by our SPI (hex) */
  readonly #sas = new Map<string, IkeSa>();
  /** half-open responder SAs by the initiator's SPI and address (a repeated IKE_SA_INIT) */
  readonly #halfOpen = new Map<string, IkeSa>();
  readonly #halfOpenTimeout: number;
  /**
   * swanctl.conf keyingtries: connections whose IKE SA failed before it was established, with
   * the tries made and when the next starts (0 keyingtries: for ever, as a device dialling its
   * gateway wants).
   */
  readonly #retries = new Map<string, { tries: number; at: number; child?: string }>();
  /** CHILD configs an acquire started negotiating, and when */
  readonly #acquired = new Map<string, number>();

  constructor(options: IkeEngineOptions) {
    this.#options = options;
    this.#halfOpenTimeout = options.halfOpenTimeout ?? 30_000;
    const engine = this;
    this.context = {
      crypto: options.crypto,
      config: options.config,
      pfkey: options.pfkey,
      spd: options.spd,
      log: options.log,
      keylog: options.keylog ?? null,
      ports: options.ports ?? { ike: 500, natT: 4500 },
      fragmentSize: options.fragmentSize ?? 1280,
      retransmit: options.retransmit ?? {},
      send: options.send,
      keepalive: options.keepalive,
      adopt: (sa, old) => engine.#adopt(sa, old),
      initialContact: (sa) => engine.#initialContact(sa),
      restart: (connection, child) => engine.initiate(connection.name, child?.name),
      destroyed: (sa) => engine.#forget(sa),
    };
    this.cookies = new CookieJar(options.crypto, options.now, {
      threshold: options.cookies?.threshold ?? 10,
      hardLimit: options.cookies?.hardLimit ?? 100,
      secretLifetimeMs: options.cookies?.secretLifetimeMs ?? 60_000,
      previousGraceMs: options.cookies?.previousGraceMs,
    });
  }

  get log(): Logger {
    return this.#options.log;
  }

  /** Every IKE SA, for status output and tests. */
  get sas(): IkeSa[] {
    return [...this.#sas.values()];
  }

  /** The number of half-open IKE SAs we are responder for (bounded by cookies.hardLimit). */
  get halfOpen(): number {
    return this.#halfOpen.size;
  }

  /* ------------------------------------------------------------------ input */

  /** An IKE message from `remote` to our `localPort` (non-ESP marker removed). Never throws. */
  receive(bytes: Uint8Array, remote: Endpoint, localPort: number): void {
    this.counters.received++;
    try {
      this.#receive(bytes, remote, localPort);
    } catch (e) {
      this.counters.internalErrors++;
      this.log.log('ike', LogLevel.AUDIT, `internal error on a message from ${remote.address}: ${(e as Error)?.stack ?? e}`);
    }
  }

  #receive(bytes: Uint8Array, remote: Endpoint, localPort: number): void {
    const now = this.#options.now();
    if (bytes.length < IKE_HEADER_LENGTH || bytes[17] >> 4 !== 2) {
      this.counters.malformed++;
      // §2.5: a new IKE_SA_INIT request (no responder SPI) of a higher major version learns which one we speak
      if (bytes.length >= IKE_HEADER_LENGTH && bytes[17] >> 4 > 2 && bytes[18] === ExchangeType.IKE_SA_INIT && (bytes[19] & 0x20) === 0 && isZero(bytes.subarray(8, 16))) {
        this.#answerInit(bytes.subarray(0, 8), NotifyType.INVALID_MAJOR_VERSION, new Uint8Array(0), remote, localPort);
      }
      return;
    }
    const spiI = bytes.subarray(0, 8);
    const spiR = bytes.subarray(8, 16);
    const exchange = bytes[18];
    const flags = bytes[19];
    const fromInitiator = (flags & 0x08) !== 0;
    const response = (flags & 0x20) !== 0;
    if (exchange === ExchangeType.IKE_SA_INIT && !response && fromInitiator && isZero(spiR)) {
      const known = this.#halfOpen.get(halfOpenKey(spiI, remote));
      if (known) known.receive(bytes, remote, localPort, now);
      else this.#newResponder(bytes, remote, localPort, now);
      return;
    }
    // our SPI: the responder's if the sender is the original initiator, else the initiator's
    const ours = fromInitiator ? spiR : spiI;
    const sa = this.#sas.get(toHex(ours));
    if (!sa) {
      this.counters.unknownSpi++;
      this.log.log('net', LogLevel.DIAGNOSE, `message for unknown IKE SPI ${toHex(ours)} from ${remote.address}:${remote.port} dropped`);
      return;
    }
    sa.receive(bytes, remote, localPort, now);
  }

  /** RFC 7296 §2.6 and §1.2: a new IKE_SA_INIT request. */
  #newResponder(bytes: Uint8Array, remote: Endpoint, localPort: number, now: number): void {
    this.settle();
    const parsed = parseMessage(bytes);
    if (!parsed.ok) {
      this.counters.malformed++;
      this.log.log('enc', LogLevel.CONTROL, `IKE_SA_INIT from ${remote.address} refused: ${parsed.error.reason}`);
      // §2.5, §2.21: the notification the codec names (UNSUPPORTED_CRITICAL_PAYLOAD, INVALID_SYNTAX), statelessly
      const notify = parsed.error.notify;
      if (notify && !this.cookies.required()) this.#answerInit(bytes.subarray(0, 8), notify.type, notify.data, remote, localPort);
      return;
    }
    const message = new InboundMessage(parsed.header, parsed.payloads, bytes);
    const candidates = this.#connectionsFor(remote.address);
    if (candidates.length === 0) {
      this.counters.noConnection++;
      this.log.log('cfg', LogLevel.CONTROL, `no connection for ${remote.address}: IKE_SA_INIT dropped`);
      return;
    }
    if (!this.cookies.admit()) {
      this.counters.halfOpenLimit++;
      this.log.log('ike', LogLevel.DIAGNOSE, `${this.cookies.halfOpen} half-open IKE SAs: IKE_SA_INIT from ${remote.address} dropped`);
      return;
    }
    const nonce = message.get(PayloadType.NONCE);
    if (this.cookies.required()) {
      // §2.6: the cookie must be the first payload; without a valid one, answer with a new one and keep nothing
      const first = message.payloads[0];
      const address = parseAddress(remote.address);
      const spiI = parsed.header.spiI;
      const ni = nonce?.nonce ?? new Uint8Array(0);
      const valid = first?.type === PayloadType.NOTIFY && first.notifyType === NotifyType.COOKIE && this.cookies.check(first.data, ni, address, spiI);
      if (!valid) {
        if (first?.type === PayloadType.NOTIFY && first.notifyType === NotifyType.COOKIE) this.counters.cookiesRejected++;
        this.counters.cookiesSent++;
        this.#answerInit(spiI, NotifyType.COOKIE, this.cookies.cookieFor(ni, address, spiI), remote, localPort);
        return;
      }
    }
    const spiR = new Uint8Array(8);
    this.#options.crypto.randomBytes(spiR);
    const connection = candidates[0];
    const sa = new IkeSa(this.context, {
      initiator: false, spiI: parsed.header.spiI.slice(), spiR, connection,
      local: { address: this.#localAddress(connection), port: localPort }, remote: { ...remote }, localPort, now,
    });
    this.#track(sa);
    this.cookies.opened();
    this.#halfOpen.set(halfOpenKey(sa.spiI, remote), sa);
    sa.responderTasks = (s, m) => this.#responderTasks(s, m, candidates);
    sa.receiveFirst(message, now);
  }

  /** An IKE_SA_INIT response of one notification, keeping no state (§2.6, §2.5, §2.21). */
  #answerInit(spiI: Uint8Array, notifyType: number, data: Uint8Array, remote: Endpoint, localPort: number): void {
    const answer = encodeMessage(
      { spiI: spiI.slice(), spiR: ZERO_SPI, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, higherVersion: false, response: true, messageId: 0 },
      [{ type: PayloadType.NOTIFY, protocol: 0, spi: new Uint8Array(0), notifyType, data }],
    );
    this.#options.send(localPort, remote, answer);
  }

  /** Connections whose remote_addrs admit the peer's address (and version 2). */
  #connectionsFor(address: string): ConnectionConfig[] {
    const a = parseAddress(address);
    return this.#options.config.connections.filter((c) =>
      c.remote_addrs.length === 0 || c.remote_addrs.some((r) => r.range === null || (r.range.start.length === a.length && inRange(r.range, a, 0))));
  }

  #localAddress(c: ConnectionConfig): string {
    const single = c.local_addrs.find((a) => a.single);
    return single ? single.text : this.#options.localAddresses[0] ?? '0.0.0.0';
  }

  /** The tasks that answer a request, by exchange and content (strongSwan's task_manager process_request). */
  #responderTasks(sa: IkeSa, m: InboundMessage, candidates: readonly ConnectionConfig[]): Task[] {
    const now = () => this.#options.now();
    switch (m.exchange) {
      case ExchangeType.IKE_SA_INIT:
        return [new IkeInitResponder(sa, candidates)];
      case ExchangeType.IKE_AUTH:
        if (sa.state !== 'connecting') return [];
        return [new IkeAuthResponder(sa, candidates, now), new ChildCreateResponder(sa, now, true)];
      case ExchangeType.CREATE_CHILD_SA: {
        const proposal = m.get(PayloadType.SA)?.proposals[0];
        if (proposal?.protocol === ProtocolId.IKE) return [new IkeRekeyResponder(sa, now)];
        return [new ChildCreateResponder(sa, now, false)];
      }
      case ExchangeType.INFORMATIONAL: {
        const deletes = m.all(PayloadType.DELETE);
        if (deletes.some((d) => d.protocol === ProtocolId.IKE)) return [new IkeDeleteResponder(sa)];
        if (deletes.length > 0) return [new ChildDeleteResponder(sa)];
        return []; // a liveness check, or notifies: the answer is empty (§1.4)
      }
      default:
        return [];
    }
  }

  /* ------------------------------------------------------------------ initiating */

  /**
   * Starts an IKE SA for a connection (IKE_SA_INIT, IKE_AUTH with its first CHILD SA, the
   * others in CREATE_CHILD_SA); with `childName`, only that CHILD SA. An established IKE SA
   * of the connection is reused for a CHILD SA it does not have yet.
   */
  initiate(connectionName: string, childName?: string): IkeSa | string {
    const now = this.#options.now();
    const retry = this.#retries.get(connectionName);
    if (retry && retry.at > now) retry.at = now; // asked for now: the scheduled retry comes forward
    const connection = this.#options.config.connections.find((c) => c.name === connectionName);
    if (!connection) return `no connection ${connectionName}`;
    const children = childName ? connection.children.filter((c) => c.name === childName) : connection.children;
    if (childName && children.length === 0) return `no CHILD_SA ${childName} in ${connectionName}`;
    const remote = connection.remote_addrs.find((a) => a.single);
    if (!remote) return `${connectionName}: remote_addrs names no single address to initiate to`;
    const existing = this.sas.find((s) => s.connection === connection && s.state === 'established');
    if (existing) {
      for (const c of children) if (!existing.children.some((x) => x.config === c)) existing.queue([new ChildCreateInitiator(existing, c, () => this.#options.now())], now);
      return existing;
    }
    const spiI = new Uint8Array(8);
    this.#options.crypto.randomBytes(spiI);
    const ports = this.context.ports;
    const localPort = connection.local_port === 500 ? ports.ike : connection.local_port;
    const sa = new IkeSa(this.context, {
      initiator: true, spiI, spiR: new Uint8Array(8), connection,
      local: { address: this.#localAddress(connection), port: localPort },
      remote: { address: remote.text, port: connection.remote_port }, localPort, now,
    });
    this.#track(sa);
    sa.responderTasks = (s, m) => this.#responderTasks(s, m, [connection]);
    const clock = () => this.#options.now();
    // §2.4: INITIAL_CONTACT when we hold no other IKE SA with this peer (a restarted device has none)
    const initialContact = !this.sas.some((s) => s !== sa && s.remote.address === sa.remote.address && s.state === 'established');
    sa.log('ike', LogLevel.AUDIT, `initiating IKE_SA to ${sa.remote.address}:${sa.remote.port}`);
    sa.queue([new IkeInitInitiator(sa)], now);
    const first = children[0];
    const auth: Task[] = [new IkeAuthInitiator(sa, clock, initialContact)];
    if (first) auth.push(new ChildCreateInitiator(sa, first, clock, { inIkeAuth: true }));
    sa.queue(auth, now);
    for (const c of children.slice(1)) sa.queue([new ChildCreateInitiator(sa, c, clock)], now);
    return sa;
  }

  /** Deletes an IKE SA (with its CHILD SAs) by sending a Delete (§1.4.1). */
  terminate(sa: IkeSa, reason = 'terminated'): void {
    this.#retries.delete(sa.connection.name);
    sa.terminated = true;
    if (sa.state === 'established') sa.queue([new IkeDeleteInitiator(sa, () => this.#options.now(), reason)], this.#options.now());
    else sa.destroy(this.#options.now(), reason);
  }

  /**
   * Connections with a CHILD SA whose start_action is `start`: initiated now (as swanctl
   * --load-all does); `trap`: a trap policy is installed, and the first packet it catches
   * starts the CHILD SA (acquire).
   */
  startAll(): void {
    for (const c of this.#options.config.connections) {
      for (const child of c.children.filter((ch) => ch.start_action === 'trap')) {
        const remote = c.remote_addrs.find((a) => a.single);
        const local = this.#localAddress(c);
        if (!remote) {
          this.log.log('cfg', LogLevel.AUDIT, `${c.name}.${child.name}: a trap needs a single remote address to initiate to`);
          continue;
        }
        const names = installTrap(this.context.spd, policyName(c, child, remote.text), tsRanges(child.local_ts, local), tsRanges(child.remote_ts, remote.text));
        this.log.log('cfg', LogLevel.CONTROL, `${c.name}.${child.name}: trap installed (${names.length} polic${names.length === 1 ? 'y' : 'ies'})`);
      }
      const starting = c.children.filter((ch) => ch.start_action === 'start');
      if (starting.length === 0) continue;
      const r = this.initiate(c.name);
      if (typeof r === 'string') this.log.log('cfg', LogLevel.AUDIT, r);
    }
  }

  /**
   * An ACQUIRE from the data path (RFC 2367 §3.1.6: a packet hit a trap policy, the SPD entry
   * `name/out/i` of CHILD config `connection.child`): the CHILD SA is negotiated, once; more
   * acquires for it while it is being made are ignored (ACQUIRE_HOLD_MS).
   */
  acquire(policyName: string): void {
    const now = this.#options.now();
    const configName = policyName.slice(0, policyName.indexOf('/'));
    const connection = this.#options.config.connections.find((c) => configName.startsWith(`${c.name}.`));
    const child = connection?.children.find((ch) => `${connection.name}.${ch.name}` === configName);
    if (!connection || !child) return;
    const held = this.#acquired.get(configName);
    if (held !== undefined && now - held < ACQUIRE_HOLD_MS) return;
    this.#acquired.set(configName, now);
    this.log.log('knl', LogLevel.CONTROL, `acquire for ${configName}: negotiating its CHILD_SA`);
    const r = this.initiate(connection.name, child.name);
    if (typeof r === 'string') this.log.log('cfg', LogLevel.AUDIT, r);
  }

  /* ------------------------------------------------------------------ timers */

  tick(): void {
    const now = this.#options.now();
    this.settle();
    for (const [name, r] of this.#retries) {
      if (now < r.at || this.sas.some((s) => s.connection.name === name && s.initiator)) continue;
      this.log.log('ike', LogLevel.CONTROL, `${name}: keying try ${r.tries + 1}`);
      r.at = Number.POSITIVE_INFINITY; // until this try fails
      this.initiate(name, r.child);
    }
    for (const sa of this.sas) {
      try {
        sa.tick(now);
        if (sa.state !== 'destroyed') this.#timers(sa, now);
      } catch (e) {
        this.counters.internalErrors++;
        this.log.log('ike', LogLevel.AUDIT, `internal error in ${sa.name}'s timers: ${(e as Error)?.stack ?? e}`);
      }
    }
  }

  /** Half-open timeout, rekeys, lifetimes, DPD and NAT keepalives of one SA. */
  #timers(sa: IkeSa, now: number): void {
    const c = sa.connection;
    const clock = () => this.#options.now();
    if (sa.state === 'connecting') {
      if (now - sa.createdAt >= this.#halfOpenTimeout) sa.destroy(now, 'half-open too long');
      return;
    }
    if (sa.state === 'rekeyed' || sa.state === 'deleting') {
      // the peer's delete of the old SA should come at once; don't keep it for ever
      if (!sa.busy && now - sa.lastInbound >= this.#halfOpenTimeout) sa.destroy(now, 'replaced');
      return;
    }
    if (sa.state !== 'established') return;
    if (sa.rekeyAt && now >= sa.rekeyAt && !sa.hasTask('IKE_SA rekey')) {
      sa.rekeyAt = 0;
      sa.queue([new IkeRekeyInitiator(sa, clock)], now);
    }
    for (const child of [...sa.children]) {
      const volume = this.#volume(child);
      const cc = child.config;
      if ((child.expireAt && now >= child.expireAt) || (cc.life_bytes && volume.bytes >= cc.life_bytes) || (cc.life_packets && volume.packets >= cc.life_packets)) {
        if (child.state === 'deleting') continue;
        sa.log('chd', LogLevel.CONTROL, `CHILD_SA ${cc.name} reached its life time (${Math.round((now - child.created) / 1000)} s, ${volume.bytes} bytes, ${volume.packets} packets)`);
        sa.deleteChildren([child], now);
        continue;
      }
      // swanctl.conf rekey_time, rekey_bytes, rekey_packets: whichever comes first
      const due = (child.rekeyAt && now >= child.rekeyAt) || (cc.rekey_bytes && volume.bytes >= cc.rekey_bytes) || (cc.rekey_packets && volume.packets >= cc.rekey_packets);
      if (child.state === 'installed' && due && !sa.hasTask('CHILD_SA rekey')) {
        child.rekeyAt = 0;
        sa.queue([new ChildCreateInitiator(sa, child.config, clock, { rekey: child })], now);
      }
    }
    // DPD (§2.4): inbound ESP counts as a sign of life, as strongSwan reads the kernel's use time
    if (c.dpd_delay > 0) {
      let traffic = false;
      for (const child of sa.children) {
        const inbound = this.context.pfkey.sa(child.installed.spiIn);
        const packets = inbound ? inbound.packets : 0;
        if (packets !== child.inboundPackets) {
          child.inboundPackets = packets;
          traffic = true;
        }
      }
      if (traffic) sa.lastInbound = now;
      if (now - sa.lastInbound >= c.dpd_delay * 1000 && !sa.busy) {
        sa.lastInbound = now; // one check per period
        sa.queue([new LivenessCheck(sa)], now);
      }
    }
    // RFC 3948 §2.3: keep our NAT's mapping open
    if (sa.natLocal && c.keep_alive > 0 && now - sa.lastOutbound >= c.keep_alive * 1000) {
      sa.lastOutbound = now;
      this.#options.keepalive(sa.remote);
    }
  }

  /** What a CHILD SA has carried: the larger of its two directions (strongSwan counts each SA). */
  #volume(child: ChildSa): { bytes: number; packets: number } {
    const inbound = this.context.pfkey.sa(child.installed.spiIn);
    const outbound = this.context.pfkey.sa(child.installed.spiOut);
    return {
      bytes: Math.max(inbound?.bytes ?? 0, outbound?.bytes ?? 0),
      packets: Math.max(inbound?.packets ?? 0, outbound?.packets ?? 0),
    };
  }

  /* ------------------------------------------------------------------ bookkeeping */

  #track(sa: IkeSa): void {
    this.#sas.set(toHex(sa.ourSpi), sa);
  }

  #adopt(sa: IkeSa, old: IkeSa): void {
    sa.responderTasks = old.responderTasks;
    this.#track(sa);
  }

  #forget(sa: IkeSa): void {
    if (this.#sas.get(toHex(sa.ourSpi)) === sa) this.#sas.delete(toHex(sa.ourSpi));
    this.#scheduleRetry(sa);
    const key = halfOpenKey(sa.spiI, sa.remote);
    if (!sa.initiator && this.#halfOpen.get(key) === sa) {
      this.#halfOpen.delete(key);
      this.cookies.closed();
    }
  }

  /**
   * An IKE SA we initiated failed before it was established: try again (keyingtries), after
   * RETRY_DELAY with a random part so that many devices do not retry in step. An
   * established SA clears the count.
   */
  #scheduleRetry(sa: IkeSa): void {
    const c = sa.connection;
    if (!sa.initiator || sa.terminated) return;
    if (sa.established > 0) {
      this.#retries.delete(c.name);
      return;
    }
    const r = this.#retries.get(c.name) ?? { tries: 0, at: 0 };
    r.tries++;
    if (c.keyingtries !== 0 && r.tries >= c.keyingtries) {
      this.#retries.delete(c.name);
      this.log.log('ike', LogLevel.AUDIT, `${c.name}: establishing failed after ${r.tries} keying tr${r.tries === 1 ? 'y' : 'ies'}`);
      return;
    }
    r.at = this.#options.now() + RETRY_DELAY + jitter(this.#options.crypto, RETRY_DELAY);
    this.#retries.set(c.name, r);
  }

  /** Called when a responder SA is established: no longer half-open (§2.6). */
  #settled(sa: IkeSa): void {
    const key = halfOpenKey(sa.spiI, sa.remote);
    if (this.#halfOpen.get(key) === sa) {
      this.#halfOpen.delete(key);
      this.cookies.closed();
    }
  }

  /** §2.4 INITIAL_CONTACT: the peer forgot everything; its other IKE SAs (and CHILD SAs) go, silently. */
  #initialContact(sa: IkeSa): void {
    this.#settled(sa);
    for (const other of this.sas) {
      if (other === sa || other.state === 'destroyed' || !other.remoteId || !sa.remoteId) continue;
      if (other.connection === sa.connection && sameIdentity(other.remoteId, sa.remoteId)) {
        other.log('ike', LogLevel.AUDIT, `INITIAL_CONTACT from '${sa.remoteId.text}': deleting this IKE_SA`);
        other.destroy(this.#options.now(), 'INITIAL_CONTACT');
      }
    }
  }

  /** A periodic look at responder SAs that finished IKE_AUTH (keeps half-open accounting exact). */
  settle(): void {
    for (const sa of this.#halfOpen.values()) if (sa.state !== 'connecting') this.#settled(sa);
  }

  /** A summary of every IKE SA, for status output. */
  describe(): Record<string, unknown>[] {
    return this.sas.map((s) => s.describe());
  }
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

const halfOpenKey = (spiI: Uint8Array, remote: Endpoint) => `${toHex(spiI)}/${remote.address}:${remote.port}`;
