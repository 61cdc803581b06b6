/**
 * Rekeying the IKE SA (RFC 7296 §1.3.2, §2.18): a CREATE_CHILD_SA with an IKE proposal
 * carrying the new SA's SPI, fresh nonces and a key exchange. The new IKE SA's keys come
 * from the old SK_d (./keymat.ts rekeyIkeKeys); the CHILD SAs move to it; the initiator of
 * the rekey then deletes the old IKE SA, which the responder keeps until that delete.
 *
 *   HDR, SK {SA(SPIi'), Ni, KEi}  -->
 *                         <--  HDR, SK {SA(SPIr'), Nr, KEr}
 *
 * Collisions (§2.8.2): both ends rekeying at once make two new IKE SAs; the one made by the
 * exchange holding the lowest of the four nonces is redundant and its initiator deletes it,
 * the other initiator deletes the old one. The CHILD SAs end up on the surviving SA.
 */
import type { KeyExchange } from '../../crypto/provider.js';
import { LogLevel } from '../../log.js';
import { IkeSa } from '../ike-sa.js';
import { rekeyIkeKeys } from '../keymat.js';
import { ExchangeType } from '../message.js';
import { NotifyType, PayloadType } from '../payloads.js';
import { chooseKeGroup, selectProposal } from '../select.js';
import { ProtocolId, type WireProposal } from '../types.js';
import { acceptsAnswer, compareNonces, ikeAlgorithmsOf, jitter, lowest, NONCE_LENGTH, randomBytes, wireProposals } from './common.js';
import { established } from './ike-auth.js';
import { IkeDeleteInitiator } from './ike-delete.js';
import { notifyName, type InboundMessage, type OutboundMessage, type Task, type TaskStatus } from './task.js';

/** The IKE SA that replaces `old`, keyed (§2.18); it inherits identities, NAT state and endpoints. */
function successor(old: IkeSa, initiator: boolean, spiI: Uint8Array, spiR: Uint8Array, proposal: WireProposal, inputs: { ni: Uint8Array; nr: Uint8Array; sharedSecret: Uint8Array }, now: number): IkeSa | string {
  const chosen = ikeAlgorithmsOf(proposal);
  if (typeof chosen === 'string') return chosen;
  const sa = new IkeSa(old.context, { initiator, spiI, spiR, connection: old.connection, local: old.local, remote: old.remote, localPort: old.localPort, now });
  sa.keys = rekeyIkeKeys(old.context.crypto, old.algorithms!.prf, old.keys!.skD, chosen.algorithms, { ...inputs, spii: spiI, spir: spiR });
  inputs.sharedSecret.fill(0);
  sa.algorithms = chosen.algorithms;
  sa.proposal = proposal;
  sa.keGroup = chosen.group;
  sa.localId = old.localId;
  sa.remoteId = old.remoteId;
  sa.natLocal = old.natLocal;
  sa.natRemote = old.natRemote;
  sa.fragmentation = old.fragmentation;
  old.context.keylog?.ike(spiI, spiR, sa.keys, chosen.algorithms);
  established(sa, now);
  return sa;
}

export class IkeRekeyInitiator implements Task {
  readonly name = 'IKE_SA rekey';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  readonly #spi: Uint8Array;
  readonly #ni: Uint8Array;
  #ke: KeyExchange | null = null;
  #nr: Uint8Array | null = null;
  /** the peer's simultaneous rekey (§2.8.2), recorded by its responder task */
  collision: { ni: Uint8Array; nr: Uint8Array; sa: IkeSa } | null = null;

  constructor(readonly sa: IkeSa, readonly now: () => number) {
    this.#spi = randomBytes(sa.context.crypto, 8);
    this.#ni = randomBytes(sa.context.crypto, NONCE_LENGTH);
  }

  get ni(): Uint8Array {
    return this.#ni;
  }

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    this.#ke = sa.context.crypto.keyExchange(sa.keGroup);
    out.add({ type: PayloadType.SA, proposals: wireProposals(sa.connection.proposals, ProtocolId.IKE, this.#spi) });
    out.add({ type: PayloadType.NONCE, nonce: this.#ni });
    out.add({ type: PayloadType.KE, group: sa.keGroup, data: this.#ke.publicKey });
    sa.log('ike', LogLevel.CONTROL, 'rekeying the IKE_SA');
    return 'done';
  }

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const now = this.now();
    // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
    const exchange = this.#ke;
    this.#ke = null;
    const error = message.error();
    if (error) return this.#later(`refused by the peer: ${notifyName(error.notifyType)}`);
    const saPayload = message.get(PayloadType.SA);
    const nonce = message.get(PayloadType.NONCE);
    const ke = message.get(PayloadType.KE);
    if (!saPayload || saPayload.proposals.length !== 1 || !nonce || !ke) return this.#later('answer without one SA, Nonce and KE payload');
    const answer = saPayload.proposals[0];
    if (answer.spi.length !== 8) return this.#later('answer without the new responder SPI');
    const check = acceptsAnswer(sa.connection.proposals, answer, sa.keGroup);
    if (!check.ok || ke.group !== sa.keGroup) return this.#later('the peer chose a proposal or group we did not offer');
    let sharedSecret: Uint8Array;
    try {
      sharedSecret = exchange!.computeSecret(ke.data);
    } catch (e) {
      return this.#later(`the peer's KE value: ${(e as Error).message}`);
    }
    this.#nr = nonce.nonce;
    const next = successor(sa, true, this.#spi, answer.spi.slice(), answer, { ni: this.#ni, nr: nonce.nonce, sharedSecret }, now);
    if (typeof next === 'string') return this.#later(next);
    const c = this.collision;
    if (c) {
      const min = lowest([this.#ni, this.#nr, c.ni, c.nr]);
      const oursLost = compareNonces(min, this.#ni) === 0 || compareNonces(min, this.#nr) === 0;
      sa.log('ike', LogLevel.CONTROL, `IKE_SA rekey collision: ${oursLost ? 'our' : "the peer's"} new IKE_SA is redundant (RFC 7296 §2.8.2)`);
      sa.context.adopt(next, sa);
      if (oursLost) {
        next.queue([new IkeDeleteInitiator(next, this.now, 'redundant after a rekey collision')], now);
        return 'done';
      }
      c.sa.handOverChildren(next);
    } else {
      sa.handOverChildren(next);
      sa.context.adopt(next, sa);
    }
    sa.state = 'rekeyed';
    sa.log('ike', LogLevel.AUDIT, `IKE_SA rekeyed: new SPIs ${hex(next.spiI)}_i ${hex(next.spiR)}_r`);
    sa.queue([new IkeDeleteInitiator(sa, this.now, 'rekeyed')], now);
    return 'done';
  }

  /** The rekey did not happen; the IKE SA goes on and tries again shortly. */
  #later(reason: string): TaskStatus {
    this.sa.log('ike', LogLevel.CONTROL, `IKE_SA rekey failed: ${reason}; retrying`);
    this.sa.rekeyAt = this.now() + 2000 + jitter(this.sa.context.crypto, 3000);
    return 'done';
  }
}

export class IkeRekeyResponder implements Task {
  readonly name = 'IKE_SA rekey';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  #error: { type: number; data?: Uint8Array } | null = null;
  #answer: WireProposal | null = null;
  /** our KE payload's group and public value (the KeyExchange itself is let go once used) */
  #kePublic: { group: number; data: Uint8Array } | null = null;
  #nr: Uint8Array | null = null;

  constructor(readonly sa: IkeSa, readonly now: () => number) {}

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const now = this.now();
    if (sa.state !== 'established') return this.#refuse(NotifyType.TEMPORARY_FAILURE, `the IKE_SA is ${sa.state}`);
    const saPayload = message.get(PayloadType.SA)!;
    const nonce = message.get(PayloadType.NONCE);
    const ke = message.get(PayloadType.KE);
    if (!nonce || !ke) return this.#refuse(NotifyType.INVALID_SYNTAX, 'IKE rekey without Nonce and KE payloads');
    const chosen = selectProposal(sa.connection.proposals, saPayload.proposals, { keGroup: ke.group });
    if (!chosen.ok) return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, chosen.reasons.slice(0, 3).join('; '));
    if (chosen.proposal.spi.length !== 8) return this.#refuse(NotifyType.INVALID_SYNTAX, 'IKE rekey proposal without the new SPI');
    const group = chooseKeGroup(chosen.proposal, ke.group);
    if (!group.ok) {
      return group.notify === NotifyType.INVALID_KE_PAYLOAD
        ? this.#refuse(NotifyType.INVALID_KE_PAYLOAD, `group ${ke.group}`, Uint8Array.of(group.group >> 8, group.group & 0xff))
        : this.#refuse(NotifyType.INVALID_SYNTAX, group.reason);
    }
    // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
    const exchange = sa.context.crypto.keyExchange(group.group!);
    this.#kePublic = { group: exchange.group, data: exchange.publicKey };
    let sharedSecret: Uint8Array;
    try {
      sharedSecret = exchange.computeSecret(ke.data);
    } catch (e) {
      return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, `the peer's KE value: ${(e as Error).message}`);
    }
    this.#nr = randomBytes(sa.context.crypto, NONCE_LENGTH);
    const spiR = randomBytes(sa.context.crypto, 8);
    this.#answer = { ...chosen.proposal, spi: spiR };
    const next = successor(sa, false, chosen.proposal.spi.slice(), spiR, chosen.proposal, { ni: nonce.nonce, nr: this.#nr, sharedSecret }, now);
    if (typeof next === 'string') return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, next);
    // §2.8.2: our own rekey in flight? it decides who keeps what when its answer comes
    for (const t of sa.activeTasks) if (t instanceof IkeRekeyInitiator) t.collision = { ni: nonce.nonce, nr: this.#nr, sa: next };
    sa.handOverChildren(next);
    sa.context.adopt(next, sa);
    sa.state = 'rekeyed';
    sa.log('ike', LogLevel.AUDIT, `IKE_SA rekeyed by the peer: new SPIs ${hex(next.spiI)}_i ${hex(next.spiR)}_r`);
    return 'done';
  }

  build(out: OutboundMessage): TaskStatus {
    if (this.#error) {
      out.notify(this.#error.type, this.#error.data);
      return 'done';
    }
    out.add({ type: PayloadType.SA, proposals: [this.#answer!] });
    out.add({ type: PayloadType.NONCE, nonce: this.#nr! });
    out.add({ type: PayloadType.KE, group: this.#kePublic!.group, data: this.#kePublic!.data });
    return 'done';
  }

  #refuse(type: number, reason: string, data?: Uint8Array): TaskStatus {
    this.sa.log('ike', LogLevel.CONTROL, `IKE_SA rekey refused (${notifyName(type)}): ${reason}`);
    this.#error = { type, data };
    return 'done';
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
