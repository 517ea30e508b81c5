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
Prints one line; exit 0 on success.
"""
import os
import select
import socket
import sys
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


def main(argv):
    if len(argv) == 3 and argv[1] == "fork-late":
        return fork_late(int(argv[2]))
    if len(argv) == 3 and argv[1] == "fork-early":
        return fork_early(int(argv[2]))
    if len(argv) == 3 and argv[1] == "epoll":
        return epoll(int(argv[2]))
    if len(argv) == 5 and argv[1] == "ping":
        return ping(argv[2], int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
