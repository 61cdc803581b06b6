#!/usr/bin/env node
/**
 * The headquarters end of examples/sensor-uplink: receives the devices' readings (one JSON
 * line per UDP datagram) on the collector address and port of config.sensor, and prints each
 * with the address it came from (the device's inner address: it arrived through the tunnel).
 *
 *   node examples/sensor-uplink/collector.mjs [--address 10.2.0.1] [--port 5140]
 *
 * A datagram that is not a reading is printed as such and counted, never fatal.
 */
import dgram from 'node:dgram';

const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const address = option('address', '10.2.0.1');
const port = Number(option('port', '5140'));
const socket = dgram.createSocket('udp4');
let malformed = 0;
socket.on('message', (data, from) => {
  const text = data.toString('utf8').trim();
  try {
    const r = JSON.parse(text);
    if (typeof r !== 'object' || r === null || typeof r.device !== 'string' || !Number.isInteger(r.seq)) throw new Error('not a reading');
    console.log(JSON.stringify({ from: from.address, ...r }));
  } catch {
    malformed++;
    console.log(JSON.stringify({ from: from.address, malformed: text.slice(0, 80), count: malformed }));
  }
});
socket.on('error', (e) => {
  console.error(`collector: ${e.message}`);
  process.exit(1);
});
socket.bind(port, address, () => console.error(`collector: listening on ${address}:${port}`));
