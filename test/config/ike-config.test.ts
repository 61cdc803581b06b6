/**
 * The IKE sections of the configuration document (connections, children, secrets, logging,
 * allowLegacy): swanctl.conf's defaults filled in, every problem with its exact JSON path,
 * expected and got, several at once, cross-checks between sections, and no secret ever in a
 * problem.
 */
import { validateGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.js';
import { IdType } from '../../src/config/identity.js';
import { LOG_LEVEL_NAMES, LOG_SUBSYSTEMS, LogLevel, logs } from '../../src/config/logging.js';
import { ConfigError } from '../../src/config/validate.js';
import { toHex } from '../../src/crypto/bytes.js';
import { deepEqual, equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

type Doc = Record<string, any>;

/** A small valid document: one connection, one child, one secret. */
function base(): Doc {
  return {
    tunnel: { name: 'xsipsec0', address: '10.1.0.1/16' },
    localAddresses: ['192.0.2.1'],
    connections: {
      hq: {
        remote_addrs: '198.51.100.2',
        local: { auth: 'psk', id: 'branch1.example.com' },
        remote: { auth: 'psk', id: 'hq.example.com' },
        children: { net: { local_ts: '10.1.0.0/16', remote_ts: '10.2.0.0/16' } },
      },
    },
    secrets: { ike: [{ id: ['branch1.example.com', 'hq.example.com'], secret: 'a long pre-shared key' }] },
  };
}

/** `base()` changed by `edit`. */
function doc(edit: (d: Doc) => void): Doc {
  const d = base();
  edit(d);
  return d;
}

/** The problems of a document, one line each. */
function problems(document: Doc, label = ''): string[] {
  const e = throws(() => validateGatewayConfig(document), ConfigError, label) as ConfigError;
  return e.problems.map((p) => `${p.path}: expected ${p.expected}, got ${p.got}`);
}

/** Exactly one problem, returned as its line. */
function one(document: Doc, label = ''): string {
  const lines = problems(document, label);
  equal(lines.length, 1, lines.join('\n'));
  return lines[0];
}

/** Each edit gives exactly this one problem line. */
function expectOne(cases: [(d: Doc) => void, string][]): void {
  for (const [edit, line] of cases) equal(one(doc(edit), line), line);
}

const conn = (d: Doc) => d.connections.hq;
const child = (d: Doc) => d.connections.hq.children.net;

test('config ike: a small document gets swanctl.conf\'s defaults', () => {
  const c: GatewayConfig = validateGatewayConfig(base());
  equal(c.connections.length, 1);
  const hq = c.connections[0];
  equal(hq.name, 'hq');
  equal(hq.version, 2);
  deepEqual(hq.local_addrs.map((a) => [a.text, a.range, a.single]), [['%any', null, false]]);
  deepEqual(hq.remote_addrs.map((a) => [a.text, a.single]), [['198.51.100.2', true]]);
  deepEqual([hq.local_port, hq.remote_port], [500, 500]);
  deepEqual(hq.proposals.map((p) => p.aead), [true, false], 'the default IKE proposals');
  deepEqual([hq.encap, hq.dpd_delay, hq.keep_alive, hq.keyingtries], [false, 0, 20, 1]);
  deepEqual([hq.rekey_time, hq.reauth_time, hq.over_time, hq.rand_time], [14400, 0, 1440, 1440], '4 h, no reauth, 10%, over_time');
  deepEqual([hq.fragmentation, hq.unique], ['yes', 'no']);
  deepEqual([hq.local.auth, hq.local.id.type, hq.local.id.text], ['psk', IdType.FQDN, 'branch1.example.com']);
  equal(hq.remote.id.text, 'hq.example.com');
  const net = hq.children[0];
  equal(net.name, 'net');
  deepEqual(net.esp_proposals.map((p) => p.text), ['aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305-noesn', 'aes128-aes192-aes256-sha256-sha384-sha512-sha1-aesxcbc-noesn']);
  equal(net.mode, 'tunnel');
  deepEqual([net.rekey_time, net.life_time, net.rand_time], [3600, 3960, 360], '1 h, + 10%, the difference');
  deepEqual([net.rekey_bytes, net.life_bytes, net.rand_bytes, net.rekey_packets, net.life_packets, net.rand_packets], [0, 0, 0, 0, 0, 0]);
  deepEqual([net.start_action, net.dpd_action, net.close_action], ['none', 'clear', 'none']);
  deepEqual(net.local_ts.map((t) => [t.text, t.dynamic, t.protocol, t.ports]), [['10.1.0.0/16', false, 0, [0, 65535]]]);
  equal(toHex(c.secrets.ike[0].secret), toHex(new Uint8Array([...'a long pre-shared key'].map((ch) => ch.charCodeAt(0)))));
  equal(c.allowLegacy, false);
  deepEqual(c.logging, { levels: Object.fromEntries(LOG_SUBSYSTEMS.map((s) => [s, 1])), keylog: false }, 'level 1 everywhere, no key logging');
});

test('config ike: a document without IKE sections is still valid (manual keying only)', () => {
  const c = validateGatewayConfig({ tunnel: { name: 'x0', address: '10.1.0.1/16' }, localAddresses: ['192.0.2.1'] });
  equal(c.connections.length, 0);
  equal(c.secrets.ike.length, 0);
  equal(c.logging.levels.ike, 1);
});

test('config ike: lifetimes follow swanctl.conf\'s rules', () => {
  const ike = (edit: (c: Doc) => void) => validateGatewayConfig(doc((d) => edit(conn(d)))).connections[0];
  const t = (x: { rekey_time: number; reauth_time: number; over_time: number; rand_time: number }) => [x.rekey_time, x.reauth_time, x.over_time, x.rand_time];
  deepEqual(t(ike((c) => (c.reauth_time = '1d'))), [0, 86400, 8640, 8640], 'reauth only: no rekeying');
  deepEqual(t(ike((c) => Object.assign(c, { reauth_time: '1d', rekey_time: '2h' }))), [7200, 86400, 8640, 3600], 'rand: at most half the shorter');
  deepEqual(t(ike((c) => Object.assign(c, { rekey_time: 0 }))), [0, 0, 0, 0], 'rekeying off');
  deepEqual(t(ike((c) => Object.assign(c, { rekey_time: '1h', over_time: '5m', rand_time: '1m' }))), [3600, 0, 300, 60]);
  const sa = (edit: (c: Doc) => void) => validateGatewayConfig(doc((d) => edit(child(d)))).connections[0].children[0];
  const l = (x: { rekey_time: number; life_time: number; rand_time: number }) => [x.rekey_time, x.life_time, x.rand_time];
  deepEqual(l(sa((c) => (c.rekey_time = '30m'))), [1800, 1980, 180]);
  deepEqual(l(sa((c) => (c.life_time = '66m'))), [3600, 3960, 360], 'only life: rekey = life / 1.1');
  deepEqual(l(sa((c) => Object.assign(c, { rekey_time: '1h', life_time: '2h' }))), [3600, 7200, 3600]);
  deepEqual(l(sa((c) => Object.assign(c, { rekey_time: 0 }))), [0, 0, 0]);
  const v = sa((c) => Object.assign(c, { rekey_bytes: '1g', rekey_packets: 1000000, rand_packets: 10 }));
  deepEqual([v.rekey_bytes, v.life_bytes, v.rand_bytes], [1024 ** 3, 1181116006, 107374182]);
  deepEqual([v.rekey_packets, v.life_packets, v.rand_packets], [1000000, 1100000, 10]);
});

test('config ike: addresses, ports, identities, swanctl lists as strings or arrays', () => {
  const c = validateGatewayConfig(doc((d) => {
    d.localAddresses = ['192.0.2.1', '2001:db8::1'];
    Object.assign(conn(d), { local_addrs: ['192.0.2.1', '2001:db8::1'], remote_addrs: '198.51.100.0/24, %any6', local_port: 4500, remote_port: 4500, encap: 'yes', fragmentation: false });
    conn(d).remote.id = '%any';
    Object.assign(child(d), { local_ts: ['10.1.0.0/16[tcp/443]', '10.1.2.3-10.1.2.9[udp/1000-2000]'], remote_ts: 'dynamic, 10.2.0.0/16[icmp/8], ::/0[58]', mode: 'transport' });
  })).connections[0];
  deepEqual(c.local_addrs.map((a) => a.single), [true, true]);
  deepEqual(c.remote_addrs.map((a) => [a.text, a.single, a.range?.start.length]), [['198.51.100.0/24', false, 4], ['%any6', false, 16]]);
  deepEqual([c.local_port, c.remote_port, c.encap, c.fragmentation], [4500, 4500, true, 'no']);
  equal(c.remote.id.type, IdType.ANY);
  const [a, b] = c.children[0].local_ts;
  deepEqual([a.protocol, a.ports, b.protocol, b.ports], [6, [443, 443], 17, [1000, 2000]]);
  deepEqual(c.children[0].remote_ts.map((t) => [t.dynamic, t.protocol, t.ports]), [[true, 0, [0, 65535]], [false, 1, [8, 8]], [false, 58, [0, 65535]]]);
  equal(c.children[0].mode, 'transport');
  const opaque = validateGatewayConfig(doc((d) => (child(d).local_ts = 'dynamic[udp/opaque]'))).connections[0].children[0].local_ts[0];
  deepEqual([opaque.dynamic, opaque.range, opaque.protocol, opaque.ports], [true, null, 17, [65535, 0]], 'RFC 4301 OPAQUE');
  const byAddress = validateGatewayConfig(doc((d) => {
    conn(d).local_addrs = '192.0.2.1';
    delete conn(d).local.id;
    d.secrets.ike[0].id = ['192.0.2.1'];
  })).connections[0];
  deepEqual([byAddress.local.id.type, byAddress.local.id.text], [IdType.IPV4_ADDR, '192.0.2.1'], 'the local id defaults to the local address');
});

test('config ike: connection problems, each with its path, expected and got', () => {
  expectOne([
    [(d) => (conn(d).version = 1), '$.connections.hq.version: expected 2 (IKEv2; IKEv1 is not supported), got 1'],
    [(d) => (conn(d).remote_addrs = 'hq.example.com'), '$.connections.hq.remote_addrs: expected an IPv4 or IPv6 address, prefix or range, or %any (names are not resolved), got "hq.example.com"'],
    [(d) => (conn(d).remote_addrs = []), '$.connections.hq.remote_addrs: expected addresses: a comma-separated string or a non-empty array, e.g. "192.0.2.1" or ["%any"], got []'],
    [(d) => (conn(d).local_addrs = ['192.0.2.1', '192.0.2.9']), '$.connections.hq.local_addrs[1]: expected an address of this host (localAddresses: 192.0.2.1), got "192.0.2.9"'],
    [(d) => (conn(d).local_addrs = '192.0.2.9'), '$.connections.hq.local_addrs: expected an address of this host (localAddresses: 192.0.2.1), got "192.0.2.9"'],
    [(d) => (conn(d).local_port = 0), '$.connections.hq.local_port: expected an integer from 1 to 65535, got 0'],
    [(d) => (conn(d).remote_port = '500'), '$.connections.hq.remote_port: expected an integer from 1 to 65535, got "500"'],
    [(d) => (conn(d).encap = 'maybe'), '$.connections.hq.encap: expected true or false ("yes" or "no"), got "maybe"'],
    [(d) => (conn(d).dpd_delay = '30 seconds'), '$.connections.hq.dpd_delay: expected a time: seconds, or a number with s, m, h or d (90s, 30m, 4h, 1d), got "30 seconds"'],
    [(d) => (conn(d).dpd_timeout = '150s'), '$.connections.hq.dpd_timeout: expected no such key (swanctl.conf applies dpd_timeout to IKEv1 only; an IKEv2 peer that does not answer a DPD request after its retransmissions is dead), got "150s"'],
    [(d) => (conn(d).keep_alive = -20), '$.connections.hq.keep_alive: expected a time: seconds, or a number with s, m, h or d (90s, 30m, 4h, 1d), got -20'],
    [(d) => (conn(d).keyingtries = -1), '$.connections.hq.keyingtries: expected a number of tries, 0 for no limit, got -1'],
    [(d) => (conn(d).rekey_time = '5000000000'), '$.connections.hq.rekey_time: expected a time: seconds, or a number with s, m, h or d (90s, 30m, 4h, 1d), at most 4294967295, got "5000000000"'],
    [(d) => (conn(d).rand_time = '4h'), '$.connections.hq.rand_time: expected less than rekey_time (14400 s), got 14400'],
    [(d) => (conn(d).fragmentation = 'force'), '$.connections.hq.fragmentation: expected one of "yes", "accept", "no", got "force"'],
    [(d) => (conn(d).unique = 'always'), '$.connections.hq.unique: expected one of "no", "never", "keep", "replace", got "always"'],
    [(d) => (conn(d).mobike = 'no'), '$.connections.hq.mobike: expected no such key (known: version, local_addrs, remote_addrs, local_port, remote_port, proposals, encap, dpd_delay, keep_alive, keyingtries, rekey_time, reauth_time, over_time, rand_time, fragmentation, unique, local, remote, children), got "no"'],
    [(d) => (conn(d).proposals = 'aes128gcm16-prfsha256'), '$.connections.hq.proposals: expected a key exchange method (e.g. x25519, ecp256, modp2048) in an IKE proposal, got "aes128gcm16-prfsha256"'],
    [(d) => (conn(d).proposals = ['default', '3des-sha1-modp2048']), '$.connections.hq.proposals[1]: expected no legacy algorithm unless "allowLegacy": true (RFC 8221 §5 and RFC 8247 §2.1: ENCR_3DES SHOULD NOT/MAY be used (64-bit block, Sweet32)), got "3des" (in "3des-sha1-modp2048")'],
    [(d) => (d.connections['bad name'] = { ...conn(d), children: {} }), '$.connections["bad name"]: expected a name of 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "bad name"'],
    [(d) => (d.connections = []), '$.connections: expected connections: an object of named connection sections, got []'],
  ]);
});

test('config ike: authentication problems: PSK only, identities parsed', () => {
  expectOne([
    [(d) => (conn(d).local.auth = 'pubkey'), '$.connections.hq.local.auth: expected "psk" (certificates and raw public keys are not supported yet), got "pubkey"'],
    [(d) => delete conn(d).remote.auth, '$.connections.hq.remote.auth: expected "psk" (swanctl.conf\'s default is pubkey, and certificates are not supported yet), got nothing'],
    [(d) => (conn(d).remote.auth = 'eap-mschapv2'), '$.connections.hq.remote.auth: expected "psk" (EAP and XAuth are not supported), got "eap-mschapv2"'],
    [(d) => delete conn(d).remote, '$.connections.hq.remote: expected an object, got nothing'],
    [(d) => (conn(d).remote.id = 'ipv4:hq'), '$.connections.hq.remote.id: expected an IPv4 address after "ipv4:", got "ipv4:hq"'],
    [(d) => (conn(d).local.id = '%any'), '$.connections.hq.local.id: expected an identity of our own, not %any, got "%any"'],
    [(d) => delete conn(d).local.id, '$.connections.hq.local.id: expected an identity (the default, the local address, needs one address in local_addrs), got nothing'],
    [(d) => (conn(d).local.certs = 'moon.pem'), '$.connections.hq.local.certs: expected no such key (known: auth, id), got "moon.pem"'],
  ]);
});

test('config ike: child problems, each with its path, expected and got', () => {
  expectOne([
    [(d) => (child(d).local_ts = '10.1.0.0/33'), '$.connections.hq.children.net.local_ts: expected a traffic selector: dynamic, or an address, prefix or range, optionally with [protocol/port], e.g. 10.1.0.0/16[tcp/443], got "10.1.0.0/33"'],
    [(d) => (child(d).remote_ts = ['10.2.0.0/16', '10.3.0.0/16[bogus]']), '$.connections.hq.children.net.remote_ts[1]: expected a protocol number 0-255 or one of icmp, tcp, udp, gre, esp, ah, icmpv6, ipv6-icmp, sctp, udplite, got "10.3.0.0/16[bogus]"'],
    [(d) => (child(d).remote_ts = '10.2.0.0/16[gre/80]'), '$.connections.hq.children.net.remote_ts: expected ports only with tcp, udp, sctp, udplite, or icmp/icmpv6 (the type), got "10.2.0.0/16[gre/80]"'],
    [(d) => (child(d).remote_ts = '10.2.0.0/16[tcp/90-80]'), '$.connections.hq.children.net.remote_ts: expected a port, a port range low-high (0-65535) or opaque, got "10.2.0.0/16[tcp/90-80]"'],
    [(d) => (child(d).esp_proposals = 'aes128gcm16-sha256'), '$.connections.hq.children.net.esp_proposals: expected no integrity algorithm with AEAD encryption (aes128gcm16 authenticates itself), got "sha256" (in "aes128gcm16-sha256")'],
    [(d) => (child(d).mode = 'beet'), '$.connections.hq.children.net.mode: expected one of "tunnel", "transport", got "beet"'],
    [(d) => Object.assign(child(d), { rekey_time: '1h', life_time: '30m' }), '$.connections.hq.children.net.life_time: expected more than rekey_time (3600 s): the SA must be rekeyed before it expires, got 1800'],
    [(d) => Object.assign(child(d), { rekey_bytes: '1m', life_bytes: '1m' }), '$.connections.hq.children.net.life_bytes: expected more than rekey_bytes (1048576 bytes): the SA must be rekeyed before it expires, got 1048576'],
    [(d) => Object.assign(child(d), { rekey_packets: 100, rand_packets: 100 }), '$.connections.hq.children.net.rand_packets: expected less than rekey_packets (100 packets), got 100'],
    [(d) => (child(d).rekey_packets = '1k'), '$.connections.hq.children.net.rekey_packets: expected a packet count: a whole number, got "1k"'],
    [(d) => (child(d).start_action = 'route'), '$.connections.hq.children.net.start_action: expected one of "none", "trap", "start", got "route"'],
    [(d) => (child(d).dpd_action = 'hold'), '$.connections.hq.children.net.dpd_action: expected one of "clear", "trap", "restart", got "hold"'],
    [(d) => (child(d).close_action = 'restart'), '$.connections.hq.children.net.close_action: expected one of "none", "trap", "start", got "restart"'],
    [(d) => (child(d).updown = '/usr/lib/ipsec/_updown'), '$.connections.hq.children.net.updown: expected no such key (known: local_ts, remote_ts, esp_proposals, mode, rekey_time, life_time, rand_time, rekey_bytes, life_bytes, rand_bytes, rekey_packets, life_packets, rand_packets, start_action, dpd_action, close_action), got "/usr/lib/ipsec/_updown"'],
    [(d) => Object.assign(conn(d), { remote_addrs: '%any' }, { children: { net: { start_action: 'start' } } }), '$.connections.hq.children.net.start_action: expected "none" unless remote_addrs has an address to initiate to (start initiates), got "start"'],
    [(d) => (conn(d).children = { 'net-1': { mode: 'tunnel', rekey_time: '1x' } }), '$.connections.hq.children["net-1"].rekey_time: expected a time: seconds, or a number with s, m, h or d (90s, 30m, 4h, 1d), got "1x"'],
  ]);
});

test('config ike: cross-checks: a PSK for each connection, child names unique, one secret per id', () => {
  expectOne([
    [(d) => delete d.secrets, '$.connections.hq.local.auth: expected a pre-shared key in secrets.ike for "branch1.example.com" or "hq.example.com", got no such secret'],
    [(d) => (d.secrets.ike[0].id = 'other.example.com'), '$.connections.hq.local.auth: expected a pre-shared key in secrets.ike for "branch1.example.com" or "hq.example.com", got no such secret'],
    [(d) => (d.connections.hq2 = { ...conn(d), children: { net: {} } }), '$.connections.hq2.children.net: expected a child name used once across connections (also in hq), got "net"'],
    [(d) => d.secrets.ike.push({ id: ['x.example.com', 'hq.example.com'], secret: 'another' }), '$.secrets.ike[1].id[1]: expected an id with one secret only (also in $.secrets.ike[0]), got "hq.example.com"'],
    [(d) => d.secrets.ike.push({ id: '@hq.example.com', secret: 'another' }), '$.secrets.ike[1].id: expected an id with one secret only (also in $.secrets.ike[0]), got "hq.example.com"'],
  ]);
  // a secret matches by either side's id, or has no id and serves every connection
  validateGatewayConfig(doc((d) => (d.secrets.ike[0].id = 'hq.example.com')));
  validateGatewayConfig(doc((d) => (d.secrets.ike[0].id = ['branch1.example.com'])));
  validateGatewayConfig(doc((d) => delete d.secrets.ike[0].id));
  validateGatewayConfig(doc((d) => (d.secrets.ike[0].id = '%any')));
});

test('config ike: several problems at once, across sections', () => {
  const lines = problems(doc((d) => {
    d.tunnel.mtu = 10;
    conn(d).version = 1;
    conn(d).proposals = 'aes128gcm16-prfsha256-x25519x';
    child(d).mode = 'beet';
    d.secrets.ike[0].secret = '0xabc';
    d.logging = { ike: 5, keylog: 'yes' };
    d.sas = [{ spi: 1 }];
  }));
  const expected = [
    '$.tunnel.mtu: expected an MTU from 576 to 2000, got 10',
    '$.sas[0].spi: expected an SPI from 256',
    '$.connections.hq.version: expected 2',
    '$.connections.hq.proposals: expected an algorithm keyword (close: x25519',
    '$.connections.hq.children.net.mode: expected one of "tunnel", "transport", got "beet"',
    '$.secrets.ike[0].secret: expected an even number of hex digits after 0x, got "<secret>"',
    '$.logging.ike: expected a log level from -1 (silent) to 4 (private: includes sensitive data), got 5',
    '$.logging.keylog: expected true or false, got "yes"',
  ];
  for (const line of expected) ok(lines.some((l) => l.startsWith(line)), `missing "${line}" in:\n${lines.join('\n')}`);
});

test('config ike: a secret never appears in a problem', () => {
  const SECRET = 'Tr0ub4dor&3-correct-horse';
  const cases: [(d: Doc) => void, string][] = [
    [(d) => (d.secrets.ike[0].secret = 12345678), '$.secrets.ike[0].secret'],
    [(d) => (d.secrets.ike[0].secret = `0x${SECRET}`), '$.secrets.ike[0].secret'],
    [(d) => (d.secrets.ike[0].secret = `0s${SECRET}`), '$.secrets.ike[0].secret'],
    [(d) => (d.secrets.ike[0].scret = SECRET), '$.secrets.ike[0].scret'],
    [(d) => (d.secrets.ike[0] = SECRET), '$.secrets.ike[0]'],
    [(d) => (d.secrets.ike = { secret: SECRET }), '$.secrets.ike'],
    [(d) => (d.secrets = SECRET), '$.secrets'],
    [(d) => (d.secrets.eap = [{ secret: SECRET }]), '$.secrets.eap'],
    [(d) => (conn(d).local.secret = SECRET), '$.connections.hq.local.secret'],
    [(d) => (conn(d).psk = SECRET), '$.connections.hq.psk'],
    [(d) => (d.secret = SECRET), '$.secret'],
    [(d) => (d.logging = { password: SECRET }), '$.logging.password'],
  ];
  for (const [edit, path] of cases) {
    const e = throws(() => validateGatewayConfig(doc((d) => { d.secrets.ike[0].secret = SECRET; edit(d); })), ConfigError) as ConfigError;
    ok(!e.message.includes(SECRET) && !e.message.includes('Tr0ub4dor'), `the secret leaked:\n${e.message}`);
    ok(e.problems.some((p) => p.path === path && p.got === '"<secret>"'), `no "<secret>" at ${path} in:\n${e.message}`);
  }
  // an id problem inside secrets still shows the id: ids are not secret
  equal(one(doc((d) => (d.secrets.ike[0].id = ['hq.example.com', 'ipv4:x']))), '$.secrets.ike[0].id[1]: expected an IPv4 address after "ipv4:", got "ipv4:x"');
});

test('config ike: secrets as text, 0x hex and 0s base64', () => {
  const secret = (s: string) => toHex(validateGatewayConfig(doc((d) => (d.secrets.ike[0].secret = s))).secrets.ike[0].secret);
  equal(secret('0x00ff10'), '00ff10');
  equal(secret('0sAP8Q'), '00ff10');
  equal(secret('é'), 'c3a9', 'text is UTF-8');
  equal(one(doc((d) => (d.secrets.ike[0].secret = ''))), '$.secrets.ike[0].secret: expected a secret: text, 0x followed by hex, or 0s followed by base64, got "<secret>"');
  equal(one(doc((d) => (d.secrets.ike[0].secret = '0s'))), '$.secrets.ike[0].secret: expected base64 after 0s, got "<secret>"');
  equal(one(doc((d) => delete d.secrets.ike[0].secret)), '$.secrets.ike[0].secret: expected a secret: text, 0x followed by hex, or 0s followed by base64, got "<secret>"');
});

test('config ike: logging levels per subsystem, default, keylog', () => {
  const c = validateGatewayConfig(doc((d) => (d.logging = { default: 0, ike: 2, knl: -1, enc: 4, keylog: true }))).logging;
  deepEqual(c.levels, { default: 0, cfg: 0, net: 0, esp: 0, ike: 2, chd: 0, enc: 4, knl: -1 });
  equal(c.keylog, true);
  ok(logs(c, 'ike', LogLevel.DIAGNOSE) && !logs(c, 'ike', LogLevel.RAW) && !logs(c, 'knl', LogLevel.AUDIT));
  deepEqual(Object.values(LOG_LEVEL_NAMES), ['audit', 'control', 'diagnose', 'raw', 'private', 'silent']);
  deepEqual([...LOG_SUBSYSTEMS], ['default', 'cfg', 'net', 'esp', 'ike', 'chd', 'enc', 'knl']);
  expectOne([
    [(d) => (d.logging = { ike: 1.5 }), '$.logging.ike: expected a log level from -1 (silent) to 4 (private: includes sensitive data), got 1.5'],
    [(d) => (d.logging = { ike: '2' }), '$.logging.ike: expected a log level from -1 (silent) to 4 (private: includes sensitive data), got "2"'],
    [(d) => (d.logging = { dmn: 2 }), '$.logging.dmn: expected no such key (known: default, cfg, net, esp, ike, chd, enc, knl, keylog), got 2'],
    [(d) => (d.logging = 2), '$.logging: expected an object, got 2'],
  ]);
});

test('config ike: allowLegacy lets legacy algorithms into proposals', () => {
  const legacy = (d: Doc) => {
    conn(d).proposals = 'aes128-sha1-modp1024';
    child(d).esp_proposals = '3des-md5';
  };
  equal(problems(doc(legacy)).length, 3, 'modp1024, 3des, md5');
  const c = validateGatewayConfig(doc((d) => { legacy(d); d.allowLegacy = true; }));
  equal(c.allowLegacy, true);
  equal(c.connections[0].children[0].esp_proposals[0].text, '3des-md5-noesn');
  equal(one(doc((d) => (d.allowLegacy = 'yes'))), '$.allowLegacy: expected true or false, got "yes"');
});
