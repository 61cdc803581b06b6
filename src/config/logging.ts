/**
 * Log levels per subsystem, as strongSwan's charon sets them (strongswan.conf
 * charon.filelog.<name>.<subsystem> = <level>, libstrongswan/utils/debug.h), for the
 * subsystems this gateway has:
 *
 *   default  the level of every subsystem not named
 *   cfg      configuration loading and proposal/identity selection
 *   net      IKE packets sent and received (ports, addresses, lengths)
 *   esp      the ESP/AH data path (charon's libipsec subsystem)
 *   ike      IKE_SA state: exchanges, rekeying, DPD
 *   chd      CHILD_SA state: creation, rekeying, lifetimes
 *   enc      IKE message encoding and decoding (payloads, encryption)
 *   knl      the SA and policy databases (PF_KEY), the tunnel interface
 *
 * Levels, with strongSwan's meanings (debug.h level_t):
 *   -1 silent   nothing
 *    0 audit    the most important events: an SA up or down, an authentication failure
 *    1 control  control flow and errors (the default)
 *    2 diagnose more detail, to diagnose problems
 *    3 raw      also raw packet and payload dumps in hex
 *    4 private  also sensitive material (keys, secrets) in dumps
 *
 * `keylog` (default false) is the separate switch for key material: a logger must never
 * write a key, a PSK or a nonce-derived secret unless it is true, whatever the level (level 4
 * without keylog logs like level 3). It also gates writing Wireshark decryption tables.
 */
import { boolean, integer, object, optional, type Schema } from './validate.js';

export const LOG_SUBSYSTEMS = ['default', 'cfg', 'net', 'esp', 'ike', 'chd', 'enc', 'knl'] as const;
export type LogSubsystem = (typeof LOG_SUBSYSTEMS)[number];

export const LogLevel = { SILENT: -1, AUDIT: 0, CONTROL: 1, DIAGNOSE: 2, RAW: 3, PRIVATE: 4 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Level names by number, for log lines and help texts. */
export const LOG_LEVEL_NAMES: Readonly<Record<LogLevel, string>> = {
  [-1]: 'silent',
  0: 'audit',
  1: 'control',
  2: 'diagnose',
  3: 'raw',
  4: 'private',
};

/** strongSwan's default level for every subsystem. */
export const DEFAULT_LOG_LEVEL: LogLevel = LogLevel.CONTROL;

export interface LoggingConfig {
  /** the level of each subsystem; `default` is the one for subsystems not named */
  readonly levels: Readonly<Record<LogSubsystem, LogLevel>>;
  /** whether key material may be logged (level 4) or written to decryption tables */
  readonly keylog: boolean;
}

const level = integer(-1, 4, 'a log level from -1 (silent) to 4 (private: includes sensitive data)') as Schema<LogLevel>;

const shape = object({
  ...(Object.fromEntries(LOG_SUBSYSTEMS.map((s) => [s, optional(level)])) as Record<LogSubsystem, Schema<LogLevel | undefined>>),
  keylog: optional(boolean(), false),
});

/** The `logging` section: every subsystem's level filled in from `default`. */
export const loggingSection: Schema<LoggingConfig> = (v, path, problems) => {
  const doc = shape(v ?? {}, path, problems);
  const fallback = doc.default ?? DEFAULT_LOG_LEVEL;
  const levels = Object.fromEntries(LOG_SUBSYSTEMS.map((s) => [s, doc[s] ?? fallback])) as Record<LogSubsystem, LogLevel>;
  return { levels, keylog: doc.keylog ?? false };
};

/** Whether a message at `messageLevel` of `subsystem` is logged. */
export function logs(config: LoggingConfig, subsystem: LogSubsystem, messageLevel: LogLevel): boolean {
  return messageLevel <= config.levels[subsystem];
}
