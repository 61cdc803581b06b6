#!/usr/bin/env python3
"""
Known answers for the IKEv2 Encrypted (SK) payload (RFC 7296 §3.14; RFC 5282 for AES-GCM and
AES-CCM; RFC 7634 §3 for ChaCha20-Poly1305; RFC 5930 for AES-CTR), built with the
`cryptography` package and Python's hmac: an implementation independent of src/ike/protect.ts.
Writes sk.json beside this script.

Keys, IVs and payloads are fixed (counting bytes), so running it again gives the same file:
    /usr/bin/python3 test/vectors/ike/generate_sk.py
"""
import hashlib
import hmac
import json
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

SK = 46


def counting(n, start):
    return bytes((start + i) & 0xFF for i in range(n))


def payload(next_payload, body):
    """RFC 7296 §3.2 generic payload header: Next Payload, C + RESERVED, Payload Length."""
    return struct.pack('!BBH', next_payload, 0, 4 + len(body)) + body


# Inner chains: a Nonce (40) then a Notify (41) INITIAL_CONTACT (16384, §3.10.1); and none at
# all (an empty INFORMATIONAL, the liveness check of §1.4).
INNER = {
    'nonce-notify': (40, payload(41, counting(32, 0xA0)) + payload(0, struct.pack('!BBH', 0, 0, 16384))),
    'empty': (0, b''),
}

# Sizes from the RFCs: SK_e is key [+ salt] (RFC 5282 §7.1: 4-byte salt for GCM, 3 for CCM;
# RFC 7634 §2: 32-byte key + 4-byte salt; RFC 5930: 4-byte CTR nonce), IVs 8 bytes for the
# AEADs and CTR, 16 for CBC; ICVs: the AEAD tag, HMAC-SHA2-256-128, HMAC-SHA1-96.
SUITES = [
    # name, encryption, integrity, mode, key, salt/nonce, iv, tag/icv
    ('aes128gcm16', 'aes128gcm16', None, 'gcm', 16, 4, 8, 16),
    ('aes256gcm16', 'aes256gcm16', None, 'gcm', 32, 4, 8, 16),
    ('aes128ccm16', 'aes128ccm16', None, 'ccm', 16, 3, 8, 16),
    ('chacha20poly1305', 'chacha20poly1305', None, 'chacha', 32, 4, 8, 16),
    ('aes256-sha256', 'aes256', 'sha256', 'cbc', 32, 0, 16, 16),
    ('aes128-sha1', 'aes128', 'sha1', 'cbc', 16, 0, 16, 12),
    ('aes128ctr-sha256', 'aes128ctr', 'sha256', 'ctr', 16, 4, 8, 16),
]
HASH = {'sha256': hashlib.sha256, 'sha1': hashlib.sha1}


def header(spi_i, spi_r, exchange, flags, message_id, length):
    """RFC 7296 §3.1: the IKE header, Next Payload SK, version 2.0."""
    return spi_i + spi_r + struct.pack('!BBBBII', SK, 0x20, exchange, flags, message_id, length)


def protect(suite, inner_name, exchange, flags, message_id, seed):
    name, encryption, integrity, mode, key_len, salt_len, iv_len, icv_len = suite
    first, inner = INNER[inner_name]
    ske = counting(key_len + salt_len, seed)
    ska = counting(HASH[integrity]().digest_size, seed + 0x40) if integrity else b''
    iv = counting(iv_len, seed + 0x80)
    spi_i, spi_r = counting(8, 0x11), counting(8, 0x21)
    # §3.14 padding: CBC fills whole 16-byte blocks (we send zeros); the others need none
    pad = (16 - (len(inner) + 1) % 16) % 16 if mode == 'cbc' else 0
    plain = inner + bytes(pad) + bytes([pad])
    sk_length = 4 + iv_len + len(plain) + icv_len
    total = 28 + sk_length
    head = header(spi_i, spi_r, exchange, flags, message_id, total) + struct.pack('!BBH', first, 0, sk_length)
    if mode in ('gcm', 'ccm', 'chacha'):
        key, salt = ske[:key_len], ske[key_len:]
        aead = {'gcm': AESGCM, 'ccm': lambda k: AESCCM(k, tag_length=icv_len), 'chacha': ChaCha20Poly1305}[mode](key)
        # RFC 5282 §5.1: AAD is the IKE header through the SK generic header; nonce salt | IV
        sealed = aead.encrypt(salt + iv, plain, head)
        message = head + iv + sealed
    else:
        key = ske[:key_len]
        if mode == 'cbc':
            enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        else:
            # RFC 5930 / RFC 3686 §4: counter block nonce | IV | 00000001
            enc = Cipher(algorithms.AES(key), modes.CTR(ske[key_len:] + iv + b'\x00\x00\x00\x01')).encryptor()
        body = head + iv + enc.update(plain) + enc.finalize()
        # §3.14: the ICV covers the header through the ciphertext, lengths counting the ICV
        message = body + hmac.new(ska, body, HASH[integrity]).digest()[:icv_len]
    assert len(message) == total
    return {
        'name': f'{name} {inner_name}', 'encryption': encryption, 'integrity': integrity,
        'skE': ske.hex(), 'skA': ska.hex(), 'iv': iv.hex(),
        'spiI': spi_i.hex(), 'spiR': spi_r.hex(), 'exchangeType': exchange,
        'initiator': bool(flags & 0x08), 'response': bool(flags & 0x20), 'messageId': message_id,
        'firstPayload': first, 'inner': inner.hex(), 'message': message.hex(),
    }


vectors = []
for i, suite in enumerate(SUITES):
    vectors.append(protect(suite, 'nonce-notify', 35, 0x08, 1, 0x01 + i))
    vectors.append(protect(suite, 'empty', 37, 0x20, 7, 0x31 + i))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sk.json'), 'w') as f:
    json.dump({'sk': vectors}, f, indent=1)
    f.write('\n')
