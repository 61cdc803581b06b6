/**
 * The gateway in the simulator, with no application around it:
 *   xs-ipsec-lin ... gateway-main.js CONFIG.json      the document in a file (`xs-ipsec run`);
 *   xs-ipsec-lin --config FILE ... gateway-main.js    as on the device: the built-in document
 *       (mc/config) with what is provisioned in Preference (hosts/moddable/device-config.ts).
 * What it runs and answers: ./boot.ts.
 */
import { boot } from './boot.js';

boot();
