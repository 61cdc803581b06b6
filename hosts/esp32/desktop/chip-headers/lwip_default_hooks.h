/* Compile check only (README.md): ESP-IDF components/lwip/port/include/lwip_default_hooks.h,
   which includes ESP_IDF_LWIP_HOOK_FILENAME after lwIP's address headers, and declares the
   source-address hook its lwipopts.h installs as LWIP_HOOK_IP4_ROUTE_SRC */
#ifndef LWIP_ESP_DEFAULT_HOOKS_H_
#define LWIP_ESP_DEFAULT_HOOKS_H_
#include "lwip/ip_addr.h"
#ifdef ESP_IDF_LWIP_HOOK_FILENAME
#include ESP_IDF_LWIP_HOOK_FILENAME
#endif
struct netif *ip4_route_src_hook(const ip4_addr_t *src, const ip4_addr_t *dest);
#endif
