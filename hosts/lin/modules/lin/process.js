/*
 * Process facilities only the desktop simulator has (native part in hosts/lin/process.c):
 * the command line, the exit status, environment variables, a forced GC and a monotonic clock.
 */
export function argv() @ "xs_lin_argv";
export function exit(status) @ "xs_lin_exit";
export function getenv(name) @ "xs_lin_getenv";
export function gc() @ "xs_lin_gc";
export function now() @ "xs_lin_now";
export function execPath() @ "xs_lin_exec_path";
export function run(argv) @ "xs_lin_run";
export function readFile(path) @ "xs_lin_read_file";
