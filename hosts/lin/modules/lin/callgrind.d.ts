/** Types of hosts/lin/modules/lin/callgrind.js. */
declare module 'lin/callgrind' {
  /** True under valgrind, with the client requests compiled in. */
  export function available(): boolean;
  /** Zero the counters and start instrumenting. */
  export function start(): void;
  /** Dump the counts since start() as part `name`, and stop instrumenting. */
  export function stop(name: string): void;
  /** Dump the counts since start() or the last dump as part `name`, zero them, and go on instrumenting. */
  export function dump(name: string): void;
}
