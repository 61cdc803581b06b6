/** Types of hosts/lin/modules/lin/tun.js. Simulator only (CAP_NET_ADMIN). */
declare module 'lin/tun' {
  export class Tun {
    constructor(options?: { name?: string });
    readonly name: string;
    /** set by the user: called with (2, byteCount) for each packet routed into the interface */
    callback: (message: number, byteCount: number) => void;
    /** inside the callback: copies the packet into buffer at offset; returns its length */
    read(buffer: Uint8Array, offset?: number): number;
    /** false when the kernel refused the packet (counted by the caller, never thrown) */
    write(buffer: Uint8Array, offset?: number, length?: number): boolean;
    close(): void;
  }
  export default Tun;
}
