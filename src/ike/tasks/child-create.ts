/**
 * One CHILD SA (RFC 7296 §1.3, §2.9, §2.17): in IKE_AUTH with the IKE SA's nonces and no key
 * exchange of its own, or in CREATE_CHILD_SA with its own nonces and, with PFS, a KE payload.
 * A CHILD SA rekey (§1.3.3, §2.8) is the same task with REKEY_SA naming the SA it replaces.
 *
 *   CREATE_CHILD_SA:  HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], TSi, TSr}  -->
 *                                              <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *
 * The SAs are installed through PF_KEY and the SPD (../child-install.ts): our SPI comes from
 * GETSPI, the keys from KEYMAT, the traffic selectors are those both sides agreed (the
 * responder narrows, §2.9), with UDP encapsulation when a NAT was detected (§2.23).
 *
 * Rekey collisions (§2.8.1): when both ends rekey the same CHILD SA at once, both exchanges
 * complete; the one whose four nonces hold the lowest made a redundant SA, which its initiator
 * deletes, and the other initiator deletes the old SA as usual.
 *
 * A CHILD SA that cannot be made (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...) is answered and
 * logged; the IKE SA carries on (§2.21.1).
 */
import type { ChildConfig } from '../../config/ike-config.js';
import type { KeyExchange } from '../../crypto/provider.js';
import { algorithmById, TransformType } from '../../crypto/registry.js';
import { LogLevel } from '../../log.js';
import { allocateSpi, installChild, releaseSpi as releaseLarval, type NegotiatedChild } from '../child-install.js';
import type { ChildSa, IkeSa } from '../ike-sa.js';
import { deriveChildKeys } from '../keymat.js';
import { ExchangeType } from '../message.js';
import { NotifyType, PayloadType, u16 } from '../payloads.js';
import { chooseKeGroup, narrowTrafficSelectors, selectProposal, type TsRange } from '../select.js';
import { ProtocolId, type WireProposal } from '../types.js';
import {
  acceptsAnswer, compareNonces, hex32, jitter, policyName, randomBytes, firstKeGroup, keGroupOf, lowest, NONCE_LENGTH, offersGroup, rangesOf, spiBytes, spiNumber,
  stripKe, tsPayload, tsRanges, tsText, wireProposals, withoutKe,
} from './common.js';
import { InboundMessage, notifyName, OutboundMessage, type Task, type TaskStatus } from './task.js';

/** Our selectors for a CHILD config: `dynamic` is our / the peer's IKE address (§2.9). */
function ourSelectors(sa: IkeSa, config: ChildConfig): { local: TsRange[]; remote: TsRange[] } {
  return { local: tsRanges(config.local_ts, sa.local.address), remote: tsRanges(config.remote_ts, sa.remote.address) };
}

/** What a finished negotiation gives to install. */
interface Agreed {
  config: ChildConfig;
  proposal: WireProposal;
  spiIn: number;
  spiOut: number;
  ni: Uint8Array;
  nr: Uint8Array;
  sharedSecret?: Uint8Array;
  tsLocal: TsRange[];
  tsRemote: TsRange[];
  mode: 'tunnel' | 'transport';
  role: 'initiator' | 'responder';
  /** the responder of a rekey: keep sending on the old SA until it is deleted (§2.8) */
  keepOutbound?: boolean;
}

/** RFC 7296 §2.17 keys, PF_KEY/SPD installation, timers, key log. Returns the CHILD SA or why not. */
function install(sa: IkeSa, a: Agreed, now: number): ChildSa | string {
  const { crypto, pfkey, spd } = sa.context;
  let encryption = null;
  let integrity = null;
  for (const t of a.proposal.transforms) {
    if (t.type === TransformType.ENCR) encryption = algorithmById(TransformType.ENCR, t.id, t.keyBits ?? 0) ?? null;
    else if (t.type === TransformType.INTEG && t.id !== 0) integrity = algorithmById(TransformType.INTEG, t.id) ?? null;
  }
  if (!encryption) return 'no known encryption algorithm chosen';
  let keys;
  try {
    keys = deriveChildKeys(crypto, sa.keys!.skD, { prf: sa.algorithms!.prf, encryption, integrity }, { ni: a.ni, nr: a.nr, sharedSecret: a.sharedSecret });
  } catch (e) {
    return (e as Error).message;
  } finally {
    a.sharedSecret?.fill(0);
  }
  const encapsulated = sa.natLocal || sa.natRemote || sa.connection.encap;
  const c = a.config;
  const child: NegotiatedChild = {
    name: policyName(sa.connection, c, sa.remote.address),
    role: a.role,
    proposal: a.proposal,
    keys,
    spiIn: a.spiIn,
    spiOut: a.spiOut,
    local: sa.local.address,
    remote: sa.remote.address,
    tsLocal: a.tsLocal,
    tsRemote: a.tsRemote,
    mode: a.mode,
    encapsulation: encapsulated ? { localPort: sa.context.ports.natT, remotePort: sa.remote.port === 500 ? 4500 : sa.remote.port } : undefined,
    lifetimes: { hardSeconds: c.life_time, hardBytes: c.life_bytes || undefined },
  };
  const r = installChild(pfkey, spd, child, { keepOutbound: a.keepOutbound });
  if (!r.ok) return r.reason;
  const rand = jitter(crypto, c.rand_time);
  const childSa: ChildSa = {
    config: c, proposal: a.proposal, installed: r.installed, tsLocal: a.tsLocal, tsRemote: a.tsRemote, created: now,
    rekeyAt: c.rekey_time > 0 ? now + (c.rekey_time - rand) * 1000 : 0,
    expireAt: c.life_time > 0 ? now + c.life_time * 1000 : 0,
    state: 'installed', inboundPackets: 0,
  };
  sa.addChild(childSa);
  const keylog = sa.context.keylog;
  if (keylog) {
    const [outKeys, inKeys] = a.role === 'initiator'
      ? [{ encryption: keys.encryptionI, integrity: keys.integrityI }, { encryption: keys.encryptionR, integrity: keys.integrityR }]
      : [{ encryption: keys.encryptionR, integrity: keys.integrityR }, { encryption: keys.encryptionI, integrity: keys.integrityI }];
    keylog.esp({ source: sa.local.address, destination: sa.remote.address, spi: a.spiOut, encryption, integrity }, outKeys);
    keylog.esp({ source: sa.remote.address, destination: sa.local.address, spi: a.spiIn, encryption, integrity }, inKeys);
  }
  sa.log('chd', LogLevel.AUDIT, `CHILD_SA ${c.name}{${hex32(a.spiIn)}_i ${hex32(a.spiOut)}_o} established with ${tsText(a.tsLocal)} === ${tsText(a.tsRemote)}${encapsulated ? ' (UDP-encapsulated)' : ''}`);
  return childSa;
}

/** A larval SPI we got from GETSPI and no longer need (the negotiation failed). */
function releaseSpi(sa: IkeSa, spi: number): void {
  if (spi) releaseLarval(sa.context.pfkey, spi, sa.local.address, sa.remote.address);
}

/** Our side of a CHILD SA exchange we start: in IKE_AUTH, a new CHILD SA, or a rekey. */
export class ChildCreateInitiator implements Task {
  readonly name: string;
  readonly exchange: number;
  #spiIn = 0;
  readonly #ni: Uint8Array | null;
  #nr: Uint8Array | null = null;
  #ke: KeyExchange | null = null;
  #group: number;
  #tsLocal: TsRange[];
  #tsRemote: TsRange[];
  /** the responder side's record of a collision on the same CHILD SA (§2.8.1) */
  collision: { ni: Uint8Array; nr: Uint8Array; child: ChildSa } | null = null;
  /** the CHILD SA this exchange made */
  created: ChildSa | null = null;

  constructor(readonly sa: IkeSa, readonly config: ChildConfig, readonly now: () => number, readonly options: { inIkeAuth?: boolean; rekey?: ChildSa; group?: number } = {}) {
    const inIkeAuth = options.inIkeAuth === true;
    this.exchange = inIkeAuth ? ExchangeType.IKE_AUTH : ExchangeType.CREATE_CHILD_SA;
    this.name = options.rekey ? 'CHILD_SA rekey' : 'CHILD_SA create';
    this.#ni = inIkeAuth ? null : randomBytes(sa.context.crypto, NONCE_LENGTH);
    this.#group = options.group ?? (inIkeAuth ? 0 : firstKeGroup(config.esp_proposals));
    const ours = ourSelectors(sa, config);
    this.#tsLocal = options.rekey ? options.rekey.tsLocal : ours.local;
    this.#tsRemote = options.rekey ? options.rekey.tsRemote : ours.remote;
  }

  get nonces(): { ni: Uint8Array | null; nr: Uint8Array | null } {
    return { ni: this.#ni, nr: this.#nr };
  }

  build(out: OutboundMessage): TaskStatus {
    const sa = this.sa;
    const inIkeAuth = this.exchange === ExchangeType.IKE_AUTH;
    const spi = allocateSpi(sa.context.pfkey, sa.local.address, sa.remote.address);
    if (spi === undefined) {
      sa.log('chd', LogLevel.AUDIT, `no SPI for CHILD_SA ${this.config.name}`);
      return inIkeAuth ? 'failed' : 'done';
    }
    this.#spiIn = spi;
    const rekey = this.options.rekey;
    if (rekey) {
      rekey.state = 'rekeying';
      out.notify(NotifyType.REKEY_SA, new Uint8Array(0), ProtocolId.ESP, spiBytes(rekey.installed.spiIn));
    }
    if (this.config.mode === 'transport') out.notify(NotifyType.USE_TRANSPORT_MODE);
    const proposals = inIkeAuth ? withoutKe(this.config.esp_proposals) : this.config.esp_proposals;
    out.add({ type: PayloadType.SA, proposals: wireProposals(proposals, ProtocolId.ESP, spiBytes(spi), inIkeAuth) });
    if (!inIkeAuth) {
      out.add({ type: PayloadType.NONCE, nonce: this.#ni! });
      if (this.#group) {
        this.#ke = sa.context.crypto.keyExchange(this.#group);
        out.add({ type: PayloadType.KE, group: this.#group, data: this.#ke.publicKey });
      }
    }
    out.add(tsPayload(PayloadType.TSi, this.#tsLocal), tsPayload(PayloadType.TSr, this.#tsRemote));
    return 'done';
  }

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    const inIkeAuth = this.exchange === ExchangeType.IKE_AUTH;
    // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
    const exchange = this.#ke;
    this.#ke = null;
    if (sa.state !== 'established' && sa.state !== 'rekeyed') return 'done'; // IKE_AUTH failed: nothing to install
    const rekey = this.options.rekey;
    const error = message.error();
    if (error) {
      if (error.notifyType === NotifyType.INVALID_KE_PAYLOAD && !inIkeAuth && error.data.length === 2) {
        const group = u16(error.data, 0);
        if (offersGroup(this.config.esp_proposals, group) && group !== this.#group) {
          sa.log('chd', LogLevel.CONTROL, `peer wants group ${group} for CHILD_SA ${this.config.name}: retrying`);
          return this.#retry(group);
        }
      }
      sa.log('chd', LogLevel.AUDIT, `CHILD_SA ${this.config.name} ${rekey ? 'rekey' : 'creation'} refused by the peer: ${notifyName(error.notifyType)}`);
      if (rekey && rekey.state === 'rekeying') {
        rekey.state = 'installed';
        // TEMPORARY_FAILURE (§2.25, a collision the peer resolved its way) or anything else: try again shortly
        rekey.rekeyAt = this.now() + 2000 + jitter(sa.context.crypto, 3000);
      }
      releaseSpi(sa, this.#spiIn);
      return 'done';
    }
    const saPayload = message.get(PayloadType.SA);
    if (!saPayload || saPayload.proposals.length !== 1) return this.#refused('no single proposal in the answer');
    const answer = inIkeAuth ? stripKe(saPayload.proposals)[0] : saPayload.proposals[0];
    const proposals = inIkeAuth ? withoutKe(this.config.esp_proposals) : this.config.esp_proposals;
    const check = acceptsAnswer(proposals, answer, this.#group || undefined);
    if (!check.ok) return this.#refused(`the peer chose a proposal we did not offer: ${check.reasons.slice(0, 2).join('; ')}`);
    const spiOut = spiNumber(answer.spi);
    // IKE_AUTH: the IKE SA's nonces (§2.17); an IKE SA made by a rekey has no IKE_SA_INIT of its own
    let ni = inIkeAuth ? sa.init!.ni : new Uint8Array(0);
    let nr = inIkeAuth ? sa.init!.nr : new Uint8Array(0);
    let sharedSecret: Uint8Array | undefined;
    if (!inIkeAuth) {
      const nonce = message.get(PayloadType.NONCE);
      if (!nonce) return this.#refused('no nonce in the answer');
      ni = this.#ni!;
      nr = nonce.nonce;
      this.#nr = nr;
      const group = keGroupOf(answer);
      if (group !== this.#group) return this.#refused(`key exchange group ${group} in the answer, ${this.#group} offered`);
      if (group) {
        const ke = message.get(PayloadType.KE);
        if (!ke || ke.group !== group) return this.#refused('no KE payload of the chosen group');
        try {
          sharedSecret = exchange!.computeSecret(ke.data);
        } catch (e) {
          return this.#refused(`the peer's KE value: ${(e as Error).message}`);
        }
      }
    }
    // §2.9: the responder's selectors must be a subset of ours
    const narrowed = narrowTrafficSelectors({ local: this.#tsLocal, remote: this.#tsRemote }, { tsi: rangesOf(message.get(PayloadType.TSi)), tsr: rangesOf(message.get(PayloadType.TSr)) }, 'initiator');
    if (!narrowed.ok) return this.#refused(`traffic selectors: ${narrowed.reason}`);
    const mode = this.config.mode === 'transport' && message.notify(NotifyType.USE_TRANSPORT_MODE) ? 'transport' : 'tunnel';
    const made = install(sa, { config: this.config, proposal: answer, spiIn: this.#spiIn, spiOut, ni, nr, sharedSecret, tsLocal: narrowed.tsi, tsRemote: narrowed.tsr, mode, role: 'initiator' }, this.now());
    if (typeof made === 'string') return this.#refused(made);
    this.created = made;
    if (rekey) this.#rekeyed(rekey, made);
    return 'done';
  }

  /**
   * Our rekey is done: normally we delete the old SA (§2.8). After a collision (§2.8.1) the
   * exchange with the lowest nonce made the redundant SA: if it is ours, we delete our new SA
   * and leave the old one to the peer; else we delete the old one.
   */
  #rekeyed(old: ChildSa, made: ChildSa): void {
    const sa = this.sa;
    const c = this.collision;
    if (c) {
      const min = lowest([this.#ni!, this.#nr!, c.ni, c.nr]);
      const oursLost = compareNonces(min, this.#ni!) === 0 || compareNonces(min, this.#nr!) === 0;
      sa.log('chd', LogLevel.CONTROL, `CHILD_SA ${this.config.name} rekey collision: ${oursLost ? 'our' : "the peer's"} new SA is redundant (RFC 7296 §2.8.1)`);
      if (oursLost) {
        made.state = 'deleting';
        sa.deleteChildren([made], this.now());
        return;
      }
    }
    old.state = 'rekeyed';
    sa.deleteChildren([old], this.now());
  }

  abort(): void {
    if (!this.created) releaseSpi(this.sa, this.#spiIn);
  }

  #retry(group: number): TaskStatus {
    const sa = this.sa;
    releaseSpi(sa, this.#spiIn);
    if (this.options.rekey) this.options.rekey.state = 'installed';
    sa.queue([new ChildCreateInitiator(sa, this.config, this.now, { ...this.options, group })], this.now());
    return 'done';
  }

  #refused(reason: string): TaskStatus {
    const sa = this.sa;
    sa.log('chd', LogLevel.AUDIT, `CHILD_SA ${this.config.name} not established: ${reason}`);
    releaseSpi(sa, this.#spiIn);
    if (this.options.rekey?.state === 'rekeying') this.options.rekey.state = 'installed';
    // §1.4.1-style cleanup of what the peer may have installed: ask it to delete the SPI it gave
    return 'done';
  }
}

/** The peer's CHILD SA request: in IKE_AUTH, CREATE_CHILD_SA for a new SA, or a rekey. */
export class ChildCreateResponder implements Task {
  readonly name: string;
  readonly exchange: number;
  #error: { type: number; data?: Uint8Array } | null = null;
  #answer: WireProposal | null = null;
  #config: ChildConfig | null = null;
  #nr: Uint8Array | null = null;
  /** our KE payload's group and public value (the KeyExchange itself is let go once used) */
  #kePublic: { group: number; data: Uint8Array } | null = null;
  #spiIn = 0;
  #tsi: TsRange[] = [];
  #tsr: TsRange[] = [];
  #mode: 'tunnel' | 'transport' = 'tunnel';
  #made: ChildSa | null = null;

  constructor(readonly sa: IkeSa, readonly now: () => number, readonly inIkeAuth: boolean) {
    this.exchange = inIkeAuth ? ExchangeType.IKE_AUTH : ExchangeType.CREATE_CHILD_SA;
    this.name = 'CHILD_SA create';
  }

  process(message: InboundMessage): TaskStatus {
    const sa = this.sa;
    if (sa.state !== 'established') return 'done'; // IKE_AUTH failed: the IKE SA answers alone
    const saPayload = message.get(PayloadType.SA);
    const tsi = rangesOf(message.get(PayloadType.TSi));
    const tsr = rangesOf(message.get(PayloadType.TSr));
    if (!saPayload || tsi.length === 0 || tsr.length === 0) {
      if (this.inIkeAuth && !saPayload) return 'done'; // RFC 6023-style childless IKE_AUTH: nothing to make
      return this.#refuse(NotifyType.INVALID_SYNTAX, 'CHILD_SA request without SA, TSi and TSr');
    }
    // which CHILD config: the one being rekeyed, else the first whose selectors and proposals fit
    let configs = sa.connection.children;
    const rekeyNotify = message.notify(NotifyType.REKEY_SA);
    let rekeyed: ChildSa | undefined;
    if (rekeyNotify) {
      // §1.3.3, §3.10: the SA to rekey is the one of the notify's protocol with that SPI (our outbound)
      rekeyed = sa.childBySpi(spiNumber(rekeyNotify.spi), 'out');
      if (rekeyed && rekeyed.proposal.protocol !== rekeyNotify.protocol) rekeyed = undefined;
      if (!rekeyed) return this.#refuse(NotifyType.CHILD_SA_NOT_FOUND, `rekey of an unknown CHILD_SA ${Array.from(rekeyNotify.spi, (b) => b.toString(16).padStart(2, '0')).join('')}`);
      configs = [rekeyed.config];
    }
    const offered = this.inIkeAuth ? stripKe(saPayload.proposals) : saPayload.proposals;
    const ke = this.inIkeAuth ? undefined : message.get(PayloadType.KE);
    let why = 'no CHILD config';
    for (const config of configs) {
      const ours = this.inIkeAuth ? withoutKe(config.esp_proposals) : config.esp_proposals;
      const chosen = selectProposal(ours, offered, ke ? { keGroup: ke.group } : {});
      if (!chosen.ok) {
        why = `${config.name}: no acceptable proposal (${chosen.reasons.slice(0, 3).join('; ')})`;
        continue;
      }
      const narrowed = narrowTrafficSelectors(rekeyed ? { local: rekeyed.tsLocal, remote: rekeyed.tsRemote } : ourSelectors(sa, config), { tsi, tsr }, 'responder');
      if (!narrowed.ok) {
        why = `${config.name}: ${narrowed.reason}`;
        continue;
      }
      this.#config = config;
      this.#answer = chosen.proposal;
      this.#tsi = narrowed.tsi;
      this.#tsr = narrowed.tsr;
      break;
    }
    if (!this.#config || !this.#answer) {
      const notify = why.includes('proposal') ? NotifyType.NO_PROPOSAL_CHOSEN : NotifyType.TS_UNACCEPTABLE;
      return this.#refuse(notify, why);
    }
    let ni = this.inIkeAuth ? sa.init!.ni : new Uint8Array(0);
    let nr = this.inIkeAuth ? sa.init!.nr : new Uint8Array(0);
    let sharedSecret: Uint8Array | undefined;
    if (!this.inIkeAuth) {
      const nonce = message.get(PayloadType.NONCE);
      if (!nonce) return this.#refuse(NotifyType.INVALID_SYNTAX, 'CREATE_CHILD_SA without a nonce');
      const group = chooseKeGroup(this.#answer, ke?.group);
      if (!group.ok) {
        if (group.notify === NotifyType.INVALID_KE_PAYLOAD) return this.#refuse(NotifyType.INVALID_KE_PAYLOAD, `KE group ${ke?.group ?? 'none'}; asking for ${group.group}`, Uint8Array.of(group.group >> 8, group.group & 0xff));
        return this.#refuse(NotifyType.INVALID_SYNTAX, group.reason);
      }
      if (group.group) {
        // the private value is used once: let it go (XS keeps the latest task of each kind reachable, and a KeyExchange holds one of the 32 PSA key slots)
        const exchange = sa.context.crypto.keyExchange(group.group);
        this.#kePublic = { group: exchange.group, data: exchange.publicKey };
        try {
          sharedSecret = exchange.computeSecret(ke!.data);
        } catch (e) {
          return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, `the peer's KE value: ${(e as Error).message}`);
        }
      }
      ni = nonce.nonce;
      nr = randomBytes(sa.context.crypto, NONCE_LENGTH);
      this.#nr = nr;
    }
    const spi = allocateSpi(sa.context.pfkey, sa.local.address, sa.remote.address);
    if (spi === undefined) return this.#refuse(NotifyType.NO_ADDITIONAL_SAS, 'no SPI available');
    this.#spiIn = spi;
    this.#mode = this.#config.mode === 'transport' && message.notify(NotifyType.USE_TRANSPORT_MODE) ? 'transport' : 'tunnel';
    const made = install(sa, {
      config: this.#config, proposal: this.#answer, spiIn: spi, spiOut: spiNumber(this.#answer.spi), ni, nr, sharedSecret,
      tsLocal: this.#tsr, tsRemote: this.#tsi, mode: this.#mode, role: 'responder', keepOutbound: rekeyed !== undefined,
    }, this.now());
    if (typeof made === 'string') {
      releaseSpi(sa, spi);
      return this.#refuse(NotifyType.NO_PROPOSAL_CHOSEN, made);
    }
    this.#made = made;
    if (rekeyed) {
      // §2.8.1: our own rekey of the same SA in flight? record the collision for it
      for (const t of sa.activeTasks) {
        if (t instanceof ChildCreateInitiator && t.options.rekey === rekeyed && t.nonces.ni) t.collision = { ni, nr, child: made };
      }
      // the initiator of this rekey deletes the old SA (§2.8); until then it still receives
      if (rekeyed.state === 'installed') rekeyed.state = 'rekeyed';
    }
    return 'done';
  }

  build(out: OutboundMessage): TaskStatus {
    if (this.#error) {
      out.notify(this.#error.type, this.#error.data);
      return 'done';
    }
    if (!this.#made) return 'done';
    const answer = { ...this.#answer!, spi: spiBytes(this.#spiIn) };
    if (this.#mode === 'transport') out.notify(NotifyType.USE_TRANSPORT_MODE);
    out.add({ type: PayloadType.SA, proposals: [answer] });
    if (!this.inIkeAuth) {
      out.add({ type: PayloadType.NONCE, nonce: this.#nr! });
      if (this.#kePublic) out.add({ type: PayloadType.KE, group: this.#kePublic.group, data: this.#kePublic.data });
    }
    out.add(tsPayload(PayloadType.TSi, this.#tsi), tsPayload(PayloadType.TSr, this.#tsr));
    return 'done';
  }

  #refuse(type: number, reason: string, data?: Uint8Array): TaskStatus {
    this.sa.log('chd', LogLevel.AUDIT, `CHILD_SA request refused (${notifyName(type)}): ${reason}`);
    this.#error = { type, data };
    return 'done';
  }
}
