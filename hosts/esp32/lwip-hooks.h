/*
 * ESP-IDF lwIP hook file for the tunnel's routes: on the chip, lwIP's ip4.c reaches
 * netif_tunnel_route (tunnel.c) through LWIP_HOOK_IP4_ROUTE_SRC when this header is lwIP's
 * ESP_IDF_LWIP_HOOK_FILENAME. ESP-IDF has no sdkconfig option for an IPv4 route hook: its
 * lwipopts.h (components/lwip/port/include) always defines LWIP_HOOK_IP4_ROUTE_SRC as its own
 * ip4_route_src_hook (components/lwip/port/hooks/lwip_default_hooks.c, not weak), and lwIP
 * consults LWIP_HOOK_IP4_ROUTE only when that one is not defined. lwip_default_hooks.h includes
 * ESP_IDF_LWIP_HOOK_FILENAME after lwipopts.h, so this file takes the macro over; ours asks
 * ESP-IDF's hook for whatever it does not route (chip.h, chipNextRouteHook). It must be set on
 * the lwip component (ESP-IDF "lwIP" guide, "Customized lwIP Hooks"):
 *
 *   idf_component_get_property(lwip lwip COMPONENT_LIB)
 *   target_compile_options(${lwip} PRIVATE "-I<this folder>")
 *   target_compile_definitions(${lwip} PRIVATE "-DESP_IDF_LWIP_HOOK_FILENAME=\"lwip-hooks.h\"")
 *
 * The Moddable SDK 8.2.3 build cannot do that from a manifest: mcconfig writes the ESP-IDF
 * project (build/devices/esp32/xsProj-<chip>/) itself, and tools/mcmanifest.js takes a
 * manifest's `dependency` only as an ESP-IDF or registry component. So a plain SDK build runs
 * without this hook. ESP-IDF's own hook does not route our prefixes either: it picks the netif
 * whose address is the packet's source, and Moddable's sockets bind to IP_ADDR_ANY (no
 * source). tunnel.c then finds lwIP not asking our hook and widens the tunnel netif's netmask
 * over its routes instead ('netmask' routing; tunnel.c's header says what that costs and what
 * it refuses, 0.0.0.0/0 among them). Built with this file in (a project CMakeLists.txt edited
 * as above), routing is 'hook': routes of any width, overlapping ones by longest prefix, and
 * never a peer's outer address.
 *
 * lwIP 2.1 calls the hook from ip4_route_src() (every send and forward, with the source address,
 * before its own subnet match) and from ip4_route() (with src NULL, after the subnet match and
 * before the default netif).
 */
#ifndef XS_IPSEC_LWIP_HOOKS_H
#define XS_IPSEC_LWIP_HOOKS_H

#include "tunnel.h"

#undef LWIP_HOOK_IP4_ROUTE_SRC
#define LWIP_HOOK_IP4_ROUTE_SRC netif_tunnel_route

#endif
