/** Types of hosts/lin/modules/lin/process.js (native part: hosts/lin/process.c, files.c). Simulator only. */
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
  /** A file's bytes (at most 1 MiB); undefined when there is no such file. */
  export function readBytes(path: string): ArrayBuffer | undefined;
  /**
   * Replaces a file's content all at once: a temporary ".NAME.XXXXXX" (mode 0600) next to it,
   * fsync, rename, fsync of the directory. A crash leaves the old content or the new one.
   */
  export function writeFileAtomic(path: string, bytes: ArrayBuffer | ArrayBufferView): void;
  /** false when there was no such file. */
  export function removeFile(path: string): boolean;
  /** The names in a directory, in no order; undefined when there is no such directory. */
  export function listDirectory(path: string): string[] | undefined;
  /** Like mkdir -p; the directories it creates are private (0700). */
  export function makeDirectory(path: string): void;
  /** Runs a program to completion (blocking); stdout and stderr captured together. */
  export function run(argv: string[]): { status: number; output: string };
}
