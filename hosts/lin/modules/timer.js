/*
 * Moddable-compatible `timer` module for the desktop host (native part in hosts/lin/loop.c).
 * Timer.set(callback, delay, repeat), Timer.repeat(callback, interval),
 * Timer.schedule(timer, delay, repeat), Timer.clear(timer), Timer.delay(ms).
 * The callback receives the timer, as on the device.
 */
function set(callback, delay, repeat) @ "xs_timer_set";
function repeat(callback, interval) @ "xs_timer_repeat";
function schedule(timer, delay, repeat) @ "xs_timer_schedule";
function clear(timer) @ "xs_timer_clear";
function delay(ms) @ "xs_timer_delay";

const Timer = Object.freeze({ set, repeat, schedule, clear, delay });
export default Timer;
