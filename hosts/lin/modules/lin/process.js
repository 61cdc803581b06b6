/*
 * Process facilities only the desktop simulator has (native part in hosts/lin/process.c and,
 * for files, hosts/lin/files.c): the command line, the exit status, environment variables, a
 * forced GC, a monotonic clock, running programs, and the file access of the simulator's
 * file-backed modules (preference, mc/config).
 */
export function argv() @ "xs_lin_argv";
export function exit(status) @ "xs_lin_exit";
export function getenv(name) @ "xs_lin_getenv";
export function gc() @ "xs_lin_gc";
export function now() @ "xs_lin_now";
export function execPath() @ "xs_lin_exec_path";
export function run(argv) @ "xs_lin_run";
export function readFile(path) @ "xs_lin_read_file";
export function readBytes(path) @ "xs_lin_read_bytes";
export function writeFileAtomic(path, bytes) @ "xs_lin_write_file_atomic";
export function removeFile(path) @ "xs_lin_remove_file";
export function listDirectory(path) @ "xs_lin_list_directory";
export function makeDirectory(path) @ "xs_lin_make_directory";
