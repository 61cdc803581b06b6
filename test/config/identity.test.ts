/**
 * IKE identities from swanctl.conf strings: the ID type strongSwan gives each form, the
 * Identification Data bytes, a text form that reads back the same, and malformed input refused.
 */
import { asciiBytes, fromHex } from '../../src/crypto/bytes.js';
import { ANY_IDENTITY, IdType, identityMatches, MAX_IDENTITY_BYTES, parseIdentity, sameIdentity } from '../../src/config/identity.js';
import { formatAddress, parseAddress } from '../../src/policy/selector.js';
import { bytesEqual, equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

test('config identity: each form gets strongSwan\'s ID type and the right bytes', () => {
  const cases: [string, number, Uint8Array, string][] = [
    ['192.0.2.1', IdType.IPV4_ADDR, Uint8Array.of(192, 0, 2, 1), '192.0.2.1'],
    ['2001:db8::1', IdType.IPV6_ADDR, parseAddress('2001:db8::1'), '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', IdType.IPV6_ADDR, parseAddress('2001:db8::1'), '2001:db8::1'],
    ['user@example.com', IdType.RFC822_ADDR, asciiBytes('user@example.com'), 'user@example.com'],
    ['@@user@example.com', IdType.RFC822_ADDR, asciiBytes('user@example.com'), 'user@example.com'],
    ['gw.example.com', IdType.FQDN, asciiBytes('gw.example.com'), 'gw.example.com'],
    ['moon', IdType.FQDN, asciiBytes('moon'), 'moon'],
    ['@gw.example.com', IdType.FQDN, asciiBytes('gw.example.com'), 'gw.example.com'],
    ['@#0123abCD', IdType.KEY_ID, fromHex('0123abcd'), '@#0123abcd'],
    ['fqdn:gw.example.com', IdType.FQDN, asciiBytes('gw.example.com'), 'gw.example.com'],
    ['dns:gw.example.com', IdType.FQDN, asciiBytes('gw.example.com'), 'gw.example.com'],
    ['email:a.b@example.com', IdType.RFC822_ADDR, asciiBytes('a.b@example.com'), 'a.b@example.com'],
    ['rfc822:a@example.com', IdType.RFC822_ADDR, asciiBytes('a@example.com'), 'a@example.com'],
    ['userfqdn:a@example.com', IdType.RFC822_ADDR, asciiBytes('a@example.com'), 'a@example.com'],
    ['keyid:#00ff', IdType.KEY_ID, Uint8Array.of(0, 255), '@#00ff'],
    ['keyid:some-text', IdType.KEY_ID, asciiBytes('some-text'), 'keyid:some-text'],
    ['ipv4:10.0.0.1', IdType.IPV4_ADDR, Uint8Array.of(10, 0, 0, 1), '10.0.0.1'],
    ['ipv4:#0a000001', IdType.IPV4_ADDR, Uint8Array.of(10, 0, 0, 1), '10.0.0.1'],
    ['ipv6:fe80::1', IdType.IPV6_ADDR, parseAddress('fe80::1'), 'fe80::1'],
    ['FQDN:gw.example.com', IdType.FQDN, asciiBytes('gw.example.com'), 'gw.example.com'],
  ];
  for (const [text, type, data, shown] of cases) {
    const id = parseIdentity(text);
    equal(id.type, type, text);
    bytesEqual(id.data, data, text);
    equal(id.text, shown, text);
    ok(sameIdentity(parseIdentity(id.text), id), `${text}: its text form reads back the same`);
  }
});

test('config identity: %any matches every identity and nothing else does', () => {
  equal(parseIdentity('%any'), ANY_IDENTITY);
  ok(identityMatches(ANY_IDENTITY, parseIdentity('gw.example.com')));
  ok(identityMatches(parseIdentity('@gw.example.com'), parseIdentity('fqdn:gw.example.com')));
  ok(!identityMatches(parseIdentity('gw.example.com'), parseIdentity('user@gw.example.com')));
  ok(!sameIdentity(parseIdentity('192.0.2.1'), parseIdentity('@192.0.2.1')), 'an address and a name that reads like one differ');
  equal(parseIdentity('@192.0.2.1').type, IdType.FQDN);
});

test('config identity: malformed identities are refused with what was expected', () => {
  const cases: [unknown, RegExp][] = [
    ['', /^an identity: an address, a name/],
    [undefined, /^an identity: an address, a name/],
    [42, /^an identity: an address, a name/],
    ['@#', /^an even number of hex digits after "@#"/],
    ['@#abc', /^an even number of hex digits after "@#"/],
    ['@#zz', /^an even number of hex digits after "@#"/],
    ['ipv4:', /^an IPv4 address after "ipv4:"/],
    ['ipv4:gw.example.com', /^an IPv4 address after "ipv4:"/],
    ['ipv4:2001:db8::1', /^an IPv4 address after "ipv4:"/],
    ['ipv6:10.0.0.1', /^an IPv6 address after "ipv6:"/],
    ['ipv4:#0a0000', /^4 bytes \(8 hex digits\)/],
    ['192.0.2.300', /^an IPv4 or IPv6 address$/],
    ['2001:db8:::1', /^an IPv4 or IPv6 address$/],
    ['gw..example.com', /^a host name/],
    ['gw example.com', /^a host name/],
    ['.example.com', /^a host name/],
    ['@', /^a host name/],
    ['fqdn:', /^a host name/],
    ['@user@', /^a host name/],
    ['user@', /^an email address/],
    ['@@', /^an email address/],
    ['a b@example.com', /^an email address/],
    ['keyid:', /^an identity: an address/],
    ['C=CH, O=strongSwan, CN=moon', /^no distinguished name \(certificates are not supported yet\)/],
    ['asn1dn:#3000', /^no asn1dn: identity \(certificates are not supported yet\)/],
    ['foo:bar', /^a known type prefix \(ipv4, ipv6, fqdn, dns, rfc822, email, userfqdn, keyid\)/],
    ['%any6', /^a known type prefix|^a host name/],
  ];
  for (const [text, expected] of cases) throws(() => parseIdentity(text), expected, JSON.stringify(text));
});

test('config identity: at most 255 bytes of identification data', () => {
  const label = 'a'.repeat(50);
  const long = `${Array(5).fill(label).join('.')}b`; // 255 characters
  equal(parseIdentity(long).data.length, MAX_IDENTITY_BYTES);
  throws(() => parseIdentity(`${long}e`), /^an identity of at most 255 bytes/);
  throws(() => parseIdentity(`@#${'00'.repeat(256)}`), /^an identity of at most 255 bytes/);
  equal(parseIdentity(`@#${'00'.repeat(255)}`).data.length, 255);
  throws(() => parseIdentity(`x@${long}`), /^an identity of at most 255 bytes/);
  throws(() => parseIdentity('a'.repeat(100_000)), /^an identity of at most 255 bytes/);
});

test('config identity: addresses as text (RFC 5952 for IPv6)', () => {
  const cases: [string, string][] = [
    ['0.0.0.0', '0.0.0.0'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::', 'fe80::'],
  ];
  for (const [text, shown] of cases) equal(formatAddress(parseAddress(text)), shown, text);
});
