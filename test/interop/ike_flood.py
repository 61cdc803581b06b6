#!/usr/bin/env python3
"""IKE_SA_INIT flood with spoofed source addresses, for the cookie test (RFC 7296 section 2.6).

Sends IKEv2 IKE_SA_INIT requests (SA with one proposal: AES-GCM-16-128, PRF-HMAC-SHA2-256,
Curve25519; KE; Nonce) to TARGET:500 from random addresses of SOURCES (198.18.0.0/15 by
default, the benchmarking range of RFC 2544), each with a fresh SPIi and nonce, at RATE
per second for SECONDS, through a raw socket with our own IPv4 header. Only for the test's
own network namespaces: the addresses are spoofed.

    ike_flood.py TARGET RATE SECONDS [SOURCE_PREFIX]

Prints "sent N" at the end.
"""
import ipaddress
import os
import socket
import struct
import sys
import time


def ike_sa_init(spi_i: bytes, nonce: bytes, ke: bytes) -> bytes:
    # transforms: ENCR AES-GCM-16 (20) with Key Length 128, PRF HMAC-SHA2-256 (5), KE Curve25519 (31)
    transforms = [
        struct.pack('!BBHBBH', 3, 0, 12, 1, 0, 20) + struct.pack('!HH', 0x800E, 128),
        struct.pack('!BBHBBH', 3, 0, 8, 2, 0, 5),
        struct.pack('!BBHBBH', 0, 0, 8, 4, 0, 31),
    ]
    body = b''.join(transforms)
    proposal = struct.pack('!BBHBBBB', 0, 0, 8 + len(body), 1, 1, 0, len(transforms)) + body
    sa = struct.pack('!BBH', 34, 0, 4 + len(proposal)) + proposal            # next: KE
    ke_payload = struct.pack('!BBHHH', 40, 0, 8 + len(ke), 31, 0) + ke      # next: Nonce
    nonce_payload = struct.pack('!BBH', 0, 0, 4 + len(nonce)) + nonce        # last
    payloads = sa + ke_payload + nonce_payload
    header = spi_i + bytes(8) + struct.pack('!BBBBII', 33, 0x20, 34, 0x08, 0, 28 + len(payloads))
    return header + payloads


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def packet(source: bytes, target: bytes, payload: bytes) -> bytes:
    udp = struct.pack('!HHHH', 500, 500, 8 + len(payload), 0) + payload   # checksum 0: none (IPv4)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, source, target)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return ip + udp


def main() -> None:
    target = sys.argv[1]
    rate = float(sys.argv[2])
    seconds = float(sys.argv[3])
    network = ipaddress.ip_network(sys.argv[4] if len(sys.argv) > 4 else '198.18.0.0/15')
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    target_bytes = socket.inet_aton(target)
    base = int(network.network_address)
    size = network.num_addresses
    sent = 0
    start = time.monotonic()
    interval = 1.0 / rate
    next_at = start
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        if now < next_at:
            time.sleep(min(next_at - now, 0.01))
            continue
        # several per wake-up at high rates
        batch = max(1, int((now - next_at) / interval) + 1)
        for _ in range(batch):
            r = os.urandom(8 + 32 + 32 + 4)
            source = (base + int.from_bytes(r[72:76], 'big') % size).to_bytes(4, 'big')
            sock.sendto(packet(source, target_bytes, ike_sa_init(r[:8], r[8:40], r[40:72])), (target, 0))
            sent += 1
        next_at += batch * interval
    print(f'sent {sent}')


if __name__ == '__main__':
    main()
