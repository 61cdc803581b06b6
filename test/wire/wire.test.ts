/**
 * Wire views: IPv4 and IPv6 header checks with truncated, oversized and malformed input; the
 * UDP checksum over both pseudo-headers; the port-4500 demultiplexer of RFC 3948 (keepalive,
 * non-ESP marker, ESP).
 */
import { fromHex } from '../../src/crypto/bytes.js';
import { internetChecksum, onesComplementSum } from '../../src/wire/checksum.js';
import { checkIpv4, checkIpv6, IpProblem, IpProtocol, writeIpv4Header, writeIpv6Header } from '../../src/wire/ip.js';
import { readTooBig, writeTooBig } from '../../src/wire/icmp.js';
import { classifyNatT, hasNonEspMarker, NAT_KEEPALIVE, NatTPayload, udpChecksumOk, writeUdpHeader } from '../../src/wire/udp.js';
import { equal, ok } from '../assert.js';
import { test } from '../harness.js';

const ADDRESSES_4 = Uint8Array.of(192, 0, 2, 1, 198, 51, 100, 2);
const ADDRESSES_6 = fromHex('20010db8000000000000000000000001' + '20010db8000000000000000000000002');

test('IPv4 header: sound, truncated, bad version, bad header and total lengths, bad checksum', () => {
  const p = new Uint8Array(60);
  writeIpv4Header(p, 0, 48, IpProtocol.UDP, 0x1234, 64, ADDRESSES_4, 0, 4);
  equal(checkIpv4(p, 0, 48, true), IpProblem.NONE);
  equal(onesComplementSum(p, 0, 20), 0xffff, 'the written checksum verifies');
  equal(checkIpv4(p, 0, 19, true), IpProblem.TRUNCATED);
  equal(checkIpv4(p, 0, 47, true), IpProblem.BAD_TOTAL_LENGTH, 'total length beyond the data');
  const v = p.slice();
  v[0] = 0x65;
  equal(checkIpv4(v, 0, 48, true), IpProblem.BAD_VERSION);
  const ihl = p.slice();
  ihl[0] = 0x44;
  equal(checkIpv4(ihl, 0, 48, true), IpProblem.BAD_HEADER_LENGTH, 'IHL 4 (16 bytes)');
  ihl[0] = 0x4f;
  equal(checkIpv4(ihl, 0, 48, true), IpProblem.BAD_HEADER_LENGTH, 'IHL 15 (60 bytes) > data');
  const shortTotal = p.slice();
  shortTotal[3] = 10;
  equal(checkIpv4(shortTotal, 0, 48, false), IpProblem.BAD_TOTAL_LENGTH, 'total length below the header');
  const flipped = p.slice();
  flipped[15] ^= 1;
  equal(checkIpv4(flipped, 0, 48, true), IpProblem.BAD_CHECKSUM);
  equal(checkIpv4(flipped, 0, 48, false), IpProblem.NONE, 'checksum not asked for');
});

test('IPv6 header: sound, truncated, bad version, payload length beyond the data', () => {
  const p = new Uint8Array(48);
  writeIpv6Header(p, 0, 8, IpProtocol.UDP, 64, ADDRESSES_6, 0, 16);
  equal(checkIpv6(p, 0, 48), IpProblem.NONE);
  equal(checkIpv6(p, 0, 39), IpProblem.TRUNCATED);
  equal(checkIpv6(p, 0, 47), IpProblem.BAD_TOTAL_LENGTH);
  const v = p.slice();
  v[0] = 0x40;
  equal(checkIpv6(v, 0, 48), IpProblem.BAD_VERSION);
});

test('UDP: checksum zero on IPv4, computed and verified on IPv6; the internet checksum of RFC 1071', () => {
  // RFC 1071 §3 example bytes: 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, checksum 220d
  equal(onesComplementSum(fromHex('0001f203f4f5f6f7'), 0, 8), 0xddf2);
  equal(internetChecksum(fromHex('0001f203f4f5f6f7'), 0, 8), 0x220d);
  equal(onesComplementSum(fromHex('01'), 0, 1), 0x0100, 'odd length pads with zero');
  const v4 = new Uint8Array(20 + 8 + 5);
  writeIpv4Header(v4, 0, v4.length, IpProtocol.UDP, 1, 64, ADDRESSES_4, 0, 4);
  v4.set([1, 2, 3, 4, 5], 28);
  writeUdpHeader(v4, 0, 20, 4500, 4500, 13);
  equal((v4[26] << 8) | v4[27], 0, 'IPv4: checksum 0 (RFC 3948 §2.1)');
  ok(udpChecksumOk(v4, 0, 20, 13));
  const v6 = new Uint8Array(40 + 8 + 5);
  writeIpv6Header(v6, 0, 13, IpProtocol.UDP, 64, ADDRESSES_6, 0, 16);
  v6.set([1, 2, 3, 4, 5], 48);
  writeUdpHeader(v6, 0, 40, 4500, 4500, 13);
  ok(((v6[46] << 8) | v6[47]) !== 0, 'IPv6: a checksum is mandatory');
  ok(udpChecksumOk(v6, 0, 40, 13));
  v6[50] ^= 0x40;
  ok(!udpChecksumOk(v6, 0, 40, 13), 'a flipped payload bit fails the checksum');
  v6[46] = 0;
  v6[47] = 0;
  ok(!udpChecksumOk(v6, 0, 40, 13), 'a zero checksum is not allowed on IPv6');
});

test('NAT-T port 4500 (RFC 3948 §2.2-§2.3): keepalive, IKE after the non-ESP marker, ESP, and junk', () => {
  equal(classifyNatT(NAT_KEEPALIVE, 0, 1), NatTPayload.KEEPALIVE);
  equal(classifyNatT(Uint8Array.of(0xfe), 0, 1), NatTPayload.INVALID, 'one byte that is not 0xff');
  equal(classifyNatT(fromHex('00000000' + '11'.repeat(28)), 0, 32), NatTPayload.IKE);
  equal(classifyNatT(fromHex('00000000'), 0, 4), NatTPayload.INVALID, 'a marker with nothing after it');
  equal(classifyNatT(fromHex('0000000011'), 0, 3), NatTPayload.INVALID, 'truncated marker');
  equal(classifyNatT(fromHex('c0ffee0000000001' + '22'.repeat(20)), 0, 28), NatTPayload.ESP);
  equal(classifyNatT(fromHex('c0ffee00000000'), 0, 7), NatTPayload.INVALID, 'shorter than an ESP header');
  equal(classifyNatT(new Uint8Array(0), 0, 0), NatTPayload.INVALID, 'empty datagram');
  // offsets are honoured
  const b = fromHex('aaaa' + '00000000' + '33');
  equal(classifyNatT(b, 2, 5), NatTPayload.IKE);
  // the hosts' check (the marker only) says IKE exactly where classifyNatT does
  for (const [hex, offset, length] of [['ff', 0, 1], ['00000000' + '11'.repeat(28), 0, 32], ['00000000', 0, 4], ['0000000011', 0, 3],
    ['c0ffee0000000001' + '22'.repeat(20), 0, 28], ['', 0, 0], ['aaaa0000000033', 2, 5], ['aaaa0000000033', 0, 7]] as const) {
    const d = fromHex(hex);
    equal(hasNonEspMarker(d, offset, length), classifyNatT(d, offset, length) === NatTPayload.IKE, `${hex} at ${offset}`);
  }
});

test('ICMP "too big" (RFC 792/1191, RFC 4443 §3.2): written for IPv4 and IPv6 with valid checksums; never about an ICMP error; read back with every length checked', () => {
  const v4 = new Uint8Array(1400);
  writeIpv4Header(v4, 0, 1400, IpProtocol.UDP, 7, 64, fromHex('0a0100050a020009'), 0, 4);
  const out = new Uint8Array(1300);
  const n = writeTooBig(out, 0, v4, 0, 1400, fromHex('0a010001'), 1346);
  equal(n, 56);
  equal(internetChecksum(out, 0, 20), 0);
  equal(internetChecksum(out, 20, 36), 0);
  equal(out[20], 3);
  equal(out[21], 4);
  equal((out[26] << 8) | out[27], 1346);
  // what we write, a router's message about our packet, reads back
  const report = readTooBig(out, 0, n);
  equal(report?.mtu, 1346);
  equal(report?.quoted, 28);
  // never an error about an ICMP error (RFC 1122 §3.2.2), nor about a non-packet or into no room
  const error = out.slice(0, n);
  equal(writeTooBig(new Uint8Array(200), 0, error, 0, n, fromHex('0a010001'), 1000), 0, 'an ICMP error');
  equal(writeTooBig(new Uint8Array(200), 0, v4, 0, 19, fromHex('0a010001'), 1000), 0, 'truncated header');
  equal(writeTooBig(new Uint8Array(200), 0, Uint8Array.of(0x55), 0, 1, fromHex('0a010001'), 1000), 0, 'not IP');
  equal(writeTooBig(new Uint8Array(40), 0, v4, 0, 1400, fromHex('0a010001'), 1000), 0, 'no room');
  equal(writeTooBig(new Uint8Array(200), 0, v4, 0, 1400, new Uint8Array(16), 1000), 0, 'a source of the wrong family');
  // IPv6: Packet Too Big, quoting as much as fits in 1280 bytes
  const v6 = new Uint8Array(1500);
  writeIpv6Header(v6, 0, 1460, IpProtocol.UDP, 64, fromHex('20010db8000100000000000000000005' + '20010db8000200000000000000000009'), 0, 16);
  const out6 = new Uint8Array(1400);
  const n6 = writeTooBig(out6, 0, v6, 0, 1500, fromHex('20010db8000100000000000000000001'), 1400);
  equal(n6, 1280);
  equal(out6[40], 2);
  equal((out6[44] << 24) | (out6[45] << 16) | (out6[46] << 8) | out6[47], 1400);
  // the ICMPv6 checksum, with the pseudo-header (RFC 4443 §2.3)
  const pseudo = onesComplementSum(out6, 8, 32) + (n6 - 40) + IpProtocol.ICMPV6;
  equal(internetChecksum(out6, 40, n6 - 40, pseudo), 0);
  // reading: truncated, corrupted, other types, too little quoted
  for (let cut = 0; cut < n; cut++) ok(readTooBig(out, 0, cut) === null, `cut at ${cut}`);
  const corrupt = out.slice(0, n);
  corrupt[50] ^= 1;
  equal(readTooBig(corrupt, 0, n), null, 'bad checksum');
  const echo = out.slice(0, n);
  echo[20] = 8;
  equal(readTooBig(echo, 0, n), null, 'an echo request');
  const oversized = out.slice(0, n);
  oversized[2] = 0xff; // total length beyond the data: only what is there is read
  equal(readTooBig(oversized, 0, n)?.mtu, 1346);
  equal(readTooBig(new Uint8Array(0), 0, 0), null, 'empty');
});
