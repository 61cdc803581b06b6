/**
 * The IKEv2 codec (RFC 7296 §3, RFC 7383 §2.5): every payload type round-trips; an
 * IKE_SA_INIT request encodes and parses back; truncations, bad lengths, critical and
 * non-critical unknown payloads, a higher major version and malformed bodies are errors with
 * the notification RFC 7296 names; random bytes and mutations never make the parser throw.
 */
import fc from 'fast-check';
import { fromHex } from '../../src/crypto/bytes.js';
import { Encr, Ke, Prf, TransformType } from '../../src/crypto/registry.js';
import { encodeMessage, encodePayloadChain, ExchangeType, parseMessage, parsePayloadChain, type MessageHeader, type ParseResult } from '../../src/ike/message.js';
import { NotifyType, PayloadType, TsType, type Payload } from '../../src/ike/payloads.js';
import { ProtocolId } from '../../src/ike/types.js';
import { bytesEqual, deepEqual, equal, ok } from '../assert.js';
import { engine } from '../engine.js';
import { test } from '../harness.js';

const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i * 7) & 0xff);

const HEADER: MessageHeader = {
  spiI: fromHex('0123456789abcdef'),
  spiR: new Uint8Array(8),
  exchangeType: ExchangeType.IKE_SA_INIT,
  initiator: true,
  higherVersion: false,
  response: false,
  messageId: 0,
};

const SA_INIT: Payload[] = [
  {
    type: PayloadType.SA,
    proposals: [{
      number: 1,
      protocol: ProtocolId.IKE,
      spi: new Uint8Array(0),
      transforms: [
        { type: TransformType.ENCR, id: Encr.AES_GCM_16, keyBits: 128 },
        { type: TransformType.PRF, id: Prf.HMAC_SHA2_256 },
        { type: TransformType.KE, id: Ke.CURVE25519 },
      ],
    }],
  },
  { type: PayloadType.KE, group: Ke.CURVE25519, data: fill(32, 1) },
  { type: PayloadType.NONCE, nonce: fill(32, 2) },
  { type: PayloadType.NOTIFY, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_SOURCE_IP, data: fill(20, 3) },
  { type: PayloadType.NOTIFY, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.NAT_DETECTION_DESTINATION_IP, data: fill(20, 4) },
];

function parsed(result: ParseResult): { header: unknown; payloads: Payload[] } {
  if (!result.ok) throw new Error(`parse failed: ${result.error.reason}`);
  return result;
}

function failure(result: ParseResult, reason: RegExp, notify?: number): void {
  ok(!result.ok, `expected an error matching ${reason}`);
  ok(reason.test(result.error.reason), `reason ${JSON.stringify(result.error.reason)} should match ${reason}`);
  equal(result.error.notify?.type, notify, 'notify type');
}

/** A message whose payload chain is given as raw bytes, first payload of type `first`. */
function rawMessage(first: number, chain: Uint8Array, version = 0x20): Uint8Array {
  const m = encodeMessage(HEADER, []);
  const out = new Uint8Array(m.length + chain.length);
  out.set(m);
  out.set(chain, m.length);
  out[16] = first;
  out[17] = version;
  out[24] = out.length >>> 24;
  out[25] = (out.length >>> 16) & 0xff;
  out[26] = (out.length >>> 8) & 0xff;
  out[27] = out.length & 0xff;
  return out;
}

test('IKE_SA_INIT (aes128gcm16-prfsha256-x25519, KE, nonce, NAT-D): encodes and parses back equal', () => {
  const bytes = encodeMessage(HEADER, SA_INIT);
  const m = parsed(parseMessage(bytes));
  deepEqual(m.payloads, SA_INIT);
  deepEqual(m.header, { ...HEADER, nextPayload: PayloadType.SA, majorVersion: 2, minorVersion: 0, length: bytes.length });
  equal(bytes[16], PayloadType.SA);
  equal(bytes[17], 0x20, 'version 2.0');
  equal(bytes[19], 0x08, 'I flag only');
  // SA: 4 + proposal 8 + transforms 12 + 8 + 8 = 40; its header says KE is next
  equal(bytes[28], PayloadType.KE);
  equal((bytes[30] << 8) | bytes[31], 40);
  // the Key Length attribute: AF=1, type 14, value 128
  bytesEqual(bytes.subarray(28 + 4 + 8 + 8, 28 + 4 + 8 + 12), fromHex('800e0080'));
  bytesEqual(encodeMessage(HEADER, m.payloads), bytes, 're-encoding gives the same bytes');
});

test('every payload type round-trips through encode and parse', () => {
  const v4 = { tsType: TsType.IPV4_ADDR_RANGE, protocol: 0, startPort: 0, endPort: 65535, startAddress: fromHex('0a000000'), endAddress: fromHex('0a0000ff') };
  const v6 = { tsType: TsType.IPV6_ADDR_RANGE, protocol: 17, startPort: 500, endPort: 500, startAddress: fill(16, 9), endAddress: fill(16, 10) };
  const all: Payload[] = [
    {
      type: PayloadType.SA,
      proposals: [
        { number: 1, protocol: ProtocolId.ESP, spi: fromHex('c0ffee01'), transforms: [{ type: TransformType.ENCR, id: Encr.AES_CBC, keyBits: 256 }, { type: 3, id: 12 }, { type: 5, id: 0 }] },
        { number: 2, protocol: ProtocolId.ESP, spi: fromHex('c0ffee01'), transforms: [] },
        { number: 3, protocol: ProtocolId.IKE, spi: fill(8, 5), transforms: [{ type: TransformType.ENCR, id: Encr.CHACHA20_POLY1305 }] },
      ],
    },
    { type: PayloadType.KE, group: Ke.MODP_2048, data: fill(256, 6) },
    { type: PayloadType.IDi, idType: 2, data: fill(11, 7) },
    { type: PayloadType.IDr, idType: 1, data: fromHex('c0000201') },
    { type: PayloadType.CERT, encoding: 4, data: fill(40, 8) },
    { type: PayloadType.CERTREQ, encoding: 4, data: new Uint8Array(0) },
    { type: PayloadType.AUTH, method: 2, data: fill(32, 11) },
    { type: PayloadType.NONCE, nonce: fill(16, 12) },
    { type: PayloadType.NONCE, nonce: fill(256, 13) },
    { type: PayloadType.NOTIFY, protocol: ProtocolId.ESP, spi: fromHex('01020304'), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
    { type: PayloadType.NOTIFY, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, data: Uint8Array.of(99) },
    { type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4, spis: [fromHex('01020304'), fromHex('a0b0c0d0')] },
    { type: PayloadType.DELETE, protocol: ProtocolId.IKE, spiSize: 0, spis: [] },
    { type: PayloadType.VENDOR_ID, data: fill(16, 14) },
    { type: PayloadType.TSi, selectors: [v4, v6] },
    { type: PayloadType.TSr, selectors: [v4] },
    { type: PayloadType.CP, cfgType: 1, attributes: fromHex('00010000') },
    { type: PayloadType.EAP, data: fromHex('0201000501') },
    { type: PayloadType.NONE, payloadType: 200, critical: false, data: fill(5, 15) },
    { type: PayloadType.SK, firstPayload: PayloadType.IDi, data: fill(60, 16) },
  ];
  const bytes = encodeMessage({ ...HEADER, exchangeType: ExchangeType.IKE_AUTH, messageId: 0xfffffffe, response: true, higherVersion: true }, all);
  const m = parsed(parseMessage(bytes));
  deepEqual(m.payloads, all);
  equal((m.header as { messageId: number }).messageId, 0xfffffffe);
  for (const one of all) deepEqual(parsed(parseMessage(encodeMessage(HEADER, [one]))).payloads, [one], `payload ${one.type}`);
  const fragments: Payload[] = [
    { type: PayloadType.SKF, firstPayload: PayloadType.IDi, fragmentNumber: 1, totalFragments: 3, data: fill(40, 17) },
    { type: PayloadType.SKF, firstPayload: 0, fragmentNumber: 3, totalFragments: 3, data: fill(20, 18) },
  ];
  for (const f of fragments) deepEqual(parsed(parseMessage(encodeMessage(HEADER, [f]))).payloads, [f]);
  // the inner chain of a decrypted SK payload
  const inner = encodePayloadChain(SA_INIT);
  const chain = parsePayloadChain(inner, 0, inner.length, PayloadType.SA);
  ok(chain.ok);
  deepEqual(chain.payloads, SA_INIT);
});

test('every truncation of an IKE_SA_INIT is an error, and so is every header Length but the right one', () => {
  const bytes = encodeMessage(HEADER, SA_INIT);
  for (let n = 0; n < bytes.length; n++) {
    const r = parseMessage(bytes.subarray(0, n));
    ok(!r.ok, `truncated to ${n}`);
  }
  // truncated, with the header Length adjusted: the payload chain no longer fits
  for (let n = 28; n < bytes.length; n++) {
    const cut = bytes.slice(0, n);
    cut[26] = n >> 8;
    cut[27] = n & 0xff;
    const r = parseMessage(cut);
    ok(!r.ok && r.error.notify?.type === NotifyType.INVALID_SYNTAX, `truncated to ${n}, Length adjusted`);
  }
  const longer = bytes.slice();
  longer[27]++;
  failure(parseMessage(longer), /header Length/, NotifyType.INVALID_SYNTAX);
  const extra = new Uint8Array(bytes.length + 1);
  extra.set(bytes);
  failure(parseMessage(extra), /header Length/, NotifyType.INVALID_SYNTAX);
  extra[27]++;
  failure(parseMessage(extra), /after the last payload/, NotifyType.INVALID_SYNTAX);
});

test('payload lengths: below 4, beyond the message, overlapping the next payload', () => {
  const bytes = encodeMessage(HEADER, SA_INIT);
  const saLength = 40;
  for (const [length, reason] of [[0, /length 0$/], [3, /length 3$/], [bytes.length, /beyond the message/], [saLength + 4, /./], [saLength - 4, /./]] as const) {
    const m = bytes.slice();
    m[30] = length >> 8;
    m[31] = length & 0xff;
    failure(parseMessage(m), reason, NotifyType.INVALID_SYNTAX);
  }
  const nonceAt = 28 + saLength + 4 + 4 + 32; // the nonce follows SA and KE
  equal(bytes[28 + saLength], PayloadType.NONCE, 'KE says the nonce is next');
  const shortNonce = bytes.slice();
  shortNonce[nonceAt + 3] = 4 + 36; // nonce 32 -> 36 bytes: swallows the NAT-D header
  failure(parseMessage(shortNonce), /./, NotifyType.INVALID_SYNTAX);
});

test('unknown payloads: critical -> UNSUPPORTED_CRITICAL_PAYLOAD with the type; otherwise kept and skipped', () => {
  const unknown = fromHex('2880000a'); // next Nonce, critical, length 10
  const nonce = encodePayloadChain([{ type: PayloadType.NONCE, nonce: fill(16, 1) }]);
  const chain = new Uint8Array(10 + nonce.length);
  chain.set(unknown);
  chain.set(nonce, 10);
  const critical = parseMessage(rawMessage(150, chain));
  ok(!critical.ok);
  equal(critical.error.notify?.type, NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD);
  bytesEqual(critical.error.notify!.data, Uint8Array.of(150));
  chain[1] = 0x7f; // critical clear, reserved bits set (ignored, §3.2)
  const skipped = parsed(parseMessage(rawMessage(150, chain)));
  deepEqual(skipped.payloads, [
    { type: PayloadType.NONE, payloadType: 150, critical: false, data: new Uint8Array(6) },
    { type: PayloadType.NONCE, nonce: fill(16, 1) },
  ]);
  // a known payload with the critical bit set is simply parsed
  chain[1] = 0;
  chain[11] = 0x80;
  equal(parsed(parseMessage(rawMessage(150, chain))).payloads.length, 2);
});

test('versions: major 3 -> INVALID_MAJOR_VERSION, major 1 dropped without one, minor ignored', () => {
  const bytes = encodeMessage(HEADER, SA_INIT);
  const v3 = bytes.slice();
  v3[17] = 0x30;
  failure(parseMessage(v3), /major version 3/, NotifyType.INVALID_MAJOR_VERSION);
  const v1 = bytes.slice();
  v1[17] = 0x10;
  failure(parseMessage(v1), /major version 1/, undefined);
  const minor = bytes.slice();
  minor[17] = 0x21;
  equal(parsed(parseMessage(minor)).payloads.length, SA_INIT.length);
});

test('malformed bodies are INVALID_SYNTAX: SA structure, nonce size, notify SPI, delete, TS, SKF', () => {
  const bad = (first: number, body: string, reason: RegExp): void => {
    const b = fromHex(body);
    const chain = new Uint8Array(4 + b.length);
    chain[2] = chain.length >> 8;
    chain[3] = chain.length & 0xff;
    chain.set(b, 4);
    failure(parseMessage(rawMessage(first, chain)), reason, NotifyType.INVALID_SYNTAX);
  };
  const transform = '0000000801000014';
  bad(PayloadType.SA, '', /./); // no proposal
  bad(PayloadType.SA, '02000010' + '01010001' + transform, /proposal header/); // says more, none follows
  bad(PayloadType.SA, '03000010' + '01010001' + transform, /Last Substruc/);
  bad(PayloadType.SA, '00000010' + '02010001' + transform + '00000010' + '03010001' + transform, /./); // first of several not 1
  bad(PayloadType.SA, '02000010' + '01010001' + transform + '00000010' + '03010001' + transform, /out of sequence/);
  bad(PayloadType.SA, '00000010' + '00010001' + transform, /out of sequence/);
  bad(PayloadType.SA, '00000010' + '01010401' + transform, /SPI size/);
  bad(PayloadType.SA, '00000010' + '01030001' + transform, /SPI size/);
  bad(PayloadType.SA, '00000010' + '01010002' + transform, /./); // count 2, one transform
  bad(PayloadType.SA, '00000018' + '01010002' + transform + transform, /Last Substruc/); // first says last
  bad(PayloadType.SA, '00000010' + '01010001' + '0300000801000014', /Last Substruc/);
  bad(PayloadType.SA, '00000014' + '01010001' + '0000000c01000014000e0080', /TV format/);
  bad(PayloadType.SA, '00000018' + '01010001' + '000000100100001480' + '0e0080800e0100', /repeated/);
  bad(PayloadType.SA, '00000011' + '01010001' + transform + '00', /./);
  bad(PayloadType.NONCE, '00'.repeat(15), /nonce of 15/);
  bad(PayloadType.NONCE, '00'.repeat(257), /nonce of 257/);
  bad(PayloadType.NOTIFY, '030440', /fixed fields/);
  bad(PayloadType.NOTIFY, '03044009' + '010203', /SPI beyond/);
  bad(PayloadType.DELETE, '03040002' + '01020304', /disagree/);
  bad(PayloadType.DELETE, '01000001', /SPI size/);
  bad(PayloadType.TSi, '00000000', /without traffic selectors/);
  bad(PayloadType.TSi, '01000000' + '09000010' + '0000ffff' + '0a000000' + '0a0000ff', /TS type 9/);
  bad(PayloadType.TSr, '01000000' + '07000018' + '0000ffff' + '0a000000' + '0a0000ff', /selector length/);
  bad(PayloadType.TSr, '02000000' + '07000010' + '0000ffff' + '0a000000' + '0a0000ff', /beyond the payload/);
  bad(PayloadType.SKF, '00000003' + '00', /fragment 0 of 3/);
  bad(PayloadType.SKF, '00040003' + '00', /fragment 4 of 3/);
  bad(PayloadType.KE, '000e00', /fixed fields/);
  bad(PayloadType.AUTH, '', /fixed fields/);
  // a transform with an attribute other than Key Length is left out (it cannot be chosen)
  const sa = fromHex('00000020' + '01010002' + '0300000c01000014' + '800e0080' + '0000000c02000005' + '80110001');
  const chain = new Uint8Array(4 + sa.length);
  chain[3] = chain.length;
  chain.set(sa, 4);
  deepEqual(parsed(parseMessage(rawMessage(PayloadType.SA, chain))).payloads, [
    { type: PayloadType.SA, proposals: [{ number: 1, protocol: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20, keyBits: 128 }] }] },
  ]);
  // bytes after an SK payload
  const sk = encodePayloadChain([{ type: PayloadType.SK, firstPayload: PayloadType.IDi, data: fill(20, 1) }]);
  const after = new Uint8Array(sk.length + 4);
  after.set(sk);
  after[sk.length + 3] = 4;
  failure(parseMessage(rawMessage(PayloadType.SK, after)), /after the last payload/, NotifyType.INVALID_SYNTAX);
});

test('property: random bytes and mutations of a valid message never make the parser throw', () => {
  const runs = engine === 'xs' ? 2000 : 5000;
  const valid = encodeMessage(HEADER, SA_INIT);
  const started = Date.now();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    const r = parseMessage(bytes);
    return r.ok === true || typeof r.error.reason === 'string';
  }), { numRuns: runs });
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    fc.nat(valid.length),
    fc.boolean(),
    (mutations, cut, fixLength) => {
      const m = valid.slice(0, Math.max(cut, 28));
      for (const [at, value] of mutations) if (at < m.length) m[at] = value;
      if (fixLength) {
        m[24] = 0; m[25] = 0; m[26] = m.length >> 8; m[27] = m.length & 0xff;
      }
      const r = parseMessage(m);
      // what parses re-encodes to a message that parses to the same payloads
      if (r.ok) deepEqual(parsed(parseMessage(encodeMessage(r.header, r.payloads))).payloads, r.payloads);
      return r.ok === true || typeof r.error.reason === 'string';
    },
  ), { numRuns: runs });
  // random payload chains behind a sound header, first payload of a known or unknown type
  const types = [...Object.values(PayloadType), 1, 49, 200];
  fc.assert(fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 300 }), (first, chain) => {
    const r = parseMessage(rawMessage(first, chain));
    if (r.ok) deepEqual(parsed(parseMessage(encodeMessage(r.header, r.payloads))).payloads, r.payloads);
    return r.ok === true || typeof r.error.reason === 'string';
  }), { numRuns: runs });
  ok(Date.now() - started < 20000, `took ${Date.now() - started} ms`);
});
