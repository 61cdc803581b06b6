/** Types of lwip-test.js (native part: hosts/esp32/desktop/lwip-test.c). The netif variant of the desktop host only. */
declare module 'esp32-desktop/lwip-test' {
  /** A UDP datagram from lwIP's own stack (unbound source address); lwIP's err_t: 0 sent, -1 ERR_MEM, -4 ERR_RTE no route. */
  export function udpSend(fromPort: number, toAddress: string, toPort: number, payload: Uint8Array): number;
  /** A thread of its own sends `count` datagrams of `size` bytes (a 4-byte big-endian sequence number, then byte j = sequence + j), `pause` µs apart, while JS runs on. */
  export function udpBurst(fromPort: number, toAddress: string, toPort: number, count: number, size: number, pause: number): void;
  /** The burst's datagrams udp_sendto took, those it refused (ERR_MEM: the tunnel's queue was full), and whether it is over. */
  export function burstProgress(): [sent: number, failed: number, done: boolean];
  /** The address of the tunnel netif the route hook picks for `destination`, or undefined (lwIP's own choice). */
  export function route(destination: string): string | undefined;
  /** An interface like the device's Wi-Fi (that subnet and gateway; lwIP's default netif if isDefault) that counts what lwIP sends it; its index. */
  export function addNetif(address: string, prefixLength: number, gateway: string, isDefault: boolean): number;
  /** How many packets lwIP sent the interface addNetif returned `index` for. */
  export function netifOutputs(index: number): number;
  /** Tunnels opened from now on find lwIP asking the route hook, as ESP-IDF's lwIP with hosts/esp32/lwip-hooks.h would (only that question is answered so: lwIP's sends still route without the hook). */
  export function emulateRouteHook(): void;
  /** A UDP PCB bound to `port` on every lwIP address. */
  export class UdpListener {
    constructor(port: number);
    callback: (payload: ArrayBuffer, address: string, port: number) => void;
    close(): void;
  }
}
