#!/usr/bin/env python3
"""mos_flows.py - the traffic of tests/integration/mos.sh: TCP flows with
known byte counts each way, checked byte by byte at both ends.

  mos_flows.py server ADDR PORT...       serve until killed; prints "listening"
  mos_flows.py client ADDR PORT N THREADS OUT [CONNECT_TIMEOUT]

Per flow the client sends a header line "S2C\\n" and then C bytes of a
pattern, shuts its sending side; the server reads to the end, answers the
SHA-256 of what it received (64 hex digits) and S2C bytes of a pattern,
and closes. The client checks both and writes one line per flow to OUT:
  LOCAL_PORT C2S S2C ok|fail:REASON
(C2S counts the header). Sizes differ per flow (from its index). Exit 0.
"""
import hashlib
import socket
import sys
import threading


def pattern(n, seed):
    unit = bytes((seed * 31 + i * 7) & 0xFF for i in range(256))
    return (unit * (n // 256 + 1))[:n]


def serve_conn(conn):
    with conn:
        data = bytearray()
        while True:
            b = conn.recv(65536)
            if not b:
                break
            data += b
        head, _, _ = bytes(data).partition(b"\n")
        s2c = int(head)
        conn.sendall(hashlib.sha256(data).hexdigest().encode() + pattern(s2c, s2c))


def server(addr, ports):
    socks = []
    for p in ports:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(p)))
        s.listen(512)
        socks.append(s)

    def accept_loop(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve_conn, args=(c,), daemon=True).start()

    for s in socks[1:]:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    print("listening", flush=True)
    accept_loop(socks[0])


def one_flow(addr, port, i, timeout):
    c2s_body = 100 + (i * 997) % 30000
    s2c = 50 + (i * 1931) % 60000
    msg = b"%d\n" % s2c + pattern(c2s_body, i)
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except OSError as e:
        return None, len(msg), s2c + 64, "fail:connect:" + type(e).__name__
    s.settimeout(30)
    lport = s.getsockname()[1]
    try:
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        return lport, len(msg), s2c + 64, "fail:io:" + type(e).__name__
    finally:
        s.close()
    want = hashlib.sha256(msg).hexdigest().encode() + pattern(s2c, s2c)
    return lport, len(msg), s2c + 64, "ok" if bytes(got) == want else "fail:bytes"


def client(addr, port, n, threads, out, timeout):
    lines = []
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                return
            lport, c2s, s2c, res = one_flow(addr, port, i, timeout)
            with lock:
                lines.append("%s %d %d %s\n" % (lport, c2s, s2c, res))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(out, "w") as f:
        f.writelines(lines)


def main():
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3:])
    else:
        timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 10.0
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], timeout)


if __name__ == "__main__":
    main()
