/**
 * Exchanges as tasks (DESIGN.md principle 5, after strongSwan's libcharon/sa/ikev2/tasks/):
 * each piece of an exchange (the IKE_SA_INIT key exchange, authentication, one CHILD SA, a
 * delete, a liveness check, a rekey) is a small object with two steps, and the IKE SA
 * (../ike-sa.ts) composes the tasks of one exchange into one message:
 *
 *   we initiate:  build(request) for every task, send; on the response, process(response)
 *   we respond:   process(request) for every task, then build(response), send
 *
 * A task's status after a step says what the IKE SA does next: `done` (the task is over),
 * `again` (initiator only: the exchange is repeated with a new request built by the same
 * task, as IKE_SA_INIT is after COOKIE or INVALID_KE_PAYLOAD, RFC 7296 §2.6, §1.2), or
 * `failed` (the IKE SA cannot go on: it is deleted, or destroyed when it never got keys).
 * A CHILD SA that cannot be made does not fail the IKE SA (RFC 7296 §1.2, §2.21.1).
 */
import type { ParsedHeader } from '../message.js';
import { NotifyType, PayloadType, type NotifyPayload, type Payload } from '../payloads.js';

export type TaskStatus = 'done' | 'again' | 'failed';

export interface Task {
  /** for logs: "IKE_SA_INIT", "IKE_AUTH", "CHILD_SA create", ... */
  readonly name: string;
  /** the exchange type this task needs (RFC 7296 §3.1); tasks of one exchange share a message */
  readonly exchange: number;
  build(message: OutboundMessage): TaskStatus;
  process(message: InboundMessage): TaskStatus;
  /** the IKE SA is gone while this task's exchange was in flight: undo what build reserved */
  abort?(): void;
}

/** A message being built: its payloads in order. */
export class OutboundMessage {
  readonly payloads: Payload[] = [];

  constructor(readonly exchange: number, readonly response: boolean) {}

  add(...payloads: Payload[]): this {
    this.payloads.push(...payloads);
    return this;
  }

  /** A Notify payload (RFC 7296 §3.10); protocol and SPI for those about a CHILD SA. */
  notify(notifyType: number, data: Uint8Array = new Uint8Array(0), protocol = 0, spi: Uint8Array = new Uint8Array(0)): this {
    this.payloads.push({ type: PayloadType.NOTIFY, protocol, spi, notifyType, data });
    return this;
  }
}

/** A received message, authenticated and decrypted: its header and payloads. */
export class InboundMessage {
  constructor(readonly header: ParsedHeader, readonly payloads: readonly Payload[], readonly bytes?: Uint8Array) {}

  get exchange(): number {
    return this.header.exchangeType;
  }

  /** The first payload of a type. */
  get<T extends Payload['type']>(type: T): Extract<Payload, { type: T }> | undefined {
    return this.payloads.find((p) => p.type === type) as Extract<Payload, { type: T }> | undefined;
  }

  all<T extends Payload['type']>(type: T): Extract<Payload, { type: T }>[] {
    return this.payloads.filter((p) => p.type === type) as Extract<Payload, { type: T }>[];
  }

  notify(notifyType: number): NotifyPayload | undefined {
    return this.payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && p.notifyType === notifyType);
  }

  /** The first error notify (§3.10.1: types below 16384), if any. */
  error(): NotifyPayload | undefined {
    return this.payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && p.notifyType < 16384);
  }
}

/** Notify type names for logs. */
const NOTIFY_NAMES = new Map<number, string>(Object.entries(NotifyType).map(([name, n]) => [n, name]));
export const notifyName = (n: number): string => NOTIFY_NAMES.get(n) ?? `notify ${n}`;
