#!/usr/bin/env python3
"""tcp_peer.py - the Linux kernel's side of the TCP integration tests
(tests/integration/tcp_linux.sh), run inside the peer's network namespace.

  tcp_peer.py server PORT ROLE [options]   ROLE: --sink | --echo | --source BYTES | --hold
  tcp_peer.py client ADDR PORT MODE [options]
        MODE: --send BYTES | --recv BYTES | --rr N | --hold N
  tcp_peer.py flood IFACE DST_MAC DST_IP PORT SECONDS   SYN flood with scapy (random source ports)
  tcp_peer.py sniff IFACE PCAP SECONDS                  capture TCP frames into PCAP (scapy)
  tcp_peer.py fincheck PCAP PORT                        exit 0 if the two FINs on PORT crossed (simultaneous close)

options:
  --conns N          server: exit after N connections; client: N connections one after the other
  --size BYTES       --rr request size (default 1024)
  --expect BYTES     --sink/--recv: exactly that many bytes must arrive
  --linger0          close with SO_LINGER {1, 0} (an RST)
  --expect-reset     reading must end with ECONNRESET (not end of file)
  --close-after-ms MS  sleep MS before closing (server: after the first read)
  --pause-after BYTES --pause-ms MS   --send: pause once after BYTES (e.g. while a flood starts)
  --ping             --hold: one byte each way on every connection once all are up
  --hold-ms MS       --hold: how long to hold (default 1000)
  --seed N           bytes sent are random from this seed

Prints "tcp_peer: ..." lines: per connection bytes, SHA-256 and goodput each way (the
shell compares the hashes with tcp_tool's), and a summary. Exit 0 on success.
"""
import errno
import hashlib
import os
import random
import selectors
import socket
import struct
import sys
import time

CHUNK = 1 << 16


def say(msg):
    print(f"tcp_peer: {msg}", flush=True)


def mibs(n, secs):
    return n / (1 << 20) / secs if secs > 0 else 0.0


def parse(argv):
    o = {"role": None, "bytes": 0, "rr": 0, "hold": 0, "conns": 1, "size": 1024, "expect": None,
         "linger0": False, "expect_reset": False, "close_after_ms": 0, "pause_after": 0, "pause_ms": 0,
         "ping": False, "hold_ms": 1000, "seed": 1}
    i = 0
    while i < len(argv):
        a = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if a in ("--sink", "--echo"):
            o["role"] = a[2:]
        elif a == "--hold" and (nxt is None or nxt.startswith("--")):
            o["role"] = "hold"
        elif a in ("--source", "--send"):
            o["role"], o["bytes"] = "source", int(nxt)
            i += 1
        elif a == "--recv":
            o["role"], o["expect"] = "sink", (int(nxt) or None)
            i += 1
        elif a == "--rr":
            o["role"], o["rr"] = "rr", int(nxt)
            i += 1
        elif a == "--hold":
            o["role"], o["hold"] = "hold", int(nxt)
            i += 1
        elif a in ("--linger0", "--expect-reset", "--ping"):
            o[a[2:].replace("-", "_")] = True
        elif a in ("--conns", "--size", "--expect", "--close-after-ms", "--pause-after", "--pause-ms",
                   "--hold-ms", "--seed"):
            o[a[2:].replace("-", "_")] = int(nxt)
            i += 1
        else:
            raise SystemExit(f"tcp_peer: bad argument {a!r}\n{__doc__}")
        i += 1
    return o


def close(s, o):
    if o["linger0"]:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def sink(s, o, who):
    """Reads to end of stream; returns True if it went as asked."""
    h, n, t0 = hashlib.sha256(), 0, time.monotonic()
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
    except ConnectionResetError:
        dt = time.monotonic() - t0
        say(f"{who}: received {n} bytes sha256 {h.hexdigest()} in {dt:.3f} s ({mibs(n, dt):.1f} MiB/s), then reset")
        if o["expect_reset"]:
            say(f"{who}: connection reset by the peer, as expected")
            return True
        print(f"tcp_peer: {who}: connection reset", file=sys.stderr)
        return False
    dt = time.monotonic() - t0
    say(f"{who}: received {n} bytes sha256 {h.hexdigest()} in {dt:.3f} s ({mibs(n, dt):.1f} MiB/s)")
    ok = True
    if o["expect"] is not None and n != o["expect"]:
        print(f"tcp_peer: {who}: received {n} bytes, expected {o['expect']}", file=sys.stderr)
        ok = False
    if o["expect_reset"]:
        print(f"tcp_peer: {who}: end of stream where a reset was expected", file=sys.stderr)
        ok = False
    return ok


def source(s, o, who):
    rng = random.Random(o["seed"])
    h, n, t0, total = hashlib.sha256(), 0, time.monotonic(), o["bytes"]
    paused = o["pause_after"] == 0
    try:
        while n < total:
            k = min(CHUNK, total - n)
            b = rng.randbytes(k)
            h.update(b)
            s.sendall(b)
            n += k
            if not paused and n >= o["pause_after"]:
                say(f"{who}: pausing {o['pause_ms']} ms after {n} bytes")
                time.sleep(o["pause_ms"] / 1000)
                paused = True
    except (ConnectionResetError, BrokenPipeError) as e:
        print(f"tcp_peer: {who}: send failed after {n} bytes: {e}", file=sys.stderr)
        return False
    dt = time.monotonic() - t0
    say(f"{who}: sent {n} bytes sha256 {h.hexdigest()} in {dt:.3f} s ({mibs(n, dt):.1f} MiB/s)")
    return True


def echo(s, who, quiet):
    n = 0
    try:
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            s.sendall(b)
            n += len(b)
    except ConnectionResetError:
        print(f"tcp_peer: {who}: connection reset after {n} bytes", file=sys.stderr)
        return False
    if not quiet:
        say(f"{who}: echoed {n} bytes")
    return True


def rr(s, o, who):
    rng = random.Random(o["seed"])
    for i in range(o["rr"]):
        req = rng.randbytes(o["size"])
        s.sendall(req)
        got = b""
        while len(got) < len(req):
            b = s.recv(len(req) - len(got))
            if not b:
                print(f"tcp_peer: {who}: end of stream in exchange {i}", file=sys.stderr)
                return False
            got += b
        if got != req:
            print(f"tcp_peer: {who}: exchange {i}: reply differs", file=sys.stderr)
            return False
    return True


def serve_one(c, o, who):
    if o["role"] == "sink":
        ok = sink(c, o, who)
    elif o["role"] == "echo":
        ok = echo(c, who, o["conns"] > 10)
    elif o["role"] == "source":
        ok = source(c, o, who)
    else:
        ok = True
        if o["close_after_ms"] == 0:  # --hold: until the peer closes
            ok = sink(c, dict(o, expect=None), who)
    if o["close_after_ms"]:
        time.sleep(o["close_after_ms"] / 1000)
    close(c, o)
    return ok


def server(port, o):
    if o["role"] in ("echo", "hold") and o["conns"] > 1000:
        return server_many(port, o)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    say(f"listening on {port}")
    fails = 0
    for i in range(o["conns"]):
        c, peer = ls.accept()
        if not serve_one(c, o, f"conn {i} from {peer[0]}:{peer[1]}"):
            fails += 1
    say(f"served {o['conns']} connections, {fails} failed")
    return 1 if fails else 0


def server_many(port, o):
    """Echo (or hold) many connections at once, with one selector."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    say(f"listening on {port} (many)")
    accepted = closed = fails = peak = 0
    while closed < o["conns"]:
        for key, _ in sel.select(timeout=1.0):
            if key.fileobj is ls:
                while True:
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ)
                    accepted += 1
                    peak = max(peak, accepted - closed)
                continue
            c = key.fileobj
            try:
                b = c.recv(1 << 16)
            except ConnectionResetError:
                b, fails = b"", fails + 1
            if b:
                if o["role"] == "echo":
                    c.setblocking(True)
                    c.sendall(b)
                    c.setblocking(False)
                continue
            sel.unregister(c)
            c.close()
            closed += 1
    say(f"served {closed} connections ({peak} at once), {fails} failed")
    return 1 if fails else 0


def client(addr, port, o):
    if o["role"] == "hold":
        return client_hold(addr, port, o)
    fails = 0
    t0 = time.monotonic()
    for i in range(o["conns"]):
        who = f"conn {i}"
        try:
            s = socket.create_connection((addr, port), timeout=30)
            s.settimeout(60)
        except ConnectionResetError as e:
            # the peer's RST can arrive before connect() returns (Linux
            # then reports it there): what --expect-reset waits for
            if not o["expect_reset"]:
                print(f"tcp_peer: {who}: connect: {e}", file=sys.stderr)
                fails += 1
            else:
                print(f"tcp_peer: {who}: reset (already at connect), as expected", file=sys.stderr)
            continue
        except OSError as e:
            print(f"tcp_peer: {who}: connect: {e}", file=sys.stderr)
            fails += 1
            continue
        if o["role"] == "sink":
            ok = sink(s, o, who)
        elif o["role"] == "source":
            ok = source(s, o, who)
        elif o["role"] == "rr":
            ok = rr(s, o, who)
        else:
            ok = True
        if o["close_after_ms"]:
            time.sleep(o["close_after_ms"] / 1000)
        close(s, o)
        fails += not ok
    dt = time.monotonic() - t0
    say(f"{o['conns']} connections in {dt:.3f} s, {fails} failed")
    return 1 if fails else 0


def client_hold(addr, port, o):
    """Opens N connections at once (non-blocking, 256 connecting at most),
    optionally pings each, holds them, closes them."""
    n, socks, fails, t0 = o["hold"], [], 0, time.monotonic()
    sel = selectors.DefaultSelector()
    pending = 0
    i = 0
    while i < n or pending:
        while i < n and pending < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((addr, port))
            if rc not in (0, errno.EINPROGRESS):
                fails += 1
                s.close()
            else:
                sel.register(s, selectors.EVENT_WRITE)
                pending += 1
            i += 1
        events = sel.select(timeout=10)
        if not events:
            print("tcp_peer: connects stalled", file=sys.stderr)
            break
        for key, _ in events:
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fails += 1
                s.close()
            else:
                socks.append(s)
    say(f"{len(socks)} connections established at once ({fails} failed) in {time.monotonic() - t0:.3f} s")
    if o["ping"]:
        echoed = 0
        for s in socks:
            s.setblocking(True)
            s.settimeout(10)
            try:
                s.sendall(b"p")
                if s.recv(1) == b"p":
                    echoed += 1
            except OSError:
                pass
        say(f"{echoed} of {len(socks)} held connections echoed a byte")
        fails += len(socks) - echoed
    time.sleep(o["hold_ms"] / 1000)
    for s in socks:
        s.close()
    return 1 if fails or len(socks) < n else 0


def flood(iface, dst_mac, dst_ip, port, secs):
    from scapy.all import Ether, IP, TCP, conf, sendp  # pylint: disable=import-outside-toplevel
    conf.verb = 0
    rng = random.Random(7)
    src_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    # from our own address (the kernel answers the SYN-ACKs with RSTs) and from
    # unused addresses of the subnet (nobody answers: half-open connections pile up)
    srcs = ["10.0.0.1"] + [f"10.0.0.{k}" for k in range(100, 200)]
    frames = [Ether(src=src_mac, dst=dst_mac) / IP(src=rng.choice(srcs), dst=dst_ip) /
              TCP(sport=rng.randint(1024, 65535), dport=port, flags="S", seq=rng.getrandbits(32))
              for _ in range(2000)]
    raw = [bytes(f) for f in frames]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    say("SYNs going out")  # the caller waits for this line, not for a guessed start-up time
    sent, full, t0 = 0, 0, time.monotonic()
    while time.monotonic() - t0 < secs:
        for f in raw:
            try:
                s.send(f)
                sent += 1
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                full += 1  # the device queue is full (a receiver slower than us): skip a frame
    dt = time.monotonic() - t0
    say(f"flood: {sent} SYNs to {dst_ip}:{port} in {dt:.1f} s ({sent / dt:.0f}/s; {full} refused with ENOBUFS)")
    return 0


def sniff(iface, pcap, secs):
    from scapy.all import sniff as scapy_sniff, wrpcap  # pylint: disable=import-outside-toplevel
    # "sniffing" once the capture runs: the caller waits for it (scapy starts slowly)
    pkts = scapy_sniff(iface=iface, filter=None, timeout=secs, lfilter=lambda p: p.haslayer("TCP"),
                       started_callback=lambda: say("sniffing"))
    wrpcap(pcap, pkts)
    return 0


def fincheck(pcap, port):
    """The FINs crossed when neither FIN acknowledges the other one."""
    from scapy.all import IP, TCP, rdpcap  # pylint: disable=import-outside-toplevel
    fins = {}
    for p in rdpcap(pcap):
        if p.haslayer(TCP) and p[TCP].flags & 0x01 and port in (p[TCP].sport, p[TCP].dport):
            key = p[IP].src
            fins.setdefault(key, (p[TCP].seq, p[TCP].ack, p[TCP].flags & 0x10))
            print(f"tcp_peer: FIN {p[IP].src}:{p[TCP].sport} > {p[IP].dst}:{p[TCP].dport} "
                  f"seq {p[TCP].seq} ack {p[TCP].ack}")
    if len(fins) != 2:
        print(f"tcp_peer: fincheck: FINs from {sorted(fins)}, expected one from each side", file=sys.stderr)
        return 1
    (a, (aseq, aack, _)), (b, (bseq, back, _)) = fins.items()
    crossed = aack != (bseq + 1) % (1 << 32) and back != (aseq + 1) % (1 << 32)
    say(f"fincheck: FIN of {a} acks {aack}, FIN of {b} acks {back}: "
        f"{'crossed (simultaneous close)' if crossed else 'one after the other'}")
    return 0 if crossed else 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "server":
        return server(int(argv[2]), parse(argv[3:]))
    if len(argv) >= 5 and argv[1] == "client":
        return client(argv[2], int(argv[3]), parse(argv[4:]))
    if len(argv) == 7 and argv[1] == "flood":
        return flood(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6]))
    if len(argv) == 5 and argv[1] == "sniff":
        return sniff(argv[2], argv[3], float(argv[4]))
    if len(argv) == 4 and argv[1] == "fincheck":
        return fincheck(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
