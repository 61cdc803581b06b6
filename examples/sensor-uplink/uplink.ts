/**
 * The application part of the example: every `interval` seconds, one reading from the sensor,
 * as one line of JSON in one UDP datagram to the collector at headquarters. The datagram is
 * addressed to headquarters' inner network, so the IP stack routes it into the tunnel
 * interface (the lwIP netif on the device, the TUN device in the simulator) and the gateway
 * sends it as ESP: the application knows nothing of IPsec.
 *
 * A reading that cannot be sent (no route yet, the tunnel still coming up) is counted and
 * dropped; the next one is sent on time. Sequence numbers let the collector see gaps.
 */
import { Socket } from 'socket';
import Timer from 'timer';
import { encodeReading, type Sensor, type UplinkSettings } from './readings.js';

type UdpSocket = { write(address: string, port: number, data: ArrayBuffer): void };

export class SensorUplink {
  readonly #socket: UdpSocket;
  readonly #settings: UplinkSettings;
  readonly #sensor: Sensor;
  readonly #device: string;
  readonly #start = Date.now();
  readonly #print: (line: string) => void;
  sent = 0;
  failed = 0;

  constructor(settings: UplinkSettings, sensor: Sensor, device: string, print: (line: string) => void) {
    this.#settings = settings;
    this.#sensor = sensor;
    this.#device = device;
    this.#print = print;
    this.#socket = new (Socket as unknown as new (o: object) => UdpSocket)({ kind: 'UDP' });
  }

  start(): void {
    const s = this.#settings;
    this.#print(`sensor-uplink: ${this.#sensor.name} every ${s.interval} s to ${s.collector}:${s.port} as ${this.#device}`);
    Timer.repeat(() => this.send(), Math.round(s.interval * 1000));
  }

  /** Sends one reading now. */
  send(): void {
    const sequence = this.sent + this.failed + 1;
    const line = encodeReading(this.#device, sequence, (Date.now() - this.#start) / 1000, this.#sensor.name, this.#sensor.read());
    try {
      this.#socket.write(this.#settings.collector, this.#settings.port, new TextEncoder().encode(`${line}\n`).buffer as ArrayBuffer);
      this.sent++;
    } catch (e) {
      // no route or no buffer yet: counted, and said once every ten
      if (this.failed++ % 10 === 0) this.#print(`sensor-uplink: reading ${sequence} not sent (${(e as Error).message}); ${this.failed} so far`);
    }
  }
}
