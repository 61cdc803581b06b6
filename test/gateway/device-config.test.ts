/**
 * The gateway started as on a device: the built-in document comes from mc/config (the
 * simulator's --config), unless a document is provisioned in Preference (domain "xs-ipsec",
 * key "config"), which replaces it (hosts/moddable/device-config.ts). Site B's built-in
 * document has a wrong key and its provisioned one the right key: ping passes only if the
 * provisioned document is the one running. Two simulators in namespaces; needs root.
 */
import { ok } from '../assert.js';
import { runProgram, uniqueId } from '../engine.js';
import { BUILD, REPO, start, twoSites } from './sites.js';
import { test } from '../harness.js';

test('as on a device: mc/config\'s built-in document runs, and a document provisioned in Preference replaces it', async () => {
  const r = uniqueId();
  // Preference.set("xs-ipsec", "config", <the file's document as a JSON string>), with the
  // fixture that runs Preference calls (its values are JS expressions)
  const provision = (dir: string, file: string) => `node -e '
const fs = require("fs");
const text = JSON.stringify(JSON.parse(fs.readFileSync(process.argv[1], "utf8")));
fs.writeFileSync(process.argv[2], JSON.stringify([["set", "xs-ipsec", "config", JSON.stringify(text)], ["keys", "xs-ipsec"]]));
' ${file} ${dir}.ops && ${BUILD}/lin/release/xs-ipsec-lin --modules ${BUILD}/xs-modules --preferences ${dir} ${BUILD}/js/test/fixtures/preference-ops.js "$(cat ${dir}.ops)"`;
  const script = `${twoSites('xd', r, true)}
sed 's/"2222222222222222222222222222222222222222"/"4444444444444444444444444444444444444444"/' ${REPO}/config/site-b.json > /tmp/$B.builtin.json
${provision('/tmp/$B.prefs', `${REPO}/config/site-b.json`)} || exit 91
${start('$A', `--config ${REPO}/config/site-a.json --preferences /tmp/$A.prefs`)}
${start('$B', '--config /tmp/$B.builtin.json --preferences /tmp/$B.prefs')}
sleep 1
ip netns exec $A ping -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 || exit 92
exit 0
`;
  const result = await runProgram(['sh', '-c', script]);
  ok(result.status === 0, `exit ${result.status}:\n${result.output}`);
  ok(/\{"type":"object","value":\["config"\]\}/.test(result.output), `provisioned:\n${result.output}`);
  ok(/3 packets transmitted, 3 received/.test(result.output), result.output);
  ok((result.output.match(/gateway up on xsipsec0/g) ?? []).length === 2, result.output);
});
