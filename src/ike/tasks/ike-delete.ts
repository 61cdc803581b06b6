/**
 * Deleting the IKE SA (RFC 7296 §1.4.1): a Delete payload for protocol IKE, no SPIs; the
 * CHILD SAs go with it (they are not deleted one by one). The responder answers with an
 * empty INFORMATIONAL and then forgets the SA.
 *
 * Liveness checks (§2.4, "dead peer detection"): an empty INFORMATIONAL request; any answer
 * proves the peer alive, none after the retransmissions means it is dead (the IKE SA's
 * window gives up). The responder side needs no task: the empty answer is what an
 * INFORMATIONAL without payloads gets.
 */
import { LogLevel } from '../../log.js';
import type { IkeSa } from '../ike-sa.js';
import { ExchangeType } from '../message.js';
import { PayloadType } from '../payloads.js';
import { ProtocolId } from '../types.js';
import type { InboundMessage, OutboundMessage, Task, TaskStatus } from './task.js';

export class IkeDeleteInitiator implements Task {
  readonly name = 'IKE_SA delete';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(readonly sa: IkeSa, readonly now: () => number, readonly reason: string) {}

  build(out: OutboundMessage): TaskStatus {
    if (this.sa.state !== 'rekeyed') this.sa.state = 'deleting';
    out.add({ type: PayloadType.DELETE, protocol: ProtocolId.IKE, spiSize: 0, spis: [] });
    this.sa.log('ike', LogLevel.CONTROL, `deleting IKE_SA (${this.reason})`);
    return 'done';
  }

  process(_message: InboundMessage): TaskStatus {
    this.sa.destroy(this.now(), `deleted (${this.reason})`);
    return 'done';
  }
}

export class IkeDeleteResponder implements Task {
  readonly name = 'IKE_SA delete';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(readonly sa: IkeSa) {}

  process(_message: InboundMessage): TaskStatus {
    const sa = this.sa;
    sa.log('ike', LogLevel.CONTROL, 'received DELETE for the IKE_SA');
    if (sa.state !== 'rekeyed') sa.state = 'deleting';
    // after our (empty) answer is out
    sa.afterResponse = (now) => sa.destroy(now, 'deleted by the peer');
    return 'done';
  }

  build(_out: OutboundMessage): TaskStatus {
    return 'done';
  }
}

export class LivenessCheck implements Task {
  readonly name = 'liveness check';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(readonly sa: IkeSa) {}

  build(_out: OutboundMessage): TaskStatus {
    this.sa.log('ike', LogLevel.DIAGNOSE, 'sending DPD request');
    return 'done';
  }

  process(_message: InboundMessage): TaskStatus {
    return 'done';
  }
}
