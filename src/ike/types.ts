/**
 * Types shared by the IKEv2 engine's parts (RFC 7296): what the SA payload's proposals and
 * transforms look like once parsed (src/ike/payloads.ts makes them; proposal selection and
 * keying read them).
 */

/** RFC 7296 §3.3.2: a transform; keyBits from the Key Length attribute (§3.3.5), when present */
export interface WireTransform {
  /** Transform Type: 1 ENCR, 2 PRF, 3 INTEG, 4 KE (D-H), 5 ESN */
  type: number;
  /** Transform ID (IANA "IKEv2 Parameters") */
  id: number;
  keyBits?: number;
}

/** RFC 7296 §3.3.1: a proposal of an SA payload */
export interface WireProposal {
  /** Proposal Num: 1 for the first, consecutive */
  number: number;
  /** Protocol ID: 1 IKE, 2 AH, 3 ESP */
  protocol: number;
  /** the SPI: empty in an initial IKE_SA_INIT, 8 bytes for IKE rekeys, 4 for AH/ESP */
  spi: Uint8Array;
  transforms: WireTransform[];
}

/** RFC 7296 §3.3.1 Protocol IDs */
export const ProtocolId = { IKE: 1, AH: 2, ESP: 3 } as const;
