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
  /** an inner packet for the tunnel interface (the host's IP stack); false when it refused it */
  deliver(buffer: Uint8Array, offset: number, length: number): boolean;
}
