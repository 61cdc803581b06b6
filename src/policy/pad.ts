/**
 * The Peer Authorization Database (RFC 4301 §4.4.3): which peer identity may negotiate
 * SAs for which traffic. IKE consults it after authenticating a peer (§4.4.3.4): a peer may
 * only claim traffic selectors inside what its entry allows.
 */
import { selectorWithin, type Selector } from './selector.js';

/** IKEv2 identification types (RFC 7296 §3.5) the PAD matches on. */
export type IdentityType = 'ipv4' | 'ipv6' | 'fqdn' | 'rfc822' | 'key-id';

export interface PadEntry {
  /** the identity as configured: an address, a name, "user@example.org", or a key id in hex */
  identity: { type: IdentityType; value: string };
  /** the child SA selectors this peer may claim */
  allowed: Selector[];
}

export class Pad {
  readonly #entries: PadEntry[] = [];

  add(entry: PadEntry): void {
    this.#entries.push(entry);
  }

  /** The first entry for an identity (§4.4.3.1: matched in order, exactly; FQDNs ignore case). */
  find(type: IdentityType, value: string): PadEntry | undefined {
    const v = type === 'fqdn' || type === 'rfc822' ? value.toLowerCase() : value;
    return this.#entries.find((e) => e.identity.type === type && (type === 'fqdn' || type === 'rfc822' ? e.identity.value.toLowerCase() : e.identity.value) === v);
  }

  /** Whether the peer may claim the selector: it lies within one the entry allows. */
  mayClaim(type: IdentityType, value: string, selector: Selector): boolean {
    const entry = this.find(type, value);
    return !!entry && entry.allowed.some((allowed) => selectorWithin(selector, allowed));
  }
}
