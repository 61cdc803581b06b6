/**
 * NAT detection (src/ike/natd.ts, RFC 7296 §2.23): the notify hashes against known answers
 * from an independent implementation (test/vectors/ike/generate_natd.py: Python's hashlib), and
 * the detection matrix: no NAT, the peer behind a NAT, us behind a NAT, both, strongSwan's
 * faked source hash (encap=yes), several source notifies, and absent notifies.
 */
import { fromHex } from '../../src/crypto/bytes.js';
import type { Crypto } from '../../src/crypto/provider.js';
import { detectNat, NAT_DETECTION_HASH_LENGTH, natDetectionHash, natDetectionNotifies, type Endpoint } from '../../src/ike/natd.js';
import { parseAddress } from '../../src/policy/selector.js';
import { bytesEqual, deepEqual, equal, throws } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';

const vectors = await loadVectors('ike/natd');

forEachProvider('NAT-D hashes (§2.23) match the Python hashlib known answers', (crypto) => {
  equal(vectors.cases.length, 8);
  for (const v of vectors.cases) {
    const hash = natDetectionHash(crypto, fromHex(v.spii), fromHex(v.spir), parseAddress(v.address), v.port);
    equal(hash.length, NAT_DETECTION_HASH_LENGTH);
    bytesEqual(hash, fromHex(v.hash), v.name);
  }
});

forEachProvider('NAT-D hash refuses malformed inputs of our own', (crypto) => {
  const spi = new Uint8Array(8);
  const v4 = parseAddress('192.0.2.1');
  throws(() => natDetectionHash(crypto, new Uint8Array(7), spi, v4, 500), RangeError);
  throws(() => natDetectionHash(crypto, spi, new Uint8Array(9), v4, 500), RangeError);
  throws(() => natDetectionHash(crypto, spi, spi, new Uint8Array(5), 500), RangeError);
  throws(() => natDetectionHash(crypto, spi, spi, v4, 65536), RangeError);
  throws(() => natDetectionHash(crypto, spi, spi, v4, -1), RangeError);
  throws(() => natDetectionHash(crypto, spi, spi, v4, 1.5), RangeError);
});

const SPII = fromHex('0123456789abcdef');
const ZERO = new Uint8Array(8);
const initiator: Endpoint = { address: parseAddress('192.0.2.1'), port: 500 };
const responder: Endpoint = { address: parseAddress('192.0.2.2'), port: 500 };
// what each side sees when a NAT rewrites one side's private address and port
const initiatorNatted: Endpoint = { address: parseAddress('203.0.113.9'), port: 61234 };
const responderNatted: Endpoint = { address: parseAddress('198.51.100.20'), port: 500 };

/**
 * The responder receives an IKE_SA_INIT request: the initiator hashed what it believes are the
 * packet's source (`sent.from`) and destination (`sent.to`); the packet arrives at
 * `seen.to` from `seen.from`.
 */
function responderSees(crypto: Crypto, sent: { from: Endpoint; to: Endpoint }, seen: { from: Endpoint; to: Endpoint }) {
  const notifies = natDetectionNotifies(crypto, SPII, ZERO, sent.from, sent.to);
  return detectNat(crypto, {
    spii: SPII, spir: ZERO,
    sourceHashes: [notifies.source], destinationHashes: [notifies.destination],
    local: seen.to, remote: seen.from,
  });
}

forEachProvider('NAT detection matrix (§2.23): no NAT, peer behind NAT, us behind NAT, both', (crypto) => {
  deepEqual(responderSees(crypto, { from: initiator, to: responder }, { from: initiator, to: responder }),
    { natTraversal: true, weAreBehindNat: false, peerIsBehindNat: false }, 'no NAT');
  // the initiator's source is rewritten: its source hash does not match what we see
  deepEqual(responderSees(crypto, { from: initiator, to: responder }, { from: initiatorNatted, to: responder }),
    { natTraversal: true, weAreBehindNat: false, peerIsBehindNat: true }, 'peer behind NAT');
  // the initiator sends to our public address, a NAT forwards it to our private one
  deepEqual(responderSees(crypto, { from: initiator, to: responderNatted }, { from: initiator, to: responder }),
    { natTraversal: true, weAreBehindNat: true, peerIsBehindNat: false }, 'us behind NAT');
  deepEqual(responderSees(crypto, { from: initiator, to: responderNatted }, { from: initiatorNatted, to: responder }),
    { natTraversal: true, weAreBehindNat: true, peerIsBehindNat: true }, 'both behind NATs');
  // a port rewrite alone is a NAT too
  deepEqual(responderSees(crypto, { from: initiator, to: responder }, { from: { ...initiator, port: 1500 }, to: responder }),
    { natTraversal: true, weAreBehindNat: false, peerIsBehindNat: true }, 'port changed');
});

forEachProvider('NAT detection: strongSwan encap=yes fakes NAT_DETECTION_SOURCE_IP: the peer appears behind a NAT', (crypto) => {
  // strongSwan (testbed notes) sends a random source hash to force UDP encapsulation
  const faked = new Uint8Array(20);
  crypto.randomBytes(faked);
  const result = detectNat(crypto, {
    spii: SPII, spir: ZERO,
    sourceHashes: [faked],
    destinationHashes: [natDetectionHash(crypto, SPII, ZERO, responder.address, responder.port)],
    local: responder, remote: initiator,
  });
  deepEqual(result, { natTraversal: true, weAreBehindNat: false, peerIsBehindNat: true });
});

forEachProvider('NAT detection: several source notifies, any match is a match; wrong-length hashes never match', (crypto) => {
  const other = natDetectionHash(crypto, SPII, ZERO, parseAddress('2001:db8::5'), 500);
  const right = natDetectionHash(crypto, SPII, ZERO, initiator.address, initiator.port);
  const destination = [natDetectionHash(crypto, SPII, ZERO, responder.address, responder.port)];
  const detect = (sourceHashes: Uint8Array[]) =>
    detectNat(crypto, { spii: SPII, spir: ZERO, sourceHashes, destinationHashes: destination, local: responder, remote: initiator });
  equal(detect([other, right]).peerIsBehindNat, false, 'match second');
  equal(detect([right, other]).peerIsBehindNat, false, 'match first');
  equal(detect([other, other]).peerIsBehindNat, true, 'no match');
  equal(detect([right.subarray(0, 19)]).peerIsBehindNat, true, 'truncated');
  equal(detect([new Uint8Array(0)]).peerIsBehindNat, true, 'empty');
  // the SPIs count: a hash over other SPIs does not match
  const wrongSpi = natDetectionHash(crypto, SPII, fromHex('fedcba9876543210'), initiator.address, initiator.port);
  equal(detect([wrongSpi]).peerIsBehindNat, true, 'other SPIr');
});

forEachProvider('NAT detection: absent notifies mean no NAT traversal', (crypto) => {
  const source = natDetectionHash(crypto, SPII, ZERO, parseAddress('203.0.113.1'), 500);
  const none = { natTraversal: false, weAreBehindNat: false, peerIsBehindNat: false };
  const base = { spii: SPII, spir: ZERO, local: responder, remote: initiator };
  deepEqual(detectNat(crypto, { ...base, sourceHashes: [], destinationHashes: [] }), none);
  deepEqual(detectNat(crypto, { ...base, sourceHashes: [source], destinationHashes: [] }), none);
  deepEqual(detectNat(crypto, { ...base, sourceHashes: [], destinationHashes: [source] }), none);
});

forEachProvider('NAT detection over IPv6, in the IKE_SA_INIT response (SPIr set)', (crypto) => {
  const spir = fromHex('fedcba9876543210');
  const us: Endpoint = { address: parseAddress('2001:db8::1'), port: 500 };
  const peer: Endpoint = { address: parseAddress('2001:db8::2'), port: 500 };
  // the initiator receives the response: sent from the responder (peer) to us
  const notifies = natDetectionNotifies(crypto, SPII, spir, peer, us);
  const result = detectNat(crypto, {
    spii: SPII, spir, sourceHashes: [notifies.source], destinationHashes: [notifies.destination], local: us, remote: peer,
  });
  deepEqual(result, { natTraversal: true, weAreBehindNat: false, peerIsBehindNat: false });
});
