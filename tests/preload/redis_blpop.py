#!/usr/bin/env python3
"""redis_blpop.py HOST PORT ROUNDS - who gets the element: the order in
which a redis-server serves two blocked clients (tests/preload/apps.sh).

Each round: D sends DEBUG SLEEP (the server is busy), then A and then B send
BLPOP on one key, microseconds apart, so that both requests wait for the
same wake-up of the server; once D's answer is back, C pushes one element.
Redis hands it to the client that blocked first, which is A if the server
read A's request first - as it does on Linux, whose epoll reports sockets in
the order their data arrived. Then C pushes a second element, for B. Between
rounds, connections are opened and closed (a close reshuffles any per-member
array of an epoll set). Prints "A first in N of ROUNDS rounds"; exits 0 when
N == ROUNDS.
"""
import random
import socket
import sys


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One RESP reply: bytes, int, None or a list."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            if kind == b"-":
                raise RuntimeError(rest.decode())
            return rest
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("server closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError("bad reply %r" % line)

    def close(self):
        self.s.close()


def main():
    host, port, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(1)
    a, b, c, d = (Conn(host, port) for _ in range(4))
    c.send(cmd("DEL", "k"))
    c.reply()
    extra = []
    first = 0
    for r in range(rounds):
        d.send(cmd("DEBUG", "SLEEP", "0.02"))
        a.send(cmd("BLPOP", "k", 0))
        b.send(cmd("BLPOP", "k", 0))
        d.reply()
        # two pushes, one command each: redis serves the first blocked
        # client after the first, the other after the second
        c.send(cmd("RPUSH", "k", "r%d-1" % r) + cmd("RPUSH", "k", "r%d-2" % r))
        c.reply()
        c.reply()
        got_a = a.reply()
        got_b = b.reply()
        if got_a == [b"k", b"r%d-1" % r] and got_b == [b"k", b"r%d-2" % r]:
            first += 1
        # open and close connections between rounds
        for _ in range(rng.randint(0, 3)):
            e = Conn(host, port)
            e.send(cmd("PING"))
            e.reply()
            extra.append(e)
        while extra and rng.random() < 0.6:
            extra.pop(rng.randrange(len(extra))).close()
    for e in extra + [a, b, c, d]:
        e.close()
    print("A first in %d of %d rounds" % (first, rounds))
    return 0 if first == rounds else 1


if __name__ == "__main__":
    sys.exit(main())
