/** Types of hosts/lin/modules/lin/process.js (native part: hosts/lin/process.c). Simulator only. */
declare module 'lin/process' {
  /** The entry module's path, then its arguments. */
  export function argv(): string[];
  export function exit(status: number): never;
  export function getenv(name: string): string | undefined;
  export function gc(): void;
  /** Monotonic milliseconds. */
  export function now(): number;
  /** This executable's path. */
  export function execPath(): string;
  /** A text file (at most 1 MiB), e.g. a configuration. */
  export function readFile(path: string): string;
  /** Runs a program to completion (blocking); stdout and stderr captured together. */
  export function run(argv: string[]): { status: number; output: string };
}
