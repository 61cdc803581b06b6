/**
 * One firmware image for a fleet: the configuration document built into the image (the
 * manifest's `config.ipsec`) is the same on every device, and what differs per device is
 * provisioned into its NVS partition (`xs-ipsec provision`, read back through Preference) and
 * applied here before the document is validated. Pure: document in, document out.
 *
 * What each provisioned value replaces, in every connection of the document (a fleet's
 * firmware usually has one connection, to its headquarters):
 *   id       local.id: the device's IKE identity (RFC 7296 §3.5)
 *   psk      secrets.ike becomes this one key, for `id` when it is provisioned, else for any
 *            peer: the built-in secrets are the fleet's placeholder, never a device's key
 *   gateway  remote_addrs: the central gateway's address
 *   address  tunnel.address (the device's inner address, with its prefix), and the local_ts
 *            of every CHILD_SA: a device's traffic selector is its own inner network
 * And what the running device knows only at boot:
 *   localAddress  the address the network gave the device (DHCP on Wi-Fi): localAddresses
 *                 becomes it, unless the document already lists addresses
 *   board         the board's default proposal order (boards/<board>/manifest.json): used by
 *                 connections and CHILD_SAs that do not list their own proposals
 */
import { formatAddress, parseRange } from '../policy/selector.js';

export interface DeviceValues {
  id?: string;
  psk?: string;
  gateway?: string;
  address?: string;
  localAddress?: string;
  board?: BoardDefaults;
}

/** A board's defaults (the `board` key of its manifest's config). */
export interface BoardDefaults {
  name?: string;
  /** strongSwan proposal strings, most preferred first */
  ike_proposals?: string[];
  esp_proposals?: string[];
}

/** The Preference keys `xs-ipsec provision` writes (NVS namespace "xs-ipsec"), besides "config". */
export const PROVISIONED_KEYS = ['id', 'psk', 'gateway', 'address'] as const;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The network of an address with its prefix length: "10.1.0.17/24" -> "10.1.0.0/24"; as written when it does not parse (the validator reports it). */
function network(address: string): string {
  const slash = address.indexOf('/');
  if (slash < 0) return address;
  try {
    return `${formatAddress(parseRange(address).start)}${address.slice(slash)}`;
  } catch {
    return address;
  }
}

/**
 * The document with the device's values applied (a new object; `document` is not changed).
 * Values that are absent change nothing; what is applied is checked afterwards by
 * validateGatewayConfig, with the same paths as if it had been written in the document.
 */
export function applyDeviceValues(document: Json, values: DeviceValues): Json {
  const out: Json = { ...document };
  const connections = isObject(document.connections) ? document.connections : {};
  const applied: Json = {};
  for (const [name, raw] of Object.entries(connections)) {
    if (!isObject(raw)) {
      applied[name] = raw; // the validator reports it
      continue;
    }
    const c: Json = { ...raw };
    if (values.id !== undefined) c.local = { ...(isObject(raw.local) ? raw.local : {}), id: values.id };
    if (values.gateway !== undefined) c.remote_addrs = values.gateway;
    if (values.board?.ike_proposals && c.proposals === undefined) c.proposals = values.board.ike_proposals;
    if (isObject(raw.children)) {
      const children: Json = {};
      for (const [childName, child] of Object.entries(raw.children)) {
        if (!isObject(child)) {
          children[childName] = child;
          continue;
        }
        const ch: Json = { ...child };
        if (values.address !== undefined) ch.local_ts = network(values.address);
        if (values.board?.esp_proposals && ch.esp_proposals === undefined) ch.esp_proposals = values.board.esp_proposals;
        children[childName] = ch;
      }
      c.children = children;
    }
    applied[name] = c;
  }
  if (isObject(document.connections)) out.connections = applied;
  if (values.psk !== undefined) {
    out.secrets = { ...(isObject(document.secrets) ? document.secrets : {}), ike: [values.id !== undefined ? { id: values.id, secret: values.psk } : { secret: values.psk }] };
  }
  if (values.address !== undefined) out.tunnel = { ...(isObject(document.tunnel) ? document.tunnel : {}), address: values.address };
  const listed = Array.isArray(document.localAddresses) && document.localAddresses.length > 0;
  if (values.localAddress !== undefined && !listed) out.localAddresses = [values.localAddress];
  return out;
}

/**
 * The gateway document inside a firmware's built-in configuration (mc/config): its `ipsec`
 * key when it has one (a manifest's config also holds the platform's keys, such as Wi-Fi's
 * ssid and password, and the board's), else the whole object (the simulator's --config FILE,
 * which holds only the gateway document).
 */
export function gatewayDocument(builtIn: Json): Json {
  return isObject(builtIn.ipsec) ? builtIn.ipsec : builtIn;
}

/** The board defaults in a firmware's built-in configuration, if its manifest has a board. */
export function boardDefaults(builtIn: Json): BoardDefaults | undefined {
  const b = builtIn.board;
  if (!isObject(b)) return undefined;
  const strings = (v: unknown) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined);
  return { name: typeof b.name === 'string' ? b.name : undefined, ike_proposals: strings(b.ike_proposals), esp_proposals: strings(b.esp_proposals) };
}
