/** Configuration documents for the provisioning tests: the example, and a valid one too large for NVS. */
import { equal } from '../assert.js';
import { runProgram, testDirectory } from '../engine.js';

export const root = testDirectory.replace(/\/build\/js\/test$/, '');
/** config/example-ike.json's text. */
export async function exampleConfig(): Promise<string> {
  const r = await runProgram(['cat', `${root}/config/example-ike.json`]);
  equal(r.status, 0, r.output);
  return r.output;
}

/** A valid configuration document whose compact JSON is over 3999 bytes: many PSKs. */
export async function largeConfig(): Promise<string> {
  const document = JSON.parse(await exampleConfig());
  for (let i = 0; i < 60; i++) document.secrets.ike.push({ id: `@device-${i}.example.com`, secret: `0x${'00'.repeat(20)}` });
  return JSON.stringify(document);
}
