/**
 * Installing negotiated CHILD SAs (src/ike/child-install.ts) with the real PfKeyEngine and SPD
 * under two in-memory gateways: keys from one deriveChildKeys run, installed as initiator on one
 * side and responder on the other, carry traffic both ways (so the key directions of RFC 7296
 * §2.17 are right), over raw ESP and UDP encapsulation; a rekey moves the policies to new SAs;
 * refused installs leave nothing behind.
 */
import type { Crypto } from '../../src/crypto/provider.js';
import { Encr, findAlgorithm, Integ, Prf, TransformType, Esn } from '../../src/crypto/registry.js';
import { Gateway } from '../../src/gateway.js';
import type { Host } from '../../src/host.js';
import { allocateSpi, childTransforms, installChild, removeChild, selectorFor, type InstalledChild, type NegotiatedChild } from '../../src/ike/child-install.js';
import { deriveChildKeys, type ChildKeys } from '../../src/ike/keymat.js';
import type { TsRange } from '../../src/ike/select.js';
import { ProtocolId, type WireProposal } from '../../src/ike/types.js';
import { PfKeyEngine } from '../../src/policy/pfkey-engine.js';
import { parseRange } from '../../src/policy/selector.js';
import { Action, Spd } from '../../src/policy/spd.js';
import { bytesEqual, deepEqual, equal, ok } from '../assert.js';
import { providerSlots } from '../engine.js';
import { test } from '../harness.js';
import { send } from './ike-pair.js';

const A = '192.0.2.1';
const B = '198.51.100.2';

const PROPOSALS: Record<string, WireProposal> = {
  aes128gcm16: {
    number: 1, protocol: ProtocolId.ESP, spi: new Uint8Array(4),
    transforms: [{ type: TransformType.ENCR, id: Encr.AES_GCM_16, keyBits: 128 }, { type: TransformType.ESN, id: Esn.NO }],
  },
  'aes256-sha256': {
    number: 1, protocol: ProtocolId.ESP, spi: new Uint8Array(4),
    transforms: [
      { type: TransformType.ENCR, id: Encr.AES_CBC, keyBits: 256 }, { type: TransformType.INTEG, id: Integ.HMAC_SHA2_256_128 },
      { type: TransformType.ESN, id: Esn.NO },
    ],
  },
};

function keysFor(crypto: Crypto, proposal: WireProposal, seed = 1): ChildKeys {
  const t = childTransforms(proposal);
  if (typeof t === 'string') throw new Error(t);
  const prf = findAlgorithm('prfsha256')!;
  equal(prf.id, Prf.HMAC_SHA2_256);
  return deriveChildKeys(crypto, new Uint8Array(32).fill(seed), { prf, encryption: t.encryption, integrity: t.integrity },
    { ni: new Uint8Array(16).fill(0xa0 + seed), nr: new Uint8Array(16).fill(0xb0 + seed) });
}

const ts = (text: string): TsRange => {
  const r = parseRange(text);
  return { start: r.start, end: r.end, protocol: 0, startPort: 0, endPort: 65535 };
};

interface Side {
  engine: PfKeyEngine;
  spd: Spd;
  gateway: Gateway;
  delivered: Uint8Array[];
  /** packets sent raw (IP protocol 50) and in UDP */
  sent: { esp: number; udp: number };
}

/** Two gateways whose hosts hand ESP (raw or in UDP) to each other. */
function pair(crypto: Crypto): { a: Side; b: Side } {
  const sides: { a?: Side; b?: Side } = {};
  const make = (me: 'a' | 'b'): Side => {
    const engine = new PfKeyEngine(crypto);
    const spd = new Spd();
    const delivered: Uint8Array[] = [];
    const sent = { esp: 0, udp: 0 };
    const peer = () => (me === 'a' ? sides.b! : sides.a!).gateway;
    const host: Host = {
      now: () => 0,
      sendEsp(_address, buffer, offset, length) {
        sent.esp++;
        peer().inboundEsp(buffer.slice(offset - 20, offset + length), 0, length + 20);
        return true;
      },
      sendUdp(_address, port, buffer, offset, length) {
        sent.udp++;
        equal(port, 4500);
        peer().inboundUdp(buffer.slice(offset, offset + length), 0, length);
        return true;
      },
      sendIke: () => false, // the SAs are installed directly, without IKE messages
      deliver(buffer, offset, length) {
        delivered.push(buffer.slice(offset, offset + length));
        return true;
      },
    };
    return { engine, spd, delivered, sent, gateway: new Gateway(host, spd, engine) };
  };
  sides.a = make('a');
  sides.b = make('b');
  return { a: sides.a, b: sides.b };
}

/** The initiator's (A's) and responder's (B's) view of one negotiated CHILD SA. */
function children(proposal: WireProposal, keys: ChildKeys, spiA: number, spiB: number, natT: boolean, name = 'net'): { a: NegotiatedChild; b: NegotiatedChild } {
  const common = { name, proposal, keys, mode: 'tunnel' as const };
  return {
    a: {
      ...common, role: 'initiator', spiIn: spiA, spiOut: spiB, local: A, remote: B, tsLocal: [ts('10.1.0.0/16')], tsRemote: [ts('10.2.0.0/16')],
      encapsulation: natT ? { localPort: 4500, remotePort: 4500 } : undefined, lifetimes: { softSeconds: 3000, hardSeconds: 3600 },
    },
    b: {
      ...common, role: 'responder', spiIn: spiB, spiOut: spiA, local: B, remote: A, tsLocal: [ts('10.2.0.0/16')], tsRemote: [ts('10.1.0.0/16')],
      encapsulation: natT ? { localPort: 4500, remotePort: 4500 } : undefined,
    },
  };
}

function installed(r: ReturnType<typeof installChild>): InstalledChild {
  if (!r.ok) throw new Error(r.reason);
  return r.installed;
}

function bothWays(a: Side, b: Side, tag: number): void {
  const there = send(a.gateway, '10.1.0.5', '10.2.0.9', [tag, 1, 2]);
  const back = send(b.gateway, '10.2.0.9', '10.1.0.5', [tag, 3, 4, 5]);
  equal(b.delivered.length > 0, true, JSON.stringify(b.gateway.counters));
  bytesEqual(b.delivered[b.delivered.length - 1], there);
  equal(a.delivered.length > 0, true, JSON.stringify(a.gateway.counters));
  bytesEqual(a.delivered[a.delivered.length - 1], back);
}

for (const slot of providerSlots) {
  for (const algorithm of Object.keys(PROPOSALS)) {
    for (const natT of [false, true]) {
      test(`child-install: ${algorithm} tunnel${natT ? ' in UDP 4500' : ''}, initiator and responder from one KEYMAT, both ways [${slot.slot}]`, () => {
        const crypto = slot.make();
        const { a, b } = pair(crypto);
        const keys = keysFor(crypto, PROPOSALS[algorithm]);
        // A's inbound SPI comes from GETSPI (a larval SA completed by UPDATE); B's is chosen and ADDed
        const spiA = allocateSpi(a.engine, A, B)!;
        ok(spiA !== undefined);
        const c = children(PROPOSALS[algorithm], keys, spiA, 0x2001, natT);
        const ia = installed(installChild(a.engine, a.spd, c.a));
        const ib = installed(installChild(b.engine, b.spd, c.b));
        deepEqual(ia.policies, ['net/out/0', `net/in/${spiA.toString(16)}/0`]);
        equal(a.spd.find('net/out/0')!.spi, 0x2001);
        equal(a.spd.find(`net/in/${spiA.toString(16)}/0`)!.spi, spiA);
        equal(b.spd.find('net/out/0')!.spi, spiA);
        equal(a.engine.size, 2);
        equal(b.engine.size, 2);
        equal((a.engine.sa(spiA) as { outbound: boolean }).outbound, false);
        equal((a.engine.sa(0x2001) as { outbound: boolean }).outbound, true);
        bothWays(a, b, 1);
        deepEqual(a.sent, natT ? { esp: 0, udp: 1 } : { esp: 1, udp: 0 });
        deepEqual(b.sent, natT ? { esp: 0, udp: 1 } : { esp: 1, udp: 0 });
        // delete: no SA, no policy left
        deepEqual(removeChild(a.engine, a.spd, ia), []);
        deepEqual(removeChild(b.engine, b.spd, ib), []);
        equal(a.engine.size, 0);
        equal(b.engine.size, 0);
        equal(a.spd.entries('out').length + a.spd.entries('in').length, 0);
        equal(b.spd.entries('out').length + b.spd.entries('in').length, 0);
      });
    }
  }

  test(`child-install: the keys' directions matter (both sides as initiator: nothing opens) [${slot.slot}]`, () => {
    const crypto = slot.make();
    const { a, b } = pair(crypto);
    const keys = keysFor(crypto, PROPOSALS.aes128gcm16);
    const c = children(PROPOSALS.aes128gcm16, keys, 0x1001, 0x2001, false);
    installed(installChild(a.engine, a.spd, c.a));
    installed(installChild(b.engine, b.spd, { ...c.b, role: 'initiator' }));
    send(a.gateway, '10.1.0.5', '10.2.0.9', [1]);
    equal(b.delivered.length, 0);
    equal(b.gateway.counters.inboundOpenFailed, 1);
  });

  test(`child-install: rekey with the same name moves the outbound policy to the new SA; both SAs receive until the old one is removed; traffic flows [${slot.slot}]`, () => {
    const crypto = slot.make();
    const { a, b } = pair(crypto);
    const p = PROPOSALS['aes256-sha256'];
    const first = children(p, keysFor(crypto, p, 1), 0x1001, 0x2001, false);
    // a BYPASS entry ahead of and one after the child's: the rekeyed entries keep their place
    a.spd.add({ name: 'ike', direction: 'out', action: Action.BYPASS, selector: selectorFor(ts('192.0.2.1/32'), ts('198.51.100.2/32'))! });
    const oldA = installed(installChild(a.engine, a.spd, first.a));
    const oldB = installed(installChild(b.engine, b.spd, first.b));
    a.spd.add({ name: 'rest', direction: 'out', action: Action.DISCARD, selector: selectorFor(ts('0.0.0.0/0'), ts('0.0.0.0/0'))! });
    bothWays(a, b, 1);
    const second = children(p, keysFor(crypto, p, 2), 0x1002, 0x2002, false);
    installed(installChild(a.engine, a.spd, second.a));
    installed(installChild(b.engine, b.spd, second.b));
    deepEqual(a.spd.entries('out').map((e) => e.name), ['ike', 'net/out/0', 'rest']);
    equal(a.spd.find('net/out/0')!.spi, 0x2002);
    deepEqual(a.spd.entries('in').map((e) => [e.name, e.spi]), [['net/in/1002/0', 0x1002], ['net/in/1001/0', 0x1001]]);
    equal(b.spd.find('net/out/0')!.spi, 0x1002);
    equal(a.engine.size, 4);
    // RFC 4301 §5.2 with two SAs of one CHILD SA: a packet on either passes the inbound check
    for (const spi of [0x1001, 0x1002]) {
      const packet = send(b.gateway, '10.2.0.9', '10.1.0.5', [9]);
      equal(a.spd.lookupInboundFor(spi, packet, 0, packet.length)?.spi, spi);
    }
    // the old SAs go; the new policies stay
    deepEqual(removeChild(a.engine, a.spd, oldA), []);
    deepEqual(removeChild(b.engine, b.spd, oldB), []);
    equal(a.engine.size, 2);
    ok(a.engine.sa(0x1001) === undefined && a.engine.sa(0x2001) === undefined);
    ok(a.spd.find('net/out/0') !== undefined && a.spd.find('net/in/1002/0') !== undefined && a.spd.find('net/in/1001/0') === undefined);
    const before = b.delivered.length;
    bothWays(a, b, 2);
    equal(b.delivered.length, before + 1);
  });

  test(`child-install: refused installs leave the engine and the SPD as they were [${slot.slot}]`, () => {
    const crypto = slot.make();
    const { a } = pair(crypto);
    const keys = keysFor(crypto, PROPOSALS.aes128gcm16);
    const existing = installed(installChild(a.engine, a.spd, children(PROPOSALS.aes128gcm16, keys, 0x1001, 0x2001, false, 'old').a));
    const spds = () => JSON.stringify([a.spd.entries('out'), a.spd.entries('in')].map((l) => l.map((e) => [e.name, e.spi])));
    const before = spds();
    const fresh = children(PROPOSALS.aes128gcm16, keys, 0x1005, 0x2005, false, 'old');
    const refused = (child: NegotiatedChild, pattern: RegExp) => {
      const r = installChild(a.engine, a.spd, child);
      ok(!r.ok, 'installed');
      if (!r.ok) ok(pattern.test(r.reason), r.reason);
      equal(a.engine.size, 2);
      ok(a.engine.sa(0x1005) === undefined && a.engine.sa(0x2005) === undefined);
      equal(spds(), before);
    };
    // unknown and unsupported algorithms
    refused({ ...fresh.a, proposal: { ...PROPOSALS.aes128gcm16, transforms: [{ type: TransformType.ENCR, id: 99, keyBits: 128 }] } }, /unknown/);
    refused({ ...fresh.a, proposal: { ...PROPOSALS.aes128gcm16, transforms: [{ type: TransformType.ENCR, id: Encr.AES_GCM_16_IIV, keyBits: 128 }] } }, /PF_KEY|ESP/);
    refused({ ...fresh.a, proposal: { ...PROPOSALS.aes128gcm16, transforms: [{ type: TransformType.ENCR, id: Encr.AES_GCM_16, keyBits: 128 }, { type: TransformType.ESN, id: Esn.YES }] } }, /sequence/);
    refused({ ...fresh.a, proposal: { ...PROPOSALS.aes128gcm16, protocol: ProtocolId.AH } }, /ESP/);
    // a key of the wrong length for the algorithm: the engine refuses
    refused({ ...fresh.a, keys: { ...keys, encryptionR: keys.encryptionR.subarray(0, 7) } }, /inbound.*errno/);
    // duplicate SPIs: outbound (the inbound SA just added is rolled back) and inbound
    refused({ ...fresh.a, spiOut: existing.spiOut }, /outbound SA 0x2001 refused/);
    refused({ ...fresh.a, spiIn: existing.spiIn }, /inbound SA 0x1001 refused/);
    // the existing CHILD SA still carries its traffic policies
    equal(a.spd.find('old/out/0')!.spi, 0x2001);
  });
}

test('child-install: traffic selector pairs become SPD selectors (RFC 7296 §3.13.1, RFC 4301 §4.4.1.1)', () => {
  const tcp = (text: string, startPort: number, endPort: number): TsRange => ({ ...ts(text), protocol: 6, startPort, endPort });
  const s = selectorFor(tcp('10.1.0.0/16', 0, 65535), tcp('10.2.0.1', 443, 443))!;
  equal(s.protocol, 6);
  deepEqual(s.remotePorts, [443, 443]);
  deepEqual(s.localPorts, [0, 65535]);
  equal(selectorFor(ts('10.1.0.0/16'), ts('2001:db8::/32')), null);
  equal(selectorFor(tcp('10.1.0.0/16', 0, 65535), { ...ts('10.2.0.0/16'), protocol: 17 }), null);
  equal(selectorFor(tcp('10.1.0.0/16', 65535, 0), ts('10.2.0.0/16')), null);
  // ICMP echo request (type 8): the type in the port's high byte
  const icmp = selectorFor({ ...ts('10.1.0.0/16'), protocol: 1, startPort: 0x0800, endPort: 0x08ff }, { ...ts('10.2.0.0/16'), protocol: 1 })!;
  deepEqual(icmp.localPorts, [8, 8]);
});
