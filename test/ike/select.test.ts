/**
 * IKEv2 proposal selection (RFC 7296 §2.7, §3.3.6), the KE group rule (INVALID_KE_PAYLOAD,
 * §1.2, §3.4) and traffic-selector narrowing (§2.9): strongSwan's offers against several of
 * our configurations, malformed offers as failures, and a property over random offers.
 */
import fc from 'fast-check';
import { parseProposal, proposalTransforms, type Proposal, type ProposalProtocol } from '../../src/config/proposals.js';
import { Encr, Esn, Integ, Ke, Prf, TransformType } from '../../src/crypto/registry.js';
import { chooseKeGroup, intersectTs, narrowTrafficSelectors, NotifyType, selectProposal, tsFromConfig, tsType, TsType, type TsRange } from '../../src/ike/select.js';
import { ProtocolId, type WireProposal, type WireTransform } from '../../src/ike/types.js';
import { formatAddress, parseRange } from '../../src/policy/selector.js';
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';

const ours = (protocol: ProposalProtocol, ...texts: string[]): Proposal[] => texts.map((t) => parseProposal(protocol, t));

/** What a strongSwan initiator sends for its proposal strings: every transform, numbered 1, 2, ... */
function offer(protocol: ProposalProtocol, ...texts: string[]): WireProposal[] {
  return texts.map((text, i) => ({
    number: i + 1,
    protocol: protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP,
    spi: protocol === 'ike' ? new Uint8Array(0) : Uint8Array.of(0xc1, 0, 0, i + 1),
    transforms: proposalTransforms(parseProposal(protocol, text)).map((t): WireTransform => (t.keyBits ? { type: t.type, id: t.id, keyBits: t.keyBits } : { type: t.type, id: t.id })),
  }));
}

const STRONGSWAN_IKE = offer('ike', 'aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048');

/** [type, id, keyBits] of the chosen transforms. */
function chosen(result: ReturnType<typeof selectProposal>): [number, number, number][] {
  ok(result.ok, `expected a proposal, got ${result.ok ? '' : result.reasons.join('; ')}`);
  return result.proposal.transforms.map((t) => [t.type, t.id, t.keyBits ?? 0]);
}

function refused(result: ReturnType<typeof selectProposal>): string[] {
  ok(!result.ok, 'expected NO_PROPOSAL_CHOSEN');
  equal(result.notify, NotifyType.NO_PROPOSAL_CHOSEN);
  return result.reasons;
}

test('ike select: strongSwan\'s offer against a matching configuration: one transform per type, its proposal number kept', () => {
  const r = selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), STRONGSWAN_IKE);
  deepEqual(chosen(r), [[TransformType.ENCR, Encr.AES_GCM_16, 128], [TransformType.PRF, Prf.HMAC_SHA2_256, 0], [TransformType.KE, Ke.CURVE25519, 0]]);
  ok(r.ok);
  equal(r.proposal.number, 1);
  equal(r.proposal.protocol, ProtocolId.IKE);
  equal(r.proposal.spi.length, 0);
  equal(r.keGroup, Ke.CURVE25519);
  equal(r.configured.text, 'aes128gcm16-prfsha256-curve25519');

  const second = selectProposal(ours('ike', 'aes256-sha256-modp2048'), STRONGSWAN_IKE);
  deepEqual(chosen(second), [[TransformType.ENCR, Encr.AES_CBC, 256], [TransformType.PRF, Prf.HMAC_SHA2_256, 0], [TransformType.INTEG, Integ.HMAC_SHA2_256_128, 0], [TransformType.KE, Ke.MODP_2048, 0]]);
  ok(second.ok);
  equal(second.proposal.number, 2, 'the peer\'s proposal number, not ours');
});

test('ike select: our order decides (prefer_configured_proposals), the peer\'s when asked; within a type too', () => {
  const mine = ours('ike', 'aes256-sha256-modp2048', 'aes128gcm16-prfsha256-x25519');
  const r = selectProposal(mine, STRONGSWAN_IKE);
  ok(r.ok);
  equal(r.proposal.number, 2, 'our first proposal matches the peer\'s second');
  const theirs = selectProposal(mine, STRONGSWAN_IKE, { preferConfigured: false });
  ok(theirs.ok);
  equal(theirs.proposal.number, 1, 'the peer\'s first');
  // alternatives within one type: ours first ecp256, the peer lists x25519 first
  const alt = offer('ike', 'aes128gcm16-prfsha256-x25519-ecp256');
  const o = selectProposal(ours('ike', 'aes128gcm16-prfsha384-prfsha256-ecp256-x25519'), alt);
  ok(o.ok);
  equal(o.keGroup, Ke.ECP_256);
  const p = selectProposal(ours('ike', 'aes128gcm16-prfsha384-prfsha256-ecp256-x25519'), alt, { preferConfigured: false });
  ok(p.ok);
  equal(p.keGroup, Ke.CURVE25519);
  // the default proposals accept strongSwan's offer
  const d = selectProposal(ours('ike', 'aes128gcm16-aes192gcm16-aes256gcm16-prfsha256-curve25519-ecp256'), STRONGSWAN_IKE);
  equal(d.ok && d.proposal.number, 1);
});

test('ike select: no common proposal, key length mismatch: NO_PROPOSAL_CHOSEN with reasons', () => {
  const reasons = refused(selectProposal(ours('ike', 'aes256gcm16-prfsha384-ecp384', 'chacha20poly1305-prfsha512-x25519'), STRONGSWAN_IKE));
  equal(reasons.length, 4, 'each pair says why');
  ok(reasons[0].startsWith('proposal 1 vs aes256gcm16'), reasons[0]);
  // AES-128 offered, AES-256 configured: same transform ID 12, other key length
  const r = refused(selectProposal(ours('ike', 'aes256-sha256-modp2048'), offer('ike', 'aes128-sha256-modp2048')));
  deepEqual(r, ['proposal 1 vs aes256-prfsha256-sha256-modp2048: no common ENCR']);
  // the key length attribute left out of an AES offer matches nothing (§3.3.5)
  const noKeyLength = offer('ike', 'aes128-sha256-modp2048');
  delete noKeyLength[0].transforms[0].keyBits;
  refused(selectProposal(ours('ike', 'aes128-sha256-modp2048'), noKeyLength));
  // an ESP offer to an IKE configuration
  deepEqual(refused(selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), offer('esp', 'aes128gcm16'))), ['no proposal of our protocol offered']);
});

test('ike select: an unknown transform type makes that proposal unacceptable, not the others (§3.3.6)', () => {
  const o = offer('ike', 'aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048');
  o[0].transforms.push({ type: 6, id: 35 }); // RFC 9370 ADDKE1, not understood here
  const r = selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048'), o);
  ok(r.ok);
  equal(r.proposal.number, 2);
  const only = refused(selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), o));
  ok(only[0].includes('transform type 6'), only[0]);
  // an unknown transform ID of a known type is only a transform we don't match
  const unknownId = offer('ike', 'aes128gcm16-prfsha256-x25519');
  unknownId[0].transforms.unshift({ type: TransformType.ENCR, id: 1031, keyBits: 128 });
  equal(selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), unknownId).ok, true);
  // ESN in an IKE proposal, PRF in an ESP one: types the protocol doesn't carry
  const esnInIke = offer('ike', 'aes128gcm16-prfsha256-x25519');
  esnInIke[0].transforms.push({ type: TransformType.ESN, id: Esn.NO });
  refused(selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), esnInIke));
  const prfInEsp = offer('esp', 'aes128gcm16');
  prfInEsp[0].transforms.push({ type: TransformType.PRF, id: Prf.HMAC_SHA2_256 });
  refused(selectProposal(ours('esp', 'aes128gcm16'), prfInEsp));
});

test('ike select: missing mandatory types refuse; AEAD with INTEG NONE is accepted and echoed (§3.3.3)', () => {
  const noKe = offer('ike', 'aes128gcm16-prfsha256-x25519');
  noKe[0].transforms = noKe[0].transforms.filter((t) => t.type !== TransformType.KE);
  ok(refused(selectProposal(ours('ike', 'aes128gcm16-prfsha256-x25519'), noKe))[0].endsWith('no KE transform offered'));
  const noInteg = offer('esp', 'aes128-sha256');
  noInteg[0].transforms = noInteg[0].transforms.filter((t) => t.type !== TransformType.INTEG);
  refused(selectProposal(ours('esp', 'aes128-sha256'), noInteg));
  const withNone = offer('esp', 'aes128gcm16');
  withNone[0].transforms.push({ type: TransformType.INTEG, id: Integ.NONE });
  deepEqual(chosen(selectProposal(ours('esp', 'aes128gcm16'), withNone)), [[TransformType.ENCR, Encr.AES_GCM_16, 128], [TransformType.INTEG, Integ.NONE, 0], [TransformType.ESN, Esn.NO, 0]]);
  const withSha = offer('esp', 'aes128gcm16');
  withSha[0].transforms.push({ type: TransformType.INTEG, id: Integ.HMAC_SHA2_256_128 });
  refused(selectProposal(ours('esp', 'aes128gcm16'), withSha));
});

test('ike select: ESP ESN and no-ESN, an ESP offer without ESN transform means no ESN; the SPI is kept', () => {
  const plain = offer('esp', 'aes128gcm16'); // noesn
  const r = selectProposal(ours('esp', 'aes128gcm16'), plain);
  ok(r.ok);
  equal(r.esn, false);
  deepEqual(Array.from(r.proposal.spi), [0xc1, 0, 0, 1]);
  // we require ESN, the peer offers only noesn
  refused(selectProposal(ours('esp', 'aes128gcm16-esn'), plain));
  // both offered: our order (esn first) decides
  const both = offer('esp', 'aes128gcm16-noesn-esn');
  const e = selectProposal(ours('esp', 'aes128gcm16-esn-noesn'), both);
  equal(e.ok && e.esn, true);
  const n = selectProposal(ours('esp', 'aes128gcm16-noesn-esn'), both);
  equal(n.ok && n.esn, false);
  // no ESN transform at all (what some peers send): no ESN, nothing added to the answer
  const none = offer('esp', 'aes128gcm16');
  none[0].transforms = none[0].transforms.filter((t) => t.type !== TransformType.ESN);
  const x = selectProposal(ours('esp', 'aes128gcm16'), none);
  deepEqual(chosen(x), [[TransformType.ENCR, Encr.AES_GCM_16, 128]]);
  equal(x.ok && x.esn, false);
  refused(selectProposal(ours('esp', 'aes128gcm16-esn'), none));
});

test('ike select: ESP PFS: groups must match, "none" or no KE transform means no PFS', () => {
  const pfs = offer('esp', 'aes256gcm16-ecp384');
  const r = selectProposal(ours('esp', 'aes256gcm16-ecp384'), pfs);
  equal(r.ok && r.keGroup, Ke.ECP_384);
  refused(selectProposal(ours('esp', 'aes256gcm16'), pfs)); // no PFS configured, peer insists
  const optional = offer('esp', 'aes256gcm16-ecp384-none');
  const n = selectProposal(ours('esp', 'aes256gcm16'), optional);
  ok(n.ok);
  equal(n.keGroup, undefined);
  deepEqual(chosen(n)[1], [TransformType.KE, Ke.NONE, 0]);
  refused(selectProposal(ours('esp', 'aes256gcm16-ecp384'), offer('esp', 'aes256gcm16')));
  equal(selectProposal(ours('esp', 'aes256gcm16-ecp384-none'), offer('esp', 'aes256gcm16')).ok, true);
});

test('ike select: INVALID_KE_PAYLOAD names our preferred group; the KE payload\'s group is taken when acceptable', () => {
  // strongSwan sends KE x25519 for its first proposal; we prefer aes256-sha256-modp2048
  const r = selectProposal(ours('ike', 'aes256-sha256-modp2048', 'aes128gcm16-prfsha256-x25519'), STRONGSWAN_IKE, { keGroup: Ke.CURVE25519 });
  ok(r.ok);
  deepEqual(chooseKeGroup(r.proposal, Ke.CURVE25519), { ok: false, notify: NotifyType.INVALID_KE_PAYLOAD, group: Ke.MODP_2048 });
  // the retry with modp2048 is accepted
  deepEqual(chooseKeGroup(r.proposal, Ke.MODP_2048), { ok: true, group: Ke.MODP_2048 });
  // one proposal with several groups: the KE payload's group is chosen when we accept it
  const several = offer('ike', 'aes128gcm16-prfsha256-x25519-ecp256');
  const mine = ours('ike', 'aes128gcm16-prfsha256-ecp256-x25519');
  const hinted = selectProposal(mine, several, { keGroup: Ke.CURVE25519 });
  ok(hinted.ok);
  deepEqual(chooseKeGroup(hinted.proposal, Ke.CURVE25519), { ok: true, group: Ke.CURVE25519 });
  // a group we don't accept: our preferred one among those offered
  const other = selectProposal(mine, several, { keGroup: Ke.MODP_2048 });
  ok(other.ok);
  deepEqual(chooseKeGroup(other.proposal, Ke.MODP_2048), { ok: false, notify: NotifyType.INVALID_KE_PAYLOAD, group: Ke.ECP_256 });
  // no KE payload with a group chosen; a KE payload without one
  equal(chooseKeGroup(other.proposal, undefined).ok, false);
  const noPfs = selectProposal(ours('esp', 'aes128gcm16'), offer('esp', 'aes128gcm16'));
  ok(noPfs.ok);
  deepEqual(chooseKeGroup(noPfs.proposal, undefined), { ok: true, group: undefined });
  const k = chooseKeGroup(noPfs.proposal, Ke.ECP_256);
  equal(!k.ok && k.notify, NotifyType.INVALID_SYNTAX);
});

test('ike select: malformed offers are failures, never exceptions', () => {
  const mine = ours('ike', 'aes128gcm16-prfsha256-x25519');
  const empty = selectProposal(mine, []);
  ok(!empty.ok && empty.malformed);
  const noTransforms = offer('ike', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16-prfsha256-x25519');
  noTransforms[0].transforms = [];
  const r = selectProposal(mine, noTransforms);
  ok(r.ok, 'the empty proposal is skipped, the second chosen');
  equal(r.proposal.number, 2);
  noTransforms[1].transforms = [];
  deepEqual(refused(selectProposal(mine, noTransforms)), ['proposal 1: no transforms', 'proposal 2: no transforms']);
  const duplicated = offer('ike', 'aes128gcm16-prfsha256-x25519', 'aes128gcm16-prfsha256-x25519');
  duplicated[1].number = 1;
  const d = selectProposal(mine, duplicated);
  ok(!d.ok && d.malformed);
  ok(d.reasons[0].includes('numbered 1'), d.reasons[0]);
  const zero = offer('ike', 'aes128gcm16-prfsha256-x25519');
  zero[0].number = 0;
  ok(!selectProposal(mine, zero).ok);
  const badSpi = offer('ike', 'aes128gcm16-prfsha256-x25519');
  badSpi[0].spi = new Uint8Array(4);
  ok(refused(selectProposal(mine, badSpi))[0].includes('SPI of 4 bytes'));
  const ah = offer('esp', 'aes128-sha256');
  ah[0].protocol = ProtocolId.AH;
  refused(selectProposal(ours('esp', 'aes128-sha256'), ah));
  // garbage where a proposal list should be
  ok(!selectProposal(mine, null as unknown as WireProposal[]).ok);
  ok(!selectProposal(mine, [null as unknown as WireProposal]).ok);
  ok(!selectProposal(mine, [{ number: 1, protocol: 1 } as unknown as WireProposal]).ok);
  ok(!selectProposal([], STRONGSWAN_IKE).ok, 'nothing configured');
});

test('ike select: property: the chosen proposal holds only transforms both offered and configured, one per type', () => {
  const ikeKeywords = {
    encr: ['aes128gcm16', 'aes256gcm16', 'chacha20poly1305'],
    classic: ['aes128', 'aes256', 'aes128ctr'],
    integ: ['sha256', 'sha384', 'aesxcbc'],
    prf: ['prfsha256', 'prfsha384', 'prfsha512'],
    ke: ['x25519', 'ecp256', 'ecp384', 'modp2048', 'modp3072'],
  };
  const some = (xs: string[]) => fc.subarray(xs, { minLength: 1 }).chain((s) => fc.shuffledSubarray(s, { minLength: s.length }));
  const proposalText = fc.oneof(
    fc.tuple(some(ikeKeywords.encr), some(ikeKeywords.prf), some(ikeKeywords.ke)).map((p) => p.flat().join('-')),
    fc.tuple(some(ikeKeywords.classic), some(ikeKeywords.integ), some(ikeKeywords.ke)).map((p) => p.flat().join('-')),
  );
  fc.assert(fc.property(
    fc.array(proposalText, { minLength: 1, maxLength: 3 }), fc.array(proposalText, { minLength: 1, maxLength: 3 }), fc.boolean(),
    fc.option(fc.constantFrom(Ke.CURVE25519, Ke.ECP_256, Ke.MODP_2048), { nil: undefined }),
    (mineTexts, offeredTexts, preferConfigured, keGroup) => {
      const mine = ours('ike', ...mineTexts);
      const offered = offer('ike', ...offeredTexts);
      const r = selectProposal(mine, offered, { preferConfigured, keGroup });
      if (!r.ok) {
        // then no pair matches on its own either
        for (const m of mine) for (const o of offered) ok(!selectProposal([m], [{ ...o, number: 1 }]).ok);
        return;
      }
      const source = offered[r.proposal.number - 1];
      const types = r.proposal.transforms.map((t) => t.type);
      equal(new Set(types).size, types.length, 'one transform per type');
      deepEqual([...new Set(source.transforms.map((t) => t.type))].sort(), [...types].sort(), 'every offered type answered');
      for (const t of r.proposal.transforms) {
        ok(source.transforms.some((s) => s.type === t.type && s.id === t.id && (s.keyBits ?? 0) === (t.keyBits ?? 0)), 'offered');
        ok(proposalTransforms(r.configured).some((c) => c.type === t.type && c.id === t.id && c.keyBits === (t.keyBits ?? 0)), 'configured');
      }
      if (keGroup !== undefined && source.transforms.some((t) => t.id === keGroup && t.type === TransformType.KE) && r.configured.ke.some((t) => t.id === keGroup)) {
        equal(r.keGroup, keGroup, 'the KE payload\'s group when both accept it');
      }
    },
  ), { numRuns: 300 });
});

/* traffic selectors */

function ts(range: string, protocol = 0, startPort = 0, endPort = 65535): TsRange {
  const r = parseRange(range);
  return { start: r.start, end: r.end, protocol, startPort, endPort };
}

const show = (t: TsRange) => `${formatAddress(t.start)}-${formatAddress(t.end)}[${t.protocol}/${t.startPort}-${t.endPort}]`;

function narrowed(result: ReturnType<typeof narrowTrafficSelectors>): { tsi: string[]; tsr: string[] } {
  ok(result.ok, `expected selectors, got ${result.ok ? '' : result.reason}`);
  return { tsi: result.tsi.map(show), tsr: result.tsr.map(show) };
}

const SITE = { local: [ts('10.1.0.0/16')], remote: [ts('10.2.0.0/16')] };

test('ike ts: equal selectors stay; a wider offer is narrowed to ours; TSi is the initiator\'s side', () => {
  deepEqual(narrowed(narrowTrafficSelectors(SITE, { tsi: [ts('10.2.0.0/16')], tsr: [ts('10.1.0.0/16')] }, 'responder')),
    { tsi: ['10.2.0.0-10.2.255.255[0/0-65535]'], tsr: ['10.1.0.0-10.1.255.255[0/0-65535]'] });
  deepEqual(narrowed(narrowTrafficSelectors(SITE, { tsi: [ts('0.0.0.0/0')], tsr: [ts('10.0.0.0/8')] }, 'responder')),
    { tsi: ['10.2.0.0-10.2.255.255[0/0-65535]'], tsr: ['10.1.0.0-10.1.255.255[0/0-65535]'] });
  // a narrower offer is kept as offered (never widened)
  deepEqual(narrowed(narrowTrafficSelectors(SITE, { tsi: [ts('10.2.3.4')], tsr: [ts('10.1.0.0/24')] }, 'responder')).tsi, ['10.2.3.4-10.2.3.4[0/0-65535]']);
  // as initiator, checking the responder's answer: TSi is our local side
  deepEqual(narrowed(narrowTrafficSelectors(SITE, { tsi: [ts('10.1.0.0/24')], tsr: [ts('10.2.0.0/24')] }, 'initiator')),
    { tsi: ['10.1.0.0-10.1.0.255[0/0-65535]'], tsr: ['10.2.0.0-10.2.0.255[0/0-65535]'] });
  // a range not on prefix boundaries
  deepEqual(narrowed(narrowTrafficSelectors(SITE, { tsi: [ts('10.1.255.0-10.2.0.9')], tsr: [ts('10.1.0.0/16')] }, 'responder')).tsi, ['10.2.0.0-10.2.0.9[0/0-65535]']);
});

test('ike ts: disjoint selectors, wrong side, empty lists: TS_UNACCEPTABLE', () => {
  const r = narrowTrafficSelectors(SITE, { tsi: [ts('10.3.0.0/16')], tsr: [ts('10.1.0.0/16')] }, 'responder');
  deepEqual(r, { ok: false, notify: NotifyType.TS_UNACCEPTABLE, reason: 'no offered TSi selector intersects our policy' });
  const swapped = narrowTrafficSelectors(SITE, { tsi: [ts('10.1.0.0/16')], tsr: [ts('10.2.0.0/16')] }, 'responder');
  equal(!swapped.ok && swapped.notify, NotifyType.TS_UNACCEPTABLE);
  equal(narrowTrafficSelectors(SITE, { tsi: [], tsr: [ts('10.1.0.0/16')] }, 'responder').ok, false);
  equal(narrowTrafficSelectors(SITE, { tsi: [ts('10.2.0.0/16')], tsr: [ts('10.9.0.0/16')] }, 'responder').ok, false);
  // IPv4 against IPv6 never intersect
  equal(narrowTrafficSelectors(SITE, { tsi: [ts('::/0')], tsr: [ts('::/0')] }, 'responder').ok, false);
});

test('ike ts: protocol and port intersections, OPAQUE, ICMP type from the configuration', () => {
  const web = { local: [ts('10.1.0.0/16', 6, 443, 443)], remote: [ts('10.2.0.0/16')] };
  deepEqual(narrowed(narrowTrafficSelectors(web, { tsi: [ts('10.2.0.0/16')], tsr: [ts('10.1.0.0/16')] }, 'responder')).tsr, ['10.1.0.0-10.1.255.255[6/443-443]']);
  equal(narrowTrafficSelectors(web, { tsi: [ts('10.2.0.0/16')], tsr: [ts('10.1.0.0/16', 17)] }, 'responder').ok, false, 'UDP against TCP');
  equal(narrowTrafficSelectors(web, { tsi: [ts('10.2.0.0/16')], tsr: [ts('10.1.0.0/16', 6, 80, 80)] }, 'responder').ok, false, 'other port');
  equal(show(intersectTs(ts('10.0.0.0/8', 0, 1000, 2000), ts('10.1.0.0/16', 17, 1500, 3000)) as TsRange), '10.1.0.0-10.1.255.255[17/1500-2000]', 'ANY protocol with UDP');
  const opaque = ts('10.1.0.0/16', 17, 65535, 0);
  equal(show(intersectTs(opaque, ts('10.0.0.0/8', 17)) as TsRange), '10.1.0.0-10.1.255.255[17/65535-0]', 'OPAQUE within ANY');
  equal(intersectTs(opaque, ts('10.0.0.0/8', 17, 53, 53)), undefined, 'OPAQUE against a port range');
  // several of ours and several offered: each intersection, ours first, repeats dropped
  const two = { local: [ts('10.1.0.0/24'), ts('10.1.1.0/24')], remote: [ts('10.2.0.0/16')] };
  deepEqual(narrowed(narrowTrafficSelectors(two, { tsi: [ts('10.2.0.0/16'), ts('10.2.0.0/16')], tsr: [ts('10.1.0.128/25'), ts('10.1.0.0/16')] }, 'responder')).tsr,
    ['10.1.0.128-10.1.0.255[0/0-65535]', '10.1.0.0-10.1.0.255[0/0-65535]', '10.1.1.0-10.1.1.255[0/0-65535]']);
  // ICMP echo request (type 8) from the configuration: type in the high byte, any code (§3.13.1)
  const icmp = tsFromConfig({ text: '10.1.0.0/16[icmp/8]', dynamic: false, range: parseRange('10.1.0.0/16'), protocol: 1, ports: [8, 8] });
  ok(icmp);
  deepEqual([icmp.startPort, icmp.endPort], [0x0800, 0x08ff]);
  const dyn = tsFromConfig({ text: 'dynamic', dynamic: true, range: null, protocol: 0, ports: [0, 65535] }, Uint8Array.of(192, 0, 2, 1));
  equal(dyn && show(dyn), '192.0.2.1-192.0.2.1[0/0-65535]');
  equal(tsFromConfig({ text: 'dynamic', dynamic: true, range: null, protocol: 0, ports: [0, 65535] }), undefined);
});

test('ike ts: IPv6, TS types, malformed selectors ignored without exceptions', () => {
  const v6 = { local: [ts('2001:db8:1::/48')], remote: [ts('2001:db8:2::/48', 17, 500, 4500)] };
  const r = narrowTrafficSelectors(v6, { tsi: [ts('2001:db8::/32', 0, 0, 65535), ts('10.2.0.0/16')], tsr: [ts('2001:db8:1:5::/64')] }, 'responder');
  deepEqual(narrowed(r), { tsi: ['2001:db8:2::-2001:db8:2:ffff:ffff:ffff:ffff:ffff[17/500-4500]'], tsr: ['2001:db8:1:5::-2001:db8:1:5:ffff:ffff:ffff:ffff[0/0-65535]'] });
  ok(r.ok);
  equal(tsType(r.tsi[0]), TsType.IPV6_ADDR_RANGE);
  equal(tsType(ts('10.0.0.0/8')), TsType.IPV4_ADDR_RANGE);
  const backwards: TsRange = { start: Uint8Array.of(10, 2, 0, 9), end: Uint8Array.of(10, 2, 0, 1), protocol: 0, startPort: 0, endPort: 65535 };
  const mixed: TsRange = { start: Uint8Array.of(10, 2, 0, 1), end: new Uint8Array(16), protocol: 0, startPort: 0, endPort: 65535 };
  const ports: TsRange = { ...ts('10.2.0.0/16'), startPort: 90, endPort: 80 };
  const odd: TsRange = { ...ts('10.2.0.0/16'), protocol: 300 };
  for (const bad of [backwards, mixed, ports, odd, null as unknown as TsRange, { start: new Uint8Array(5), end: new Uint8Array(5), protocol: 0, startPort: 0, endPort: 1 }]) {
    equal(narrowTrafficSelectors(SITE, { tsi: [bad], tsr: [ts('10.1.0.0/16')] }, 'responder').ok, false);
  }
  ok(narrowTrafficSelectors(SITE, { tsi: [backwards, ts('10.2.0.0/16')], tsr: [ts('10.1.0.0/16')] }, 'responder').ok, 'the good one is kept');
  equal(narrowTrafficSelectors(SITE, {} as { tsi: TsRange[]; tsr: TsRange[] }, 'responder').ok, false);
});

test('ike ts: property: every narrowed selector lies within one offered and one of ours (never widened)', () => {
  const within = (inner: TsRange, outer: TsRange) => {
    const cmp = (a: Uint8Array, b: Uint8Array) => { for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]; return 0; };
    return inner.start.length === outer.start.length && cmp(inner.start, outer.start) >= 0 && cmp(inner.end, outer.end) <= 0 &&
      (outer.protocol === 0 || inner.protocol === outer.protocol) &&
      ((outer.startPort === 0 && outer.endPort === 65535) || (inner.startPort >= outer.startPort && inner.endPort <= outer.endPort) ||
        (inner.startPort === 65535 && inner.endPort === 0 && outer.startPort === 65535 && outer.endPort === 0));
  };
  const address = fc.oneof(
    fc.tuple(fc.integer({ min: 9, max: 11 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 6, max: 32 })).map(([a, b, n]) => `${a}.${b}.0.${b}/${n}`),
    fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 30, max: 128 })).map(([a, n]) => `2001:db8:${a}::/${n}`),
  );
  const ports = fc.oneof(fc.constant([0, 65535]), fc.constant([65535, 0]), fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)]));
  const selector = fc.tuple(address, fc.constantFrom(0, 6, 17), ports).map(([a, p, [s, e]]) => ts(a, p, s, e));
  const list = fc.array(selector, { minLength: 1, maxLength: 3 });
  fc.assert(fc.property(list, list, list, list, fc.constantFrom<'initiator' | 'responder'>('initiator', 'responder'), (local, remote, tsi, tsr, role) => {
    const r = narrowTrafficSelectors({ local, remote }, { tsi, tsr }, role);
    if (!r.ok) return;
    const [forTsi, forTsr] = role === 'responder' ? [remote, local] : [local, remote];
    for (const t of r.tsi) ok(tsi.some((o) => within(t, o)) && forTsi.some((o) => within(t, o)), show(t));
    for (const t of r.tsr) ok(tsr.some((o) => within(t, o)) && forTsr.some((o) => within(t, o)), show(t));
  }), { numRuns: 300 });
});
