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

/** One reading of a sensor: its value and unit. */
export interface Reading {
  value: number;
  unit: string;
}

/** Where readings come from: the board's analog input on the device, a simulation on the desktop. */
export interface Sensor {
  readonly name: string;
  read(): Reading;
}

/** The example's settings: the manifest's config.sensor (mcconfig can override them on its command line). */
export interface UplinkSettings {
  /** the collector's address: inside headquarters' network, behind the tunnel */
  collector: string;
  port: number;
  /** seconds between readings */
  interval: number;
}

type UdpSocket = { write(address: string, port: number, data: ArrayBuffer): void; close(): void };

/** Checks config.sensor: what the example needs, with a message that says what is wrong. */
export function uplinkSettings(v: unknown): UplinkSettings {
  const s = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof s.collector !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(s.collector)) problems.push(`config.sensor.collector: an IPv4 address, got ${JSON.stringify(s.collector)}`);
  if (!Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535) problems.push(`config.sensor.port: a port from 1 to 65535, got ${JSON.stringify(s.port)}`);
  if (typeof s.interval !== 'number' || !(s.interval >= 0.1 && s.interval <= 86400)) problems.push(`config.sensor.interval: seconds from 0.1 to 86400, got ${JSON.stringify(s.interval)}`);
  if (problems.length) throw new RangeError(problems.join('; '));
  return { collector: s.collector as string, port: s.port as number, interval: s.interval as number };
}

/** One reading as the line the collector receives. */
export function encodeReading(device: string, sequence: number, uptime: number, sensor: string, reading: Reading): string {
  return JSON.stringify({ device, seq: sequence, uptime: Math.round(uptime * 10) / 10, sensor, value: reading.value, unit: reading.unit });
}

export class SensorUplink {
  readonly #socket: UdpSocket;
  readonly #settings: UplinkSettings;
  readonly #sensor: Sensor;
  readonly #device: string;
  readonly #start = Date.now();
  readonly #print: (line: string) => void;
  #timer: unknown = null;
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
    this.#timer = Timer.repeat(() => this.send(), Math.round(s.interval * 1000));
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

  stop(): void {
    if (this.#timer !== null) Timer.clear(this.#timer as Parameters<typeof Timer.clear>[0]);
    this.#timer = null;
    this.#socket.close();
  }
}
