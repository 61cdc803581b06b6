/**
 * The simulator's sensor (module "sensor-uplink/sensor" on the lin platform): a temperature
 * that drifts around 21 °C on a slow sine with a little deterministic jitter, so that a
 * collector sees plausible, changing values. The device reads a real input: ./sensor-analog.ts.
 */
import type { Reading, Sensor } from './readings.js';

export function openSensor(): Sensor {
  let n = 0;
  return {
    name: 'simulated temperature',
    read(): Reading {
      n++;
      const jitter = ((n * 7919) % 11) / 100 - 0.05;
      return { value: Math.round((21 + 2 * Math.sin(n / 10) + jitter) * 100) / 100, unit: 'celsius' };
    },
  };
}
