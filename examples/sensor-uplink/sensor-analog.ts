/**
 * The device's sensor (module "sensor-uplink/sensor" on the esp32 platforms): the board's
 * analog input through ECMA-419's IO class (Moddable's device.io.Analog, modules/io), on the
 * pin in config.sensor.pin (an ADC1 pin: ADC2 is shared with Wi-Fi on the ESP32). The value
 * is the fraction of full scale; what it measures (a thermistor divider, a light sensor)
 * depends on what is wired to the pin. The simulator's: ./sensor-simulated.ts.
 * Runs only on the device (there is no device.io on the desktop host).
 */
import config from 'mc/config';
import type { Reading, Sensor } from './readings.js';

interface AnalogInput {
  read(): number;
  readonly resolution: number;
}
declare const device: { io: { Analog: new (options: { pin: number }) => AnalogInput } };

export function openSensor(): Sensor {
  const pin = (config as { sensor?: { pin?: unknown } }).sensor?.pin;
  if (!Number.isInteger(pin)) throw new RangeError(`config.sensor.pin: the analog input's pin number, got ${JSON.stringify(pin)}`);
  const input = new device.io.Analog({ pin: pin as number });
  const full = (1 << input.resolution) - 1;
  return {
    name: `analog input on pin ${pin}`,
    read(): Reading {
      return { value: Math.round((input.read() / full) * 10000) / 10000, unit: 'fraction of full scale' };
    },
  };
}
