/*
 * Callgrind client requests (native part: hosts/lin/callgrind.c), for bench/: instruction
 * counts of exactly the code between start() and stop(name), in parts when dump(name) is
 * called in between.
 */
export function available() @ "xs_callgrind_available";
export function start() @ "xs_callgrind_start";
export function stop(name) @ "xs_callgrind_stop";
export function dump(name) @ "xs_callgrind_dump";
