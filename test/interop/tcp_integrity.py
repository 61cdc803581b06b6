"""
A TCP transfer whose bytes are checked end to end: the server prints the length and SHA-256 of
what it received, the client those of what it sent. The client writes in uneven pieces, so
segments of every size cross the tunnel (and the simulator's TUN merges runs of them).

    tcp_integrity.py server ADDRESS
    tcp_integrity.py client SERVER_ADDRESS SOURCE_ADDRESS BYTES
"""
import hashlib
import os
import socket
import sys

PORT = 5202

if sys.argv[1] == 'server':
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((sys.argv[2], PORT))
    listener.listen(1)
    connection, _ = listener.accept()
    digest, count = hashlib.sha256(), 0
    while True:
        data = connection.recv(1 << 16)
        if not data:
            break
        digest.update(data)
        count += len(data)
    print(f"received {count} bytes sha256 {digest.hexdigest()}", flush=True)
else:
    data = os.urandom(int(sys.argv[4]))
    print(f"sent {len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()}", flush=True)
    connection = socket.create_connection((sys.argv[2], PORT), source_address=(sys.argv[3], 0))
    i, step = 0, 1
    while i < len(data):
        connection.sendall(data[i:i + step])
        i += step
        step = step * 7 % 70001 + 1
    connection.close()
