/**
 * `xs-ipsec demo` as a newcomer runs it (root, strongSwan installed): the tunnel comes up
 * between strongSwan (headquarters, config/example-hq-swanctl.conf) and our simulator (the
 * device, config/example-ike.json), pings pass both ways, both sides' SAs are printed, and
 * nothing is left behind. Skipped with the reason without root or strongSwan.
 */
import { ok } from '../assert.js';
import { runProgram } from '../engine.js';
import { REPO } from '../gateway/sites.js';
import { swanTest } from './swan.js';

swanTest('xs-ipsec demo: strongSwan and our device in namespaces, tunnel up, 3 of 3 pings each way, SAs shown, namespaces removed', async () => {
  const result = await runProgram(['node', `${REPO}/bin/xs-ipsec.js`, 'demo'], 60_000);
  const out = result.output;
  ok(result.status === 0, `exit ${result.status}:\n${out}`);
  ok(/ping 10\.1\.0\.1 -> 10\.2\.0\.1 through the tunnel: 3 of 3 replies/.test(out), out);
  ok(/ping 10\.2\.0\.1 -> 10\.1\.0\.1 through the tunnel: 3 of 3 replies/.test(out), out);
  ok(/hq\[1\]: established, initiator/.test(out) && /branch1-hq: installed, SPIs [0-9a-f]{8}_i [0-9a-f]{8}_o/.test(out), `our SAs:\n${out}`);
  ok(/branch1: #1, ESTABLISHED, IKEv2/.test(out) && /branch1-hq: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128/.test(out), `strongSwan's SAs:\n${out}`);
  const pid = /namespace xs-demo-hq-(\d+)/.exec(out)?.[1];
  ok(pid !== undefined, out);
  const left = await runProgram(['ip', 'netns', 'list']);
  ok(!left.output.includes(`xs-demo-hq-${pid}`) && !left.output.includes(`xs-demo-dev-${pid}`), `namespaces removed:\n${left.output}`);
});
