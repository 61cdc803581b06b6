/**
 * The gateway's Host over Moddable modules, the same on an ESP32 and in the simulator:
 * `socket` for UDP 4500 and RAW protocol 50 (lwIP on the device, Linux sockets in hosts/lin),
 * and a tunnel interface (the lwIP netif of hosts/esp32; lin/tun's TUN device here).
 */
import { Socket } from 'socket';
import { NAT_T_PORT } from '../../src/wire/udp.js';
import { SocketHost, type SocketConstructor, type TunnelInterface } from './socket-host.js';

export type { TunnelInterface } from './socket-host.js';

export class ModdableHost extends SocketHost {
  /** `icmp`: also read routers' ICMP about our packets (see SocketHostOptions). */
  constructor(tunnel: TunnelInterface, udpPort = NAT_T_PORT, icmp = false) {
    super(Socket as unknown as SocketConstructor, tunnel, { udpPort, raw: true, icmp });
  }
}
