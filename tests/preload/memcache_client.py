#!/usr/bin/env python3
"""memcache_client.py ADDR PORT N - sets N keys of 1..4000 bytes over the
memcached text protocol, reads every one back and compares; exit 0 when all
came back equal. The Linux kernel's side of the interposer's app tests."""
import socket
import sys


def value(i):
    n = i * 7919 % 4000 + 1
    return bytes((i * 31 + k * 7) & 0xFF for k in range(n))


class Conn:
    def __init__(self, addr, port):
        self.s = socket.create_connection((addr, port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    c = Conn(argv[1], int(argv[2]))
    n = int(argv[3])
    for i in range(n):
        v = value(i)
        c.s.sendall(b"set key%d 0 0 %d\r\n%s\r\n" % (i, len(v), v))
        r = c.line()
        if r != b"STORED":
            print(f"memcache_client: set key{i}: {r!r}")
            return 1
    bad = 0
    for i in range(n):
        c.s.sendall(b"get key%d\r\n" % i)
        head = c.line().split()
        if len(head) != 4 or head[0] != b"VALUE":
            print(f"memcache_client: get key{i}: {head!r}")
            return 1
        data = c.exact(int(head[3]) + 2)[:-2]
        if c.line() != b"END" or data != value(i):
            bad += 1
    print(f"memcache_client: {n} keys set and read back, {bad} differ")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
