/**
 * The Security Association Database (RFC 4301 §4.4.2): inbound SAs by SPI (§4.1: the SPI
 * alone identifies a unicast SA at its receiver), outbound SAs by the SPD entry that uses
 * them, and time lifetimes: `expire(now)` raises soft events and removes SAs whose hard
 * lifetime has passed (byte and packet lifetimes are counted by each EspSa as it works).
 */
import type { EspSa } from '../esp/sa.js';

export interface SaTimes {
  /** seconds after installation */
  softSeconds?: number;
  hardSeconds?: number;
}

export type SadEvent = { type: 'soft-expired' | 'hard-expired'; spi: number; direction: 'in' | 'out'; reason: 'time' };

interface Record {
  sa: EspSa;
  installed: number;
  times: SaTimes;
  softRaised: boolean;
}

export class Sad {
  readonly #inbound = new Map<number, Record>();
  readonly #outbound = new Map<number, Record>();
  /** events for the key manager (rekey on soft, SA gone on hard) */
  readonly events: SadEvent[] = [];

  /** Installs an SA; `now` in seconds (any monotonic clock). SPIs are unique per direction. */
  add(sa: EspSa, now: number, times: SaTimes = {}): void {
    const map = sa.direction === 'in' ? this.#inbound : this.#outbound;
    if (map.has(sa.spi)) throw new Error(`an ${sa.direction}bound SA with SPI 0x${sa.spi.toString(16)} exists`);
    map.set(sa.spi, { sa, installed: now, times, softRaised: false });
  }

  /** The inbound SA for an SPI (the receiver's lookup, RFC 4303 §3.4.2). No allocation. */
  inbound(spi: number): EspSa | undefined {
    return this.#inbound.get(spi)?.sa;
  }

  outbound(spi: number): EspSa | undefined {
    return this.#outbound.get(spi)?.sa;
  }

  remove(direction: 'in' | 'out', spi: number): boolean {
    const map = direction === 'in' ? this.#inbound : this.#outbound;
    const record = map.get(spi);
    if (!record) return false;
    record.sa.transform.dispose?.();
    return map.delete(spi);
  }

  all(): EspSa[] {
    return [...this.#outbound.values(), ...this.#inbound.values()].map((r) => r.sa);
  }

  get size(): number {
    return this.#inbound.size + this.#outbound.size;
  }

  /** Time lifetimes: soft events, and removal after the hard limit (RFC 4301 §4.4.2.1). */
  expire(now: number): void {
    for (const [direction, map] of [['in', this.#inbound], ['out', this.#outbound]] as const) {
      for (const [spi, r] of map) {
        const age = now - r.installed;
        if (r.times.hardSeconds !== undefined && age >= r.times.hardSeconds) {
          this.events.push({ type: 'hard-expired', spi, direction, reason: 'time' });
          this.remove(direction, spi);
        } else if (!r.softRaised && r.times.softSeconds !== undefined && age >= r.times.softSeconds) {
          r.softRaised = true;
          this.events.push({ type: 'soft-expired', spi, direction, reason: 'time' });
        }
      }
    }
  }

  flush(): void {
    for (const sa of this.all()) sa.transform.dispose?.();
    this.#inbound.clear();
    this.#outbound.clear();
  }
}
