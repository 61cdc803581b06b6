/*
 * The seam between hosts/esp32's C and the chip: everything these files take from ESP-IDF or
 * from the Moddable SDK's ESP32 platform, and nothing else. The chip's build (mcconfig -p esp32,
 * which compiles modules with -DESP32=<target>) gets the real headers; the desktop gets
 * declarations of the same functions, implemented by hosts/esp32/desktop/chip-desktop.c over
 * hosts/lin's event loop and Debian's lwIP, so that tunnel.c and random.c compile and run
 * unchanged on both (make -C hosts/esp32). This is the only file with an #if for the chip.
 *
 * What comes from the chip:
 *   modMessagePostToMachine  Moddable, xs/platforms/esp/xsHost.{h,c}: queues (callback,
 *                            refcon) on the XS machine's FreeRTOS message queue; the machine's
 *                            task calls callback(the, refcon, message, length) from its loop,
 *                            outside xsBeginHost. Callable from any task (Moddable's own socket
 *                            module calls it from lwIP's tcpip task). Returns 0 when queued. In
 *                            a release build it waits for room in the queue (portMAX_DELAY).
 *   esp_fill_random          ESP-IDF, esp_random.h: the hardware RNG (random.c says when it is
 *                            truly random).
 *   esp_netif_init           ESP-IDF, esp_netif.h: starts lwIP's tcpip task once (later calls
 *                            return at once); chipNetworkStart() below.
 *   ip4_route_src_hook       ESP-IDF, components/lwip/port/hooks/lwip_default_hooks.c: the
 *                            source-address routing hook ESP-IDF installs as
 *                            LWIP_HOOK_IP4_ROUTE_SRC; ours (tunnel.c, wired by lwip-hooks.h)
 *                            replaces it and asks it for what it does not route itself.
 *   chipIp4Route             lwIP's ip4_route(): which netif lwIP picks for a destination
 *                            (tunnel.c asks it whether lwIP calls our route hook).
 * And what only the desktop needs (no-ops on the chip, where the machine's message queue
 * always exists): chipMessagesOpen/chipMessagesClose bracket the time a module may post
 * messages, so that hosts/lin's event loop watches for them and still ends when nothing can
 * arrive any more; chipEmulateRouteHook (desktop only) makes chipIp4Route answer as ESP-IDF's
 * lwIP with lwip-hooks.h would, for the test of the hook's own routing.
 */
#ifndef XS_IPSEC_CHIP_H
#define XS_IPSEC_CHIP_H

#include "xs.h"
#include "lwip/ip4_addr.h"
#include <stddef.h>
#include <stdint.h>

struct netif;

#if ESP32

#include "xsHost.h"
#include "esp_random.h"
#include "esp_netif.h"
#include "lwip_default_hooks.h"

#define chipNetworkStart() (esp_netif_init() == ESP_OK ? 0 : -1)
#define chipNextRouteHook(src, dest) ip4_route_src_hook(src, dest)
#define chipIp4Route(dest) ip4_route(dest)
#define chipMessagesOpen(the) ((void)(the))
#define chipMessagesClose(the) ((void)(the))

#else /* the desktop: hosts/esp32/desktop/chip-desktop.c */

/* as in Moddable's xs/platforms/esp/xsHost.h */
typedef void (*modMessageDeliver)(void* the, void* refcon, uint8_t* message, uint16_t messageLength);
int modMessagePostToMachine(xsMachine* the, uint8_t* message, uint16_t messageLength, modMessageDeliver callback, void* refcon);

/* as in ESP-IDF's esp_random.h: getrandom(2) here */
void esp_fill_random(void* buffer, size_t length);

/* starts lwIP (tcpip_init) once; 0 when its tcpip thread runs */
int chipNetworkStart(void);

/* Debian's lwIP has no route hook, and nothing to chain to: NULL lets lwIP use its default
   netif, as ESP-IDF's hook does for a source address that is no netif's */
#define chipNextRouteHook(src, dest) ((void)(src), (void)(dest), (struct netif*)NULL)

/* lwIP's ip4_route(); with chipEmulateRouteHook(1), what ESP-IDF's lwIP would answer with our
   hook compiled in (lwIP 2.1's order: a connected subnet, then the hook, then ip4_route's
   default netif). Only the question is emulated: lwIP's own sends still route without it. */
struct netif* chipIp4Route(const ip4_addr_t* dest);
void chipEmulateRouteHook(int on);

/* while open (counted), the event loop watches for messages; after the last close it still
   delivers those already posted, then stops watching */
void chipMessagesOpen(xsMachine* the);
void chipMessagesClose(xsMachine* the);

#endif

#endif
