#!/usr/bin/env python3
"""echo_client.py ADDR PORT N [THREADS] - N connections to an echo server
(socat's EXEC:cat under sluice-run in tests/preload/apps.sh), THREADS at a
time: each sends its own random bytes (1,000 + 37*i), half-closes, reads
to end of stream and compares. Prints "N of N echoed byte-exact"; exit 0
only when all were."""
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def one(addr, port, i):
    data = os.urandom(1000 + i * 37)
    try:
        with socket.create_connection((addr, port), timeout=20) as c:
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got += d
    except OSError as e:
        print(f"echo_client: connection {i}: {e}", file=sys.stderr)
        return False
    if got != data:
        print(f"echo_client: connection {i}: sent {len(data)} bytes, got {len(got)} back, not equal", file=sys.stderr)
    return got == data


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, n = argv[1], int(argv[2]), int(argv[3])
    threads = int(argv[4]) if len(argv) == 5 else 10
    with ThreadPoolExecutor(threads) as ex:
        ok = sum(ex.map(lambda i: one(addr, port, i), range(n)))
    print(f"{ok} of {n} echoed byte-exact")
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
