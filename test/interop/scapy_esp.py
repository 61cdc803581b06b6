#!/usr/bin/python3
"""ESP and AH with scapy (scapy.layers.ipsec), an implementation independent of ours.

    scapy_esp.py seal SPEC_JSON INNER_HEX   -> prints the sealed outer IP packet, hex
    scapy_esp.py open SPEC_JSON PACKET_HEX  -> prints the opened packet (tunnel: the inner
                                               packet; transport: the restored IP packet), hex
SPEC: {"proto": "ESP" (default) or "AH", "crypt": scapy crypt_algo, "crypt_key": hex (key || salt/nonce), "icv": bytes or null,
       "auth": scapy auth_algo, "auth_key": hex, "spi": int, "seq": int, "mode": "tunnel" |
       "transport", "family": 4 | 6, "local": ip, "remote": ip, "encap": bool, "esn": bool}
Errors go to stderr with exit status 1.
"""
import json
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, ESP, SecurityAssociation


def association(spec):
    tunnel = None
    if spec["mode"] == "tunnel":
        if spec["family"] == 4:
            tunnel = IP(src=spec["local"], dst=spec["remote"])
        else:
            tunnel = IPv6(src=spec["local"], dst=spec["remote"])
    if spec.get("proto") == "AH":
        return SecurityAssociation(
            AH,
            spi=spec["spi"],
            seq_num=spec.get("seq", 1),
            auth_algo=spec["auth"],
            auth_key=bytes.fromhex(spec["auth_key"]),
            tunnel_header=tunnel,
            esn_en=spec.get("esn", False),
            esn=0,
        )
    return SecurityAssociation(
        ESP,
        spi=spec["spi"],
        seq_num=spec.get("seq", 1),
        crypt_algo=spec["crypt"],
        crypt_key=bytes.fromhex(spec["crypt_key"]),
        crypt_icv_size=spec.get("icv"),
        auth_algo=spec["auth"],
        auth_key=bytes.fromhex(spec["auth_key"]) if spec.get("auth_key") else None,
        tunnel_header=tunnel,
        nat_t_header=UDP(sport=4500, dport=4500) if spec.get("encap") else None,
        esn_en=spec.get("esn", False),
        esn=0,
    )


def parse_ip(data):
    return IP(data) if data[0] >> 4 == 4 else IPv6(data)


def main():
    command, spec, data = sys.argv[1], json.loads(sys.argv[2]), bytes.fromhex(sys.argv[3])
    sa = association(spec)
    if command == "seal":
        inner = parse_ip(data)
        sealed = sa.encrypt(inner, seq_num=spec.get("seq", 1))
        print(bytes(sealed).hex())
    elif command == "open":
        packet = parse_ip(data)
        opened = sa.decrypt(packet)
        print(bytes(opened).hex())
    else:
        raise SystemExit("unknown command " + command)


try:
    main()
except Exception as error:  # report, don't trace: the caller shows the message
    sys.stderr.write("scapy_esp: %s: %s\n" % (type(error).__name__, error))
    sys.exit(1)
