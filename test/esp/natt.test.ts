/**
 * RFC 3948: the transport-mode checksum fix-up after a NAT rewrote the addresses (§3.1.2),
 * for UDP and TCP over IPv4 and IPv6, and the keepalive schedule (§4).
 */
import { parseAddress } from '../../src/policy/selector.js';
import { fixTransportChecksum, NatKeepalive } from '../../src/esp/natt.js';
import { onesComplementSum } from '../../src/wire/checksum.js';
import { IpProtocol, writeIpv4Header, writeIpv6Header } from '../../src/wire/ip.js';
import { udpChecksumOk } from '../../src/wire/udp.js';
import { equal, ok, throws } from '../assert.js';
import { test } from '../harness.js';

/** A transport packet with a correct TCP or UDP checksum for (src, dst). */
function packet(src: string, dst: string, protocol: number): Uint8Array {
  const s = parseAddress(src);
  const d = parseAddress(dst);
  const v6 = s.length === 16;
  const header = v6 ? 40 : 20;
  const l4 = protocol === IpProtocol.TCP ? 20 : 8;
  const payload = 11;
  const p = new Uint8Array(header + l4 + payload);
  const addresses = Uint8Array.from([...s, ...d]);
  if (v6) writeIpv6Header(p, 0, l4 + payload, protocol, 64, addresses, 0, 16);
  else writeIpv4Header(p, 0, p.length, protocol, 1, 64, addresses, 0, 4);
  p.set([0x12, 0x34, 0x00, 0x50], header);
  if (protocol === IpProtocol.UDP) p.set([0, l4 + payload], header + 4);
  else p[header + 12] = 0x50; // TCP data offset 5
  for (let i = 0; i < payload; i++) p[header + l4 + i] = i * 17;
  setChecksum(p, protocol);
  return p;
}

function pseudoSum(p: Uint8Array, protocol: number): number {
  const v6 = p[0] >> 4 === 6;
  const header = v6 ? 40 : 20;
  const length = p.length - header;
  return onesComplementSum(p, v6 ? 8 : 12, v6 ? 32 : 8) + protocol + length;
}

function setChecksum(p: Uint8Array, protocol: number): void {
  const header = p[0] >> 4 === 6 ? 40 : 20;
  const field = header + (protocol === IpProtocol.TCP ? 16 : 6);
  p[field] = 0;
  p[field + 1] = 0;
  const sum = ~onesComplementSum(p, header, p.length - header, pseudoSum(p, protocol)) & 0xffff;
  p[field] = sum >> 8;
  p[field + 1] = sum & 0xff;
}

function checksumOk(p: Uint8Array, protocol: number): boolean {
  const header = p[0] >> 4 === 6 ? 40 : 20;
  return onesComplementSum(p, header, p.length - header, pseudoSum(p, protocol)) === 0xffff;
}

test('NAT-T transport mode: checksums fixed incrementally from the original addresses (NAT-OA)', () => {
  for (const protocol of [IpProtocol.UDP, IpProtocol.TCP]) {
    for (const [originalSrc, natSrc, dst] of [['10.0.0.5', '203.0.113.7', '198.51.100.2'], ['fd00::5', '2001:db8:ff::7', '2001:db8::2']]) {
      const p = packet(originalSrc, dst, protocol);
      ok(checksumOk(p, protocol), 'built right');
      // the NAT rewrote the source address (the outer header of the ESP packet)
      const natted = parseAddress(natSrc);
      p.set(natted, p[0] >> 4 === 6 ? 8 : 12);
      ok(!checksumOk(p, protocol), 'the NAT broke it');
      ok(fixTransportChecksum(p, 0, p.length, parseAddress(originalSrc), parseAddress(dst)));
      ok(checksumOk(p, protocol), `${protocol === 6 ? 'TCP' : 'UDP'} ${originalSrc} -> ${natSrc}: fixed`);
    }
  }
  // a UDP/IPv4 checksum of zero means none, and stays zero
  const none = packet('10.0.0.5', '198.51.100.2', IpProtocol.UDP);
  none[26] = 0;
  none[27] = 0;
  ok(fixTransportChecksum(none, 0, none.length, parseAddress('192.0.2.1'), parseAddress('198.51.100.2')));
  equal((none[26] << 8) | none[27], 0);
  ok(udpChecksumOk(none, 0, 20, none.length - 20));
  // not TCP/UDP, or too short: left alone
  const icmp = packet('10.0.0.5', '198.51.100.2', IpProtocol.UDP);
  icmp[9] = IpProtocol.ICMP;
  ok(!fixTransportChecksum(icmp, 0, icmp.length, parseAddress('10.0.0.5'), parseAddress('198.51.100.2')));
  ok(!fixTransportChecksum(packet('10.0.0.5', '198.51.100.2', IpProtocol.TCP), 0, 30, parseAddress('10.0.0.5'), parseAddress('198.51.100.2')));
});

test('NAT keepalives: due only after a quiet interval; any traffic resets the clock', () => {
  const k = new NatKeepalive(20_000, 1000);
  ok(!k.due(20_999));
  ok(k.due(21_000));
  equal(k.wait(11_000), 10_000);
  k.sent(15_000);
  ok(!k.due(21_000), 'ESP sent at 15 s');
  equal(k.wait(21_000), 14_000);
  throws(() => new NatKeepalive(0, 0), /positive/);
});

test('NAT-T transport mode end to end: a NATed, UDP-encapsulated packet opens with a valid checksum', async () => {
  const { providerSlots } = await import('../engine.js');
  const { saPair, espStart } = await import('./packets.js');
  const { EspSa, SEAL_HEADROOM, SEAL_TAILROOM } = await import('../../src/esp/sa.js');
  const crypto = providerSlots[1].make();
  const pair = saPair(crypto, 'aes128gcm16', null, { mode: 'transport', encapsulation: true });
  // the receiver knows the sender's original address (NAT-OA) and its own
  const inbound = new EspSa({
    spi: pair.in.spi, direction: 'in', mode: 'transport', esn: false, transform: pair.in.transform,
    natOriginal: { source: parseAddress('10.0.0.5'), destination: parseAddress('198.51.100.2') },
  });
  const inner = packet('10.0.0.5', '198.51.100.2', IpProtocol.UDP);
  const buffer = new Uint8Array(SEAL_HEADROOM + inner.length + SEAL_TAILROOM);
  buffer.set(inner, SEAL_HEADROOM);
  const p = { buffer, offset: SEAL_HEADROOM, length: inner.length };
  ok(pair.out.seal(p));
  // the NAT rewrites the outer source address (and, on IPv4, the header checksum)
  buffer.set(parseAddress('203.0.113.7'), p.offset + 12);
  const { ip, esp } = espStart(p);
  const received = { buffer, offset: esp, length: p.offset + p.length - esp };
  ok(inbound.open(received, ip), JSON.stringify(inbound.drops));
  const opened = buffer.slice(received.offset, received.offset + received.length);
  equal(Array.from(opened.subarray(12, 16)).join('.'), '203.0.113.7', 'the packet as the NAT left it');
  ok(checksumOk(opened, IpProtocol.UDP), 'UDP checksum valid for the NATed addresses');
});
