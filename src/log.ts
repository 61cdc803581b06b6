/**
 * The logger: a level per subsystem as strongSwan's charon has them, configured by the
 * document's `logging` section (./config/logging.ts: subsystems cfg, net, esp, ike, chd, enc,
 * knl; levels -1 silent, 0 audit, 1 control, 2 diagnose, 3 raw, 4 private), so an admin
 * reads and tunes ours the same way. A line is written when its level is at most its
 * subsystem's.
 *
 * Secrets (keys, PSKs) are never written unless key logging is switched on explicitly
 * (`keylog`), whatever the level: `secret()` shows "<hidden N bytes>" otherwise.
 *
 * Bounded (DESIGN.md principle 7): at most `linesPerSecond` lines a second are written; the
 * rest are counted and reported in one line when writing resumes. The data path does not log
 * per packet: it counts (src/gateway.ts), and the host reports what the counters gained
 * (CounterWatch).
 */
import { toHex } from './crypto/bytes.js';
import { DEFAULT_LOG_LEVEL, LOG_SUBSYSTEMS, type LoggingConfig, type LogSubsystem } from './config/logging.js';

export { LogLevel } from './config/logging.js';
export type Subsystem = Exclude<LogSubsystem, 'default'>;

export interface LogOptions {
  /** levels and key logging, as the configuration's `logging` section gives them */
  logging?: { levels?: Partial<Record<LogSubsystem, number>>; keylog?: boolean } | LoggingConfig;
  /** the bound on lines per second (default 200) */
  linesPerSecond?: number;
  /** milliseconds, monotonic: for the bound */
  now?: () => number;
}

export class Logger {
  readonly keylog: boolean;
  readonly #sink: (line: string) => void;
  readonly #levels: Record<Subsystem, number>;
  readonly #limit: number;
  readonly #now: () => number;
  #second = 0;
  #written = 0;
  #suppressed = 0;

  constructor(sink: (line: string) => void, options: LogOptions = {}) {
    this.#sink = sink;
    const levels = options.logging?.levels ?? {};
    const fallback = levels.default ?? DEFAULT_LOG_LEVEL;
    this.#levels = {} as Record<Subsystem, number>;
    for (const s of LOG_SUBSYSTEMS) if (s !== 'default') this.#levels[s] = levels[s] ?? fallback;
    this.keylog = options.logging?.keylog ?? false;
    this.#limit = options.linesPerSecond ?? 200;
    this.#now = options.now ?? (() => Date.now());
  }

  /** Whether a line of this subsystem and level would be written (to skip building it). */
  enabled(subsystem: Subsystem, level: number): boolean {
    return level <= this.#levels[subsystem];
  }

  /** The level of a subsystem. */
  level(subsystem: Subsystem): number {
    return this.#levels[subsystem];
  }

  /** Writes `message` (or what the function returns, built only when written) as one line. */
  log(subsystem: Subsystem, level: number, message: string | (() => string)): void {
    if (level > this.#levels[subsystem]) return;
    const now = this.#now();
    if (now - this.#second >= 1000) {
      this.#second = now;
      this.#written = 0;
      if (this.#suppressed) {
        const n = this.#suppressed;
        this.#suppressed = 0;
        this.#written++;
        this.#sink(`[LOG] ${n} line${n === 1 ? '' : 's'} not written (more than ${this.#limit} a second)`);
      }
    }
    if (this.#written >= this.#limit) {
      this.#suppressed++;
      return;
    }
    this.#written++;
    const text = typeof message === 'function' ? message() : message;
    this.#sink(`[${subsystem.toUpperCase()}] ${text.replace(/[\r\n]+/g, ' ')}`);
  }

  /** How a secret appears in a line: its hex with key logging on, else only its length. */
  secret(bytes: Uint8Array): string {
    return this.keylog ? toHex(bytes) : `<hidden ${bytes.length} bytes>`;
  }
}

/**
 * What changed in a set of counters since the last look: the host logs it periodically, so
 * that drops appear in the log (as "what, how many more") without the data path logging
 * anything per packet.
 */
export class CounterWatch {
  readonly #last = new Map<string, number>();

  /** "name +delta" for each counter that grew since the last call (the first call reports all non-zero). */
  changes(scope: string, counters: Readonly<Record<string, number>>): string[] {
    const out: string[] = [];
    for (const name of Object.keys(counters)) {
      const value = counters[name];
      if (typeof value !== 'number') continue;
      const key = `${scope}.${name}`;
      const before = this.#last.get(key) ?? 0;
      if (value > before) out.push(`${name} +${value - before}`);
      this.#last.set(key, value);
    }
    return out;
  }
}
