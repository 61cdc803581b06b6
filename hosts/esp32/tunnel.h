/*
 * What tunnel.c offers C outside it: the IPv4 route hook (lwip-hooks.h hands it to ESP-IDF's
 * lwIP; the desktop test calls it directly).
 */
#ifndef XS_IPSEC_TUNNEL_H
#define XS_IPSEC_TUNNEL_H

#include "lwip/ip4_addr.h"

struct netif;

/*
 * The netif for dest, for lwIP's LWIP_HOOK_IP4_ROUTE_SRC (called with lwIP's core held, src
 * NULL when lwIP routes by destination alone): NULL when dest is on a connected subnet (lwIP's
 * own choice), is a tunnel's peer (outer address) or no route matches; else the tunnel whose
 * route holds dest with the longest prefix. What it does not route goes to the chip's next
 * hook (chip.h). Where lwIP never calls it (no hook compiled in), tunnels widen their netmask
 * instead (tunnel.c).
 */
struct netif* netif_tunnel_route(const ip4_addr_t* src, const ip4_addr_t* dest);

#endif
