#!/usr/bin/env python3
"""
Known answers for IKEv2 NAT detection (RFC 7296 §2.23): the NAT_DETECTION_SOURCE_IP and
NAT_DETECTION_DESTINATION_IP notify data, SHA-1(SPIi | SPIr | IP | Port), computed with
Python's standard library (hashlib, ipaddress, struct) only: an implementation independent of
src/ike/natd.ts. Writes natd.json beside this script.

Inputs are fixed, so running it again gives the same file:
    python3 test/vectors/ike/generate_natd.py
"""
import hashlib
import ipaddress
import json
import os
import struct

SPII = '0123456789abcdef'
SPIR = 'fedcba9876543210'
ZERO = '0000000000000000'

CASES = [
    # (name, SPIi, SPIr, address, port)
    ('IKE_SA_INIT request, IPv4, port 500 (SPIr zero)', SPII, ZERO, '192.0.2.1', 500),
    ('IKE_SA_INIT response, IPv4, port 500', SPII, SPIR, '192.0.2.2', 500),
    ('IPv4, NAT-T port 4500', SPII, SPIR, '198.51.100.7', 4500),
    ('IPv4, NAT-mapped high port', SPII, SPIR, '203.0.113.254', 61234),
    ('IPv4, port 0', SPII, ZERO, '0.0.0.0', 0),
    ('IPv4, port 65535', 'ffffffffffffffff', 'ffffffffffffffff', '255.255.255.255', 65535),
    ('IPv6, port 500 (SPIr zero)', SPII, ZERO, '2001:db8::1', 500),
    ('IPv6, port 4500', SPII, SPIR, '2001:db8:0:1::abcd', 4500),
]


def natd(spii, spir, address, port):
    data = bytes.fromhex(spii) + bytes.fromhex(spir) + ipaddress.ip_address(address).packed + struct.pack('!H', port)
    return hashlib.sha1(data).hexdigest()


def main():
    cases = [
        {'name': name, 'spii': spii, 'spir': spir, 'address': address, 'port': port, 'hash': natd(spii, spir, address, port)}
        for name, spii, spir, address, port in CASES
    ]
    out = {
        'source': 'test/vectors/ike/generate_natd.py (Python hashlib, RFC 7296 §2.23)',
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'natd.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
