/**
 * examples/sensor-uplink: a sensor device that sends its readings to headquarters through an
 * IPsec tunnel, every `config.sensor.interval` seconds.
 *
 *   1. boot the xs-ipsec firmware ("xs-ipsec/boot": the lwIP netif on an ESP32, a TUN device
 *      in the simulator): it dials headquarters (start_action = start) with the identity, PSK,
 *      gateway address and inner address provisioned in NVS (`xs-ipsec provision`);
 *   2. send readings ("sensor-uplink/sensor": the analog input on the device, a simulated
 *      temperature on the desktop) to the collector inside headquarters' network (./uplink.ts).
 *
 * Readings sent before the tunnel is up are dropped by the gateway's policy (trap or discard):
 * the sequence numbers show it. README "Example: sensor-uplink" has the steps, and
 * ./hq-swanctl.conf the central gateway's strongSwan configuration.
 */
import config from 'mc/config';
import { boot } from 'xs-ipsec/boot';
import { openSensor } from 'sensor-uplink/sensor';
import { uplinkSettings } from './readings.js';
import { SensorUplink } from './uplink.js';

declare function trace(...args: unknown[]): void;

const firmware = boot();
const settings = uplinkSettings((config as { sensor?: unknown }).sensor);
const device = firmware.config.connections[0]?.local.id.text ?? 'unnamed';
new SensorUplink(settings, openSensor(), device, (line) => trace(`${line}\n`)).start();
