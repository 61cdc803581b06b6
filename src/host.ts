/**
 * What a runtime gives the gateway (DESIGN.md principle 2: hosts are thin). The ESP32 and
 * the simulator implement it over Moddable modules (hosts/moddable), tests over memory.
 * Every method takes a region of a buffer the gateway owns; a host copies out what it keeps.
 */
export interface Host {
  /** monotonic milliseconds */
  now(): number;
  /** an ESP packet (from its ESP header) to `address` as IP protocol 50; false when it could not be sent */
  sendEsp(address: string, buffer: Uint8Array, offset: number, length: number): boolean;
  /** a UDP datagram (UDP-encapsulated ESP, keepalives) from our NAT-T port to address:port; false when it could not be sent */
  sendUdp(address: string, port: number, buffer: Uint8Array, offset: number, length: number): boolean;
  /**
   * One IKE message (from its IKE header on) to address:port, from our socket on `localPort`:
   * the IKE port (500, RFC 7296 §2.23), sent as it is, or the NAT-T port (4500), where the
   * host puts the non-ESP marker (four zero bytes, RFC 3948 §2.2) in front of it. The host
   * does not keep `message`. False when it could not be sent, or when we have no socket on
   * `localPort`.
   */
  sendIke(localPort: number, address: string, port: number, message: Uint8Array): boolean;
  /** an inner packet for the tunnel interface (the host's IP stack); false when it refused it */
  deliver(buffer: Uint8Array, offset: number, length: number): boolean;
}

/**
 * Where a host hands the IKE messages it receives (RFC 7296 §2.23): every datagram on the
 * IKE port as it arrived (however short: the IKE engine checks and counts what it refuses),
 * and datagrams on the NAT-T port that start with the non-ESP marker (RFC 3948 §2.2), with
 * the marker taken off. `message` is a fresh copy the receiver may keep; `remoteAddress` and
 * `remotePort` are the datagram's source, `localPort` the port of our socket it arrived on
 * (the port to answer from, with sendIke).
 */
export type IkeReceiver = (message: Uint8Array, remoteAddress: string, remotePort: number, localPort: number) => void;
