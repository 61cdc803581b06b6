#!/usr/bin/env python3
"""
Known answers for IKEv2 key derivation and PSK authentication (RFC 7296 §2.13-§2.15,
§2.17, §2.18), computed with Python's standard library (hmac, hashlib) only: an
implementation independent of src/ike/keymat.ts. Writes keymat.json beside this script.

Inputs are deterministic (counting bytes), so running it again gives the same file:
    python3 test/vectors/ike/generate.py

AES-XCBC-PRF-128 and AES-CMAC-PRF-128 are not covered: the standard library has no AES.
"""
import hashlib
import hmac
import json
import os

HASHES = {'prfsha1': hashlib.sha1, 'prfsha256': hashlib.sha256, 'prfsha384': hashlib.sha384, 'prfsha512': hashlib.sha512}

# Key sizes in bytes, from the RFCs (not from our registry):
#   encryption: key [+ salt]: RFC 3602 (CBC, no salt), RFC 5930/3686 (CTR, 4-byte nonce),
#   RFC 5282 §7.1 (IKEv2 GCM: 4-byte salt, CCM: 3-byte salt), RFC 7634 §2 (ChaCha20-Poly1305:
#   32-byte key + 4-byte salt)
ENCR = {
    'aes128': 16, 'aes256': 32, 'aes128ctr': 20,
    'aes128gcm16': 20, 'aes256gcm16': 36, 'aes128ccm16': 19, 'chacha20poly1305': 36,
}
AEAD = {'aes128gcm16', 'aes256gcm16', 'aes128ccm16', 'chacha20poly1305'}
#   integrity: the HMAC key is the hash length (RFC 2404, RFC 4868)
INTEG = {None: 0, 'sha1': 20, 'sha256': 32, 'sha384': 48, 'sha512': 64}


def prf(name, key, data):
    return hmac.new(key, data, HASHES[name]).digest()


def prf_plus(name, key, seed, length):
    """RFC 7296 §2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
    out, t, n = b'', b'', 1
    while len(out) < length:
        assert n <= 255
        t = prf(name, key, t + seed + bytes([n]))
        out += t
        n += 1
    return out[:length]


def counting(n, start):
    return bytes((start + i) & 0xff for i in range(n))


def ike_keys(prf_name, encr, integ, skeyseed, ni, nr, spii, spir):
    """RFC 7296 §2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)"""
    p = HASHES[prf_name]().digest_size  # §2.13: HMAC's preferred key size is its output length
    a = 0 if encr in AEAD else INTEG[integ]
    e = ENCR[encr]
    sizes = [('skD', p), ('skAi', a), ('skAr', a), ('skEi', e), ('skEr', e), ('skPi', p), ('skPr', p)]
    stream = prf_plus(prf_name, skeyseed, ni + nr + spii + spir, sum(s for _, s in sizes))
    keys, at = {}, 0
    for k, s in sizes:
        keys[k] = stream[at:at + s].hex()
        at += s
    return keys


def hexed(d):
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in d.items()}


ike = []
for i, (prf_name, encr, integ, secret_len) in enumerate([
    ('prfsha256', 'aes256', 'sha256', 256),          # MODP 2048 shared secret size
    ('prfsha384', 'aes128gcm16', None, 32),          # X25519 shared secret size
    ('prfsha1', 'aes128', 'sha1', 128),
    ('prfsha512', 'chacha20poly1305', None, 48),
    ('prfsha256', 'aes128ccm16', None, 32),
    ('prfsha256', 'aes128ctr', 'sha256', 32),
]):
    ni, nr = counting(32, 0x10 + i), counting(32 + 8 * i, 0x80 + i)
    spii, spir = counting(8, 0xa0 + i), counting(8, 0xc0 + i)
    g_ir = counting(secret_len, 0x33 * (i + 1))
    skeyseed = prf(prf_name, ni + nr, g_ir)  # §2.14: SKEYSEED = prf(Ni | Nr, g^ir)
    ike.append(hexed({
        'name': f'{encr}-{integ + "-" if integ else ""}{prf_name}',
        'prf': prf_name, 'encryption': encr, 'integrity': integ,
        'ni': ni, 'nr': nr, 'spii': spii, 'spir': spir, 'sharedSecret': g_ir,
        'skeyseed': skeyseed, **ike_keys(prf_name, encr, integ, skeyseed, ni, nr, spii, spir),
    }))

child = []
for i, (prf_name, encr, integ, pfs) in enumerate([
    ('prfsha256', 'aes128gcm16', None, False),
    ('prfsha256', 'aes256', 'sha256', True),
    ('prfsha384', 'aes256', 'sha384', False),
    ('prfsha1', 'aes128ctr', 'sha1', True),
    ('prfsha512', 'chacha20poly1305', None, True),
]):
    sk_d = counting(HASHES[prf_name]().digest_size, 0x40 + i)
    ni, nr = counting(16 + 4 * i, 0x01 + i), counting(24, 0x61 + i)
    g_ir = counting(32, 0x99 + i) if pfs else b''
    e, a = ENCR[encr], (0 if encr in AEAD else INTEG[integ])
    # §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); initiator-to-responder encryption,
    # its integrity, then responder-to-initiator encryption and integrity
    keymat = prf_plus(prf_name, sk_d, g_ir + ni + nr, 2 * (e + a))
    case = {
        'name': f'{encr}-{integ + "-" if integ else ""}{prf_name}{"-pfs" if pfs else ""}',
        'prf': prf_name, 'encryption': encr, 'integrity': integ,
        'skD': sk_d, 'ni': ni, 'nr': nr, 'keymat': keymat,
        'encryptionI': keymat[0:e], 'integrityI': keymat[e:e + a],
        'encryptionR': keymat[e + a:2 * e + a], 'integrityR': keymat[2 * e + a:],
    }
    if pfs:
        case['sharedSecret'] = g_ir
    child.append(hexed(case))

rekey = []
for i, (old_prf, new_prf, encr, integ) in enumerate([
    ('prfsha256', 'prfsha256', 'aes256', 'sha256'),
    ('prfsha256', 'prfsha384', 'aes256gcm16', None),   # §2.18: the old SA's PRF makes SKEYSEED
]):
    sk_d_old = counting(HASHES[old_prf]().digest_size, 0x70 + i)
    ni, nr = counting(32, 0x21 + i), counting(32, 0x51 + i)
    spii, spir = counting(8, 0xe0 + i), counting(8, 0xf0 + i)
    g_ir = counting(256, 0x17 + i)
    skeyseed = prf(old_prf, sk_d_old, g_ir + ni + nr)  # §2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
    rekey.append(hexed({
        'name': f'{old_prf} -> {encr}-{integ + "-" if integ else ""}{new_prf}',
        'oldPrf': old_prf, 'skDOld': sk_d_old,
        'prf': new_prf, 'encryption': encr, 'integrity': integ,
        'ni': ni, 'nr': nr, 'spii': spii, 'spir': spir, 'sharedSecret': g_ir,
        'skeyseed': skeyseed, **ike_keys(new_prf, encr, integ, skeyseed, ni, nr, spii, spir),
    }))

auth = []
for i, (prf_name, psk, id_body) in enumerate([
    ('prfsha256', b'correct horse battery staple', bytes([2, 0, 0, 0]) + b'alice.example.org'),
    ('prfsha384', b'a much longer pre-shared key that is longer than one block of SHA-384 ' * 3, bytes([1, 0, 0, 0, 192, 0, 2, 1])),
    ('prfsha1', b'k', bytes([3, 0, 0, 0]) + b'bob@example.org'),
]):
    real_message = counting(300 + 37 * i, 0x05 + i)  # the whole first message the sender sent
    nonce = counting(32, 0xb0 + i)                    # the peer's nonce
    sk_p = counting(HASHES[prf_name]().digest_size, 0xd0 + i)
    # §2.15: SignedOctets = RealMessage | NoncePeerData | prf(SK_p, RestOfIDPayload)
    signed = real_message + nonce + prf(prf_name, sk_p, id_body)
    # §2.15: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), SignedOctets)
    value = prf(prf_name, prf(prf_name, psk, b'Key Pad for IKEv2'), signed)
    auth.append(hexed({
        'prf': prf_name, 'psk': psk, 'realMessage': real_message, 'nonce': nonce,
        'skP': sk_p, 'idPayloadBody': id_body, 'signedOctets': signed, 'auth': value,
    }))

out = {
    'source': 'test/vectors/ike/generate.py: Python hmac/hashlib, RFC 7296 §2.13-§2.15, §2.17, §2.18',
    'ike': ike, 'child': child, 'rekey': rekey, 'auth': auth,
}
if __name__ == '__main__':  # generate_auth.py imports prf and prf_plus from here
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'keymat.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
