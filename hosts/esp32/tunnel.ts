/**
 * The device's tunnel interface: an lwIP netif (native part: tunnel.c), the counterpart of the
 * simulator's TUN device (lin/tun). What lwIP routes into it (the tunnel's subnet and `routes`)
 * arrives as callback(2, byteCount) on the XS machine's thread, and read(buffer, offset) inside
 * the callback copies the packet; write() hands an opened inner packet to lwIP as if it had
 * arrived on the interface.
 *
 * lwIP has no routing table: ip4_route() (lwIP 2.1) takes a connected subnet, then the
 * LWIP_HOOK_IP4_ROUTE_SRC hook, then the default netif. `routing` says how `routes` get here:
 *   'hook'     our hook is compiled into lwIP (hosts/esp32/lwip-hooks.h: ESP-IDF's lwip
 *              component built with ESP_IDF_LWIP_HOOK_FILENAME and hosts/esp32 on its include
 *              path); the netmask is the tunnel's own prefix's;
 *   'netmask'  it is not (the Moddable SDK's build cannot set that on the lwip component, and
 *              ESP-IDF's own hook routes by source address, which unbound sockets lack): the
 *              netif's netmask is widened to the longest prefix that holds its address and every
 *              route, and the netif drops (outboundNoRoute) what that prefix holds beyond them.
 *              The constructor refuses (RangeError) a prefix that would hold another interface's
 *              subnet, the default gateway or one of `peers`, or all of IPv4.
 *
 * A Moddable manifest takes this file and tunnel.c together ("./hosts/esp32/tunnel"). On the
 * desktop, import "esp32-desktop/native" first (hosts/esp32/desktop/native.c).
 */
import { parseAddress, parseRange } from '../../src/policy/selector.js';
import type { TunnelInterface } from '../moddable/socket-host.js';

// xsc compiles native("name") to the host function `name` ("XS in C": Native and native); the
// SDK's xs/includes/xs.d.ts declares it, the @moddable/typings package does not (yet)
declare function native(name: string): (...args: any[]) => any;

const open: (target: object, address: Uint8Array, prefixLength: number, mtu: number, depth: number, routes: Uint8Array, peers: Uint8Array, routing: Uint8Array) => object = native('xs_netif_tunnel_open');
const readPacket: (handle: object, buffer: Uint8Array, offset: number) => number = native('xs_netif_tunnel_read');
const writePacket: (handle: object, buffer: Uint8Array, offset: number, length: number) => boolean = native('xs_netif_tunnel_write');
const readCounters: (handle: object, out: Uint8Array) => void = native('xs_netif_tunnel_counters');
const closeTunnel: (handle: object) => void = native('xs_netif_tunnel_close');

/** strongSwan's kernel-libipsec default, as src/config/gateway-config.ts's DEFAULT_TUNNEL_MTU */
const DEFAULT_MTU = 1400;
/** packets lwIP may queue for JS before it is told the interface is busy (ERR_MEM) */
const DEFAULT_QUEUE = 8;

export interface NetifTunnelOptions {
  /** the interface's address with its prefix, "10.1.0.1/16": lwIP routes that subnet here */
  address: string;
  /** the interface's MTU (68 to 9000; 1400 unless set): lwIP fragments or refuses beyond it */
  mtu?: number;
  /** IPv4 prefixes ("10.2.0.0/16") lwIP sends here too, beyond the interface's own subnet */
  routes?: readonly string[];
  /**
   * the IPsec peers' outer IPv4 addresses ("203.0.113.5"): never sent into the tunnel (IKE and
   * ESP to them would loop); without the route hook, a netmask that would hold one is refused
   */
  peers?: readonly string[];
  /** packets held for JS (1 to 64; 8 unless set), each a slot of `mtu` bytes */
  queue?: number;
}

/** What the interface counted, from its creation on. */
export interface NetifTunnelCounters {
  /** packets lwIP routed here and the callback got */
  outbound: number;
  /** dropped: the queue was full (lwIP's sender got ERR_MEM) */
  outboundQueueFull: number;
  /** dropped: longer than the MTU (lwIP fragments to the MTU: not seen unless that is off) */
  outboundTooLong: number;
  /** dropped: inside the netmask ('netmask' routing) but in neither the tunnel's prefix nor a route */
  outboundNoRoute: number;
  /** packets write() handed to lwIP */
  inbound: number;
  /** refused by write(): longer than the MTU */
  inboundTooLong: number;
  /** refused by write(): not IPv4, or a header or total length that does not fit */
  inboundMalformed: number;
  /** refused by write(): lwIP had no buffer */
  inboundNoBuffer: number;
  /** refused by write(): lwIP's input queue was full */
  inboundRefused: number;
}

// the order of tunnel.c's counters
const COUNTER_NAMES: readonly (keyof NetifTunnelCounters)[] = [
  'outbound', 'outboundQueueFull', 'outboundTooLong', 'outboundNoRoute',
  'inbound', 'inboundTooLong', 'inboundMalformed', 'inboundNoBuffer', 'inboundRefused',
];

/** "a.b.c.d/len": the address as written, its network (host bits cleared) and the prefix length */
function parsePrefix(text: string, what: string): { address: Uint8Array; network: Uint8Array; prefix: number } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new RangeError(`${what} ${text}: no prefix length`);
  const address = parseAddress(text.slice(0, slash));
  if (address.length !== 4) throw new RangeError(`${what} ${text}: not IPv4`);
  const { start } = parseRange(text); // checks the prefix length too (0 to 32, digits only)
  return { address, network: start, prefix: Number(text.slice(slash + 1)) };
}

function checkInteger(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${what} ${value}: not ${min} to ${max}`);
  return value;
}

export class NetifTunnel implements TunnelInterface {
  /** called with (2, byteCount) for each packet lwIP routes here; read() it inside */
  callback: (message: number, byteCount: number) => void = () => {};
  readonly mtu: number;
  /** how `routes` reach the interface: lwIP asks our route hook, or the netmask covers them */
  readonly routing: 'hook' | 'netmask';
  /** the netif's netmask, dotted ("255.252.0.0"): the tunnel's prefix's, or the covering one */
  readonly netmask: string;
  readonly #handle: object;
  readonly #counters = new Uint32Array(COUNTER_NAMES.length);
  /** the same memory as bytes: xsmc's buffer access takes byte arrays only */
  readonly #counterBytes = new Uint8Array(this.#counters.buffer);

  constructor(options: NetifTunnelOptions) {
    const { address, prefix } = parsePrefix(options.address, 'tunnel address');
    this.mtu = checkInteger(options.mtu ?? DEFAULT_MTU, 68, 9000, 'tunnel MTU');
    const depth = checkInteger(options.queue ?? DEFAULT_QUEUE, 1, 64, 'tunnel queue');
    const routeList = options.routes ?? [];
    const routes = new Uint8Array(5 * routeList.length);
    routeList.forEach((text, i) => {
      const route = parsePrefix(text, 'tunnel route');
      if (route.network.some((byte, j) => byte !== route.address[j])) throw new RangeError(`tunnel route ${text}: host bits set`);
      routes.set(route.address, 5 * i);
      routes[5 * i + 4] = route.prefix;
    });
    const peerList = options.peers ?? [];
    const peers = new Uint8Array(4 * peerList.length);
    peerList.forEach((text, i) => {
      const peer = parseAddress(text);
      if (peer.length !== 4) throw new RangeError(`tunnel peer ${text}: not IPv4`);
      peers.set(peer, 4 * i);
    });
    const routing = new Uint8Array(5);
    this.#handle = open(this, address, prefix, this.mtu, depth, routes, peers, routing);
    this.routing = routing[0] ? 'hook' : 'netmask';
    this.netmask = Array.from(routing.subarray(1)).join('.');
  }

  /** The packet being delivered, copied into buffer at offset; its length (0 outside the callback). */
  read(buffer: Uint8Array, offset: number): number {
    return readPacket(this.#handle, buffer, offset);
  }

  /** An inner packet to lwIP; false when it was refused (counted in `counters`). */
  write(buffer: Uint8Array, offset: number, length: number): boolean {
    return writePacket(this.#handle, buffer, offset, length);
  }

  get counters(): NetifTunnelCounters {
    readCounters(this.#handle, this.#counterBytes);
    const out = {} as NetifTunnelCounters;
    COUNTER_NAMES.forEach((name, i) => {
      out[name] = this.#counters[i];
    });
    return out;
  }

  /** Removes the interface and its routes from lwIP; queued packets are dropped, and no callback follows. */
  close(): void {
    closeTunnel(this.#handle);
  }
}
