/*
 * Compile check only (make -C hosts/esp32 check): lwIP's ip4.c as ESP-IDF builds it with
 * ESP_IDF_LWIP_HOOK_FILENAME="lwip-hooks.h": lwipopts.h defines LWIP_HOOK_IP4_ROUTE_SRC as
 * ESP-IDF's hook, then the hook file (included by lwip_default_hooks.h) takes it over. The
 * function below makes the call lwIP's ip4_route_src() makes; it must name ours.
 */
#define LWIP_HOOK_IP4_ROUTE_SRC ip4_route_src_hook
#include "lwip_default_hooks.h"

struct netif* check_route(const ip4_addr_t* src, const ip4_addr_t* dest);
struct netif* check_route(const ip4_addr_t* src, const ip4_addr_t* dest)
{
	return LWIP_HOOK_IP4_ROUTE_SRC(src, dest);
}

/* the macro's expansion, pasted onto OURS_: defined (1) only for our hook's name */
#define OURS_netif_tunnel_route 1
#define PASTE(a, b) a##b
#define EXPAND_AND_PASTE(a, b) PASTE(a, b)
#if !EXPAND_AND_PASTE(OURS_, LWIP_HOOK_IP4_ROUTE_SRC)
#error "lwip-hooks.h does not install netif_tunnel_route as LWIP_HOOK_IP4_ROUTE_SRC"
#endif
