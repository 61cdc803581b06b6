/**
 * strongSwan as the peer of a namespace test: shell snippets, in the style of
 * test/gateway/sites.ts, that a test composes into one `sh -c` script after `twoSites(...)`.
 *
 *   swanConfig(options)          strongswan.conf and swanctl.conf from typed options (pure)
 *   swanStart(ns, dir, config)   writes them into dir (swanDir(ns): /tmp/<ns>.swan), starts
 *                                charon in namespace ns, loads them
 *   swanctl(dir, args)           swanctl against that charon (args: shell words)
 *   swanInitiate(dir, child)     swanctl --initiate, failing the script if it fails
 *   swanWaitSa / swanWaitIke     polls swanctl --list-sas until the SA is up (bounded)
 *   swanLog(dir)                 the tail of charon's log (for failures)
 *   swanStop / swanKill / swanRestart
 *   swanTest(name, fn)           test(), or skip() with the reason when not root or no strongSwan
 *
 * What strongSwan 5.9.8 (Debian 12's charon) needs in this sandbox (see
 * ../shared/notes/strongswan-testbed.md):
 * - The kernel has no ESP in XFRM, so charon must use its userspace ESP, the kernel-libipsec
 *   plugin: ESP is then always in UDP 4500 (RFC 3948) and inner traffic goes through a TUN
 *   device (ipsec0) charon creates in its namespace. `charon.load` lists kernel-libipsec
 *   BEFORE kernel-netlink (still needed, for routes and addresses); the other way round the
 *   CHILD_SA install fails with "Function not implemented (38)" and NO_PROPOSAL_CHOSEN.
 * - libipsec routes the remote subnet through ipsec0 with a source address from local_ts that
 *   must exist on a device: the kernel has no `dummy` links, so the inner address goes on lo
 *   (`inner` below; swanStart adds it).
 * - charon always writes /var/run/charon.pid: each charon gets its own /run, a bind mount of
 *   DIR/run made inside the private mount namespace `ip netns exec` creates (so it is gone with
 *   charon). Everything else that could clash points into DIR: STRONGSWAN_CONF
 *   (DIR/strongswan.conf, which replaces /etc/strongswan.conf and its strongswan.d includes
 *   entirely), SWANCTL_DIR (DIR/swanctl), the vici socket (unix://DIR/charon.vici, for charon
 *   and swanctl), the log (DIR/charon.log), charon's stdout and stderr (DIR/charon.out).
 *   swanctl talks to charon through that unix socket, so it needs no `ip netns exec`.
 * - IPv6 is switched off in the namespace (swanStart does it), or charon sends unsolicited
 *   MOBIKE INFORMATIONAL [ N(NO_ADD_ADDR) ] as link-local addresses come and go.
 * - charon runs in the foreground (/usr/lib/ipsec/charon, no starter/ipsec.conf), configured
 *   with swanctl --load-all.
 * - With encap = yes charon fakes NAT_DETECTION_SOURCE_IP (the peer sees "NAT") and IKE floats
 *   to 4500. With custom ports (local_port not 500) charon would float its own port too if the
 *   IKE_SA sat on charon.port, so swanConfig binds charon.port to a random port and
 *   charon.port_nat_t to local_port: IKE and ESP share local_port, every IKE packet carries the
 *   non-ESP marker, and the remote port is never changed.
 * - IKEv2 DPD gives up after the retransmission schedule (dpd_timeout is IKEv1 only), and so
 *   does every unanswered request: strongSwan's default (4 s, base 1.8, 5 tries) waits 165 s,
 *   swanConfig's default (2 s, base 1.5, 3 tries) about 16 s.
 * - The log is flushed per line (flush_line), with milliseconds and the IKE_SA name, so a
 *   failure's tail is complete.
 *
 * Cleanup: swanStart appends to $CLEANUP_HOOKS, which twoSites' cleanup (EXIT trap) evaluates
 * first: charon gets SIGTERM (SIGKILL after 2 s) and DIR is removed, before the namespaces go.
 * A script with its own prelude must `eval "$CLEANUP_HOOKS"` in its cleanup likewise.
 *
 * ns and dir are shell words put in double quotes: they may hold variables ("$A",
 * "/tmp/$A.swan"), but not `"`, and dir not `|` or `&` (a sed replacement). Each failure exits
 * the script with a code of SWAN_EXIT, after a line starting with "swan:" and the log tail.
 *
 * Example (charon in $B answers, config in test/interop/swan-harness.test.ts):
 *
 *   const b = swanConfig({ name: 'xs', local_addrs: '192.0.2.2', remote_addrs: '192.0.2.1',
 *     local_id: '@b.example', remote_id: '@a.example', psk: 'secret', inner: '10.2.0.1',
 *     child: { local_ts: '10.2.0.0/16', remote_ts: '10.1.0.0/16' } });
 *   const script = `${twoSites('xw', r)}
 *   ${swanStart('$B', swanDir('$B'), b)}
 *   ${start('$A', '/tmp/$A.json')}
 *   ${swanWaitSa(swanDir('$B'), 'xs', 10)}
 *   ip netns exec $B ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 || exit 1`;
 *   const result = await runProgram(['sh', '-c', script]);
 *   ok(result.status === 0, `${swanExitReason(result.status)}:\n${result.output}`);
 */
import { runProgram } from '../engine.js';
import { skip, test, type TestFunction } from '../harness.js';

export const CHARON = '/usr/lib/ipsec/charon';
export const SWANCTL = '/usr/sbin/swanctl';
/** what the harness needs: charon, swanctl, userspace ESP (libcharon-extra-plugins), x25519 (libstrongswan-extra-plugins), openssl (libstrongswan-standard-plugins) */
export const SWAN_FILES = [CHARON, SWANCTL, ...['kernel-libipsec', 'curve25519', 'openssl'].map((p) => `/usr/lib/ipsec/plugins/libstrongswan-${p}.so`)];

/**
 * Why strongSwan tests cannot run here (not root, charon or a plugin missing), or undefined when
 * they can. CI runs as root with strongSwan installed (.ci/run; setup installs it when root).
 */
export async function swanUnavailable(): Promise<string | undefined> {
  if ((await runProgram(['id', '-u'])).output.trim() !== '0') return 'needs root (network namespaces, TUN devices)';
  const missing = (await runProgram(['sh', '-c', `for f in ${SWAN_FILES.join(' ')}; do [ -e $f ] || echo $f; done; command -v ip >/dev/null || echo ip`])).output.trim();
  if (missing) return `strongSwan not installed (missing ${missing.split('\n').join(', ')}): apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins libstrongswan-extra-plugins`;
  return undefined;
}

const unavailable = await swanUnavailable();

/** test() when strongSwan can run here, else skip() with the reason */
export function swanTest(name: string, fn: TestFunction): void {
  if (unavailable) skip(name, unavailable);
  else test(name, fn);
}

/** How a snippet ends the script when something fails (after a "swan: ..." line and the log tail). */
export const SWAN_EXIT = {
  /** writing the files, the namespace's sysctl, the inner address */
  setup: 70,
  /** charon exited during startup, or opened no vici socket in time */
  start: 71,
  /** swanctl --load-all failed */
  load: 72,
  /** swanctl --initiate failed */
  initiate: 73,
  /** the SA was not up in time (swanWaitSa, swanWaitIke) */
  wait: 74,
  /** charon still alive after SIGKILL (swanKill, swanStop) */
  stop: 75,
} as const;

/** what a script's exit status means, when it is one of SWAN_EXIT's, for assertion messages */
export function swanExitReason(status: number): string {
  const name = Object.entries(SWAN_EXIT).find(([, code]) => code === status)?.[0];
  return name ? `exit ${status}: strongSwan harness, ${name} failed` : `exit ${status}`;
}

/** swanctl.conf's times: a number is seconds; a string is swanctl's syntax ("90s", "5m", "1h", "1d") */
export type Duration = number | string;

/** charon's log subsystems (strongswan.conf charon.filelog.<name>.<subsystem>) */
export type LogSubsystem = 'default' | 'dmn' | 'mgr' | 'ike' | 'chd' | 'job' | 'cfg' | 'knl' | 'net' | 'asn' | 'enc' | 'tnc' | 'imc' | 'imv' | 'pts' | 'tls' | 'esp' | 'lib';

/** The CHILD_SA: connections.<name>.children.<child.name> in swanctl.conf. */
export interface SwanChild {
  /** default: the connection's name */
  name?: string;
  /** swanctl's syntax, comma-separated: "10.1.0.0/16", "10.1.0.1/32[udp/53]", "dynamic" (default) */
  local_ts?: string;
  remote_ts?: string;
  /** strongSwan syntax, e.g. "aes128gcm16", "aes256-sha256-modp2048" (PFS); default: swanctl's */
  esp_proposals?: string;
  /** what charon does after loading: none (default), start (initiate), trap (on traffic) */
  start_action?: 'none' | 'start' | 'trap';
  /** default tunnel */
  mode?: 'tunnel' | 'transport';
  rekey_time?: Duration;
  life_time?: Duration;
  rand_time?: Duration;
  /** what happens when DPD declares the peer dead: clear (default), trap, restart */
  dpd_action?: 'clear' | 'trap' | 'restart';
  /** what happens when the peer closes the CHILD_SA: none (default), trap, start */
  close_action?: 'none' | 'trap' | 'start';
  /** raw `key = value` lines for the child section */
  extra?: string[];
}

/** strongswan.conf's charon section, beyond the harness's fixed plugins, log and sockets. */
export interface SwanCharon {
  /** complete IP datagram size of a sent IKE fragment (charon.fragment_size; 1280 default, any positive size is taken) */
  fragment_size?: number;
  /** NAT-T keepalive interval (charon.keep_alive, default 20s; 0 off) */
  keep_alive?: Duration;
  /** first retransmission after this many seconds (harness default 2, strongSwan's 4) */
  retransmit_timeout?: number;
  /** retransmissions before giving up (harness default 3, strongSwan's 5) */
  retransmit_tries?: number;
  /** each timeout is the previous times this (harness default 1.5, strongSwan's 1.8) */
  retransmit_base?: number;
  /** the ports charon listens on; set from local_port when that is not 500, see the top comment */
  port?: number;
  port_nat_t?: number;
  /** raw `key = value` lines for the charon section */
  extra?: string[];
}

export interface SwanOptions {
  /** connection name (default "xs"); also the CHILD_SA's unless child.name */
  name?: string;
  /** our outer address(es), comma-separated; default %any */
  local_addrs?: string;
  /** the peer's; default %any (a responder to anyone) */
  remote_addrs?: string;
  /** IKE ports; not 500 means custom ports (see the top comment) */
  local_port?: number;
  remote_port?: number;
  /** IKE proposals, strongSwan syntax ("aes128gcm16-prfsha256-x25519"); default swanctl's */
  proposals?: string;
  /**
   * Identities in strongSwan's syntax: "@a.example" (FQDN), "192.0.2.1" (IPv4), "user@a.example"
   * (RFC822/email), "@#0a0b0c" (KEY_ID, hex), a DN "C=CH, O=x, CN=y". Default: the IP address.
   */
  local_id?: string;
  remote_id?: string;
  /** the pre-shared key: text, or 0x... hex / 0s... base64 as swanctl reads them */
  psk: string;
  /** IKE_SA times (IKE's life is max(rekey_time, reauth_time) + over_time) */
  rekey_time?: Duration;
  reauth_time?: Duration;
  over_time?: Duration;
  rand_time?: Duration;
  /** DPD interval (0 off, the default); configure it on one side only, see the testbed notes */
  dpd_delay?: Duration;
  /** IKEv1 only: IKEv2 declares the peer dead when the retransmissions run out */
  dpd_timeout?: Duration;
  /** IKE fragmentation (RFC 7383): yes (default), accept, force (IKEv1 only), no */
  fragmentation?: 'yes' | 'accept' | 'force' | 'no';
  /** UDP encapsulation even without NAT (fakes NAT_DETECTION_SOURCE_IP); libipsec's ESP is always in UDP */
  encap?: boolean;
  /** default strongSwan's (yes) */
  mobike?: boolean;
  /** replace existing IKE_SAs of the same identities: no (default), never, keep, replace */
  unique?: 'no' | 'never' | 'keep' | 'replace';
  /** initiation attempts (default 1); 0 forever */
  keyingtries?: number;
  /** the CHILD_SA; default one with dynamic traffic selectors */
  child?: SwanChild;
  /** charon's settings (strongswan.conf) */
  charon?: SwanCharon;
  /**
   * charon.filelog levels, over the harness's defaults: default 1, ike 2, cfg 2, knl 2, enc 1,
   * net 1 (ike 4 logs the IKE keys, chd 4 the ESP keys)
   */
  log?: Partial<Record<LogSubsystem, number>>;
  /** the local inner address (e.g. "10.1.0.1") that swanStart puts on lo as a /32 */
  inner?: string;
  /** raw `key = value` lines for the connection section */
  extra?: string[];
}

/** What swanStart needs: the two files (DIR in strongswan.conf is written @DIR@) and names. */
export interface SwanConfig {
  /** strongswan.conf; swanStart replaces @DIR@ with the directory */
  strongswanConf: string;
  swanctlConf: string;
  /** connection and CHILD_SA names */
  name: string;
  child: string;
  inner?: string;
}

const DEFAULT_LOG: Partial<Record<LogSubsystem, number>> = { default: 1, ike: 2, cfg: 2, knl: 2, enc: 1, net: 1 };
const PLUGINS = 'random nonce openssl curve25519 aes sha1 sha2 md5 hmac xcbc cmac ctr ccm gcm chapoly gmp kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici';

/** a section name or key: swanctl.conf takes [A-Za-z0-9_.-] there */
function name(value: string, what: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new Error(`swanConfig: ${what} ${JSON.stringify(value)} is not a plain name ([A-Za-z0-9_.-])`);
  return value;
}

/** a value: as is when plain, else quoted (a `#` would start a comment, spaces would be trimmed) */
function value(v: string | number | boolean, what: string): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new Error(`swanConfig: ${what} must be a non-negative number, got ${v}`);
    return String(v);
  }
  if (/[\n\r]/.test(v)) throw new Error(`swanConfig: ${what} must be one line`);
  return /^[A-Za-z0-9_.,:/%@+-]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, '\\$&')}"`;
}

const duration = (d: Duration, what: string) => (typeof d === 'number' ? `${value(d, what)}s` : value(d, what));

/** `key = value` lines for the options that are set, indented */
function lines(indent: string, entries: [string, string | number | boolean | undefined, ('duration' | undefined)?][], extra: string[] = []): string {
  const out: string[] = [];
  for (const [key, v, kind] of entries) {
    if (v === undefined) continue;
    out.push(`${indent}${key} = ${kind === 'duration' ? duration(v as Duration, key) : value(v, key)}`);
  }
  for (const line of extra) {
    if (/[\n\r]/.test(line)) throw new Error('swanConfig: an extra line must be one line');
    out.push(`${indent}${line}`);
  }
  return out.join('\n');
}

/** strongswan.conf and swanctl.conf for one charon with one connection and one CHILD_SA. */
export function swanConfig(options: SwanOptions): SwanConfig {
  const connection = name(options.name ?? 'xs', 'name');
  const c = options.child ?? {};
  const child = name(c.name ?? connection, 'child.name');
  const ch = options.charon ?? {};
  const custom = options.local_port !== undefined && options.local_port !== 500;
  const port = ch.port ?? (custom ? 0 : undefined);
  const portNatT = ch.port_nat_t ?? (custom ? options.local_port : undefined);
  const log = { ...DEFAULT_LOG, ...options.log };
  for (const [subsystem, level] of Object.entries(log)) {
    if (!Number.isInteger(level) || level! < -1 || level! > 4) throw new Error(`swanConfig: log.${subsystem} must be -1..4, got ${level}`);
  }

  const strongswanConf = `charon {
  load = ${PLUGINS}
${lines('  ', [
    ['port', port],
    ['port_nat_t', portNatT],
    ['retransmit_timeout', ch.retransmit_timeout ?? 2],
    ['retransmit_tries', ch.retransmit_tries ?? 3],
    ['retransmit_base', ch.retransmit_base ?? 1.5],
    ['fragment_size', ch.fragment_size],
    ['keep_alive', ch.keep_alive, 'duration'],
  ], ch.extra)}
  filelog {
    swan {
      path = @DIR@/charon.log
      append = no
      flush_line = yes
      time_format = %H:%M:%S
      time_add_ms = yes
      ike_name = yes
${Object.entries(log).map(([subsystem, level]) => `      ${subsystem} = ${level}`).join('\n')}
    }
  }
  plugins {
    vici {
      socket = unix://@DIR@/charon.vici
    }
  }
}
swanctl {
  socket = unix://@DIR@/charon.vici
}
`;

  if (/[\n\r]/.test(options.psk)) throw new Error('swanConfig: psk must be one line');
  const psk = /^0[xs][A-Za-z0-9+/=]+$/.test(options.psk) ? options.psk : `"${options.psk.replace(/[\\"]/g, '\\$&')}"`;
  const ids = [options.local_id, options.remote_id].filter((id): id is string => id !== undefined && id !== '%any');
  const swanctlConf = `connections {
  ${connection} {
${lines('    ', [
    ['version', 2],
    ['local_addrs', options.local_addrs],
    ['remote_addrs', options.remote_addrs],
    ['local_port', options.local_port],
    ['remote_port', options.remote_port],
    ['proposals', options.proposals],
    ['rekey_time', options.rekey_time, 'duration'],
    ['reauth_time', options.reauth_time, 'duration'],
    ['over_time', options.over_time, 'duration'],
    ['rand_time', options.rand_time, 'duration'],
    ['dpd_delay', options.dpd_delay, 'duration'],
    ['dpd_timeout', options.dpd_timeout, 'duration'],
    ['fragmentation', options.fragmentation],
    ['encap', options.encap],
    ['mobike', options.mobike],
    ['unique', options.unique],
    ['keyingtries', options.keyingtries],
  ], options.extra)}
    local {
${lines('      ', [['auth', 'psk'], ['id', options.local_id]])}
    }
    remote {
${lines('      ', [['auth', 'psk'], ['id', options.remote_id]])}
    }
    children {
      ${child} {
${lines('        ', [
    ['local_ts', c.local_ts],
    ['remote_ts', c.remote_ts],
    ['esp_proposals', c.esp_proposals],
    ['mode', c.mode],
    ['start_action', c.start_action],
    ['rekey_time', c.rekey_time, 'duration'],
    ['life_time', c.life_time, 'duration'],
    ['rand_time', c.rand_time, 'duration'],
    ['dpd_action', c.dpd_action],
    ['close_action', c.close_action],
  ], c.extra)}
      }
    }
  }
}
secrets {
  ike-${connection} {
${lines('    ', ids.map((id, i): [string, string] => [`id-${i + 1}`, id]))}${ids.length ? '\n' : ''}    secret = ${psk}
  }
}
`;
  return { strongswanConf, swanctlConf, name: connection, child, inner: options.inner };
}

/** swanctl --load-all's directories (made empty, so that it does not complain they are missing; drop certificates and keys there) */
const SWANCTL_DIRS = ['conf.d', 'x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12'];

/** the directory swanStart uses when none is given: removed with the sites' other /tmp/$NS.* files */
export const swanDir = (ns: string): string => `/tmp/${ns}.swan`;

/** shell: swanctl against the charon of dir (no namespace needed: vici is a unix socket in dir) */
export function swanctl(dir: string, args: string): string {
  return `STRONGSWAN_CONF="${dir}/strongswan.conf" SWANCTL_DIR="${dir}/swanctl" ${SWANCTL} ${args}`;
}

/** shell: the last lines of charon's log and output, under a header */
export function swanLog(dir: string, lines = 40): string {
  return `{ echo "--- charon log (${dir}), last ${lines} lines:"; tail -n ${lines} "${dir}/charon.log" 2>/dev/null; if [ -s "${dir}/charon.out" ]; then echo "--- charon stdout/stderr:"; tail -n 10 "${dir}/charon.out"; fi; }`;
}

/** shell: charon's pid (the `ip netns exec` process execs sh, which execs charon) */
const pid = (dir: string) => `$(cat "${dir}/pid" 2>/dev/null)`;

/** shell, a compound command: fails the script with `code` after "swan: message" and the log tail */
const fail = (dir: string, code: number, message: string) => `{ echo "swan: ${message}"; ${swanLog(dir)}; exit ${code}; }`;

/**
 * shell: starts the charon whose files are in dir (swanStart wrote them), waits up to
 * timeoutSeconds for its vici socket, loads the configuration
 */
function launch(ns: string, dir: string, timeoutSeconds: number): string {
  return `rm -f "${dir}/charon.vici" "${dir}/pid"
STRONGSWAN_CONF="${dir}/strongswan.conf" ip netns exec ${ns} sh -c 'mount --bind "$1/run" /run && exec ${CHARON}' swan "${dir}" >> "${dir}/charon.out" 2>&1 &
echo $! > "${dir}/pid"
swan_i=0
while [ ! -S "${dir}/charon.vici" ]; do
  kill -0 ${pid(dir)} 2>/dev/null || ${fail(dir, SWAN_EXIT.start, `charon in ${ns} exited during startup`)}
  [ $swan_i -ge ${timeoutSeconds * 10} ] && ${fail(dir, SWAN_EXIT.start, `charon in ${ns} opened no vici socket in ${timeoutSeconds} s`)}
  swan_i=$((swan_i + 1)); sleep 0.1
done
${swanctl(dir, '--load-all')} > "${dir}/load.out" 2>&1 || { cat "${dir}/load.out"; ${fail(dir, SWAN_EXIT.load, `swanctl --load-all failed for charon in ${ns}`)}; }`;
}

/**
 * shell: charon in namespace ns with config, files in dir (made afresh; swanDir(ns) is removed
 * with the sites' other /tmp/<ns>.* files even if the hook does not run): IPv6 off in ns, config.inner on lo, charon started with its own /run, its vici socket
 * awaited (bounded), swanctl --load-all. Registers charon's stop and dir's removal in
 * $CLEANUP_HOOKS (twoSites' cleanup runs them).
 */
export function swanStart(ns: string, dir: string, config: SwanConfig, { timeoutSeconds = 10 } = {}): string {
  const eof = 'SWAN_EOF_7f3a';
  for (const text of [config.strongswanConf, config.swanctlConf]) {
    if (text.split('\n').includes(eof)) throw new Error(`swanStart: a configuration line is ${eof}`);
  }
  return `
# --- strongSwan in ${ns} (${dir})
swan_cleanup() { swan_p=$(cat "$1/pid" 2>/dev/null); if [ -n "$swan_p" ]; then kill $swan_p 2>/dev/null; swan_j=0; while kill -0 $swan_p 2>/dev/null && [ $swan_j -lt 20 ]; do sleep 0.1; swan_j=$((swan_j + 1)); done; kill -9 $swan_p 2>/dev/null; fi; rm -rf "$1"; }
CLEANUP_HOOKS="$CLEANUP_HOOKS swan_cleanup '${dir}';"
rm -rf "${dir}"; mkdir -p "${dir}/run" ${SWANCTL_DIRS.map((d) => `"${dir}/swanctl/${d}"`).join(' ')} || ${fail(dir, SWAN_EXIT.setup, `cannot make ${dir}`)}
sed "s|@DIR@|${dir}|g" > "${dir}/strongswan.conf" <<'${eof}'
${config.strongswanConf}${eof}
cat > "${dir}/swanctl/swanctl.conf" <<'${eof}'
${config.swanctlConf}${eof}
ip netns exec ${ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || ${fail(dir, SWAN_EXIT.setup, `cannot switch IPv6 off in ${ns}`)}
${config.inner ? `ip -n ${ns} addr add ${config.inner}/32 dev lo || ${fail(dir, SWAN_EXIT.setup, `cannot put ${config.inner} on lo in ${ns}`)}` : ''}
${launch(ns, dir, timeoutSeconds)}
`;
}

/** shell: swanctl --initiate --child child; fails the script (SWAN_EXIT.initiate) with swanctl's output and the log tail */
export function swanInitiate(dir: string, child: string, timeoutSeconds = 10): string {
  return `${swanctl(dir, `--initiate --child ${name(child, 'child')} --timeout ${timeoutSeconds}`)} > "${dir}/initiate.out" 2>&1 || { cat "${dir}/initiate.out"; ${fail(dir, SWAN_EXIT.initiate, `swanctl --initiate --child ${child} failed`)}; }`;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** shell: polls swanctl --list-sas every 0.1 s until a line matches pattern (grep -E), bounded */
function waitFor(dir: string, pattern: string, what: string, timeoutSeconds: number): string {
  return `swan_end=$(( $(date +%s%N) / 1000000 + ${Math.round(timeoutSeconds * 1000)} ))
until ${swanctl(dir, '--list-sas')} 2>/dev/null | grep -Eq '${pattern}'; do
  [ $(( $(date +%s%N) / 1000000 )) -ge $swan_end ] && { ${swanctl(dir, '--list-sas')} 2>&1; ${fail(dir, SWAN_EXIT.wait, `${what} not up after ${timeoutSeconds} s`)}; }
  sleep 0.1
done`;
}

/** shell: waits (bounded) until the CHILD_SA childName is INSTALLED, else fails with SWAN_EXIT.wait and the log tail */
export function swanWaitSa(dir: string, childName: string, timeoutSeconds = 10): string {
  return waitFor(dir, `^ +${escapeRegex(name(childName, 'child'))}: #[0-9]+, reqid [0-9]+, INSTALLED`, `CHILD_SA ${childName} of ${dir}`, timeoutSeconds);
}

/** shell: waits (bounded) until the IKE_SA of connection ike is ESTABLISHED, else fails with SWAN_EXIT.wait */
export function swanWaitIke(dir: string, ike: string, timeoutSeconds = 10): string {
  return waitFor(dir, `^${escapeRegex(name(ike, 'connection'))}: #[0-9]+, ESTABLISHED`, `IKE_SA ${ike} of ${dir}`, timeoutSeconds);
}

/** shell: kills charon with `signal` and waits (2 s at most) until it is gone, else SWAN_EXIT.stop */
function stop(dir: string, signal: 'TERM' | 'KILL'): string {
  return `kill -${signal} ${pid(dir)} 2>/dev/null
swan_i=0; while kill -0 ${pid(dir)} 2>/dev/null; do
  [ $swan_i -ge 20 ] && { kill -KILL ${pid(dir)} 2>/dev/null; sleep 0.2; kill -0 ${pid(dir)} 2>/dev/null && ${fail(dir, SWAN_EXIT.stop, `charon (${dir}) still running after SIG${signal} and SIGKILL`)}; break; }
  swan_i=$((swan_i + 1)); sleep 0.1
done`;
}

/** shell: SIGKILL: charon vanishes without a word to its peer (for DPD and liveness tests); its TUN device goes with it */
export function swanKill(dir: string): string {
  return stop(dir, 'KILL');
}

/** shell: SIGTERM, as a shutdown: charon ends its SAs as it sees fit; SIGKILL if it lingers past 2 s */
export function swanStop(dir: string): string {
  return stop(dir, 'TERM');
}

/**
 * shell: stops charon (SIGTERM, or SIGKILL with { kill: true }) and starts it again in ns from
 * the files in dir (edit them in between to change the configuration); the log continues in
 * charon.log (append = no: a new log starts, the old one is kept as charon.log.1).
 */
export function swanRestart(ns: string, dir: string, { kill = false, timeoutSeconds = 10 } = {}): string {
  return `${stop(dir, kill ? 'KILL' : 'TERM')}
[ -f "${dir}/charon.log" ] && mv "${dir}/charon.log" "${dir}/charon.log.1"
${launch(ns, dir, timeoutSeconds)}`;
}
