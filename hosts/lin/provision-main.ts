/**
 * `xs-ipsec provision --simulator DIR`: writes provisioned values into the simulator's
 * Preference store through the real `preference` module (hosts/lin/modules/preference.js), as
 * the device's firmware would find them in NVS:
 *   XS_IPSEC_PROVISION='[{"namespace": N, "key": K, "value": "..."}, ...]' \
 *     xs-ipsec-lin --preferences DIR provision-main.js
 * The values come in the environment, not in argv, so that the PSK is not on a command line
 * that other users can list. Each value is read back after it is written; any difference, or
 * a value Preference refuses, ends the process with a non-zero status. It prints the keys it
 * stored, never the values.
 */
import { exit, getenv } from 'lin/process';
import Preference from 'preference';

declare function trace(...args: unknown[]): void;

interface Value {
  namespace: string;
  key: string;
  value: string;
}

const given = getenv('XS_IPSEC_PROVISION');
if (given === undefined) {
  trace('provision-main: XS_IPSEC_PROVISION is not set (a JSON array of {namespace, key, value})\n');
  exit(2);
}
const values = JSON.parse(given as string) as Value[];
for (const { namespace, key, value } of values) {
  Preference.set(namespace, key, value);
  if (Preference.get(namespace, key) !== value) {
    trace(`provision-main: ${namespace}/${key} reads back different from what was written\n`);
    exit(1);
  }
  trace(`stored ${namespace}/${key}\n`);
}
