#!/usr/bin/env python3
"""preload_peer.py - small unmodified-program scenarios for the interposer's
tests (tests/preload/run.sh); run under sluice-run, with the Linux kernel
in the peer namespace on the other side.

  preload_peer.py fork-late PORT   bind a UDP socket, fork before any I/O; the
                                   child echoes one datagram (the parent never
                                   starts DPDK: nginx's master and worker)
  preload_peer.py fork-early PORT  echo one datagram, fork: the child closes the
                                   inherited socket and exits (redis BGSAVE);
                                   the parent then echoes another
  preload_peer.py epoll PORT       one epoll set with a pipe (kernel) and a UDP
                                   socket (Sluice): level-triggered, edge-
                                   triggered and EPOLLONESHOT, both kinds wake it
  preload_peer.py ping ADDR PORT N send N datagrams to ADDR:PORT, one at a time,
                                   each awaiting its echo (the kernel's side)
  preload_peer.py prefork-client ADDR PORT N CONC
                                   N TCP connections, CONC at a time, to
                                   tests/preload/prefork.c, each answer checked
                                   byte by byte (number, pattern, length)
  preload_peer.py halfclose-server PORT [STALL]
                                   accept one TCP connection, read to end of
                                   stream, answer with the SHA-256 of what came
                                   (hex), then close; with STALL, a 4 KiB
                                   receive buffer and STALL seconds before the
                                   first read
  preload_peer.py halfclose-client ADDR PORT BYTES [PIECE]
                                   send BYTES (PIECE bytes per send() call, with
                                   TCP_NODELAY, when given), shutdown(SHUT_WR),
                                   read the answer to end of stream and check it
                                   is the SHA-256 of what was sent
  preload_peer.py asyncio-server PORT
                                   an asyncio TCP server on 0.0.0.0:PORT that
                                   answers each line with "echo LINE"; SIGTERM
                                   (loop.add_signal_handler) stops it: prints
                                   "asyncio stopped by SIGTERM", exit 0
  preload_peer.py accept-sigterm PORT
                                   a blocking accept on 0.0.0.0:PORT with a
                                   Python SIGTERM handler (signal.signal) that
                                   prints "stopped by SIGTERM in accept" and
                                   exits 0: the accept must fail with EINTR
                                   for the handler to run (PEP 475)
  preload_peer.py line ADDR PORT   connect, send one line, print the answer
  preload_peer.py fork-share PORT  a TCP listener on 0.0.0.0:PORT and two
                                   forked children accepting on it, each
                                   answering every connection with its pid;
                                   prints "children serving"; SIGTERM ends all
  preload_peer.py fork-kill PORT   accept connection A and echo on it; fork a
                                   child that accepts connection B and blocks
                                   reading it (prints "child holds B PID"); the
                                   parent echoes on A until A's peer closes
  preload_peer.py who ADDR PORT N  N connections, each reading the server's
                                   answer; prints the distinct answers' count
  preload_peer.py family-client ADDR PORT
                                   connects A, checks its echo, connects B and
                                   reads it without end, waits for "KILLED" on
                                   stdin, then expects end of stream or a
                                   reset on B within 3 s while A still echoes
Prints one line; exit 0 on success.
"""
import asyncio
import signal
import hashlib
import os
import select
import socket
import sys
import threading
import time


def echo_one(s):
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)


def fork_late(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    pid = os.fork()
    if pid == 0:
        print("preload_peer: child serving", flush=True)
        echo_one(s)
        sys.exit(0)  # exit(3): the interposer's exit handler lets the echo out
    _, status = os.waitpid(pid, 0)
    # the parent never did I/O: no DPDK here (checked by the caller's log)
    print(f"preload_peer: fork-late child exit {os.waitstatus_to_exitcode(status)}", flush=True)
    return os.waitstatus_to_exitcode(status)


def fork_early(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    print("preload_peer: serving", flush=True)
    echo_one(s)
    pid = os.fork()
    if pid == 0:
        s.close()  # only forgets it: the stack is the parent's
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    echo_one(s)
    print(f"preload_peer: fork-early child exit {os.waitstatus_to_exitcode(status)}, parent still served",
          flush=True)
    return os.waitstatus_to_exitcode(status)


def epoll(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    r, w = os.pipe()
    ep = select.epoll()
    ep.register(r, select.EPOLLIN)
    ep.register(s.fileno(), select.EPOLLIN)
    print("preload_peer: epoll ready", flush=True)
    os.write(w, b"k")
    ev = dict(ep.poll(5))
    assert ev.get(r) == select.EPOLLIN, f"pipe not reported: {ev}"
    assert s.fileno() not in ev, f"socket reported before any datagram: {ev}"
    os.read(r, 1)
    ev = dict(ep.poll(10))  # the peer sends one datagram
    assert ev.get(s.fileno()) == select.EPOLLIN, f"socket not reported: {ev}"
    ev = dict(ep.poll(0.2))  # level-triggered: still there until read
    assert ev.get(s.fileno()) == select.EPOLLIN, f"level-triggered lost: {ev}"
    echo_one(s)
    ev = dict(ep.poll(0.2))
    assert s.fileno() not in ev, f"reported after the read: {ev}"
    ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLET)
    ev = dict(ep.poll(10))  # second datagram
    assert ev.get(s.fileno()) == select.EPOLLIN, f"edge not reported: {ev}"
    ev = dict(ep.poll(0.2))  # edge-triggered: once
    assert s.fileno() not in ev, f"edge reported twice: {ev}"
    echo_one(s)
    ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLONESHOT)
    ev = dict(ep.poll(10))  # third datagram
    assert ev.get(s.fileno()) == select.EPOLLIN, f"oneshot not reported: {ev}"
    ev = dict(ep.poll(0.2))
    assert s.fileno() not in ev, f"oneshot reported twice: {ev}"
    echo_one(s)
    ep.unregister(s.fileno())
    ep.close()
    print("preload_peer: epoll level, edge and oneshot ok, pipe and socket in one set", flush=True)
    return 0


def ping(addr, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for i in range(n):
        msg = b"ping %d" % i
        for _ in range(20):
            s.sendto(msg, (addr, port))
            try:
                data, _ = s.recvfrom(100)
            except socket.timeout:
                continue
            if data == msg:
                break
        else:
            print(f"preload_peer: no echo for {msg!r}", flush=True)
            return 1
        time.sleep(1.0)
    print(f"preload_peer: {n} echoed", flush=True)
    return 0


def pattern(n):
    """n bytes of a fixed pattern."""
    block = bytes(range(256))
    return (block * (n // 256 + 1))[:n]


def halfclose_server(port, stall=0.0):
    """With stall > 0 the window stays nearly shut (a 4 KiB receive buffer)
    and nothing is read for stall seconds: what the peer writes meanwhile
    waits in its send queue."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if stall > 0:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    print("preload_peer: halfclose listening", flush=True)
    c, _ = ls.accept()
    time.sleep(stall)
    c.settimeout(20)
    h, n = hashlib.sha256(), 0
    while True:
        data = c.recv(65536)
        if not data:
            break
        h.update(data)
        n += len(data)
    c.sendall(h.hexdigest().encode())
    c.close()
    ls.close()
    print(f"preload_peer: halfclose server read {n} bytes to end of stream, answered", flush=True)
    return 0


def halfclose_client(addr, port, nbytes, piece=0):
    """Sends nbytes (in send() calls of piece bytes when piece > 0, with
    TCP_NODELAY, as a program writing a byte at a time), shuts down
    writing and checks the server's SHA-256 answer."""
    data = pattern(nbytes)
    s = socket.create_connection((addr, port), timeout=20)
    if piece > 0:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, nbytes, piece):
            s.sendall(data[i:i + piece])
    else:
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    try:
        s.send(b"x")
        print("preload_peer: a write after SHUT_WR succeeded", flush=True)
        return 1
    except BrokenPipeError:
        pass
    answer = b""
    while True:
        part = s.recv(4096)
        if not part:
            break
        answer += part
    s.close()
    if answer.decode() != hashlib.sha256(data).hexdigest():
        print(f"preload_peer: halfclose answer {answer[:64]!r} is not the SHA-256 sent", flush=True)
        return 1
    print(f"preload_peer: halfclose client sent {nbytes} bytes, shut down writing, read the answer", flush=True)
    return 0


async def asyncio_serve(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    # a SIGTERM sent twice (timeout(1) also signals its process group) is one stop
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))

    async def answer(reader, writer):
        line = await reader.readline()
        writer.write(b"echo " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "0.0.0.0", port)
    print("preload_peer: asyncio serving", flush=True)
    async with server:
        await stop
    print("preload_peer: asyncio stopped by SIGTERM", flush=True)
    return 0


def accept_sigterm(port):
    def stop(signum, frame):
        print("preload_peer: stopped by SIGTERM in accept", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    listener = socket.socket()
    listener.bind(("0.0.0.0", port))
    listener.listen()
    print("preload_peer: accepting", flush=True)
    listener.accept()
    print("preload_peer: accept returned a connection", flush=True)
    return 1


def line(addr, port):
    with socket.create_connection((addr, port), timeout=10) as c:
        c.sendall(b"hello\n")
        got = c.makefile("rb").readline()
    print(f"preload_peer: answer {got!r}", flush=True)
    return 0 if got == b"echo hello\n" else 1


def fork_share(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(64)
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            while True:
                c, _ = listener.accept()
                c.sendall(b"pid %d\n" % os.getpid())
                c.close()
        kids.append(pid)
    listener.close()  # the children hold it: it stays open
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    print("preload_peer: children serving", flush=True)
    signal.sigwait([signal.SIGTERM])
    for k in kids:
        os.kill(k, signal.SIGTERM)
    for k in kids:
        os.waitpid(k, 0)
    return 0


def fork_kill(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(8)
    print("preload_peer: accepting", flush=True)
    a, _ = listener.accept()
    pid = os.fork()
    if pid == 0:
        a.close()
        b, _ = listener.accept()
        print(f"preload_peer: child holds B {os.getpid()}", flush=True)
        b.recv(100)  # blocks (napping, the lock released) until killed
        os._exit(3)
    while True:
        d = a.recv(100)
        if not d:
            break
        a.sendall(d)
    _, status = os.waitpid(pid, 0)
    print(f"preload_peer: A closed by its peer; child status {status}", flush=True)
    return 0


def who(addr, port, n):
    seen = set()
    for _ in range(n):
        with socket.create_connection((addr, port), timeout=5) as c:
            seen.add(c.makefile("rb").readline())
    print(f"preload_peer: {n} answered by {len(seen)} processes", flush=True)
    return 0 if len(seen) == 2 else 1


def family_client(addr, port):
    a = socket.create_connection((addr, port), timeout=5)
    a.sendall(b"one")
    if a.recv(100) != b"one":
        print("preload_peer: no echo on A", flush=True)
        return 1
    b = socket.create_connection((addr, port), timeout=5)
    done = threading.Event()

    def drain():
        try:
            while b.recv(65536):
                pass
        except OSError:
            pass  # a reset ends it as well as end of stream
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    print("preload_peer: A and B connected", flush=True)
    if sys.stdin.readline().strip() != "KILLED":
        return 1
    ended = done.wait(3)
    a.sendall(b"two")
    echo = a.recv(100)
    a.close()
    print(f"preload_peer: B ended {ended}, A echoed {echo!r}", flush=True)
    return 0 if ended and echo == b"two" else 1


def prefork_client(addr, port, n, conc):
    """n connections, conc at a time, to tests/preload/prefork.c: each
    sends its number and checks the answer byte by byte."""
    bad = []
    pids = set()
    lock = threading.Lock()
    nxt = [0]

    def expect(k):
        body = bytes(ord("a") + (k * 7 + i * 13) % 26 for i in range(8000 + k % 4000))
        return body

    def worker():
        while True:
            with lock:
                k = nxt[0]
                if k >= n:
                    return
                nxt[0] += 1
            try:
                with socket.create_connection((addr, port), timeout=10) as c:
                    c.sendall(b"%d\n" % k)
                    data = b""
                    while True:
                        piece = c.recv(65536)
                        if not piece:
                            break
                        data += piece
                head, _, body = data.partition(b"\n")
                fields = head.split()
                ok = len(fields) == 2 and fields[0] == b"%d" % k and body == expect(k)
                with lock:
                    if ok:
                        pids.add(fields[1])
                    else:
                        bad.append((k, head[:40], len(body)))
            except OSError as e:
                with lock:
                    bad.append((k, repr(e), 0))

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for b in bad[:10]:
        print(f"preload_peer: connection {b[0]}: answer {b[1]!r}, {b[2]} bytes of body", flush=True)
    print(f"preload_peer: {n - len(bad)} of {n} answered byte-exact by {len(pids)} processes", flush=True)
    return 0 if not bad else 1


def main(argv):
    if len(argv) == 6 and argv[1] == "prefork-client":
        return prefork_client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if len(argv) == 3 and argv[1] == "fork-share":
        return fork_share(int(argv[2]))
    if len(argv) == 3 and argv[1] == "fork-kill":
        return fork_kill(int(argv[2]))
    if len(argv) == 5 and argv[1] == "who":
        return who(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 4 and argv[1] == "family-client":
        return family_client(argv[2], int(argv[3]))
    if len(argv) == 3 and argv[1] == "asyncio-server":
        return asyncio.run(asyncio_serve(int(argv[2])))
    if len(argv) == 3 and argv[1] == "accept-sigterm":
        return accept_sigterm(int(argv[2]))
    if len(argv) == 4 and argv[1] == "line":
        return line(argv[2], int(argv[3]))
    if len(argv) == 3 and argv[1] == "fork-late":
        return fork_late(int(argv[2]))
    if len(argv) == 3 and argv[1] == "fork-early":
        return fork_early(int(argv[2]))
    if len(argv) == 3 and argv[1] == "epoll":
        return epoll(int(argv[2]))
    if len(argv) == 5 and argv[1] == "ping":
        return ping(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 3 and argv[1] == "halfclose-server":
        return halfclose_server(int(argv[2]))
    if len(argv) == 4 and argv[1] == "halfclose-server":
        return halfclose_server(int(argv[2]), float(argv[3]))
    if len(argv) == 5 and argv[1] == "halfclose-client":
        return halfclose_client(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 6 and argv[1] == "halfclose-client":
        return halfclose_client(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
