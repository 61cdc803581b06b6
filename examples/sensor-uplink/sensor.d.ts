/**
 * Module "sensor-uplink/sensor": where the example's readings come from, mapped per platform
 * by ./manifest.json (esp32: ./sensor-analog.ts; lin: ./sensor-simulated.ts) and in the
 * simulator by scripts/setup.mjs.
 */
declare module 'sensor-uplink/sensor' {
  export function openSensor(): import('./readings.js').Sensor;
}
