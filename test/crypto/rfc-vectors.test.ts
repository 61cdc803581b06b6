/**
 * The RFCs' own test vectors (test/vectors/rfc, transcribed from the RFC texts) against every
 * provider on this engine: HMAC (RFC 4231, RFC 2202), AES-CBC (RFC 3602), AES-CTR (RFC 3686),
 * ChaCha20-Poly1305 (RFC 7634 appendices, RFC 8439 §2.8.2), ECDH (RFC 5903 §8), AES-CMAC
 * (RFC 4493), AES-XCBC-MAC (RFC 3566) and the AES PRFs of IKEv2 (RFC 4434, RFC 4615).
 */
import { fromHex } from '../../src/crypto/bytes.js';
import { prfFor } from '../../src/crypto/prf.js';
import { findAlgorithm, type HashName } from '../../src/crypto/registry.js';
import { bytesEqual, equal } from '../assert.js';
import { forEachProvider, loadVectors } from '../engine.js';

const rfc4231 = await loadVectors('rfc/rfc4231-hmac-sha2');
const rfc2202 = await loadVectors('rfc/rfc2202-hmac-sha1-md5');
const rfc3602 = await loadVectors('rfc/rfc3602-aes-cbc');
const rfc3686 = await loadVectors('rfc/rfc3686-aes-ctr');
const rfc7634 = await loadVectors('rfc/rfc7634-chacha20poly1305');
const rfc5903 = await loadVectors('rfc/rfc5903-ecdh');

forEachProvider('RFC 4231 HMAC-SHA-224/256/384/512', (crypto) => {
  for (const c of rfc4231.cases) {
    for (const hash of ['sha224', 'sha256', 'sha384', 'sha512'] as HashName[]) {
      let mac = crypto.hmac(hash, fromHex(c.key), fromHex(c.data));
      if (c.truncateBits) mac = mac.subarray(0, c.truncateBits / 8);
      bytesEqual(mac, fromHex(c[hash]), `${c.source} ${hash}`);
      // the MacKey path, as the data path uses it, gives the same
      const out = new Uint8Array(mac.length);
      const data = fromHex(c.data);
      crypto.macKey('hmac', fromHex(c.key), hash).compute(data, 0, data.length, out);
      bytesEqual(out, mac, `${c.source} ${hash} (MacKey)`);
    }
  }
});

forEachProvider('RFC 2202 HMAC-SHA-1 and HMAC-MD5 (legacy enabled)', (crypto) => {
  for (const [hash, cases] of [['sha1', rfc2202.sha1], ['md5', rfc2202.md5]] as [HashName, any[]][]) {
    for (const c of cases) bytesEqual(crypto.hmac(hash, fromHex(c.key), fromHex(c.data)), fromHex(c.digest), c.source);
  }
}, { allowLegacy: true });

forEachProvider('RFC 3602 AES-CBC', (crypto) => {
  for (const c of rfc3602.cases) {
    const key = crypto.cipherKey('aes-cbc', fromHex(c.key));
    const buffer = fromHex(c.plaintext);
    key.encrypt(fromHex(c.iv), buffer, 0, buffer.length);
    bytesEqual(buffer, fromHex(c.ciphertext), c.source);
    key.decrypt(fromHex(c.iv), buffer, 0, buffer.length);
    bytesEqual(buffer, fromHex(c.plaintext), `${c.source} decrypt`);
  }
});

forEachProvider('RFC 3686 AES-CTR', (crypto) => {
  for (const c of rfc3686.cases) {
    // RFC 3686 §4: counter block = nonce || IV || 0x00000001
    const counter = new Uint8Array(16);
    counter.set(fromHex(c.nonce), 0);
    counter.set(fromHex(c.iv), 4);
    counter[15] = 1;
    bytesEqual(counter, fromHex(c.counterBlock), `${c.source} counter block`);
    const key = crypto.cipherKey('aes-ctr', fromHex(c.key));
    const buffer = fromHex(c.plaintext);
    key.encrypt(counter, buffer, 0, buffer.length);
    bytesEqual(buffer, fromHex(c.ciphertext), c.source);
    key.decrypt(counter, buffer, 0, buffer.length);
    bytesEqual(buffer, fromHex(c.plaintext), `${c.source} decrypt`);
  }
});

forEachProvider('RFC 7634 / RFC 8439 ChaCha20-Poly1305', (crypto) => {
  for (const c of rfc7634.cases) {
    const key = crypto.aeadKey('chacha20-poly1305', fromHex(c.key), 16);
    const plaintext = fromHex(c.plaintext);
    const buffer = new Uint8Array(plaintext.length + 16);
    buffer.set(plaintext);
    key.seal(fromHex(c.nonce), fromHex(c.aad), buffer, 0, plaintext.length);
    bytesEqual(buffer.subarray(0, plaintext.length), fromHex(c.ciphertext), `${c.source} ciphertext`);
    bytesEqual(buffer.subarray(plaintext.length), fromHex(c.tag), `${c.source} tag`);
    equal(key.open(fromHex(c.nonce), fromHex(c.aad), buffer, 0, plaintext.length), true, `${c.source} open`);
    bytesEqual(buffer.subarray(0, plaintext.length), plaintext, `${c.source} opened`);
  }
});

forEachProvider('RFC 5903 ECDH groups 19, 20, 21', (crypto) => {
  for (const c of rfc5903.cases) {
    const initiator = crypto.keyExchangeFromPrivate(c.group, fromHex(c.i));
    const responder = crypto.keyExchangeFromPrivate(c.group, fromHex(c.r));
    // RFC 5903 §7: the KE payload carries x || y, the shared secret is x
    bytesEqual(initiator.publicKey, fromHex(c.gix + c.giy), `${c.source} g^i`);
    bytesEqual(responder.publicKey, fromHex(c.grx + c.gry), `${c.source} g^r`);
    bytesEqual(initiator.computeSecret(responder.publicKey), fromHex(c.girx), `${c.source} g^ir (initiator)`);
    bytesEqual(responder.computeSecret(initiator.publicKey), fromHex(c.girx), `${c.source} g^ir (responder)`);
  }
});

const rfc4493 = await loadVectors('rfc/rfc4493-aes-cmac');
const rfc3566 = await loadVectors('rfc/rfc3566-aes-xcbc-mac');
const rfc4434 = await loadVectors('rfc/rfc4434-aes-xcbc-prf-128');
const rfc4615 = await loadVectors('rfc/rfc4615-aes-cmac-prf-128');

forEachProvider('RFC 4493 AES-CMAC and RFC 3566 AES-XCBC-MAC(-96)', (crypto) => {
  for (const c of rfc4493.cases) {
    const message = fromHex(c.message);
    const out = new Uint8Array(16);
    crypto.macKey('aes-cmac', fromHex(c.key)).compute(message, 0, message.length, out);
    bytesEqual(out, fromHex(c.mac), c.source);
  }
  for (const c of rfc3566.cases) {
    const message = fromHex(c.message);
    const key = crypto.macKey('aes-xcbc', fromHex(c.key));
    const full = new Uint8Array(16);
    key.compute(message, 0, message.length, full);
    bytesEqual(full, fromHex(c.mac), c.source);
    const truncated = new Uint8Array(12); // AES-XCBC-MAC-96
    key.compute(message, 0, message.length, truncated);
    bytesEqual(truncated, fromHex(c.mac96), `${c.source} (96)`);
  }
});

forEachProvider('RFC 4434 AES-XCBC-PRF-128 and RFC 4615 AES-CMAC-PRF-128 (keys of 10, 16, 18 bytes)', (crypto) => {
  for (const [name, file] of [['prfaesxcbc', rfc4434], ['prfaescmac', rfc4615]] as const) {
    const prf = prfFor(crypto, findAlgorithm(name)!);
    for (const c of file.cases) bytesEqual(prf(fromHex(c.key), fromHex(c.message)), fromHex(c.output), c.source);
  }
});
