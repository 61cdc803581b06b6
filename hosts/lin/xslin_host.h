/*
 * What the parts of the desktop host (hosts/lin) share with each other.
 * Native modules that only use the xsmc API (crypto, random) do not need this file; modules
 * that wait on file descriptors (sockets, TUN) register them with xslin_watch().
 */
#ifndef __XSLIN_HOST__
#define __XSLIN_HOST__

#include "xs.h"
#include <stdint.h>

typedef void (*xslin_watch_callback)(xsMachine* the, void* data, short revents);

/* platform.c */
void xslin_add_module_directory(const char* path);
void xslin_run_entry(xsMachine* the, const char* path);
void xslin_exit(xsMachine* the, int status);

/* loop.c: the poll() event loop. A watched fd's callback runs inside xsBeginHost/xsEndHost. */
int xslin_watch(xsMachine* the, int fd, short events, xslin_watch_callback callback, void* data);
void xslin_unwatch(xsMachine* the, int fd);
void xslin_run_loop(xsMachine* the);
double xslin_now_ms(void);
/* a callback before each wait of the event loop (after every callback, timer and promise job
   of the round), until cancelled (by its data) */
int xslin_at_round_end(void (*callback)(void* data), void* data);
void xslin_cancel_round_end(void* data);

/* callback.c: calls target.callback(2, count[, address, port]) the way the Moddable
   modules deliver data; an exception nobody catches ends the process, as in a timer */
void xslin_deliver(xsMachine* the, xsSlot* target, int count, const char* address, int port);

/* callback.c: bytes [offset, offset+length) of an ArrayBuffer, TypedArray or DataView argument,
   after checking they lie inside it (RangeError naming `what` otherwise) */
uint8_t* xslin_buffer_range(xsMachine* the, xsSlot* slot, xsIntegerValue offset, xsIntegerValue length, int writable, const char* what);

/* process.c */
void xslin_set_arguments(int argc, char** argv);

/* files.c: a whole file, NUL-terminated (free() it), or NULL with *error set (EFBIG: larger
   than limit) */
char* xslin_read_whole_file(const char* path, size_t limit, size_t* size, int* error);

/* config.c: parses `--config FILE` for "mc/config"; exits with status 2 when it cannot */
void xslin_load_config(xsMachine* the, const char* path);

#endif
