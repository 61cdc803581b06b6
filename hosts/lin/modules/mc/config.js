/*
 * Moddable's "mc/config" for the desktop simulator: the JSON object given with
 * `xs-ipsec-lin --config FILE` (parsed and deeply frozen by the host before the entry module
 * runs, see hosts/lin/config.c), or a frozen {} without it. On a device, mcconfig generates
 * this module from the manifest's "config". Types: @moddable/typings/mc/config.d.ts.
 */
function config() @ "xs_lin_config";

export default config() ?? Object.freeze({});
