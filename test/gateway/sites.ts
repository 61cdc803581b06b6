/**
 * The shell prelude the namespace tests share: two sites (network namespaces $A and $B) joined
 * by a veth pair, 192.0.2.1 <-> 192.0.2.2, removed again when the script ends, even when it is
 * killed. `start(ns, config)` runs a simulator with the gateway in a namespace, its output in
 * /tmp/<ns>.log and its pid in /tmp/<ns>.pid. Other snippets add shell commands to
 * $CLEANUP_HOOKS, which the cleanup evaluates first, before the namespaces go (test/interop/swan.ts
 * stops its charons there).
 */
import { testDirectory } from '../engine.js';

export const BUILD = testDirectory.replace(/\/js\/test$/, '');
export const REPO = BUILD.replace(/\/build$/, '');

export function twoSites(prefix: string, id: number, showLogs = false): string {
  return `
A=${prefix}a${id}; B=${prefix}b${id}
CLEANUP_HOOKS=
cleanup() { eval "$CLEANUP_HOOKS"; kill $(cat /tmp/$A.pid /tmp/$B.pid 2>/dev/null) 2>/dev/null; sleep 0.2; ${showLogs ? 'echo "--- $A log"; cat /tmp/$A.log; echo "--- $B log"; cat /tmp/$B.log;' : ''} ip netns del $A; ip netns del $B; rm -rf /tmp/$A.* /tmp/$B.*; }
trap cleanup EXIT; trap "exit 1" INT TERM
ip netns add $A && ip netns add $B || exit 90
ip link add ${prefix}va${id} netns $A type veth peer name ${prefix}vb${id} netns $B || exit 91
ip -n $A link set lo up; ip -n $B link set lo up
ip -n $A addr add 192.0.2.1/24 dev ${prefix}va${id}; ip -n $A link set ${prefix}va${id} up
ip -n $B addr add 192.0.2.2/24 dev ${prefix}vb${id}; ip -n $B link set ${prefix}vb${id} up
`;
}

/** `config` is a file for gateway-main.js, or host options (`--config FILE ...`: the device way). */
export function start(ns: string, config: string): string {
  const [options, file] = config.startsWith('--') ? [config, ''] : ['', config];
  return `ip netns exec ${ns} ${BUILD}/lin/release/xs-ipsec-lin --modules ${BUILD}/xs-modules ${options} ${BUILD}/js/hosts/lin/gateway-main.js ${file} > /tmp/${ns}.log 2>&1 & echo $! > /tmp/${ns}.pid`;
}
