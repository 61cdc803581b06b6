/**
 * strongSwan proposal strings: keywords to typed transforms (IANA IDs, key lengths), the rules
 * strongSwan applies (PRF derived from integrity, no AEAD+classic, KE mandatory for IKE), the
 * legacy switch, and truncated, malformed and oversized input refused with a precise issue.
 */
import { Encr, Esn, Integ, Ke, Prf, TransformType } from '../../src/crypto/registry.js';
import {
  closeKeywords, DEFAULT_PROPOSALS, MAX_KEYWORDS, parseProposal, ProposalError, proposalList, proposalTransforms,
  type Proposal, type ProposalProtocol,
} from '../../src/config/proposals.js';
import type { Problem } from '../../src/config/validate.js';
import { deepEqual, equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

/** [type, id, keyBits] of every transform, in SA payload order. */
const ids = (p: Proposal) => proposalTransforms(p).map((t) => [t.type, t.id, t.keyBits]);

/** The issues a proposal is refused with. */
function issues(protocol: ProposalProtocol, text: string, allowLegacy = false): { expected: string; got: string }[] {
  const e = throws(() => parseProposal(protocol, text, { allowLegacy }), ProposalError) as ProposalError;
  return e.issues;
}

test('config proposals: IKE, AEAD with an explicit PRF and a KE method', () => {
  const p = parseProposal('ike', 'aes128gcm16-prfsha256-x25519');
  equal(p.aead, true);
  equal(p.text, 'aes128gcm16-prfsha256-curve25519');
  deepEqual(ids(p), [[TransformType.ENCR, Encr.AES_GCM_16, 128], [TransformType.PRF, Prf.HMAC_SHA2_256, 0], [TransformType.KE, Ke.CURVE25519, 0]]);
  equal(p.integrity.length, 0);
  equal(p.esn.length, 0, 'IKE proposals have no ESN transform');
  equal(p.encryption[0].algorithm.name, 'aes128gcm16');
});

test('config proposals: IKE, classic encryption: the PRF is derived from each integrity algorithm', () => {
  const p = parseProposal('ike', 'aes256-sha256-modp2048');
  equal(p.aead, false);
  deepEqual(ids(p), [
    [TransformType.ENCR, Encr.AES_CBC, 256], [TransformType.PRF, Prf.HMAC_SHA2_256, 0],
    [TransformType.INTEG, Integ.HMAC_SHA2_256_128, 0], [TransformType.KE, Ke.MODP_2048, 0],
  ]);
  const two = parseProposal('ike', 'aes128-aes256-sha384-aesxcbc-ecp256');
  deepEqual(two.prf.map((t) => t.algorithm.name), ['prfsha384', 'prfaesxcbc']);
  deepEqual(two.encryption.map((t) => t.keyBits), [128, 256], 'alternatives in the order written');
  equal(parseProposal('ike', 'aes128-sha256-prfsha512-ecp256').prf[0].algorithm.name, 'prfsha512', 'an explicit PRF is kept');
});

test('config proposals: ESP, AEAD with a PFS group, AEAD alone, classic with esn, none', () => {
  const pfs = parseProposal('esp', 'aes256gcm16-ecp384');
  deepEqual(ids(pfs), [[TransformType.ENCR, Encr.AES_GCM_16, 256], [TransformType.KE, Ke.ECP_384, 0], [TransformType.ESN, Esn.NO, 0]]);
  const chacha = parseProposal('esp', 'chacha20poly1305');
  deepEqual(ids(chacha), [[TransformType.ENCR, Encr.CHACHA20_POLY1305, 0], [TransformType.ESN, Esn.NO, 0]]);
  equal(chacha.ke.length, 0, 'no PFS');
  const classic = parseProposal('esp', 'aes128-sha256-esn-noesn');
  deepEqual(classic.esn.map((t) => t.id), [Esn.YES, Esn.NO]);
  deepEqual(parseProposal('esp', 'aes128gcm16-x25519-none').ke.map((t) => t.id), [Ke.CURVE25519, Ke.NONE], 'PFS optional');
  equal(parseProposal('esp', 'aes128gmac').aead, true, 'AES-GMAC needs no integrity');
  equal(parseProposal('esp', 'null-sha256').encryption[0].id, Encr.NULL);
});

test('config proposals: aliases, case and repeats collapse to one transform', () => {
  const p = parseProposal('esp', 'AES128GCM16-aes128gcm128-aes128gcm');
  equal(p.encryption.length, 1);
  equal(p.text, 'aes128gcm16-noesn');
  equal(parseProposal('ike', ' aes - sha - modp2048 ').text, 'aes128-prfsha1-sha1-modp2048', 'blanks around keywords are ignored');
});

test('config proposals: empty, "--", only dashes, a trailing dash', () => {
  deepEqual(issues('ike', ''), [{ expected: 'algorithm keywords joined by "-", e.g. aes128gcm16-prfsha256-x25519', got: '""' }]);
  deepEqual(issues('ike', '   '), [{ expected: 'algorithm keywords joined by "-", e.g. aes128gcm16-prfsha256-x25519', got: '"   "' }]);
  deepEqual(issues('esp', '--'), [{ expected: 'one keyword between each "-"', got: '"--"' }]);
  deepEqual(issues('esp', 'aes128gcm16-'), [{ expected: 'one keyword between each "-"', got: '"aes128gcm16-"' }]);
});

test('config proposals: 300 keywords are refused before any is looked up', () => {
  const text = Array.from({ length: 300 }, () => 'aes128').join('-');
  deepEqual(issues('esp', text), [{ expected: `at most ${MAX_KEYWORDS} keywords in a proposal`, got: '300 keywords' }]);
  const huge = 'x'.repeat(100_000);
  const [one] = issues('esp', huge);
  equal(one.got, `"${'x'.repeat(56)}...`, 'a huge keyword is shortened in the issue');
  equal(one.expected, 'an algorithm keyword (see "xs-ipsec algorithms")');
});

test('config proposals: an unknown keyword is named, with close known ones', () => {
  const [one] = issues('ike', 'aes128gcm16-prfsha256-x25519x');
  equal(one.got, '"x25519x" (in "aes128gcm16-prfsha256-x25519x")');
  ok(one.expected.startsWith('an algorithm keyword (close: x25519'), one.expected);
  deepEqual(closeKeywords('sha265').slice(0, 1), ['sha256']);
  ok(closeKeywords('chacha').includes('chacha20poly1305'), 'a prefix of a keyword suggests it');
  deepEqual(closeKeywords('blowfish128'), []);
  equal(issues('esp', 'aes128-blowfish-sha1-camellia').length, 2, 'every unknown keyword is reported');
});

test('config proposals: AEAD with integrity, AEAD mixed with classic, missing parts', () => {
  deepEqual(issues('esp', 'aes128gcm16-sha256'), [{ expected: 'no integrity algorithm with AEAD encryption (aes128gcm16 authenticates itself)', got: '"sha256" (in "aes128gcm16-sha256")' }]);
  deepEqual(issues('ike', 'aes128gcm16-aes128-sha256-prfsha256-x25519'), [{ expected: 'AEAD or classic encryption, not both in one proposal (write two proposals)', got: '"aes128gcm16-aes128-sha256-prfsha256-x25519"' }]);
  deepEqual(issues('esp', 'aes128'), [{ expected: 'an integrity algorithm (e.g. sha256) to go with aes128', got: '"aes128"' }]);
  deepEqual(issues('esp', 'sha256-x25519'), [{ expected: 'an encryption algorithm (e.g. aes128gcm16 or aes128)', got: '"sha256-x25519"' }]);
  deepEqual(issues('ike', 'aes128-sha256'), [{ expected: 'a key exchange method (e.g. x25519, ecp256, modp2048) in an IKE proposal', got: '"aes128-sha256"' }]);
  deepEqual(issues('ike', 'aes128gcm16-x25519'), [{ expected: 'a PRF (e.g. prfsha256): an AEAD proposal has no integrity algorithm to derive one from', got: '"aes128gcm16-x25519"' }]);
  equal(issues('ike', 'aes128gcm16').length, 2, 'no PRF and no KE method: both said');
});

test('config proposals: what IKE cannot use, what ESP cannot use', () => {
  ok(issues('ike', 'aes128gmac-prfsha256-x25519')[0].expected.includes('AES-GMAC authenticates without encrypting'));
  ok(issues('ike', 'aes128gcm16iiv-prfsha256-x25519')[0].expected.includes('implicit IVs are for ESP only'));
  ok(issues('ike', 'null-sha256-x25519')[0].expected.includes('IKE messages must be encrypted'));
  deepEqual(issues('ike', 'aes128-sha256-x25519-esn'), [{ expected: 'no esn/noesn in an IKE proposal (they are for ESP)', got: '"esn" (in "aes128-sha256-x25519-esn")' }]);
  ok(issues('ike', 'aes128-sha256-none')[0].expected.startsWith('a key exchange method other than "none"'));
  deepEqual(issues('esp', 'aes128gcm16-prfsha256'), [{ expected: 'no PRF in an ESP proposal (prfsha256 is for IKE proposals)', got: '"prfsha256" (in "aes128gcm16-prfsha256")' }]);
  ok(issues('esp', 'aes128-ripemd160', true)[0].expected.includes('has no IKEv2 transform ID'));
  ok(issues('esp', 'default-aes128gcm16')[0].expected.startsWith('"default" alone'));
});

test('config proposals: legacy algorithms are refused, naming the RFC, unless allowed', () => {
  const [des] = issues('esp', '3des-sha1');
  equal(des.got, '"3des" (in "3des-sha1")');
  ok(des.expected.startsWith('no legacy algorithm unless "allowLegacy": true (RFC 8221'), des.expected);
  ok(issues('ike', 'aes128-md5-modp2048')[0].expected.includes('RFC 8221 §6'));
  ok(issues('ike', 'aes128-sha256-modp1024')[0].expected.includes('RFC 8247 §2.4'));
  equal(parseProposal('esp', '3des-sha1', { allowLegacy: true }).encryption[0].id, Encr.TRIPLE_DES);
  equal(parseProposal('ike', 'aes128-md5-modp1024', { allowLegacy: true }).prf[0].algorithm.name, 'prfmd5');
});

test('config proposals: "default" expands to safe proposals, none of them legacy', () => {
  for (const protocol of ['ike', 'esp'] as const) {
    const problems: Problem[] = [];
    const list = proposalList(protocol)('default', '$.p', problems);
    equal(problems.length, 0);
    equal(list.length, DEFAULT_PROPOSALS[protocol].length);
    deepEqual(list.map((p) => p.aead), [true, false], 'AEAD first');
    ok(list.every((p) => proposalTransforms(p).every((t) => !t.algorithm.legacy)));
  }
});

test('config proposals: lists as arrays or comma-separated strings, problems at the item', () => {
  const problems: Problem[] = [];
  const schema = proposalList('esp');
  equal(schema('aes128gcm16, default', '$.p', problems).length, 3);
  equal(schema(['aes128gcm16', 'aes256-sha384'], '$.p', problems).length, 2);
  equal(problems.length, 0);
  schema(['aes128gcm16', 'aes128gcm16-shaa256', 7], '$.p', problems);
  deepEqual(problems.map((p) => p.path), ['$.p[1]', '$.p[2]']);
  problems.length = 0;
  schema('aes128gcm16,,aes256', '$.p', problems);
  equal(problems.length, 2, 'an empty item and an item without integrity');
  equal(problems[0].path, '$.p');
  problems.length = 0;
  schema([], '$.p', problems);
  schema(Array(17).fill('aes128gcm16'), '$.q', problems);
  deepEqual(problems.map((p) => `${p.path} ${p.got}`), ['$.p []', '$.q 17 items']);
});
