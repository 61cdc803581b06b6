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
 *   addNetif(address, prefixLength, gateway, isDefault) -> index: an interface like Wi-Fi's
 *     (that subnet and gateway, lwIP's default netif if isDefault) that counts what it is sent;
 *     netifOutputs(index) -> that count
 *   emulateRouteHook(): tunnels opened from now on find lwIP asking the route hook, as on
 *     ESP-IDF with hosts/esp32/lwip-hooks.h (only the question: lwIP still routes without it)
 */
export function udpSend(fromPort, toAddress, toPort, payload) @ "xs_lwip_test_udp_send";
export function udpBurst(fromPort, toAddress, toPort, count, size, pause) @ "xs_lwip_test_udp_burst";
export function burstProgress() @ "xs_lwip_test_burst_progress";
export function route(destination) @ "xs_lwip_test_route";
export function addNetif(address, prefixLength, gateway, isDefault) @ "xs_lwip_test_add_netif";
export function netifOutputs(index) @ "xs_lwip_test_netif_outputs";
export function emulateRouteHook() @ "xs_lwip_test_emulate_route_hook";
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
