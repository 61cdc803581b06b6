/**
 * IKE_SA_INIT (RFC 7296 §1.2): proposals, the key exchange and nonces, then the IKE SA's keys
 * (§2.14). Also carried here: NAT detection (§2.23), the COOKIE round trip (§2.6),
 * INVALID_KE_PAYLOAD and the retry with the group the responder wants (§1.2),
 * IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 §2.3) and SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4).
 *
 *   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*), N(FRAG_SUP), N(SIG_HASH)  -->
 *                                   <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*), N(FRAG_SUP), N(SIG_HASH)
 *
 * With encap (swanctl.conf `encap = yes`) our NAT_DETECTION_SOURCE_IP hash is of a random
 * address, as strongSwan fakes it, so that the peer sees a NAT and both sides use UDP
 * encapsulation; a peer doing that to us is simply "behind a NAT".
 */
import type { ConnectionConfig } from '../../config/ike-config.js';
import { LogLevel } from '../../log.js';
import type { KeyExchange } from '../../crypto/provider.js';
import { parseAddress } from '../../policy/selector.js';
import { encodeSignatureHashAlgorithms, HashAlgorithm } from '../auth.js';
import type { IkeSa } from '../ike-sa.js';
import { deriveIkeKeys } from '../keymat.js';
import { ExchangeType } from '../message.js';
import { detectNat, natDetectionHash } from '../natd.js';
import { NotifyType, PayloadType, u16 } from '../payloads.js';
import { chooseKeGroup, selectProposal } from '../select.js';
import { ProtocolId, type WireProposal } from '../types.js';
import { acceptsAnswer, firstKeGroup, ikeAlgorithmsOf, NONCE_LENGTH, offersGroup, randomBytes, wireProposals } from './common.js';
import { InboundMessage, notifyName, OutboundMessage, type Task, type TaskStatus } from './task.js';

const ZERO_SPI = new Uint8Array(8);
/** COOKIE and INVALID_KE_PAYLOAD rounds before the initiator gives up (a peer looping us) */
const MAX_RETRIES = 5;
/** RFC 7427 §4: the hashes we can verify signatures with (announced now, used by certificate authentication) */
const SIGNATURE_HASHES = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512];

/** Our NAT detection notifies (§2.23): source = our address and port, destination = the peer's. */
function addNatDetection(sa: IkeSa, out: OutboundMessage, spiR: Uint8Array): void {
  const { crypto } = sa.context;
  const fake = sa.connection.encap;
  const source = fake
    ? randomBytes(crypto, 20) // strongSwan's encap=yes: a hash nothing can match
    : natDetectionHash(crypto, sa.spiI, spiR, parseAddress(sa.local.address), sa.localPort);
  out.notify(NotifyType.NAT_DETECTION_SOURCE_IP, source);
  out.notify(NotifyType.NAT_DETECTION_DESTINATION_IP, natDetectionHash(crypto, sa.spiI, spiR, parseAddress(sa.remote.address), sa.remote.port));
}

/** Reads the peer's NAT detection notifies (§2.23) into the SA. */
function readNatDetection(sa: IkeSa, message: InboundMessage, spiR: Uint8Array): void {
  const hashes = (type: number) => message.all(PayloadType.NOTIFY).filter((n) => n.notifyType === type).map((n) => n.data);
  const nat = detectNat(sa.context.crypto, {
    spii: sa.spiI, spir: spiR,
    sourceHashes: hashes(NotifyType.NAT_DETECTION_SOURCE_IP),
    destinationHashes: hashes(NotifyType.NAT_DETECTION_DESTINATION_IP),
    local: { address: parseAddress(sa.local.address), port: sa.localPort },
    remote: { address: parseAddress(sa.remote.address), port: sa.remote.port },
  });
  sa.natLocal = nat.weAreBehindNat;
  sa.natRemote = nat.peerIsBehindNat;
  if (nat.natTraversal && (nat.weAreBehindNat || nat.peerIsBehindNat)) {
    sa.log('ike', LogLevel.CONTROL, `NAT detected: ${[nat.weAreBehindNat ? 'local host is behind NAT' : '', nat.peerIsBehindNat ? 'remote host is behind NAT (or faking it)' : ''].filter(Boolean).join(', ')}`);
  }
}

/** RFC 7383 §2.3: fragmentation is used when both sides announce it and ours is not `no`. */
function fragmentationAgreed(sa: IkeSa, message: InboundMessage): boolean {
  return sa.connection.fragmentation !== 'no' && message.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined;
}

/** Derives the keys from the exchange and logs them to the key log when it is on. */
function keyIkeSa(sa: IkeSa, proposal: WireProposal, ni: Uint8Array, nr: Uint8Array, sharedSecret: Uint8Array): string | null {
  const chosen = ikeAlgorithmsOf(proposal);
  if (typeof chosen === 'string') return chosen;
  sa.proposal = proposal;
  sa.algorithms = chosen.algorithms;
  sa.keGroup = chosen.group;
  sa.keys = deriveIkeKeys(sa.context.crypto, chosen.algorithms, { ni, nr, sharedSecret, spii: sa.spiI, spir: sa.spiR });
  sharedSecret.fill(0);
  sa.context.keylog?.ike(sa.spiI, sa.spiR, sa.keys, chosen.algorithms);
  return null;
}

/** The initiator's IKE_SA_INIT. */
export class IkeInitInitiator implements Task {
  readonly name = 'IKE_SA_INIT';
  readonly exchange = ExchangeType.IKE_SA_INIT;
  #ke: KeyExchange | null = null;
  #group = 0;
  readonly #ni: Uint8Array;
  #cookie: Uint8Array | null = null;
  #retries = 0;

  constructor(readonly sa: IkeSa) {
    this.#ni = randomBytes(sa.context.crypto, NONCE_LENGTH);
    this.#group = firstKeGroup(sa.connection.proposals);
  }

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    // §2.6: the cookie comes first
    if (this.#cookie) out.notify(NotifyType.COOKIE, this.#cookie);
    if (!this.#ke || this.#ke.group !== this.#group) this.#ke = sa.context.crypto.keyExchange(this.#group);
    out.add({ type: PayloadType.SA, proposals: wireProposals(sa.connection.proposals, ProtocolId.IKE, new Uint8Array(0)) });
    out.add({ type: PayloadType.KE, group: this.#group, data: this.#ke.publicKey });
    out.add({ type: PayloadType.NONCE, nonce: this.#ni });
    addNatDetection(sa, out, ZERO_SPI);
    if (sa.connection.fragmentation !== 'no') out.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
    out.notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encodeSignatureHashAlgorithms(SIGNATURE_HASHES));
    sa.init = { ni: this.#ni, nr: new Uint8Array(0), request: new Uint8Array(0), response: new Uint8Array(0) };
    return 'done';
  }

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const cookie = message.notify(NotifyType.COOKIE);
    if (cookie) {
      if (++this.#retries > MAX_RETRIES || cookie.data.length < 1 || cookie.data.length > 64) return this.#fail('COOKIE rounds exhausted or malformed cookie');
      this.#cookie = cookie.data;
      sa.log('ike', LogLevel.CONTROL, 'received a COOKIE: sending IKE_SA_INIT again with it (RFC 7296 §2.6)');
      return 'again';
    }
    const invalidKe = message.notify(NotifyType.INVALID_KE_PAYLOAD);
    if (invalidKe) {
      const group = invalidKe.data.length === 2 ? u16(invalidKe.data, 0) : -1;
      if (++this.#retries > MAX_RETRIES || !offersGroup(sa.connection.proposals, group) || group === this.#group) {
        return this.#fail(`INVALID_KE_PAYLOAD asks for group ${group}, which we do not offer`);
      }
      sa.log('ike', LogLevel.CONTROL, `peer wants key exchange group ${group} (INVALID_KE_PAYLOAD): retrying`);
      this.#group = group;
      return 'again';
    }
    const error = message.error();
    if (error) return this.#fail(`peer answered ${notifyName(error.notifyType)}`);
    const saPayload = message.get(PayloadType.SA);
    const ke = message.get(PayloadType.KE);
    const nonce = message.get(PayloadType.NONCE);
    if (!saPayload || !ke || !nonce) return this.#fail('response without SA, KE and Nonce payloads');
    if (saPayload.proposals.length !== 1) return this.#fail(`response with ${saPayload.proposals.length} proposals`);
    const answer = saPayload.proposals[0];
    const check = acceptsAnswer(sa.connection.proposals, answer, this.#group);
    if (!check.ok) return this.#fail(`the responder chose a proposal we did not offer: ${check.reasons.join('; ')}`);
    if (ke.group !== this.#group || check.keGroup !== this.#group) return this.#fail(`KE payload of group ${ke.group}; we sent ${this.#group}`);
    const exchange = this.#ke!;
    // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
    this.#ke = null;
    let secret: Uint8Array;
    try {
      secret = exchange.computeSecret(ke.data);
    } catch (e) {
      return this.#fail(`the responder's KE value: ${(e as Error).message}`);
    }
    sa.spiR = message.header.spiR.slice();
    sa.init!.nr = nonce.nonce;
    sa.init!.response = message.bytes ?? new Uint8Array(0); // §2.15: the responder signs it
    const problem = keyIkeSa(sa, answer, this.#ni, nonce.nonce, secret);
    if (problem) return this.#fail(problem);
    readNatDetection(sa, message, sa.spiR);
    sa.fragmentation = fragmentationAgreed(sa, message);
    // §2.23: with a NAT (or encap) the initiator moves to port 4500 for IKE_AUTH and after
    if ((sa.natLocal || sa.natRemote || sa.connection.encap) && sa.localPort !== sa.context.ports.natT) {
      sa.localPort = sa.context.ports.natT;
      if (sa.remote.port === 500) sa.remote = { address: sa.remote.address, port: 4500 };
      sa.log('net', LogLevel.CONTROL, `switching to port ${sa.localPort} -> ${sa.remote.port} (NAT traversal, RFC 7296 §2.23)`);
    }
    sa.log('ike', LogLevel.CONTROL, `IKE proposal ${check.configured.text} chosen`);
    return 'done';
  }

  #fail(reason: string): TaskStatus {
    this.#ke = null;
    this.sa.log('ike', LogLevel.AUDIT, `IKE_SA_INIT failed: ${reason}`);
    return 'failed';
  }
}

/**
 * The responder's IKE_SA_INIT (the engine checked cookies and half-open limits first).
 * `candidates`: the connections the peer's address matched; the first whose proposals
 * accept the offer is the SA's connection until IKE_AUTH names the peer (strongSwan picks its
 * ike_cfg the same way, by addresses then proposals).
 */
export class IkeInitResponder implements Task {
  readonly name = 'IKE_SA_INIT';
  readonly exchange = ExchangeType.IKE_SA_INIT;
  #error: { type: number; data?: Uint8Array } | null = null;
  #answer: WireProposal | null = null;
  /** our KE payload's group and public value (the KeyExchange itself is let go once used) */
  #kePublic: { group: number; data: Uint8Array } | null = null;
  #nr: Uint8Array | null = null;
  #fragmentation = false;

  constructor(readonly sa: IkeSa, readonly candidates: readonly ConnectionConfig[] = [sa.connection]) {}

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const { crypto } = sa.context;
    const saPayload = message.get(PayloadType.SA);
    const ke = message.get(PayloadType.KE);
    const nonce = message.get(PayloadType.NONCE);
    if (!saPayload || !ke || !nonce) return this.#refuse(NotifyType.INVALID_SYNTAX, 'request without SA, KE and Nonce payloads');
    let chosen = selectProposal(sa.connection.proposals, saPayload.proposals, { keGroup: ke.group });
    for (const c of this.candidates) {
      const r = selectProposal(c.proposals, saPayload.proposals, { keGroup: ke.group });
      if (r.ok) {
        chosen = r;
        sa.connection = c;
        break;
      }
    }
    if (!chosen.ok) return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, `no acceptable proposal: ${chosen.reasons.slice(0, 4).join('; ')}`);
    const group = chooseKeGroup(chosen.proposal, ke.group);
    if (!group.ok) {
      if (group.notify === NotifyType.INVALID_KE_PAYLOAD) {
        const data = Uint8Array.of(group.group >> 8, group.group & 0xff);
        return this.#refuse(NotifyType.INVALID_KE_PAYLOAD, `KE payload of group ${ke.group}; asking for ${group.group}`, data);
      }
      return this.#refuse(NotifyType.INVALID_SYNTAX, group.reason);
    }
    // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
    const exchange = crypto.keyExchange(group.group!);
    this.#kePublic = { group: exchange.group, data: exchange.publicKey };
    let secret: Uint8Array;
    try {
      secret = exchange.computeSecret(ke.data);
    } catch (e) {
      return this.#refuse(NotifyType.INVALID_SYNTAX, `the initiator's KE value: ${(e as Error).message}`);
    }
    this.#nr = randomBytes(crypto, NONCE_LENGTH);
    sa.init = { ni: nonce.nonce, nr: this.#nr, request: message.bytes ?? new Uint8Array(0), response: new Uint8Array(0) };
    const problem = keyIkeSa(sa, chosen.proposal, nonce.nonce, this.#nr, secret);
    if (problem) return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, problem);
    this.#answer = chosen.proposal;
    readNatDetection(sa, message, ZERO_SPI);
    this.#fragmentation = fragmentationAgreed(sa, message);
    sa.log('ike', LogLevel.CONTROL, `IKE proposal ${chosen.configured.text} chosen for ${sa.remote.address}`);
    return 'done';
  }

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    if (this.#error) {
      out.notify(this.#error.type, this.#error.data);
      return 'failed';
    }
    out.add({ type: PayloadType.SA, proposals: [this.#answer!] });
    out.add({ type: PayloadType.KE, group: this.#kePublic!.group, data: this.#kePublic!.data });
    out.add({ type: PayloadType.NONCE, nonce: this.#nr! });
    addNatDetection(sa, out, sa.spiR);
    if (this.#fragmentation) {
      out.notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
      sa.fragmentation = true;
    }
    out.notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encodeSignatureHashAlgorithms(SIGNATURE_HASHES));
    return 'done';
  }

  #refuse(type: number, reason: string, data?: Uint8Array): TaskStatus {
    this.sa.log('ike', LogLevel.AUDIT, `IKE_SA_INIT from ${this.sa.remote.address} refused (${notifyName(type)}): ${reason}`);
    this.#error = { type, data };
    return 'failed';
  }
}
