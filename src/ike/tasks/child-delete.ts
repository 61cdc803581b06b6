/**
 * Deleting CHILD SAs (RFC 7296 §1.4.1): an INFORMATIONAL exchange with a Delete payload of
 * our inbound SPIs; the peer answers with its inbound SPIs of the same SAs, and both sides
 * remove both directions. When both ends delete the same SA at once, each answers the other's
 * request with an empty Delete list for what it is already deleting (§1.4.1), and both
 * remove it.
 *
 *   HDR, SK {D(ESP, our inbound SPIs)}  -->
 *                              <--  HDR, SK {D(ESP, the peer's inbound SPIs)}
 */
import { LogLevel } from '../../log.js';
import type { ChildSa, IkeSa } from '../ike-sa.js';
import { ExchangeType } from '../message.js';
import { PayloadType } from '../payloads.js';
import { ProtocolId } from '../types.js';
import { hex32, spiBytes, spiNumber } from './common.js';
import type { InboundMessage, OutboundMessage, Task, TaskStatus } from './task.js';

export class ChildDeleteInitiator implements Task {
  readonly name = 'CHILD_SA delete';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(readonly sa: IkeSa, readonly children: ChildSa[]) {}

  build(out: OutboundMessage): TaskStatus {
    // some may have gone meanwhile (the peer deleted them first)
    const live = this.children.filter((c) => this.sa.children.includes(c));
    for (const c of live) c.state = 'deleting';
    out.add({ type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4, spis: live.map((c) => spiBytes(c.installed.spiIn)) });
    this.sa.log('chd', LogLevel.CONTROL, `sending DELETE for ESP CHILD_SA${live.length === 1 ? '' : 's'} ${live.map((c) => hex32(c.installed.spiIn)).join(' ')}`);
    return 'done';
  }

  process(_message: InboundMessage): TaskStatus {
    for (const c of this.children) if (this.sa.children.includes(c)) this.sa.removeChild(c);
    return 'done';
  }
}

/** The peer's Delete payloads for ESP (IKE deletes are ./ike-delete.ts). */
export class ChildDeleteResponder implements Task {
  readonly name = 'CHILD_SA delete';
  readonly exchange = ExchangeType.INFORMATIONAL;
  readonly #ours: number[] = [];

  constructor(readonly sa: IkeSa) {}

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    for (const d of message.all(PayloadType.DELETE)) {
      if (d.protocol !== ProtocolId.ESP && d.protocol !== ProtocolId.AH) continue;
      for (const spi of d.spis) {
        // the peer names its inbound SPI: our outbound one; §3.11: an SA is named by protocol
        // and SPI, so an AH Delete does not name the ESP SA that has the same SPI value
        const child = sa.childBySpi(spiNumber(spi), 'out');
        if (!child || child.proposal.protocol !== d.protocol) {
          sa.log('chd', LogLevel.CONTROL, `DELETE for unknown ${d.protocol === ProtocolId.AH ? 'AH' : 'ESP'} CHILD_SA ${hex32(spiNumber(spi))} ignored`);
          continue;
        }
        sa.log('chd', LogLevel.CONTROL, `received DELETE for CHILD_SA ${child.config.name} ${hex32(child.installed.spiOut)}`);
        // §1.4.1: when we are deleting it too, it is not in our answer; either way it goes
        if (child.state !== 'deleting') this.#ours.push(child.installed.spiIn);
        sa.removeChild(child);
      }
    }
    return 'done';
  }

  build(out: OutboundMessage): TaskStatus {
    if (this.#ours.length > 0) out.add({ type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4, spis: this.#ours.map(spiBytes) });
    return 'done';
  }
}
