/**
 * The configuration document the firmware runs with:
 *   - the one provisioned on the device, when there is one: Preference domain "xs-ipsec", key
 *     "config", a string holding a JSON object. It replaces the built-in document as a whole;
 *   - else the built-in one: mc/config, the manifest's "config" (the simulator's --config FILE).
 *
 * Why one whole document and not per-key overrides: what a provisioning tool stores is exactly
 * what runs, with no merge rules (nested objects, arrays) to define, and a device is either on
 * its build's document or on its provisioned one, never on a mix. One NVS string entry is
 * written with ESP-IDF's nvs_partition_gen.py (CSV row: config,data,string,<JSON>) or with
 * storeDeviceConfig() from the firmware; it holds up to 3999 bytes (ESP32 NVS), room for a
 * gateway's addresses, PSK and policies (config/site-a.json is about 1 KB).
 *
 * The document is returned deeply frozen, as mc/config's is; checking its content is the
 * caller's (src/config/gateway-config.ts).
 *
 * A fleet's devices share one image and differ by a few provisioned values (keys "id", "psk",
 * "gateway", "address" beside "config", written by `xs-ipsec provision` into the NVS
 * partition): loadGatewayDocument applies them, and the board's proposal order, to the
 * gateway document (src/config/device-values.ts says what each replaces).
 */
import config from 'mc/config';
import Preference from 'preference';
import { applyDeviceValues, boardDefaults, gatewayDocument, PROVISIONED_KEYS, type DeviceValues } from '../../src/config/device-values.js';

export const DEVICE_CONFIG_DOMAIN = 'xs-ipsec';
export const DEVICE_CONFIG_KEY = 'config';

export type ConfigDocument = Readonly<Record<string, unknown>>;

const where = `Preference ${DEVICE_CONFIG_DOMAIN}/${DEVICE_CONFIG_KEY}`;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The provisioned document if there is one, else mc/config's. Throws when the stored one is unusable. */
export function loadDeviceConfig(): ConfigDocument {
  const stored = Preference.get(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY);
  if (stored === undefined) return config;
  if (typeof stored !== 'string') throw new TypeError(`${where} holds ${stored instanceof ArrayBuffer ? 'an ArrayBuffer' : `a ${typeof stored}`}, not a JSON string`);
  let document: unknown;
  try {
    document = JSON.parse(stored);
  } catch (e) {
    throw new SyntaxError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(document)) throw new TypeError(`${where} must hold a JSON object`);
  return deepFreeze(document);
}

/** Provisions a document (it must fit in 3999 bytes of JSON: Preference throws a RangeError otherwise). */
export function storeDeviceConfig(document: ConfigDocument): void {
  if (!isObject(document)) throw new TypeError('a configuration document is a JSON object');
  Preference.set(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY, JSON.stringify(document));
}

/** Back to the built-in document (mc/config). */
export function clearDeviceConfig(): void {
  Preference.delete(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY);
}

/** A provisioned value: a string, or undefined when none is provisioned; anything else is an error that names it. */
function provisioned(key: string): string | undefined {
  const v = Preference.get(DEVICE_CONFIG_DOMAIN, key);
  if (v === undefined || typeof v === 'string') return v;
  throw new TypeError(`Preference ${DEVICE_CONFIG_DOMAIN}/${key} holds ${v instanceof ArrayBuffer ? 'an ArrayBuffer' : `a ${typeof v}`}, not a string`);
}

/** The device's provisioned values and its board's defaults (what loadGatewayDocument applies). */
export function deviceValues(localAddress?: string): DeviceValues {
  const values: DeviceValues = { localAddress, board: boardDefaults(config) };
  for (const key of PROVISIONED_KEYS) {
    const v = provisioned(key);
    if (v !== undefined) values[key] = v;
  }
  return values;
}

/** Where the gateway document comes from, for the log: never a provisioned value itself. */
export function describeDeviceConfig(): string {
  const stored = Preference.get(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY) !== undefined;
  const keys = PROVISIONED_KEYS.filter((k) => Preference.get(DEVICE_CONFIG_DOMAIN, k) !== undefined);
  const board = boardDefaults(config)?.name;
  return `${stored ? `${where}` : 'mc/config'}${keys.length ? `, provisioned ${keys.join(', ')}` : ''}${board ? `, board ${board}` : ''}`;
}

/**
 * The gateway document this device runs: the provisioned document or mc/config's (its `ipsec`
 * key when it has one), with the provisioned values and the board's defaults applied.
 * `localAddress`: the address the network gave the device, for documents that list none.
 */
export function loadGatewayDocument(localAddress?: string): ConfigDocument {
  return deepFreeze(applyDeviceValues(gatewayDocument(loadDeviceConfig() as Record<string, unknown>), deviceValues(localAddress)));
}
