/*
 * Moddable-compatible `instrumentation` module for the desktop host: XS heap, keys, GC count,
 * modules and timers (native part in hosts/lin/process.c). Instrumentation.map(name) gives the
 * index, Instrumentation.get(index) the value.
 */
function get(index) @ "xs_instrumentation_get";
function map(name) @ "xs_instrumentation_map";
function name(index) @ "xs_instrumentation_name";

const Instrumentation = Object.freeze({ get, map, name });
export default Instrumentation;
