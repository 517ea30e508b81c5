#!/usr/bin/env python3
"""udp_peer.py - the Linux kernel's side of the UDP integration tests.

  udp_peer.py echo PORT COUNT            echo COUNT datagrams (0: until stopped), then exit 0
  udp_peer.py client ADDR PORT COUNT MAX send COUNT datagrams of 1..MAX bytes, wait for each
                                         echo (resending a lost one), check it byte for byte
  udp_peer.py closed ADDR PORT           expect ECONNREFUSED (ICMP port unreachable)
"""
import os
import socket
import sys

RETRIES = 50


def pattern(i, n):
    # any deterministic bytes will do; the echo must return them unchanged
    return bytes(((i * 131 + k * 7) ^ (k >> 3)) & 0xFF for k in range(n))


def size_of(i, size_max):
    # a stride coprime to most maxima: every size 1..MAX comes up, spread out
    return i * 7919 % size_max + 1


def echo(port, count):
    """Echoes count datagrams, or until stopped when count is 0."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    print(f"udp_peer: echoing on {port}", flush=True)
    n = 0
    while count == 0 or n < count:
        data, src = s.recvfrom(65535)
        s.sendto(data, src)
        n += 1
    print(f"udp_peer: echoed {count} datagrams", flush=True)
    return 0


def client(addr, port, count, size_max):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    resent = 0
    prev = None
    for i in range(count):
        want = pattern(i, size_of(i, size_max))
        for attempt in range(RETRIES + 1):
            s.send(want)
            s.settimeout(0.2 if attempt == 0 else 0.5)
            try:
                got = s.recv(65535)
                while got == prev and got != want:
                    got = s.recv(65535)  # a late echo of the previous datagram's resend
            except socket.timeout:
                resent += 1
                continue
            if got != want:
                print(f"udp_peer: datagram {i} ({len(want)} bytes) came back different", file=sys.stderr)
                return 1
            break
        else:
            print(f"udp_peer: no echo for datagram {i}", file=sys.stderr)
            return 1
        prev = want
    print(f"udp_peer: {count} datagrams of 1..{size_max} bytes echoed byte-exact ({resent} resent)")
    return 0


def closed(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.settimeout(0.5)
    for _ in range(10):
        s.send(b"anyone?")
        try:
            s.recv(100)
        except ConnectionRefusedError:
            print(f"udp_peer: {addr}:{port} refused (ICMP port unreachable)")
            return 0
        except socket.timeout:
            continue
    print("udp_peer: no ICMP port unreachable", file=sys.stderr)
    return 1


def main(argv):
    if len(argv) == 4 and argv[1] == "echo":
        return echo(int(argv[2]), int(argv[3]))
    if len(argv) == 6 and argv[1] == "client":
        return client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if len(argv) == 4 and argv[1] == "closed":
        return closed(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
