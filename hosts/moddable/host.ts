/**
 * The gateway's Host over Moddable modules, the same on an ESP32 and in the simulator:
 * `socket` for UDP 500 (IKE), UDP 4500 (NAT-T) and RAW protocol 50 (lwIP on the device,
 * Linux sockets in hosts/lin), and a tunnel interface (the lwIP netif of hosts/esp32;
 * lin/tun's TUN device here).
 */
import { Socket } from 'socket';
import { SocketHost, type SocketConstructor, type SocketHostOptions, type TunnelInterface } from './socket-host.js';

export type { TunnelInterface } from './socket-host.js';

export class ModdableHost extends SocketHost {
  /**
   * `udpPort` (default 4500) and `ikePort` (default 500, 0 for none) as in SocketHostOptions;
   * `icmp`: also read routers' ICMP about our packets (see SocketHostOptions).
   */
  constructor(tunnel: TunnelInterface, options: Omit<SocketHostOptions, 'raw'> = {}) {
    super(Socket as unknown as SocketConstructor, tunnel, { ...options, raw: true });
  }
}
