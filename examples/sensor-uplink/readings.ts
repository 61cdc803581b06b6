/**
 * What examples/sensor-uplink reads and sends, apart from sockets and timers (so that both test
 * engines check it): a reading, the sensor interface, the example's settings (the manifest's
 * config.sensor, checked with a message that says what is wrong) and the line a reading
 * travels as.
 */
import { isIpv4Address } from '../../src/policy/selector.js';

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

/** Checks config.sensor: what the example needs, with a message that says what is wrong. */
export function uplinkSettings(v: unknown): UplinkSettings {
  const s = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof s.collector !== 'string' || !isIpv4Address(s.collector)) problems.push(`config.sensor.collector: an IPv4 address, got ${JSON.stringify(s.collector)}`);
  if (!Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535) problems.push(`config.sensor.port: a port from 1 to 65535, got ${JSON.stringify(s.port)}`);
  if (typeof s.interval !== 'number' || !(s.interval >= 0.1 && s.interval <= 86400)) problems.push(`config.sensor.interval: seconds from 0.1 to 86400, got ${JSON.stringify(s.interval)}`);
  if (problems.length) throw new RangeError(problems.join('; '));
  return { collector: s.collector as string, port: s.port as number, interval: s.interval as number };
}

/** One reading as the line the collector receives. */
export function encodeReading(device: string, sequence: number, uptime: number, sensor: string, reading: Reading): string {
  return JSON.stringify({ device, seq: sequence, uptime: Math.round(uptime * 10) / 10, sensor, value: reading.value, unit: reading.unit });
}
