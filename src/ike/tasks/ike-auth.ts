/**
 * IKE_AUTH (RFC 7296 §1.2, §2.15): identities and PSK authentication. The first CHILD SA rides
 * in the same exchange (./child-create.ts, a second task of the same message).
 *
 *   HDR, SK {IDi, [IDr,] AUTH, [N(INITIAL_CONTACT),] SAi2, TSi, TSr}  -->
 *                                        <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * The responder learns who the peer is only here: among the connections the engine found for
 * the peer's address, it takes the first whose remote identity matches IDi, whose local
 * identity matches IDr (when sent) and which accepts the IKE proposal already chosen; then the
 * pre-shared key is looked up as strongSwan does (./auth.ts findPsk). A failure is answered
 * with AUTHENTICATION_FAILED (§2.21.2) and the IKE SA is gone.
 */
import { identityMatches } from '../../config/identity.js';
import type { ConnectionConfig } from '../../config/ike-config.js';
import { LogLevel } from '../../log.js';
import { parseAddress } from '../../policy/selector.js';
import { buildPskAuth, findPsk, verifyPskAuth } from '../auth.js';
import type { IkeSa } from '../ike-sa.js';
import { ExchangeType } from '../message.js';
import { NotifyType, PayloadType } from '../payloads.js';
import { acceptsAnswer, idBody, jitter, idPayload, identityOf, ownIdentity } from './common.js';
import { InboundMessage, notifyName, OutboundMessage, type Task, type TaskStatus } from './task.js';

/** Marks the SA established: timers start, half-open accounting ends (the engine's hook). */
export function established(sa: IkeSa, now: number): void {
  sa.state = 'established';
  sa.established = now || 1; // 0 means "never established"
  const c = sa.connection;
  // swanctl.conf rekey_time, less a random part of rand_time
  const rand = jitter(sa.context.crypto, c.rand_time);
  sa.rekeyAt = c.rekey_time > 0 ? now + (c.rekey_time - rand) * 1000 : 0;
  sa.log('ike', LogLevel.AUDIT, `IKE_SA established between ${sa.local.address}[${sa.localId?.text}]...${sa.remote.address}[${sa.remoteId?.text}]`);
}

/** The initiator's IKE_AUTH. */
export class IkeAuthInitiator implements Task {
  readonly name = 'IKE_AUTH';
  readonly exchange = ExchangeType.IKE_AUTH;

  constructor(readonly sa: IkeSa, readonly now: () => number, readonly initialContact: boolean) {}

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    const c = sa.connection;
    const localId = ownIdentity(c.local.id, sa.local.address);
    sa.localId = localId;
    const psk = findPsk(sa.context.config.secrets.ike, localId, c.remote.id);
    if (!psk) {
      sa.log('ike', LogLevel.AUDIT, `no shared key found for '${localId.text}' - '${c.remote.id.text}'`);
      return 'failed';
    }
    const idi = idPayload(PayloadType.IDi, localId);
    out.add(idi);
    if (c.remote.id.type !== 0) out.add(idPayload(PayloadType.IDr, c.remote.id));
    const { crypto } = sa.context;
    out.add(buildPskAuth(crypto, sa.algorithms!.prf, psk.secret, { realMessage: sa.init!.request, peerNonce: sa.init!.nr, skP: sa.keys!.skPi, idPayloadBody: idBody(idi) }));
    if (this.initialContact) out.notify(NotifyType.INITIAL_CONTACT);
    return 'done';
  }

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const error = message.error();
    if (error && !message.get(PayloadType.AUTH)) {
      sa.log('ike', LogLevel.AUDIT, `IKE_AUTH refused by the peer: ${notifyName(error.notifyType)}`);
      return 'failed';
    }
    const idr = message.get(PayloadType.IDr);
    const auth = message.get(PayloadType.AUTH);
    if (!idr || !auth) {
      sa.log('ike', LogLevel.AUDIT, 'IKE_AUTH response without IDr and AUTH');
      return 'failed';
    }
    const remoteId = identityOf(idr);
    if (!identityMatches(sa.connection.remote.id, remoteId)) {
      sa.log('ike', LogLevel.AUDIT, `the peer is '${remoteId.text}', not '${sa.connection.remote.id.text}'`);
      return 'failed';
    }
    const psk = findPsk(sa.context.config.secrets.ike, sa.localId!, remoteId);
    const verdict = psk
      ? verifyPskAuth(sa.context.crypto, sa.algorithms!.prf, psk.secret, auth, { realMessage: sa.init!.response, peerNonce: sa.init!.ni, skP: sa.keys!.skPr, idPayloadBody: idBody(idr) })
      : { ok: false as const, reason: `no shared key for '${sa.localId!.text}' - '${remoteId.text}'` };
    if (!verdict.ok) {
      sa.log('ike', LogLevel.AUDIT, `authentication of '${remoteId.text}' failed: ${verdict.reason}`);
      return 'failed';
    }
    sa.remoteId = remoteId;
    sa.log('ike', LogLevel.CONTROL, `authentication of '${remoteId.text}' with pre-shared key successful`);
    established(sa, this.now());
    return 'done';
  }
}

/** The responder's IKE_AUTH. `candidates`: the connections the peer's addresses matched. */
export class IkeAuthResponder implements Task {
  readonly name = 'IKE_AUTH';
  readonly exchange = ExchangeType.IKE_AUTH;
  #failed: number | null = null;
  #initialContact = false;

  constructor(readonly sa: IkeSa, readonly candidates: readonly ConnectionConfig[], readonly now: () => number) {}

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const idi = message.get(PayloadType.IDi);
    const auth = message.get(PayloadType.AUTH);
    if (!idi || !auth) return this.#fail(NotifyType.INVALID_SYNTAX, 'IKE_AUTH request without IDi and AUTH');
    if (message.get(PayloadType.EAP) || auth.method === 0) return this.#fail(NotifyType.AUTHENTICATION_FAILED, 'EAP is not supported');
    const remoteId = identityOf(idi);
    const idr = message.get(PayloadType.IDr);
    const wanted = idr ? identityOf(idr) : null;
    const connection = this.candidates.find((c) =>
      identityMatches(c.remote.id, remoteId) &&
      (!wanted || identityMatches(c.local.id, wanted) || sameAsAddress(wanted, sa.local.address, c)) &&
      acceptsAnswer(c.proposals, sa.proposal!).ok);
    if (!connection) return this.#fail(NotifyType.AUTHENTICATION_FAILED, `no connection for '${remoteId.text}'${wanted ? ` to '${wanted.text}'` : ''}`);
    sa.connection = connection;
    const localId = ownIdentity(connection.local.id, sa.local.address);
    const psk = findPsk(sa.context.config.secrets.ike, localId, remoteId);
    if (!psk) return this.#fail(NotifyType.AUTHENTICATION_FAILED, `no shared key for '${localId.text}' - '${remoteId.text}'`);
    const verdict = verifyPskAuth(sa.context.crypto, sa.algorithms!.prf, psk.secret, auth, { realMessage: sa.init!.request, peerNonce: sa.init!.nr, skP: sa.keys!.skPi, idPayloadBody: idBody(idi) });
    if (!verdict.ok) return this.#fail(NotifyType.AUTHENTICATION_FAILED, `authentication of '${remoteId.text}' failed: ${verdict.reason}`);
    sa.localId = localId;
    sa.remoteId = remoteId;
    this.#initialContact = message.notify(NotifyType.INITIAL_CONTACT) !== undefined;
    sa.log('ike', LogLevel.CONTROL, `authentication of '${remoteId.text}' with pre-shared key successful`);
    established(sa, this.now());
    if (this.#initialContact) sa.context.initialContact(sa);
    return 'done';
  }

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    if (this.#failed !== null) {
      out.notify(this.#failed);
      return 'failed';
    }
    const idr = idPayload(PayloadType.IDr, sa.localId!);
    out.add(idr);
    const psk = findPsk(sa.context.config.secrets.ike, sa.localId!, sa.remoteId!)!;
    out.add(buildPskAuth(sa.context.crypto, sa.algorithms!.prf, psk.secret, { realMessage: sa.init!.response, peerNonce: sa.init!.ni, skP: sa.keys!.skPr, idPayloadBody: idBody(idr) }));
    return 'done';
  }

  #fail(notify: number, reason: string): TaskStatus {
    this.sa.log('ike', LogLevel.AUDIT, reason);
    this.#failed = notify;
    return 'failed';
  }
}

/** IDr naming our address while our configured identity is %any (we then send our address). */
function sameAsAddress(wanted: { type: number; data: Uint8Array }, address: string, c: ConnectionConfig): boolean {
  if (c.local.id.type !== 0) return false;
  const a = parseAddress(address);
  return wanted.data.length === a.length && wanted.data.every((x, i) => x === a[i]);
}

