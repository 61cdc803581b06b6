/**
 * NAT detection (RFC 7296 §2.23), sans-IO: the NAT_DETECTION_SOURCE_IP (16388) and
 * NAT_DETECTION_DESTINATION_IP (16389) notify data, and what the received ones say about NATs
 * between the peers. The engine reads the addresses and ports from the UDP/IP headers of the
 * packet; this module only hashes and compares.
 *
 * §2.23: the notify data is SHA-1(SPIi | SPIr | IP | Port), the SPIs in the order they appear
 * in the IKE header (SPIr is zero in the IKE_SA_INIT request), IP the 4 or 16 address bytes,
 * Port the 2-byte port in network order.
 */
import { constantTimeEqual } from '../crypto/compare.js';
import { concatBytes } from '../crypto/bytes.js';
import type { Crypto } from '../crypto/provider.js';

/** An IP address (4 or 16 bytes, as `parseAddress` in src/policy/selector.ts gives it) and a UDP port. */
export interface Endpoint {
  address: Uint8Array;
  port: number;
}

/** §2.23: the length of the notify data, a SHA-1 digest. */
export const NAT_DETECTION_HASH_LENGTH = 20;

/**
 * SHA-1(SPIi | SPIr | IP | Port) (§2.23). Throws RangeError for SPIs that are not 8 bytes, an
 * address that is not 4 or 16 bytes or a port outside 0-65535: these are our own inputs.
 */
export function natDetectionHash(crypto: Crypto, spii: Uint8Array, spir: Uint8Array, address: Uint8Array, port: number): Uint8Array {
  if (spii.length !== 8 || spir.length !== 8) throw new RangeError('IKE SPIs are 8 bytes');
  if (address.length !== 4 && address.length !== 16) throw new RangeError('an IP address is 4 or 16 bytes');
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`${port}: not a port`);
  return crypto.hash('sha1', concatBytes(spii, spir, address, Uint8Array.of(port >> 8, port & 0xff)));
}

/**
 * The data of the two notifies we send (§2.23): the source hash covers the address and port
 * the packet is sent from (`local`), the destination hash the ones it is sent to (`remote`).
 */
export function natDetectionNotifies(crypto: Crypto, spii: Uint8Array, spir: Uint8Array, local: Endpoint, remote: Endpoint): {
  source: Uint8Array;
  destination: Uint8Array;
} {
  return {
    source: natDetectionHash(crypto, spii, spir, local.address, local.port),
    destination: natDetectionHash(crypto, spii, spir, remote.address, remote.port),
  };
}

export interface NatDetectionInput {
  spii: Uint8Array;
  /** as in the header of the packet that carried the notifies (zero in an IKE_SA_INIT request) */
  spir: Uint8Array;
  /** the data of every NAT_DETECTION_SOURCE_IP notify received (there may be several, §2.23) */
  sourceHashes: readonly Uint8Array[];
  /** the data of every NAT_DETECTION_DESTINATION_IP notify received */
  destinationHashes: readonly Uint8Array[];
  /** where the packet arrived: our address and port, from its IP/UDP headers */
  local: Endpoint;
  /** where it came from: the peer's address and port as we see them */
  remote: Endpoint;
}

export interface NatDetection {
  /** both kinds of notify were present: the peer supports NAT traversal (§2.23) */
  natTraversal: boolean;
  /** NAT_DETECTION_DESTINATION_IP did not match where the packet arrived: a NAT in front of us */
  weAreBehindNat: boolean;
  /** no NAT_DETECTION_SOURCE_IP matched where the packet came from: a NAT in front of the peer */
  peerIsBehindNat: boolean;
}

function anyMatch(received: readonly Uint8Array[], expected: Uint8Array): boolean {
  let match = false;
  // every one is compared (no early exit), each in constant time
  for (const hash of received) if (constantTimeEqual(hash, expected)) match = true;
  return match;
}

/**
 * What the received notifies say (§2.23):
 * - "If none of the NAT_DETECTION_SOURCE_IP payload(s) received matches the expected value of
 *   the source IP and port found from the IP header of the packet containing the payload, it
 *   means that the system sending those payloads is behind a NAT": the peer is behind a NAT.
 *   Several source notifies may be present (a multihomed peer); any match is a match.
 * - "If the NAT_DETECTION_DESTINATION_IP payload received does not match the hash of the
 *   destination IP and port found from the IP header of the packet containing the payload, it
 *   means that the system receiving the NAT_DETECTION_DESTINATION_IP payload is behind a NAT":
 *   we are.
 * - Without the notifies (either kind absent) the peer does not do NAT traversal: no NAT is
 *   reported and the SA stays on port 500 without UDP encapsulation.
 *
 * A peer that wants UDP encapsulation anyway fakes its source hash (strongSwan's encap=yes):
 * we then see it as behind a NAT, which is what it asks for. Hashes of the wrong length never
 * match.
 */
export function detectNat(crypto: Crypto, input: NatDetectionInput): NatDetection {
  if (input.sourceHashes.length === 0 || input.destinationHashes.length === 0) {
    return { natTraversal: false, weAreBehindNat: false, peerIsBehindNat: false };
  }
  const { spii, spir, local, remote } = input;
  const expectedSource = natDetectionHash(crypto, spii, spir, remote.address, remote.port);
  const expectedDestination = natDetectionHash(crypto, spii, spir, local.address, local.port);
  return {
    natTraversal: true,
    weAreBehindNat: !anyMatch(input.destinationHashes, expectedDestination),
    peerIsBehindNat: !anyMatch(input.sourceHashes, expectedSource),
  };
}
