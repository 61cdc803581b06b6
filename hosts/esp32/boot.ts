/**
 * The firmware's boot on an ESP32 (module "xs-ipsec/boot" on the esp32 platforms; the
 * simulator's is hosts/lin/boot.ts). By the time an application's main runs, the SDK's network
 * setup (manifest_net.json, setup/network) has joined Wi-Fi with config.ssid/password, so the
 * device has its address. boot() reads the gateway document (the provisioned one or
 * mc/config.ipsec, with the provisioned id, PSK, gateway and inner address and the board's
 * proposal order applied: hosts/moddable/device-config.ts), runs the crypto self-test, opens the lwIP tunnel netif
 * (./tunnel.ts) and runs the firmware (hosts/moddable/firmware.ts). Returns it running.
 *
 * The tunnel's routes reach it through lwIP's route hook where that is compiled into ESP-IDF's
 * lwIP, else through a netmask that covers them (./tunnel.ts, `routing`; the log says which).
 * Either way the IPsec peers' outer addresses must stay outside: they are passed as `peers`.
 *
 * No ICMP raw socket on the device: on lwIP, a RAW PCB that keeps a packet takes it from
 * lwIP's own ICMP (SocketHostOptions.icmp), so the device would stop answering pings.
 */
import config from 'mc/config';
import Net from 'net';
import Preference from 'preference';
import { outerPeers } from '../../src/config/gateway-config.js';
import { LogLevel } from '../../src/log.js';
import { Firmware } from '../moddable/firmware.js';
import { DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY, describeDeviceConfig, loadGatewayDocument } from '../moddable/device-config.js';
import { runSelfTest } from '../moddable/self-test.js';
import { NetifTunnel } from './tunnel.js';

declare function trace(...args: unknown[]): void;

/** Boots the firmware on the device's Wi-Fi address with an lwIP tunnel netif; returns it running. */
export function boot(): Firmware {
  // mc/config on a device also holds the platform's keys (sntp, ssid...): without its ipsec
  // key or a provisioned document there is no gateway document to run
  if (!('ipsec' in config) && Preference.get(DEVICE_CONFIG_DOMAIN, DEVICE_CONFIG_KEY) === undefined) {
    throw new Error('no gateway configuration: provision one (xs-ipsec provision --config FILE ...) or build an application whose manifest has config.ipsec (examples/sensor-uplink)');
  }
  const start = Date.now();
  const print = (line: string) => trace(`xs-ipsec ${line}\n`);
  const firmware = new Firmware({
    readDocument: () => loadGatewayDocument(Net.get('IP')),
    source: describeDeviceConfig(),
    openTunnel: (config, mtu, log) => {
      const tunnel = new NetifTunnel({ address: config.tunnel.address, mtu, routes: config.tunnel.routes, peers: outerPeers(config) });
      log.log('net', LogLevel.CONTROL, `tunnel ${config.tunnel.address}: routes ${config.tunnel.routes.join(', ') || 'none'} by ${tunnel.routing === 'hook' ? 'the lwIP route hook' : `netmask ${tunnel.netmask} (no lwIP route hook)`}`);
      return tunnel;
    },
    print,
    now: () => (Date.now() - start) / 1000,
    icmp: false,
    // before a packet is sent or accepted: a failure throws and the firmware stops here
    beforeStart: (crypto) => runSelfTest(crypto, print),
  });
  firmware.start();
  return firmware;
}
