/**
 * The Security Policy Database (RFC 4301 §4.4.1): an ordered list of entries per direction;
 * the first entry whose selector matches a packet decides: PROTECT (with which SA),
 * BYPASS or DISCARD. Outbound and inbound decisions are separate lists (§4.4.1: "SPD-O",
 * "SPD-I"). A packet no entry matches is discarded (§4.4.1: the default is DISCARD).
 */
import { CompiledSelector, PacketFields, type Selector } from './selector.js';

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
  /** each list's selectors prepared for matching (selector.ts), index for index */
  readonly #outboundCompiled: CompiledSelector[] = [];
  readonly #inboundCompiled: CompiledSelector[] = [];
  /** the packet being looked up, read once for all entries */
  readonly #fields = new PacketFields();

  /** Adds an entry at `position` (default: last) of its direction's list. */
  add(entry: Omit<SpdEntry, 'hits' | 'spi'> & { spi?: number }, position?: number): SpdEntry {
    if (this.find(entry.name)) throw new Error(`SPD entry "${entry.name}" already exists`);
    const e: SpdEntry = { spi: 0, ...entry, hits: 0 };
    const list = e.direction === 'out' ? this.#outbound : this.#inbound;
    const at = position ?? list.length;
    list.splice(at, 0, e);
    this.#compiledOf(list).splice(at, 0, new CompiledSelector(e.selector));
    return e;
  }

  remove(name: string): boolean {
    for (const list of [this.#outbound, this.#inbound]) {
      const i = list.findIndex((e) => e.name === name);
      if (i >= 0) {
        list.splice(i, 1);
        this.#compiledOf(list).splice(i, 1);
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
    return this.#first(this.#outbound, buffer, offset, length, true);
  }

  /** The first inbound entry matching a packet that arrived unprotected, or null. */
  lookupInbound(buffer: Uint8Array, offset: number, length: number): SpdEntry | null {
    return this.#first(this.#inbound, buffer, offset, length, false);
  }

  /**
   * RFC 4301 §5.2: the inbound entry deciding about a packet that arrived on the SA `spi`:
   * the first matching entry, passing over PROTECT entries of other SAs (during a rekey two
   * SAs of one CHILD SA have entries with the same selectors, RFC 7296 §2.8). The packet is
   * acceptable when this is a PROTECT entry for `spi` (or for any SA: spi 0).
   */
  lookupInboundFor(spi: number, buffer: Uint8Array, offset: number, length: number): SpdEntry | null {
    const fields = this.#fields;
    if (!fields.read(buffer, offset, length)) return null;
    const list = this.#inbound;
    const compiled = this.#inboundCompiled;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e.action === Action.PROTECT && e.spi !== 0 && e.spi !== spi) continue;
      if (compiled[i].matches(fields, false)) {
        e.hits++;
        return e;
      }
    }
    return null;
  }

  flush(): void {
    this.#outbound.length = 0;
    this.#inbound.length = 0;
    this.#outboundCompiled.length = 0;
    this.#inboundCompiled.length = 0;
  }

  #compiledOf(list: SpdEntry[]): CompiledSelector[] {
    return list === this.#outbound ? this.#outboundCompiled : this.#inboundCompiled;
  }

  #first(list: SpdEntry[], buffer: Uint8Array, offset: number, length: number, outbound: boolean): SpdEntry | null {
    const fields = this.#fields;
    if (!fields.read(buffer, offset, length)) return null;
    const compiled = outbound ? this.#outboundCompiled : this.#inboundCompiled;
    for (let i = 0; i < list.length; i++) {
      if (compiled[i].matches(fields, outbound)) {
        const e = list[i];
        e.hits++;
        return e;
      }
    }
    return null;
  }
}
