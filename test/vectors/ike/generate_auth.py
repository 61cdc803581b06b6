#!/usr/bin/env python3
"""
Known answers for a whole IKEv2 PSK authentication (RFC 7296 §2.14, §2.15): both sides' keys
and AUTH values, computed with Python's standard library (hmac, hashlib) only, independently
of src/ike/keymat.ts and src/ike/auth.ts. Writes auth.json beside this script.

Inputs are deterministic, so running it again gives the same file:
    python3 test/vectors/ike/generate_auth.py
"""
import json
import os

# RFC 7296 §2.13's prf and prf+, as the key-derivation vectors compute them
from generate import prf, prf_plus  # noqa: E402


def counting(start, length):
    return bytes((start + i) & 0xff for i in range(length))


def id_body(id_type, text):
    # RFC 7296 §3.5: ID Type (1), RESERVED (3), Identification Data
    return bytes([id_type, 0, 0, 0]) + text.encode('ascii')


def auth(name, psk, real_message, peer_nonce, sk_p, body):
    # RFC 7296 §2.15
    octets = real_message + peer_nonce + prf(name, sk_p, body)
    return prf(name, prf(name, psk, b'Key Pad for IKEv2'), octets)


# (name, PRF, key sizes d ai ar ei er pi pr from the RFCs: HMAC keys are the hash length,
#  AES-256-CBC 32 bytes, AES-128-GCM-16 16 + 4 salt with no integrity (RFC 5282 §7.1))
CASES = [
    ('aes256-sha256-prfsha256', 'prfsha256', 'aes256', 'sha256', [32, 32, 32, 32, 32, 32, 32],
     'correct horse battery staple', (2, 'alice.example.org'), (2, 'bob.example.org')),
    ('aes128gcm16-prfsha384', 'prfsha384', 'aes128gcm16', None, [48, 0, 0, 20, 20, 48, 48],
     'another pre-shared key, this one longer than a SHA-384 block: ' * 3,
     (3, 'carol@example.org'), (1, '\x0a\x00\x00\x02')),
]

exchanges = []
for name, prf_name, encr, integ, sizes, psk, idi, idr in CASES:
    ni, nr = counting(0x10, 32), counting(0x90, 48)
    g_ir = counting(0x40, 64)
    spii, spir = counting(0xa0, 8), counting(0xb8, 8)
    msg1 = counting(0x01, 300)   # the IKE_SA_INIT request, as sent
    msg2 = counting(0x81, 280)   # the IKE_SA_INIT response
    skeyseed = prf(prf_name, ni + nr, g_ir)
    stream = prf_plus(prf_name, skeyseed, ni + nr + spii + spir, sum(sizes))
    keys, at = [], 0
    for n in sizes:
        keys.append(stream[at:at + n])
        at += n
    sk_pi, sk_pr = keys[5], keys[6]
    body_i, body_r = id_body(*idi), id_body(*idr)
    psk_b = psk.encode('ascii')
    exchanges.append({
        'name': name, 'prf': prf_name, 'encryption': encr, 'integrity': integ,
        'psk': psk_b.hex(), 'ni': ni.hex(), 'nr': nr.hex(), 'sharedSecret': g_ir.hex(),
        'spii': spii.hex(), 'spir': spir.hex(), 'message1': msg1.hex(), 'message2': msg2.hex(),
        'skPi': sk_pi.hex(), 'skPr': sk_pr.hex(),
        'idiBody': body_i.hex(), 'idrBody': body_r.hex(),
        # the initiator signs message 1, Nr and IDi with SK_pi; the responder message 2, Ni, IDr, SK_pr
        'authI': auth(prf_name, psk_b, msg1, nr, sk_pi, body_i).hex(),
        'authR': auth(prf_name, psk_b, msg2, ni, sk_pr, body_r).hex(),
    })

out = {'source': 'test/vectors/ike/generate_auth.py (Python hmac/hashlib)', 'exchanges': exchanges}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'auth.json'), 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
