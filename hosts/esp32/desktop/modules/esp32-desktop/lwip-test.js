/*
 * Test helpers over Debian's lwIP for test/esp32/tunnel-netif.test.ts (native part:
 * hosts/esp32/desktop/lwip-test.c). They play lwIP's applications: what the device's own
 * sockets or forwarded sensor traffic would send into the tunnel, and what receives the
 * packets the gateway delivers.
 *   udpSend(fromPort, toAddress, toPort, payload) -> lwIP's err_t of udp_sendto (0: sent)
 *   udpBurst(fromPort, toAddress, toPort, count, size, pause): a thread of its own sends
 *     `count` datagrams (a 4-byte sequence number, then byte j = sequence + j), `pause`
 *     microseconds apart, while JS runs on;
 *     burstProgress() -> [sent, failed, done]
 *   new UdpListener(port): callback(payload, address, port) per datagram; close()
 *   route(destination) -> the tunnel address of the netif the route hook picks, or undefined
 */
export function udpSend(fromPort, toAddress, toPort, payload) @ "xs_lwip_test_udp_send";
export function udpBurst(fromPort, toAddress, toPort, count, size, pause) @ "xs_lwip_test_udp_burst";
export function burstProgress() @ "xs_lwip_test_burst_progress";
export function route(destination) @ "xs_lwip_test_route";
function listen(port, target) @ "xs_lwip_test_listen";
function unlisten(handle) @ "xs_lwip_test_unlisten";

export class UdpListener {
  #handle;
  constructor(port) {
    this.#handle = listen(port, this);
  }
  callback() {}
  close() {
    unlisten(this.#handle);
  }
}
