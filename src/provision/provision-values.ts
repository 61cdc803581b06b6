/**
 * The values `xs-ipsec provision` gives one device, checked before anything is written, and
 * the NVS items that carry them: Preference domain (NVS namespace) "xs-ipsec", keys
 *   id       the device's IKE identity (./identity.ts syntax: @name, user@domain, address...)
 *   psk      its pre-shared key in swanctl syntax (text, 0x<hex>, 0s<base64>)
 *   gateway  the central gateway's address: an IPv4 address
 *   address  (optional) the device's inner address with its prefix, e.g. 10.1.0.17/32
 *   config   (optional) a whole configuration document, compact JSON
 * all NVS strings, as Moddable's Preference.set stores a string (nvs_set_str), so that
 * Preference.get("xs-ipsec", KEY) returns them on the device. The firmware applies them
 * (src/config/device-values.ts); this module only produces them.
 *
 * Each problem is one line naming the option, and never shows the PSK ("<secret>").
 */
import { validateGatewayConfig } from '../config/gateway-config.js';
import { IdType, parseIdentity } from '../config/identity.js';
import { parseSecret } from '../config/ike-config.js';
import { parses } from '../config/validate.js';
import { isIpv4Address, parseRange } from '../policy/selector.js';
import { utf8Bytes } from '../crypto/bytes.js';
import { NVS_MAX_STRING_BYTES, type NvsItem } from './nvs-image.js';

export const PROVISION_NAMESPACE = 'xs-ipsec';

export interface ProvisionInput {
  id: string;
  psk: string;
  gateway: string;
  /** the device's inner address with its prefix (tunnel.address and its CHILD_SAs' local_ts) */
  address?: string;
  /** the configuration document's text (a JSON file's content), and the file's name for problems */
  config?: { text: string; file: string };
}

export interface Provisioned {
  /** the Preference/NVS entries, in the order they are written */
  items: NvsItem[];
  /** one line each; empty when every value is acceptable */
  problems: string[];
}

/** The most bytes of UTF-8 a Preference string holds (NVS: 4000 with its NUL). */
const MAX_STRING = NVS_MAX_STRING_BYTES - 1;

/**
 * The gateway is an IPv4 address: the firmware puts it in remote_addrs, which takes addresses
 * (names are not resolved, as ike-config.ts says), and talks IKE and ESP over IPv4 only.
 */
function gatewayProblem(text: string): string | undefined {
  if (isIpv4Address(text)) return undefined;
  return `an IPv4 address: four numbers 0..255 (the firmware does not resolve names${text.includes(':') ? '; IKE and ESP run over IPv4 only' : ''})`;
}

/** The device's inner address with its prefix (tunnel.address, and its CHILD_SAs' local_ts): IPv4 a.b.c.d/n, n from 1 to 32. */
function addressProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  const length = text.slice(slash + 1);
  if (slash < 0 || !isIpv4Address(text.slice(0, slash)) || !/^\d{1,2}$/.test(length) || !parses(parseRange)(text) || Number(length) < 1) {
    return 'an IPv4 address with its prefix length, e.g. 10.1.0.17/32';
  }
  return undefined;
}

function tooLong(option: string, shown: string, text: string, problems: string[]): boolean {
  const bytes = utf8Bytes(text).length;
  if (bytes <= MAX_STRING) return false;
  problems.push(`${option} ${shown}: ${bytes} bytes; a Preference string holds at most ${MAX_STRING} (ESP32 NVS: ${NVS_MAX_STRING_BYTES} with its NUL)`);
  return true;
}

/** Checks the values; the items to write when there is no problem. */
export function provisionItems(input: ProvisionInput): Provisioned {
  const problems: string[] = [];
  const string = (key: string, value: string): NvsItem => ({ namespace: PROVISION_NAMESPACE, key, type: 'string', value });

  try {
    if (parseIdentity(input.id).type === IdType.ANY) problems.push(`--id "%any": the device's own identity, not %any`);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    problems.push(`--id ${JSON.stringify(input.id)}: expected ${e.message}`);
  }

  if (!tooLong('--psk', '<secret>', input.psk, problems)) {
    try {
      parseSecret(input.psk);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      problems.push(`--psk <secret>: expected ${e.message}`);
    }
  }

  const gateway = gatewayProblem(input.gateway);
  if (gateway) problems.push(`--gateway ${JSON.stringify(input.gateway)}: expected ${gateway}`);

  const items = [string('id', input.id), string('psk', input.psk), string('gateway', input.gateway)];
  if (input.address !== undefined) {
    const address = addressProblem(input.address);
    if (address) problems.push(`--address ${JSON.stringify(input.address)}: expected ${address}`);
    items.push(string('address', input.address));
  }

  if (input.config) {
    const { text, file } = input.config;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (e) {
      problems.push(`--config ${file}: not JSON: ${(e as Error).message}`);
    }
    if (document !== undefined) {
      try {
        validateGatewayConfig(document);
        // stored compact, as hosts/moddable/device-config.ts storeDeviceConfig stores it
        const compact = JSON.stringify(document);
        if (!tooLong('--config', `${file} (compact JSON)`, compact, problems)) items.push(string('config', compact));
      } catch (e) {
        const listed = (e as { problems?: { path: string; expected: string; got: string }[] }).problems;
        if (!listed) throw e;
        for (const p of listed) problems.push(`--config ${file}: ${p.path}: expected ${p.expected}, got ${p.got}`);
      }
    }
  }
  return { items, problems };
}
