/**
 * One IKE SA (RFC 7296 §1, §2), sans-IO: its identity (SPIs, role, peer), its keys once
 * IKE_SA_INIT is done, its two Message ID windows (§2.1-§2.3, ./exchange-window.ts), its
 * CHILD SAs, and the tasks (./tasks/) that make up its exchanges. The engine (./engine.ts)
 * feeds it the datagrams for its SPI and the time; it answers through its context (send a
 * datagram, install or remove SAs through PF_KEY and the SPD, log).
 *
 * Requests we start are queued as tasks and go one exchange at a time (window 1: we never
 * send SET_WINDOW_SIZE, and neither strongSwan needs it). Requests from the peer are answered
 * by tasks made for the exchange they start; their responses are kept for retransmission.
 * Messages after IKE_SA_INIT are protected with the SK payload (§3.14), fragmented when
 * both sides support it and a message would not fit (RFC 7383).
 *
 * Nothing here throws at the engine: a message that does not authenticate or parse is a
 * counted drop (a request that authenticates but does not parse is also answered with its
 * error, §2.21.3); a task failure deletes the IKE SA.
 */
import type { ChildConfig, ConnectionConfig, IkeConfig } from '../config/ike-config.js';
import type { Identity } from '../config/identity.js';
import { toHex } from '../crypto/bytes.js';
import type { Crypto } from '../crypto/provider.js';
import type { Logger } from '../log.js';
import { LogLevel } from '../log.js';
import type { PfKeyEngine } from '../policy/pfkey-engine.js';
import type { Spd } from '../policy/spd.js';
import { installTrap, removeChild, repointOutbound, sendsOn, type InstalledChild } from './child-install.js';
import { InitiatorWindow, ResponderWindow, type InitiatorAction, type RetransmitOptions } from './exchange-window.js';
import { fragmentMessage, Reassembler } from './fragment.js';
import type { KeyLog } from './keylog.js';
import type { IkeAlgorithms, IkeKeys } from './keymat.js';
import { encodeMessage, ExchangeType, parseMessage, type MessageHeader } from './message.js';
import { NotifyType, PayloadType } from './payloads.js';
import { protectMessage, skKeys, unprotectMessage, type AuthenticError } from './protect.js';
import type { TsRange } from './select.js';
import { InboundMessage, notifyName, OutboundMessage, type Task, type TaskStatus } from './tasks/task.js';
import type { WireProposal } from './types.js';
import { hex32 } from './tasks/common.js';
import { ChildDeleteInitiator } from './tasks/child-delete.js';

/** Where a datagram comes from or goes to. */
export interface Endpoint {
  address: string;
  port: number;
}

/** What an IKE SA needs from the engine: configuration, crypto, the data path, the network. */
export interface IkeContext {
  readonly crypto: Crypto;
  readonly config: IkeConfig;
  readonly pfkey: PfKeyEngine;
  readonly spd: Spd;
  readonly log: Logger;
  readonly keylog: KeyLog | null;
  /** our UDP ports: IKE (500 unless configured) and NAT-T (4500), where IKE has the non-ESP marker */
  readonly ports: { readonly ike: number; readonly natT: number };
  /** the largest IKE datagram we send unfragmented once fragmentation is agreed (RFC 7383 §2.5.1) */
  readonly fragmentSize: number;
  readonly retransmit: Partial<RetransmitOptions>;
  send(localPort: number, remote: Endpoint, bytes: Uint8Array): void;
  /** a NAT-T keepalive (RFC 3948 §2.3) from the NAT-T port */
  keepalive(remote: Endpoint): void;
  /** a new IKE SA made by rekeying `old` (RFC 7296 §2.18): the engine finds it by its SPI from now on */
  adopt(sa: IkeSa, old: IkeSa): void;
  /** the peer authenticated with INITIAL_CONTACT (§2.4): the engine drops its other IKE SAs */
  initialContact(sa: IkeSa): void;
  /** a CHILD SA to establish again (dpd_action/close_action restart/start) */
  restart(connection: ConnectionConfig, child: ChildConfig | null): void;
  /** the IKE SA is gone: the engine forgets it */
  destroyed(sa: IkeSa): void;
}

/** A CHILD SA this IKE SA negotiated and installed (RFC 7296 §1.3, §2.17). */
export interface ChildSa {
  readonly config: ChildConfig;
  readonly proposal: WireProposal;
  readonly installed: InstalledChild;
  readonly tsLocal: TsRange[];
  readonly tsRemote: TsRange[];
  /** for logs and rekey timers */
  readonly created: number;
  /** when we rekey it (0: never) and when it expires without a rekey */
  rekeyAt: number;
  expireAt: number;
  /** installed: in use; rekeying: our rekey is in flight; rekeyed: replaced, to be deleted; deleting */
  state: 'installed' | 'rekeying' | 'rekeyed' | 'deleting';
  /** the inbound SA's packet count last time DPD looked (traffic proves the peer alive) */
  inboundPackets: number;
}

export type IkeState = 'connecting' | 'established' | 'rekeyed' | 'deleting' | 'destroyed';

/** What was learned in IKE_SA_INIT, kept for IKE_AUTH (§2.15) and CHILD keying (§2.17). */
export interface InitExchange {
  ni: Uint8Array;
  nr: Uint8Array;
  /** the whole IKE_SA_INIT request and response, for the AUTH payloads (§2.15) */
  request: Uint8Array;
  response: Uint8Array;
}

export interface IkeSaCounters {
  /** exceptions in a task (a bug; logged, answered with TEMPORARY_FAILURE) */
  internalErrors: number;
  received: number;
  sent: number;
  retransmitted: number;
  /** messages that did not authenticate or parse, or came at the wrong time */
  dropped: number;
}

/** Responses and requests as sent: one message or its fragments (RFC 7383). */
type Datagrams = Uint8Array[];

let nextUniqueId = 1;
/** what a key no longer needed is replaced with */
const RELEASED = new Uint8Array(0);

/*
 * Methods are TypeScript-private, not #private: XS gives every instance a slot per #private
 * method, and an IKE SA should cost the heap only its state.
 */
export class IkeSa {
  /** a number for logs, like strongSwan's [1] */
  readonly id = nextUniqueId++;
  readonly context: IkeContext;
  /** whether we are the original initiator (the I flag we send, §3.1) */
  readonly initiator: boolean;
  spiI: Uint8Array;
  spiR: Uint8Array;
  state: IkeState = 'connecting';
  /** the connection: for a responder, a candidate until IKE_AUTH names the peer */
  connection: ConnectionConfig;
  local: Endpoint;
  remote: Endpoint;
  /** the local port we use (the IKE port, or the NAT-T port after floating, §2.23) */
  localPort: number;
  localId: Identity | null = null;
  remoteId: Identity | null = null;
  /** IKE_SA_INIT results */
  proposal: WireProposal | null = null;
  algorithms: IkeAlgorithms | null = null;
  keys: IkeKeys | null = null;
  /** the key exchange group of the IKE SA (for its rekey, §2.18) */
  keGroup = 0;
  init: InitExchange | null = null;
  /** NAT detection (§2.23) */
  natLocal = false;
  natRemote = false;
  /** the peer sent IKEV2_FRAGMENTATION_SUPPORTED and we agreed (RFC 7383 §2.3) */
  fragmentation = false;
  readonly children: ChildSa[] = [];
  readonly counters: IkeSaCounters = { internalErrors: 0, received: 0, sent: 0, retransmitted: 0, dropped: 0 };
  /** when the SA was established, when it is rekeyed, when a message last came from the peer */
  established = 0;
  rekeyAt = 0;
  lastInbound = 0;
  lastOutbound = 0;
  /** when a half-open SA is given up */
  readonly createdAt: number;
  /** deleted on purpose (operator, reload): not tried again */
  terminated = false;

  #requests: InitiatorWindow<Datagrams>;
  #responses = new ResponderWindow<Datagrams>();
  #reassembler: Reassembler | null = null;
  /** tasks waiting to be sent, each its own exchange (or several of one exchange, e.g. IKE_AUTH + CHILD) */
  readonly #queue: Task[][] = [];
  /** the exchange in flight: its Message ID and tasks */
  #active: { messageId: number; tasks: Task[] } | null = null;

  constructor(context: IkeContext, options: { initiator: boolean; spiI: Uint8Array; spiR: Uint8Array; connection: ConnectionConfig; local: Endpoint; remote: Endpoint; localPort: number; now: number }) {
    this.context = context;
    this.initiator = options.initiator;
    this.spiI = options.spiI;
    this.spiR = options.spiR;
    this.connection = options.connection;
    this.local = options.local;
    this.remote = options.remote;
    this.localPort = options.localPort;
    this.createdAt = options.now;
    this.lastInbound = options.now;
    this.#requests = new InitiatorWindow<Datagrams>(context.retransmit);
  }

  /** Our SPI: the key the engine finds this SA by. */
  get ourSpi(): Uint8Array {
    return this.initiator ? this.spiI : this.spiR;
  }

  get name(): string {
    return `${this.connection.name}[${this.id}]`;
  }

  /** Whether an exchange of ours is in flight or queued. */
  get busy(): boolean {
    return this.#active !== null || this.#queue.length > 0;
  }

  /** Whether a task of this name is in flight or queued (to avoid starting the same twice). */
  hasTask(name: string): boolean {
    return [this.#active?.tasks ?? [], ...this.#queue].some((ts) => ts.some((t) => t.name === name));
  }

  /** The in-flight exchange's tasks (collision handling, §2.8.1). */
  get activeTasks(): readonly Task[] {
    return this.#active?.tasks ?? [];
  }

  log(subsystem: 'ike' | 'chd' | 'enc' | 'net', level: number, message: string | (() => string)): void {
    this.context.log.log(subsystem, level, typeof message === 'function' ? () => `${this.name} ${message()}` : `${this.name} ${message}`);
  }

  /* ------------------------------------------------------------------ requests we start */

  /** Queues an exchange of ours (tasks that share one request); sends it when the window allows. */
  queue(tasks: Task[], now: number): void {
    if (this.state === 'destroyed') return;
    this.#queue.push(tasks);
    this.next(now);
  }

  /** Starts the next queued exchange when none is in flight. */
  private next(now: number): void {
    while (!this.#active && this.#queue.length > 0 && this.state !== 'destroyed') {
      const tasks = this.#queue.shift()!;
      this.start(tasks, now);
    }
  }

  private start(tasks: Task[], now: number): void {
    const exchange = tasks[0].exchange;
    const out = new OutboundMessage(exchange, false);
    for (const t of tasks) {
      if (t.build(out) === 'failed') {
        this.log('ike', LogLevel.CONTROL, `${t.name} could not build its request`);
        this.fail(now, `${t.name} failed`);
        return;
      }
    }
    const result = this.#requests.send((messageId) => this.encode(exchange, false, messageId, out), now);
    if (!result.ok) {
      this.log('ike', LogLevel.CONTROL, `request not sent: ${result.reason}`);
      return;
    }
    if (result.queued) return; // cannot happen with one exchange at a time; kept for safety
    this.#active = { messageId: result.action.messageId, tasks };
    this.transmit(result.action.bytes);
    this.log('ike', LogLevel.CONTROL, () => `sending ${exchangeName(exchange)} request ${result.action.messageId} (${tasks.map((t) => t.name).join(', ')})`);
  }

  /**
   * Repeats IKE_SA_INIT (after COOKIE or INVALID_KE_PAYLOAD, §2.6, §1.2): Message ID 0 again,
   * a fresh window, the same tasks building a new request.
   */
  private restartInit(tasks: Task[], now: number): void {
    this.#requests = new InitiatorWindow<Datagrams>(this.context.retransmit);
    this.#active = null;
    this.start(tasks, now);
  }

  /* ------------------------------------------------------------------ receiving */

  /** A datagram for this SA (the engine matched its SPIs), from `remote` to our `localPort`. */
  receive(bytes: Uint8Array, remote: Endpoint, localPort: number, now: number): void {
    if (this.state === 'destroyed') return;
    const head = parseMessage(bytes);
    if (!head.ok) {
      this.drop(`unparsable message: ${head.error.reason}`);
      return;
    }
    const h = head.header;
    // §2.1: a message's I flag is the sender's role; ours must be the opposite
    if (h.initiator === this.initiator) {
      this.drop('message with our own I flag');
      return;
    }
    if (h.exchangeType === ExchangeType.IKE_SA_INIT) {
      this.receivePlain(new InboundMessage(h, head.payloads, bytes), remote, localPort, now);
      return;
    }
    if (!this.keys || !this.algorithms) {
      this.drop(`${exchangeName(h.exchangeType)} before the keys`);
      return;
    }
    // §2.1: a repeated request is answered with the kept response before anything else
    // (RFC 7383 §2.6.1: for a fragmented request, on its first fragment only)
    const last = head.payloads[head.payloads.length - 1];
    if (!h.response) {
      const cached = this.#responses.cached(h.messageId);
      if (cached) {
        if (last?.type !== PayloadType.SKF || last.fragmentNumber === 1) {
          this.counters.retransmitted++;
          this.log('net', LogLevel.DIAGNOSE, `request ${h.messageId} repeated: response sent again`);
          this.transmit(cached);
        }
        return;
      }
    }
    let message: InboundMessage;
    if (last?.type === PayloadType.SKF) {
      const r = this.reassemblerFor().add(bytes, now);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'drop') {
        if (r.authentic) this.malformed(r.authentic, `fragmented message: ${r.reason}`, now);
        else this.drop(`fragment: ${r.reason}`);
        return;
      }
      this.log('enc', LogLevel.CONTROL, `reassembled ${exchangeName(r.header.exchangeType)} ${r.header.response ? 'response' : 'request'} ${r.header.messageId} from ${last.totalFragments} fragments (RFC 7383)`);
      message = new InboundMessage(r.header, r.payloads);
    } else {
      const r = unprotectMessage(this.context.crypto, this.algorithms, skKeys(this.keys, !this.initiator), bytes);
      if (!r.ok) {
        if (r.authentic) this.malformed(r.authentic, r.reason, now);
        else this.drop(r.reason);
        return;
      }
      message = new InboundMessage(r.header, [...r.plain, ...r.payloads]);
    }
    this.authentic(message, remote, localPort, now);
  }

  private reassemblerFor(): Reassembler {
    if (!this.#reassembler) {
      this.#reassembler = new Reassembler(this.context.crypto, this.algorithms!, skKeys(this.keys!, !this.initiator), { maxMessages: 2 });
    }
    return this.#reassembler;
  }

  /**
   * RFC 7296 §2.21.3: "after the IKE SA is authenticated, all requests having errors MUST
   * result in a response notifying about the error". A request that authenticated but whose
   * payloads do not parse is answered with INVALID_SYNTAX (or UNSUPPORTED_CRITICAL_PAYLOAD
   * with the payload type, §3.2) as the response to its Message ID, kept in the window like
   * any response (its retransmissions get it again, and the peer's next request is taken, as
   * strongSwan does); dropping it would leave the peer retransmitting until it gives the IKE SA
   * up. Only a new Message ID is answered (§2.21: not for a forged or stale one); an
   * authenticated response that does not parse is dropped (responses are never answered).
   */
  private malformed(error: AuthenticError, reason: string, now: number): void {
    const h = error.header;
    this.drop(reason);
    if (h.response || h.exchangeType === ExchangeType.IKE_SA_INIT) return;
    const verdict = this.#responses.request(h.messageId);
    if (verdict.kind === 'retransmit') {
      this.transmit(verdict.bytes);
      return;
    }
    if (verdict.kind === 'drop') return;
    this.lastInbound = now;
    this.log('ike', LogLevel.CONTROL, `${exchangeName(h.exchangeType)} request ${h.messageId} is malformed: answering ${notifyName(error.notify.type)}`);
    this.respond(h.exchangeType, h.messageId, new OutboundMessage(h.exchangeType, true).notify(error.notify.type, error.notify.data));
  }

  private drop(reason: string): void {
    this.counters.dropped++;
    this.log('enc', LogLevel.CONTROL, `message dropped: ${reason}`);
  }

  /**
   * The IKE_SA_INIT request that made this (responder) SA: the engine checked cookies and
   * half-open limits; the tasks answer it like any request.
   */
  receiveFirst(message: InboundMessage, now: number): void {
    this.counters.received++;
    this.receiveRequest(message, now);
  }

  /** IKE_SA_INIT: in the clear (§1.2); the first request came through receiveFirst. */
  private receivePlain(message: InboundMessage, remote: Endpoint, localPort: number, now: number): void {
    const h = message.header;
    if (!h.response) {
      // a repeated IKE_SA_INIT request for this half-open SA: the same response (§2.1)
      const cached = this.#responses.cached(0);
      if (cached && h.messageId === 0) {
        this.counters.retransmitted++;
        this.transmit(cached);
      } else {
        this.drop('IKE_SA_INIT request for an existing IKE SA');
      }
      return;
    }
    this.receiveResponse(message, remote, localPort, now);
  }

  /** A message that authenticated (or IKE_SA_INIT): a response to ours, or a request. */
  private authentic(message: InboundMessage, remote: Endpoint, localPort: number, now: number): void {
    this.counters.received++;
    this.lastInbound = now;
    // §2.23: a responder follows the peer to the address and port of authenticated messages
    // when the peer is behind a NAT (its mapping may change); without one, only to another
    // port of the same address (the peer floating to 4500), never to another address
    const moved = remote.address !== this.remote.address || remote.port !== this.remote.port;
    if (!this.initiator && moved && this.keys) {
      if (remote.address === this.remote.address || this.natRemote) {
        this.log('net', LogLevel.CONTROL, `peer moved from ${this.remote.address}:${this.remote.port} to ${remote.address}:${remote.port}`);
        this.remote = { ...remote };
        this.localPort = localPort;
      } else {
        this.log('net', LogLevel.CONTROL, `authentic message from ${remote.address}:${remote.port}, but no NAT was detected in front of the peer: its address stays ${this.remote.address}`);
      }
    }
    if (message.header.response) this.receiveResponse(message, remote, localPort, now);
    else this.receiveRequest(message, now);
  }

  private receiveResponse(message: InboundMessage, remote: Endpoint, localPort: number, now: number): void {
    const h = message.header;
    const active = this.#active;
    if (!active || active.messageId !== h.messageId || active.tasks[0].exchange !== h.exchangeType) {
      this.drop(`unexpected response ${h.messageId} (${exchangeName(h.exchangeType)})`);
      return;
    }
    const r = this.#requests.response(h.messageId, now);
    if (!r.ok) {
      this.drop(`response ${h.messageId}: ${r.reason}`);
      return;
    }
    if (h.exchangeType === ExchangeType.IKE_SA_INIT) this.counters.received++;
    this.#active = null;
    this.log('ike', LogLevel.CONTROL, () => `received ${exchangeName(h.exchangeType)} response ${h.messageId}`);
    let status: TaskStatus = 'done';
    for (const t of active.tasks) {
      const s = t.process(message);
      if (this.gone) return;
      if (s === 'failed') {
        status = 'failed';
        break;
      }
      if (s === 'again') status = 'again';
    }
    if (status === 'failed') {
      for (const t of active.tasks) t.abort?.();
      this.fail(now, `${active.tasks.map((t) => t.name).join(', ')} failed`);
      return;
    }
    if (status === 'again') {
      this.restartInit(active.tasks, now);
      return;
    }
    if (h.exchangeType === ExchangeType.IKE_AUTH) this.authenticated();
    this.next(now);
  }

  /**
   * IKE_AUTH is over: what only it uses is let go. RFC 7296 §2.15: the IKE_SA_INIT messages
   * and SK_pi/SK_pr sign or verify the AUTH payloads and nothing else; the first CHILD SA,
   * keyed with the IKE_SA_INIT nonces (§2.17), is keyed by now; later CHILD SAs use SK_d and
   * their own exchange's nonces (§2.17), an IKE rekey SK_d (§2.18).
   */
  private authenticated(): void {
    this.init = null;
    if (this.keys) {
      this.keys.skPi = RELEASED;
      this.keys.skPr = RELEASED;
    }
  }

  /** The tasks that answer a request of the peer are made by the engine (they depend on what it asks). */
  responderTasks: (sa: IkeSa, message: InboundMessage) => Task[] = () => [];

  private receiveRequest(message: InboundMessage, now: number): void {
    const h = message.header;
    const verdict = this.#responses.request(h.messageId);
    if (verdict.kind === 'retransmit') {
      this.transmit(verdict.bytes);
      return;
    }
    if (verdict.kind === 'drop') {
      this.drop(`request ${h.messageId}: ${verdict.reason}`);
      return;
    }
    this.log('ike', LogLevel.CONTROL, () => `received ${exchangeName(h.exchangeType)} request ${h.messageId}`);
    const tasks = this.responderTasks(this, message);
    let out = new OutboundMessage(h.exchangeType, true);
    let failed = false;
    try {
      for (const t of tasks) if (t.process(message) === 'failed') failed = true;
      if (this.gone) return;
      for (const t of tasks) if (t.build(out) === 'failed') failed = true;
    } catch (e) {
      // a bug in a task: still answer (the peer would retransmit into a request never
      // answered, §2.1), with TEMPORARY_FAILURE so that it tries again later (§2.25)
      this.counters.internalErrors++;
      this.log('ike', LogLevel.AUDIT, `internal error answering request ${h.messageId}: ${(e as Error)?.stack ?? e}`);
      if (this.gone) return;
      out = new OutboundMessage(h.exchangeType, true).notify(NotifyType.TEMPORARY_FAILURE);
      failed = this.state === 'connecting'; // a half-open SA that failed is not kept
    }
    this.respond(h.exchangeType, h.messageId, out);
    if (h.exchangeType === ExchangeType.IKE_AUTH) this.authenticated(); // a repeated IKE_AUTH gets the kept response
    if (failed) this.destroy(now, 'the exchange failed');
    else this.afterResponse?.(now);
    this.afterResponse = null;
  }

  /** Something a responder task wants done once its response is out (a delete of the IKE SA). */
  afterResponse: ((now: number) => void) | null = null;

  /** Sends a response and keeps it for retransmission (§2.1). */
  respond(exchange: number, messageId: number, out: OutboundMessage): void {
    const datagrams = this.encode(exchange, true, messageId, out);
    this.#responses.responded(messageId, datagrams);
    this.transmit(datagrams);
    this.log('ike', LogLevel.CONTROL, () => `sending ${exchangeName(exchange)} response ${messageId}`);
  }

  /* ------------------------------------------------------------------ sending */

  private header(exchange: number, response: boolean, messageId: number): MessageHeader {
    return { spiI: this.spiI, spiR: this.spiR, exchangeType: exchange, initiator: this.initiator, higherVersion: false, response, messageId };
  }

  /**
   * The datagrams of a message: IKE_SA_INIT in the clear; others in an SK payload (§3.14), or
   * in SKF fragments (RFC 7383 §2.5) when fragmentation was agreed and the message does not fit.
   */
  private encode(exchange: number, response: boolean, messageId: number, out: OutboundMessage): Datagrams {
    const header = this.header(exchange, response, messageId);
    const { crypto } = this.context;
    if (exchange === ExchangeType.IKE_SA_INIT) {
      const bytes = encodePlain(header, out);
      if (this.init) {
        if (response) this.init.response = bytes;
        else this.init.request = bytes;
      }
      return [bytes];
    }
    const keys = skKeys(this.keys!, this.initiator);
    const whole = protectMessage(crypto, this.algorithms!, keys, header, out.payloads);
    // RFC 7383 §2.5.1: the IP and UDP headers (and the non-ESP marker) count against the size
    const overhead = (this.remote.address.includes(':') ? 40 : 20) + 8 + (this.localPort === this.context.ports.natT ? 4 : 0);
    if (this.fragmentation && whole.length + overhead > this.context.fragmentSize) {
      const fragments = fragmentMessage(crypto, this.algorithms!, keys, header, out.payloads, this.context.fragmentSize - overhead);
      this.log('enc', LogLevel.CONTROL, `splitting ${exchangeName(exchange)} ${response ? 'response' : 'request'} ${messageId} (${whole.length} bytes) into ${fragments.length} fragments (RFC 7383)`);
      return fragments;
    }
    return [whole];
  }

  private transmit(datagrams: Datagrams): void {
    for (const d of datagrams) this.context.send(this.localPort, this.remote, d);
    this.counters.sent += datagrams.length;
  }

  /* ------------------------------------------------------------------ timers */

  /** Retransmissions (§2.1), give-up (§2.4), keepalives, DPD, rekeys and lifetimes. */
  tick(now: number): void {
    if (this.state === 'destroyed') return;
    for (const action of this.#requests.tick(now)) this.onWindow(action, now);
    this.#reassembler?.expire(now);
  }

  /** Whether the SA is gone (a method, so that checks after calls are not narrowed away). */
  get gone(): boolean {
    return this.state === 'destroyed';
  }

  private onWindow(action: InitiatorAction<Datagrams>, now: number): void {
    if (action.kind === 'retransmit') {
      this.counters.retransmitted++;
      this.log('net', LogLevel.CONTROL, `retransmit ${action.attempt} of request ${action.messageId}`);
      this.transmit(action.bytes);
    } else if (action.kind === 'giveUp') {
      this.log('ike', LogLevel.AUDIT, `giving up after ${this.#requests.counters.retransmits} retransmits: the peer ${this.remote.address} is not answering (RFC 7296 §2.4)`);
      const wasEstablished = this.state === 'established';
      this.destroy(now, 'peer not answering');
      if (wasEstablished) this.afterDeath();
    }
  }

  /** dpd_action (swanctl.conf): restart establishes the CHILD SAs again. */
  private afterDeath(): void {
    const restart = this.connection.children.filter((c) => c.dpd_action === 'restart');
    if (restart.length > 0) this.context.restart(this.connection, restart[0]);
  }

  /* ------------------------------------------------------------------ CHILD SAs and the end */

  addChild(child: ChildSa): void {
    this.children.push(child);
  }

  /** Removes a CHILD SA from the data path (PF_KEY DELETE, SPD entries) and from this SA. */
  removeChild(child: ChildSa): void {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
    const problems = removeChild(this.context.pfkey, this.context.spd, child.installed);
    // another SA of the same CHILD config lives on (the new SA of a rekey we answered, §2.8,
    // or a collision's survivor, §2.8.1): outbound traffic goes there now
    const sibling = this.children.filter((c) => c.installed.name === child.installed.name && c.state === 'installed').pop();
    if (sibling && !sendsOn(this.context.spd, sibling.installed)) {
      repointOutbound(this.context.spd, sibling.installed, sibling.tsLocal, sibling.tsRemote);
    }
    // a trapped CHILD config gets its trap back: the next packet negotiates it again
    const c = child.config;
    if (!sibling && (c.start_action === 'trap' || c.close_action === 'trap' || c.dpd_action === 'trap')) {
      installTrap(this.context.spd, child.installed.name, child.tsLocal, child.tsRemote);
    }
    const i2 = child.installed;
    this.log('chd', LogLevel.CONTROL, `CHILD_SA ${child.config.name} {${hex32(i2.spiIn)}_i ${hex32(i2.spiOut)}_o} deleted${problems.length ? `: ${problems.join('; ')}` : ''}`);
  }

  /** Deletes CHILD SAs with an INFORMATIONAL exchange (§1.4.1); they go once the peer answers. */
  deleteChildren(children: ChildSa[], now: number): void {
    if (children.length === 0) return;
    for (const c of children) c.state = 'deleting';
    this.queue([new ChildDeleteInitiator(this, children)], now);
  }

  childBySpi(spi: number, which: 'in' | 'out'): ChildSa | undefined {
    return this.children.find((c) => (which === 'in' ? c.installed.spiIn : c.installed.spiOut) === spi);
  }

  /**
   * The IKE SA cannot go on (a task failed): an established SA is deleted properly (§1.4.1,
   * with its CHILD SAs), one that never got keys is destroyed.
   */
  fail(now: number, reason: string): void {
    this.log('ike', LogLevel.AUDIT, `failed: ${reason}`);
    this.destroy(now, reason);
  }

  /** Forgets the SA and removes its CHILD SAs from the data path (§1.4.1: they die with it). */
  destroy(_now: number, reason: string): void {
    if (this.state === 'destroyed') return;
    for (const child of [...this.children]) this.removeChild(child);
    this.state = 'destroyed';
    for (const t of this.#active?.tasks ?? []) t.abort?.();
    this.#queue.length = 0;
    this.#active = null;
    this.keys = null;
    this.log('ike', LogLevel.CONTROL, `IKE_SA destroyed (${reason})`);
    this.context.destroyed(this);
  }

  /** Moves the CHILD SAs to the SA that replaces this one (IKE rekey, §2.18). */
  handOverChildren(to: IkeSa): void {
    to.children.push(...this.children);
    this.children.length = 0;
  }

  /** A summary for status output and tests. */
  describe(): Record<string, unknown> {
    return {
      name: this.name,
      state: this.state,
      initiator: this.initiator,
      spis: `${toHex(this.spiI)}_i ${toHex(this.spiR)}_r`,
      local: `${this.local.address}[${this.localPort}]`,
      remote: `${this.remote.address}[${this.remote.port}]`,
      localId: this.localId?.text,
      remoteId: this.remoteId?.text,
      nat: { local: this.natLocal, remote: this.natRemote },
      children: this.children.map((c) => ({
        name: c.config.name,
        state: c.state,
        spiIn: hex32(c.installed.spiIn),
        spiOut: hex32(c.installed.spiOut),
      })),
      counters: { ...this.counters },
    };
  }
}


const EXCHANGE_NAMES: Record<number, string> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL' };
export const exchangeName = (n: number): string => EXCHANGE_NAMES[n] ?? `exchange ${n}`;

function encodePlain(header: MessageHeader, out: OutboundMessage): Uint8Array {
  return encodeMessage(header, out.payloads);
}
