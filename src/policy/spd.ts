/**
 * The Security Policy Database (RFC 4301 §4.4.1): an ordered list of entries per direction;
 * the first entry whose selector matches a packet decides: PROTECT (with which SA),
 * BYPASS or DISCARD. Outbound and inbound decisions are separate lists (§4.4.1: "SPD-O",
 * "SPD-I"). A packet no entry matches is discarded (§4.4.1: the default is DISCARD).
 */
import { matchesPacket, type Selector } from './selector.js';

export const Action = { PROTECT: 0, BYPASS: 1, DISCARD: 2 } as const;
export type Action = (typeof Action)[keyof typeof Action];
export const ACTION_NAMES = ['protect', 'bypass', 'discard'] as const;

export interface SpdEntry {
  /** unique name, as in strongSwan's CHILD_SA names or setkey's policy ids */
  name: string;
  direction: 'out' | 'in';
  selector: Selector;
  action: Action;
  /** PROTECT, outbound: the SPI of the SA to use (the SAD holds it); 0 until keyed */
  spi: number;
  /** packets this entry decided */
  hits: number;
}

export class Spd {
  readonly #outbound: SpdEntry[] = [];
  readonly #inbound: SpdEntry[] = [];

  /** Adds an entry at `position` (default: last) of its direction's list. */
  add(entry: Omit<SpdEntry, 'hits' | 'spi'> & { spi?: number }, position?: number): SpdEntry {
    if (this.find(entry.name)) throw new Error(`SPD entry "${entry.name}" already exists`);
    const e: SpdEntry = { spi: 0, ...entry, hits: 0 };
    const list = e.direction === 'out' ? this.#outbound : this.#inbound;
    list.splice(position ?? list.length, 0, e);
    return e;
  }

  remove(name: string): boolean {
    for (const list of [this.#outbound, this.#inbound]) {
      const i = list.findIndex((e) => e.name === name);
      if (i >= 0) {
        list.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  find(name: string): SpdEntry | undefined {
    return this.#outbound.find((e) => e.name === name) ?? this.#inbound.find((e) => e.name === name);
  }

  entries(direction: 'out' | 'in'): readonly SpdEntry[] {
    return direction === 'out' ? this.#outbound : this.#inbound;
  }

  /** The first outbound entry matching the packet, or null (then: discard). No allocation. */
  lookupOutbound(buffer: Uint8Array, offset: number, length: number): SpdEntry | null {
    return first(this.#outbound, buffer, offset, length, true);
  }

  /** The first inbound entry matching a packet that arrived unprotected, or null. */
  lookupInbound(buffer: Uint8Array, offset: number, length: number): SpdEntry | null {
    return first(this.#inbound, buffer, offset, length, false);
  }

  flush(): void {
    this.#outbound.length = 0;
    this.#inbound.length = 0;
  }
}

function first(list: SpdEntry[], buffer: Uint8Array, offset: number, length: number, outbound: boolean): SpdEntry | null {
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (matchesPacket(e.selector, buffer, offset, length, outbound)) {
      e.hits++;
      return e;
    }
  }
  return null;
}
