/**
 * boards/<board>/sdkconfig.defaults: lines mcconfig's merge reads as intended (tools/mcmanifest.js
 * splits each non-comment line at "=" and appends or replaces CONFIG_NAME=value in the SDK's
 * base file), and only option names verified in ESP-IDF's Kconfig files
 * (test/boards/kconfig-options.json).
 */
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';
import { BOARDS, readJson, readText } from './checkout.js';

interface Sdkconfig {
  options: Map<string, string>;
  problems: string[];
}

/**
 * One option per line, CONFIG_NAME=value with value y, n, a decimal or hex number or a quoted
 * string; blank lines and "#" comments. A "# CONFIG_X is not set" line is a comment to
 * mcconfig's merge, so it would not turn anything off: refused, as is a value with a trailing
 * comment (the merge would take the comment as part of the value) and a name given twice.
 */
function parseSdkconfig(text: string): Sdkconfig {
  const result: Sdkconfig = { options: new Map(), problems: [] };
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      if (/^#\s*CONFIG_\w+ is not set/.test(line)) result.problems.push(`${where}: "is not set" is a comment to mcconfig's merge; write CONFIG_X=n`);
      return;
    }
    const m = /^(CONFIG_[A-Z0-9_]+)=(y|n|-?[0-9]+|0x[0-9A-Fa-f]+|"[^"\\]*")$/.exec(line);
    if (!m) {
      result.problems.push(`${where}: not CONFIG_NAME=value: ${JSON.stringify(line.slice(0, 80))}`);
      return;
    }
    if (result.options.has(m[1])) result.problems.push(`${where}: ${m[1]} again`);
    result.options.set(m[1], m[2]);
  });
  return result;
}

test('sdkconfig parser: accepts options, comments and blank lines', () => {
  const r = parseSdkconfig('# crypto\nCONFIG_A=y\n\nCONFIG_B_2=16\nCONFIG_C=0x9000\nCONFIG_D="4MB"\nCONFIG_E=n\n');
  deepEqual(r.problems, []);
  deepEqual([...r.options], [['CONFIG_A', 'y'], ['CONFIG_B_2', '16'], ['CONFIG_C', '0x9000'], ['CONFIG_D', '"4MB"'], ['CONFIG_E', 'n']]);
});

test('sdkconfig parser: refuses malformed, truncated and misleading lines', () => {
  const cases: [string, RegExp][] = [
    ['CONFIG_A', /not CONFIG_NAME=value/],
    ['CONFIG_A=', /not CONFIG_NAME=value/],
    ['CONFIG_A=y # on', /not CONFIG_NAME=value/],
    ['CONFIG_A="unterminated', /not CONFIG_NAME=value/],
    ['config_a=y', /not CONFIG_NAME=value/],
    [' CONFIG_A=y', /not CONFIG_NAME=value/],
    ['CONFIG_A=yes', /not CONFIG_NAME=value/],
    ['# CONFIG_A is not set', /write CONFIG_X=n/],
    ['CONFIG_A=y\nCONFIG_A=n', /CONFIG_A again/],
    [`CONFIG_${'A'.repeat(5000)}=y =`, /not CONFIG_NAME=value/],
  ];
  for (const [text, problem] of cases) {
    const r = parseSdkconfig(text);
    equal(r.problems.length, 1, `${JSON.stringify(text.slice(0, 40))}: ${r.problems.join('; ')}`);
    ok(problem.test(r.problems[0]), r.problems[0]);
  }
});

test('sdkconfig: every board\'s file parses and names only options verified in ESP-IDF\'s Kconfig', async () => {
  const verified: { options: Record<string, string> } = await readJson('test/boards/kconfig-options.json');
  for (const board of BOARDS) {
    const r = parseSdkconfig(await readText(`boards/${board}/sdkconfig.defaults`));
    deepEqual(r.problems, [], board);
    deepEqual([...r.options.keys()].filter((name) => !(name in verified.options)), [], `${board}: names not in kconfig-options.json`);
  }
  for (const [name, file] of Object.entries(verified.options)) {
    ok(/^CONFIG_[A-Z0-9_]+$/.test(name) && /^components\/[a-z0-9_]+\/Kconfig(\.projbuild)?$/.test(file), `${name}: ${file}`);
  }
});

test('sdkconfig: hardware AES/SHA/MPI, the PSA algorithms, raw PCBs, forwarding and 4 MB flash on every board', async () => {
  const required: Record<string, string> = {
    CONFIG_MBEDTLS_HARDWARE_AES: 'y', CONFIG_MBEDTLS_HARDWARE_SHA: 'y', CONFIG_MBEDTLS_HARDWARE_MPI: 'y',
    CONFIG_MBEDTLS_GCM_C: 'y', CONFIG_MBEDTLS_CHACHAPOLY_C: 'y', CONFIG_MBEDTLS_CHACHA20_C: 'y', CONFIG_MBEDTLS_CMAC_C: 'y',
    CONFIG_MBEDTLS_ECDH_C: 'y', CONFIG_MBEDTLS_ECP_DP_CURVE25519_ENABLED: 'y', CONFIG_MBEDTLS_ECP_DP_SECP256R1_ENABLED: 'y',
    CONFIG_LWIP_IP_FORWARD: 'y', CONFIG_LWIP_IP4_REASSEMBLY: 'y', CONFIG_ESPTOOLPY_FLASHSIZE_4MB: 'y',
  };
  for (const board of BOARDS) {
    const { options } = parseSdkconfig(await readText(`boards/${board}/sdkconfig.defaults`));
    for (const [name, value] of Object.entries(required)) equal(options.get(name), value, `${board} ${name}`);
    ok(Number(options.get('CONFIG_LWIP_MAX_RAW_PCBS')) >= 2, `${board}: raw PCBs for ESP (50) and AH (51)`);
    // only the C6 has an ECC accelerator (ESP-IDF soc_caps.h SOC_ECC_SUPPORTED)
    equal(options.get('CONFIG_MBEDTLS_HARDWARE_ECC'), board === 'esp32c6' ? 'y' : undefined, board);
  }
});
