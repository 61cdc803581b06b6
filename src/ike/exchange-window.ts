/**
 * The IKEv2 Message ID window and retransmission (RFC 7296 §2.1, §2.2, §2.3), sans-IO.
 *
 * Each IKE SA has two of these: an InitiatorWindow for the requests we send and a
 * ResponderWindow for the requests the peer sends (§2.2: "a pair of message IDs", one per
 * direction). Neither has timers or sockets: the caller passes the current time in
 * milliseconds, and gets back what to send, and when to call tick() again (nextTimeout).
 *
 * Retransmission follows strongSwan's schedule (charon.retransmit_timeout / _base / _tries /
 * _limit): the n-th wait is timeout * base^n, truncated to whole milliseconds as strongSwan
 * does; after `tries` retransmissions and one more wait the IKE SA is given up (§2.4).
 * No jitter: timing is deterministic (strongSwan's retransmit_jitter defaults to 0 too).
 */

/** §2.2: Message IDs are 32 bits; the SA must be rekeyed or closed before they would wrap. */
export const MAX_MESSAGE_ID = 0xffffffff;
/** The largest window (SET_WINDOW_SIZE, §2.3, §3.10.1) either side accepts: memory bound. */
export const MAX_WINDOW_SIZE = 64;

export interface RetransmitOptions {
  /** ms before the first retransmission (strongSwan retransmit_timeout 4.0 s) */
  timeout: number;
  /** each wait is the previous times this (strongSwan retransmit_base 1.8) */
  base: number;
  /** retransmissions before giving up (strongSwan retransmit_tries 5) */
  tries: number;
  /** upper bound on one wait in ms, 0 for none (strongSwan retransmit_limit 0) */
  limit: number;
}

/** strongSwan's defaults: retransmissions at 4, 11.2, 24.16, 47.488, 89.478 s; gives up at 165.06 s. */
export const STRONGSWAN_RETRANSMIT: Readonly<RetransmitOptions> = Object.freeze({ timeout: 4000, base: 1.8, tries: 5, limit: 0 });

export interface InitiatorOptions extends Partial<RetransmitOptions> {
  /** outstanding requests at once (§2.3): 1 until the peer's SET_WINDOW_SIZE says more */
  windowSize?: number;
  /** requests waiting for the window beyond which send() refuses (DESIGN: bounded everything) */
  queueLimit?: number;
  /** the first Message ID (§2.2: 0 for a new IKE SA, whose IKE_SA_INIT is 0); for tests */
  firstMessageId?: number;
}

/** The wait before retransmission n+1 after n retransmissions (n = 0 is the first wait). */
export function retransmitWait(options: RetransmitOptions, n: number): number {
  // strongSwan: (uint32_t)(timeout * pow(base, n)); the epsilon keeps 4000 * 1.8^2 at 12960
  // where the floating-point product lands a hair below.
  const wait = Math.floor(options.timeout * options.base ** n + 1e-6);
  return options.limit > 0 && wait > options.limit ? options.limit : wait;
}

/**
 * Builds the request once its Message ID is known. B is what is sent: one message, or (RFC 7383)
 * the fragments of one, retransmitted together.
 */
export type RequestBuilder<B = Uint8Array> = (messageId: number) => B;

export type InitiatorAction<B = Uint8Array> =
  /** a request sent for the first time */
  | { kind: 'send'; messageId: number; bytes: B }
  /** the same bytes again (§2.1: retransmissions are identical) */
  | { kind: 'retransmit'; messageId: number; bytes: B; attempt: number }
  /** no response after the last try: the IKE SA is dead (§2.4); the window refuses everything after */
  | { kind: 'giveUp'; messageId: number };

export type SendResult<B = Uint8Array> =
  | { ok: true; queued: false; action: InitiatorAction<B> & { kind: 'send' } }
  /** waiting for the window; its send action comes from response() */
  | { ok: true; queued: true; position: number }
  | { ok: false; reason: 'queue-full' | 'ids-exhausted' | 'dead' };

export type ResponseResult<B = Uint8Array> =
  /** the request is answered; `actions` sends what the freed window let out of the queue */
  | { ok: true; actions: InitiatorAction<B>[] }
  /** not a Message ID we are waiting on (§2.1: dropped; a response is never answered) */
  | { ok: false; reason: 'unexpected' | 'dead' };

export interface InitiatorCounters {
  sent: number;
  retransmits: number;
  responses: number;
  /** responses to a Message ID not outstanding (late duplicates, forgeries): dropped */
  droppedUnexpected: number;
  /** send() refused: queue at its limit */
  refusedQueueFull: number;
  /** send() refused: no Message ID left below 2^32 (§2.2) */
  refusedIdsExhausted: number;
  giveUps: number;
}

interface Outstanding<B> {
  messageId: number;
  bytes: B;
  /** retransmissions so far */
  attempt: number;
  /** when tick() acts on it next */
  deadline: number;
}

function checkWindowSize(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WINDOW_SIZE) throw new RangeError(`window size ${n}: 1 to ${MAX_WINDOW_SIZE}`);
  return n;
}

/** Our requests: Message ID assignment, the send window (§2.3) and retransmission (§2.1). */
export class InitiatorWindow<B = Uint8Array> {
  readonly retransmit: Readonly<RetransmitOptions>;
  readonly queueLimit: number;
  readonly counters: InitiatorCounters = { sent: 0, retransmits: 0, responses: 0, droppedUnexpected: 0, refusedQueueFull: 0, refusedIdsExhausted: 0, giveUps: 0 };
  private window: number;
  private next: number;
  /** at most `window` entries, in Message ID order */
  private readonly outstanding: Outstanding<B>[] = [];
  private readonly queue: RequestBuilder<B>[] = [];
  private isDead = false;

  constructor(options: InitiatorOptions = {}) {
    this.retransmit = Object.freeze({
      timeout: options.timeout ?? STRONGSWAN_RETRANSMIT.timeout,
      base: options.base ?? STRONGSWAN_RETRANSMIT.base,
      tries: options.tries ?? STRONGSWAN_RETRANSMIT.tries,
      limit: options.limit ?? STRONGSWAN_RETRANSMIT.limit,
    });
    const r = this.retransmit;
    if (!(r.timeout > 0) || !(r.base >= 1) || !Number.isInteger(r.tries) || r.tries < 0 || !(r.limit >= 0)) {
      throw new RangeError(`retransmit options: timeout > 0, base >= 1, tries an integer >= 0, limit >= 0`);
    }
    this.window = checkWindowSize(options.windowSize ?? 1);
    this.queueLimit = options.queueLimit ?? 8;
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 0) throw new RangeError(`queue limit ${this.queueLimit}`);
    this.next = options.firstMessageId ?? 0;
    if (!Number.isInteger(this.next) || this.next < 0 || this.next > MAX_MESSAGE_ID) throw new RangeError(`first Message ID ${this.next}`);
  }

  /** The Message ID the next request sent (not queued) will carry. */
  get nextMessageId(): number {
    return this.next;
  }

  get windowSize(): number {
    return this.window;
  }

  /** Message IDs sent and not yet answered, lowest first. */
  get outstandingIds(): number[] {
    return this.outstanding.map((o) => o.messageId);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** True once the last try went unanswered (§2.4). */
  get dead(): boolean {
    return this.isDead;
  }

  /**
   * The peer's SET_WINDOW_SIZE (§2.3, §3.10.1): more requests may be outstanding. Returns
   * what the larger window lets out of the queue. The window never shrinks (the RFC gives no
   * way to take back requests already allowed).
   */
  setWindowSize(n: number, now: number): InitiatorAction<B>[] {
    checkWindowSize(n);
    if (n > this.window) this.window = n;
    return this.drain(now);
  }

  /**
   * Sends a request: it gets the next Message ID now if the window has room (§2.3: request X
   * waits until responses to all requests up through X - window have come), else it waits in
   * the queue, bounded by queueLimit. IDs that would not fit in 32 bits are refused (§2.2).
   */
  send(build: RequestBuilder<B>, now: number): SendResult<B> {
    if (this.isDead) return { ok: false, reason: 'dead' };
    if (this.next + this.queue.length > MAX_MESSAGE_ID) {
      this.counters.refusedIdsExhausted++;
      return { ok: false, reason: 'ids-exhausted' };
    }
    if (this.queue.length === 0 && this.hasRoom()) return { ok: true, queued: false, action: this.start(build, now) };
    if (this.queue.length >= this.queueLimit) {
      this.counters.refusedQueueFull++;
      return { ok: false, reason: 'queue-full' };
    }
    this.queue.push(build);
    return { ok: true, queued: true, position: this.queue.length };
  }

  /**
   * A response arrived (the caller has checked it is one: R flag set, §3.1, and authentic).
   * Only an outstanding Message ID is accepted; it stops that request's retransmission and
   * frees its slot (§2.1, §2.3).
   */
  response(messageId: number, now: number): ResponseResult<B> {
    if (this.isDead) return { ok: false, reason: 'dead' };
    const i = this.outstanding.findIndex((o) => o.messageId === messageId);
    if (i < 0) {
      this.counters.droppedUnexpected++;
      return { ok: false, reason: 'unexpected' };
    }
    this.outstanding.splice(i, 1);
    this.counters.responses++;
    return { ok: true, actions: this.drain(now) };
  }

  /**
   * Retransmissions due by `now` (§2.1: "retransmit" with the same bytes) and, after the last
   * one's wait, a giveUp (§2.4); one action per outstanding request at most, however late the
   * call, and the next wait counts from now, as strongSwan's rescheduling does.
   */
  tick(now: number): InitiatorAction<B>[] {
    const actions: InitiatorAction<B>[] = [];
    if (this.isDead) return actions;
    for (const o of this.outstanding) {
      if (now < o.deadline) continue;
      if (o.attempt >= this.retransmit.tries) {
        // §2.4: "the IKE SA is deemed to have failed"; everything it was waiting for goes.
        this.isDead = true;
        this.counters.giveUps++;
        this.outstanding.length = 0;
        this.queue.length = 0;
        return [{ kind: 'giveUp', messageId: o.messageId }];
      }
      o.attempt++;
      o.deadline = now + retransmitWait(this.retransmit, o.attempt);
      this.counters.retransmits++;
      actions.push({ kind: 'retransmit', messageId: o.messageId, bytes: o.bytes, attempt: o.attempt });
    }
    return actions;
  }

  /** When tick() has something to do next (a timer to arm), or undefined when nothing is outstanding. */
  nextTimeout(): number | undefined {
    let at: number | undefined;
    for (const o of this.outstanding) if (at === undefined || o.deadline < at) at = o.deadline;
    return at;
  }

  /** §2.3: request X may go once every request up through X - window is answered. */
  private hasRoom(): boolean {
    if (this.next > MAX_MESSAGE_ID) return false;
    return this.outstanding.length === 0 || this.next < this.outstanding[0].messageId + this.window;
  }

  private start(build: RequestBuilder<B>, now: number): InitiatorAction<B> & { kind: 'send' } {
    const messageId = this.next++;
    const bytes = build(messageId);
    this.outstanding.push({ messageId, bytes, attempt: 0, deadline: now + retransmitWait(this.retransmit, 0) });
    this.counters.sent++;
    return { kind: 'send', messageId, bytes };
  }

  private drain(now: number): InitiatorAction<B>[] {
    const actions: InitiatorAction<B>[] = [];
    while (this.queue.length > 0 && this.hasRoom()) actions.push(this.start(this.queue.shift()!, now));
    return actions;
  }
}

export type RequestVerdict<B = Uint8Array> =
  /** process it, then call responded() */
  | { kind: 'new' }
  /** §2.1: a retransmitted request: send this cached response again, exactly, without processing */
  | { kind: 'retransmit'; bytes: B }
  /**
   * §2.1, §2.3: not answered. old: answered, and the peer has since shown it has the response
   * (it sent messageId + window), so it is no longer kept; ahead: beyond the window;
   * pending: received and not answered yet (being processed).
   */
  | { kind: 'drop'; reason: 'old' | 'ahead' | 'pending' };

export interface ResponderCounters {
  new: number;
  retransmitted: number;
  droppedOld: number;
  droppedAhead: number;
  droppedPending: number;
}

/**
 * The peer's requests (§2.1, §2.3): which Message IDs to process, and the cached responses to
 * retransmit. With window N (our SET_WINDOW_SIZE; 1 by default) it holds N slots, slot
 * messageId mod N, each with the Message ID it holds and its response once there is one:
 * memory is N responses at most. A request X overwrites the slot of X - N, whose response the
 * peer must have received before sending X (§2.3).
 */
export class ResponderWindow<B = Uint8Array> {
  readonly windowSize: number;
  readonly counters: ResponderCounters = { new: 0, retransmitted: 0, droppedOld: 0, droppedAhead: 0, droppedPending: 0 };
  /** the lowest Message ID not yet received: every lower one has been */
  private low = 0;
  private readonly slotIds: number[];
  private readonly slotResponses: (B | undefined)[];

  constructor(options: { windowSize?: number } = {}) {
    this.windowSize = checkWindowSize(options.windowSize ?? 1);
    this.slotIds = new Array<number>(this.windowSize).fill(-1);
    this.slotResponses = new Array<B | undefined>(this.windowSize).fill(undefined);
  }

  /** The lowest Message ID not yet received (with window 1: the one expected next). */
  get expected(): number {
    return this.low;
  }

  /**
   * The response kept for a request already answered, without changing anything: lets the
   * caller retransmit it (§2.1) before doing any other work on the repeated request, e.g.
   * before reassembling its fragments again (RFC 7383 §2.6.1).
   */
  cached(messageId: number): B | undefined {
    const slot = messageId % this.windowSize;
    return this.slotIds[slot] === messageId ? this.slotResponses[slot] : undefined;
  }

  /** A request arrived with this Message ID (the caller checked the R flag is clear, §3.1). */
  request(messageId: number): RequestVerdict<B> {
    const n = this.windowSize;
    const slot = messageId % n;
    if (this.slotIds[slot] === messageId) {
      const bytes = this.slotResponses[slot];
      if (bytes === undefined) {
        this.counters.droppedPending++;
        return { kind: 'drop', reason: 'pending' };
      }
      this.counters.retransmitted++;
      return { kind: 'retransmit', bytes };
    }
    if (messageId < this.low) {
      this.counters.droppedOld++;
      return { kind: 'drop', reason: 'old' };
    }
    if (messageId >= this.low + n) {
      this.counters.droppedAhead++;
      return { kind: 'drop', reason: 'ahead' };
    }
    if (this.slotIds[slot] >= 0 && this.slotResponses[slot] === undefined) {
      // The slot's request (messageId - n) is still unanswered: a peer keeping to our window
      // cannot have sent this yet (§2.3), and its response must not lose its place.
      this.counters.droppedAhead++;
      return { kind: 'drop', reason: 'ahead' };
    }
    // low <= messageId < low + n and not in its slot: new; the slot held messageId - n, answered.
    this.slotIds[slot] = messageId;
    this.slotResponses[slot] = undefined;
    while (this.slotIds[this.low % n] === this.low) this.low++;
    this.counters.new++;
    return { kind: 'new' };
  }

  /** Keeps the response to a request request() called new, for its retransmissions (§2.1). */
  responded(messageId: number, response: B): void {
    const slot = messageId % this.windowSize;
    if (this.slotIds[slot] !== messageId || this.slotResponses[slot] !== undefined) {
      throw new RangeError(`Message ID ${messageId} is not a request awaiting its response`);
    }
    this.slotResponses[slot] = response;
  }
}
