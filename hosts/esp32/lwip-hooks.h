/*
 * ESP-IDF lwIP hook file for the tunnel's routes: on the chip, lwIP's ip4.c reaches
 * netif_tunnel_route (tunnel.c) through LWIP_HOOK_IP4_ROUTE_SRC when this header is lwIP's
 * ESP_IDF_LWIP_HOOK_FILENAME. ESP-IDF has no sdkconfig option for an IPv4 route hook: its
 * lwipopts.h always defines LWIP_HOOK_IP4_ROUTE_SRC as its own source-address hook
 * (ip4_route_src_hook, components/lwip/port/hooks/lwip_default_hooks.c), and lwIP consults
 * LWIP_HOOK_IP4_ROUTE only when that one is not defined. lwip_default_hooks.h includes
 * ESP_IDF_LWIP_HOOK_FILENAME after lwipopts.h, so this file takes the macro over; ours asks
 * ESP-IDF's hook for whatever it does not route (chip.h, chipNextRouteHook). The project sets
 * it on the lwip component (ESP-IDF "lwIP" guide, "Customized lwIP Hooks"):
 *
 *   idf_component_get_property(lwip lwip COMPONENT_LIB)
 *   target_compile_options(${lwip} PRIVATE "-I<this folder>")
 *   target_compile_definitions(${lwip} PRIVATE "-DESP_IDF_LWIP_HOOK_FILENAME=\"lwip-hooks.h\"")
 *
 * lwIP calls the hook from ip4_route_src() (every send and forward, with the source address,
 * before its own subnet match) and from ip4_route() (with src NULL, after it and before the
 * default netif).
 */
#ifndef XS_IPSEC_LWIP_HOOKS_H
#define XS_IPSEC_LWIP_HOOKS_H

#include "tunnel.h"

#undef LWIP_HOOK_IP4_ROUTE_SRC
#define LWIP_HOOK_IP4_ROUTE_SRC netif_tunnel_route

#endif
