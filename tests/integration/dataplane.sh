#!/usr/bin/env bash
# dataplane.sh BUILD_DIR - integration tests of the data plane against the
# Linux kernel: Sluice (tests/apps/udp_echo, native demi API, net_af_packet
# on a veth) and the kernel in a network namespace this script creates
# (scripts/net.sh with names of its own), plus two Sluice processes over
# net_memif. Needs root. Everything it creates (the namespace, the veth
# pair, the memif socket, processes) is removed on exit, even on failure.
# Prints "integration: N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
APP=$BUILD/tests/apps/udp_echo
PEER=tests/integration/udp_peer.py
ID=$$
export SLUICE_NET_NS=sld-ns-$ID SLUICE_NET_IF=sld$ID SLUICE_NET_PEER_IF=sldp$ID
export SLUICE_NET_PEER_ADDR=10.0.0.1/24 SLUICE_NET_VETH_QUEUES=2
# the device: net_af_xdp (an AF_XDP socket on the veth, the default), or
# SLUICE_TEST_PMD (net_af_packet0: the single-queue fallback)
export SLUICE_NET_DEVARGS="${SLUICE_TEST_PMD:-net_af_xdp0},iface=$SLUICE_NET_IF"
export SLUICE_NET_ADDR=10.0.0.2 SLUICE_NET_LINK_TIMEOUT_MS=10000
MEMIF_SOCK=/tmp/sluice-memif-$ID
LOG=$(mktemp -d /tmp/sluice-it.XXXXXX)
pids=()
made_default=0
passed=0
failed=0

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ./scripts/net.sh down >/dev/null 2>&1
    if [ "$made_default" = 1 ]; then
        env -u SLUICE_NET_NS -u SLUICE_NET_IF -u SLUICE_NET_PEER_IF -u SLUICE_NET_VETH_QUEUES ./scripts/net.sh down >/dev/null 2>&1
    fi
    rm -f "$MEMIF_SOCK"-*.sock
}
trap cleanup EXIT

result() { # name, status
    if [ "$2" = 0 ]; then
        echo "ok   - $1"
        passed=$((passed + 1))
    else
        echo "FAIL - $1 (logs in $LOG)"
        failed=$((failed + 1))
    fi
}

in_peer() { ip netns exec "$SLUICE_NET_NS" "$@"; }

# Starts a Sluice program in the background; waits for its first line.
start_sluice() { # log, args...
    local log=$1; shift
    "$APP" "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        [ -s "$log" ] && return 0
        sleep 0.1
    done
    return 1
}

. tests/integration/procs.sh

if ! ./scripts/net.sh up >"$LOG/net.log" 2>&1; then
    echo "FAIL - net.sh up"
    cat "$LOG/net.log"
    echo "integration: 0 passed, 1 failed"
    exit 1
fi
# The veth can have 2 queues (step 3d's engines); one is in use elsewhere,
# since a single engine on net_af_xdp reads only queue 0.
veth_queues() { # n
    ethtool -L "$SLUICE_NET_IF" rx "$1" tx "$1" && in_peer ethtool -L "$SLUICE_NET_PEER_IF" rx "$1" tx "$1"
}
veth_queues 1

# 1. Sluice serves: ping, ARP, a closed port, 10,000 datagrams from Linux.
N=10000
start_sluice "$LOG/server.log" server 7 0
server=${pids[-1]}
in_peer ping -c 20 -i 0.05 -W 2 10.0.0.2 >"$LOG/ping.log" 2>&1
grep -q ' 20 received' "$LOG/ping.log"
result "ping -c 20 10.0.0.2: 20/20 replies" $?
in_peer ip neigh show 10.0.0.2 >"$LOG/neigh.log"
grep -q lladdr "$LOG/neigh.log"
result "the kernel resolved Sluice's address by ARP" $?
in_peer python3 "$PEER" closed 10.0.0.2 9 >"$LOG/linux-closed.log" 2>&1
result "a datagram to a closed Sluice port yields ICMP port unreachable (ECONNREFUSED in Linux)" $?
in_peer python3 "$PEER" client 10.0.0.2 7 "$N" 1472 >"$LOG/linux-client.log" 2>&1
st=$?
stop_server "$server"
result "Linux -> Sluice echo: $N datagrams of 1..1472 bytes, byte-exact" $((st | $?))

# 2. Linux serves, Sluice sends (and resolves 10.0.0.1 by ARP itself).
# ip netns exec execs python3: $! is the server itself (a function in the
# background would be a subshell, and stopping it would orphan the server)
ip netns exec "$SLUICE_NET_NS" python3 "$PEER" echo 7 0 >"$LOG/linux-server.log" 2>&1 &
lserver=$!
pids+=($lserver)
wait_line "$LOG/linux-server.log" "echoing on" 20
timeout 120 "$APP" client 10.0.0.1 7 "$N" 1472 >"$LOG/sluice-client.log" 2>&1
st=$?
stop_server "$lserver"
result "Sluice -> Linux echo: $N datagrams of 1..1472 bytes, byte-exact" $((st | $?))
timeout 30 "$APP" closed 10.0.0.1 9 >"$LOG/sluice-closed.log" 2>&1
result "an ICMP port unreachable from Linux reaches the Sluice socket (ECONNREFUSED)" $?

# 2b. Datagrams larger than the MTU. On net_af_packet the kernel reassembles
# before Sluice sees them (DPDK's PMD uses PACKET_FANOUT with the defrag
# flag), so the ring frames and mbufs must hold a whole datagram; other
# devices (af_xdp) hand Sluice the fragments, which it reassembles. Sluice
# fragments its echoes and Linux reassembles them.
F=300
case "$SLUICE_NET_DEVARGS" in
net_af_packet*)
    SLUICE_MBUF_DATA_ROOM=12288 SLUICE_NET_DEVARGS="$SLUICE_NET_DEVARGS,framesz=12288,blocksz=12288,framecnt=256" \
        start_sluice "$LOG/frag-server.log" server 7 0 ;;
*) start_sluice "$LOG/frag-server.log" server 7 0 ;;
esac
fserver=${pids[-1]}
in_peer python3 "$PEER" client 10.0.0.2 7 "$F" 8000 >"$LOG/linux-frag-client.log" 2>&1
st=$?
stop_server "$fserver"
result "Linux <-> Sluice: $F datagrams of 1..8000 bytes (fragmented, reassembled), byte-exact" $((st | $?))

# 2c. Through the fault injector (configured by environment): 5 % loss each
# way.
L=2000
SLUICE_FAULT_RX_LOSS_PPM=50000 SLUICE_FAULT_TX_LOSS_PPM=50000 SLUICE_FAULT_SEED=7 \
    start_sluice "$LOG/lossy-server.log" server 7 0
lossy=${pids[-1]}
in_peer python3 "$PEER" client 10.0.0.2 7 "$L" 1472 >"$LOG/linux-lossy-client.log" 2>&1
st=$?
stop_server "$lossy" || st=1
grep -qE '\([1-9][0-9]* resent' "$LOG/linux-lossy-client.log"
result "5 % loss injected each way: $L datagrams still byte-exact, the losses seen and resent" $((st | $?))

# 3. Two Sluice processes over net_memif.
M=100000
SLUICE_NET_DEVARGS="net_memif0,role=server,socket=$MEMIF_SOCK-a.sock" SLUICE_NET_ADDR=10.1.0.1 \
    SLUICE_NET_LINK_TIMEOUT_MS=30000 start_sluice "$LOG/memif-server.log" server 7 0
mserver=${pids[-1]}
SLUICE_NET_DEVARGS="net_memif0,role=client,socket=$MEMIF_SOCK-a.sock" SLUICE_NET_ADDR=10.1.0.2 \
    SLUICE_NET_LINK_TIMEOUT_MS=30000 timeout 300 "$APP" client 10.1.0.1 7 "$M" 1472 >"$LOG/memif-client.log" 2>&1
st=$?
stop_server "$mserver"
result "Sluice <-> Sluice over net_memif: $M datagrams of 1..1472 bytes, byte-exact" $((st | $?))

# 3b. Over net_memif Sluice reassembles itself: datagrams of up to 8000 bytes
# are fragmented by one Sluice and reassembled by the other, both ways.
F2=2000
SLUICE_NET_DEVARGS="net_memif0,role=server,socket=$MEMIF_SOCK-b.sock" SLUICE_NET_ADDR=10.1.0.1 \
    SLUICE_NET_LINK_TIMEOUT_MS=30000 start_sluice "$LOG/memif-frag-server.log" server 7 0
mserver=${pids[-1]}
SLUICE_NET_DEVARGS="net_memif0,role=client,socket=$MEMIF_SOCK-b.sock" SLUICE_NET_ADDR=10.1.0.2 \
    SLUICE_NET_LINK_TIMEOUT_MS=30000 timeout 300 "$APP" client 10.1.0.1 7 "$F2" 8000 >"$LOG/memif-frag-client.log" 2>&1
st=$?
stop_server "$mserver"
result "Sluice <-> Sluice over net_memif: $F2 datagrams of 1..8000 bytes, fragmented and reassembled by Sluice, byte-exact" $((st | $?))

# 3c. One engine per thread (<sluice/engine.h>): two Sluice processes over
# net_memif with two queue pairs, each with two engines on two threads;
# 10,000 connections each echo 1 KiB, checked byte by byte. memif delivers
# on the queue the sender used, so client engine k talks to server engine
# k: each server engine must serve 35-65 % of the connections, and no
# segment may reach an engine that does not own its connection.
E=10000
ENG=$BUILD/tests/apps/tcp_engines
# (the server does not wait for the link: it listens before the client comes)
SLUICE_NET_DEVARGS="net_memif0,role=server,socket=$MEMIF_SOCK-c.sock" SLUICE_NET_ADDR=10.1.0.1 SLUICE_NET_QUEUES=2 \
    SLUICE_NET_LINK_TIMEOUT_MS=0 "$ENG" server 7 2 "$E" >"$LOG/engines-server.log" 2>&1 &
eserver=$!
pids+=($eserver)
wait_line "$LOG/engines-server.log" "tcp_engines: ready" 30
SLUICE_NET_DEVARGS="net_memif0,role=client,socket=$MEMIF_SOCK-c.sock" SLUICE_NET_ADDR=10.1.0.2 SLUICE_NET_QUEUES=2 \
    SLUICE_NET_LINK_TIMEOUT_MS=30000 SLUICE_TCP_MSL_MS=1000 timeout 300 "$ENG" client 10.1.0.1 7 2 "$E" 1024 \
    >"$LOG/engines-client.log" 2>&1
st=$?
timeout 60 tail --pid="$eserver" -f /dev/null
wait "$eserver"
st=$((st | $?))
shares_ok() { # server log: each engine 35-65 % of E; with "none", nothing steered
    awk -v e="$E" -v none="${2:-}" '/^tcp_engines: engine [0-9]+ conns/ { n++; if ($5 < 0.35 * e || $5 > 0.65 * e) bad = 1 }
                   /stat eng_steered_in/ { if (none != "" && $6 != 0) bad = 1 }
                   END { exit (n == 2 && !bad) ? 0 : 1 }' "$1"
}
shares_ok "$LOG/engines-server.log" none
result "two engines a side over net_memif with 2 queue pairs: $E connections echo 1 KiB byte-exact, each server engine 35-65 %" $((st | $?))

# 3d. Two engines on AF_XDP, one queue of the veth each (net_af_xdp0 and
# net_af_xdp1 on queues 0 and 1): the peer kernel's transmit hash picks the
# queue of every segment. As a server, each engine takes the flows the
# kernel sends its way (35-65 %); as a client, the kernel answers a SYN on
# whichever queue it likes, so about half of the segments reach the other
# engine and are handed over (eng_steered_in > 0), and no connection fails.
X=3000
veth_queues 2
XDP_ENV=(SLUICE_NET_DEVARGS="net_af_xdp0,iface=$SLUICE_NET_IF" SLUICE_NET_QUEUES=2)
env "${XDP_ENV[@]}" "$ENG" server 7 2 "$X" >"$LOG/xdp-engines-server.log" 2>&1 &
eserver=$!
pids+=($eserver)
wait_line "$LOG/xdp-engines-server.log" "tcp_engines: ready" 30
in_peer timeout 120 python3 tests/integration/tcp_peer.py client 10.0.0.2 7 --rr 1 --size 1024 --conns "$X" \
    >"$LOG/xdp-engines-peer.log" 2>&1
st=$?
timeout 60 tail --pid="$eserver" -f /dev/null
wait "$eserver"
st=$((st | $?))
E=$X shares_ok "$LOG/xdp-engines-server.log"
result "two engines on AF_XDP (a queue of the veth each): $X connections from Linux echo 1 KiB, each engine 35-65 %" $((st | $?))
in_peer timeout 120 python3 tests/integration/tcp_peer.py server 7 --echo --conns "$X" >"$LOG/xdp-peer-server.log" 2>&1 &
pserver=$!
pids+=($pserver)
wait_line "$LOG/xdp-peer-server.log" "listening" 20
env "${XDP_ENV[@]}" SLUICE_TCP_MSL_MS=1000 timeout 120 "$ENG" client 10.0.0.1 7 2 "$X" 1024 \
    >"$LOG/xdp-engines-client.log" 2>&1
st=$?
timeout 60 tail --pid="$pserver" -f /dev/null
wait "$pserver"
st=$((st | $?))
awk '/stat eng_steered_in/ { s += $6 } END { exit s > 0 ? 0 : 1 }' "$LOG/xdp-engines-client.log"
result "two engines on AF_XDP as clients of Linux: $X connections byte-exact, segments on the other engine's queue handed over" $((st | $?))
veth_queues 1

# 4. No configuration at all: the default topology of scripts/net.sh.
if env -u SLUICE_NET_NS -u SLUICE_NET_IF -u SLUICE_NET_PEER_IF -u SLUICE_NET_VETH_QUEUES ./scripts/net.sh status >/dev/null 2>&1; then
    made_default=0
else
    made_default=1
    env -u SLUICE_NET_NS -u SLUICE_NET_IF -u SLUICE_NET_PEER_IF -u SLUICE_NET_VETH_QUEUES ./scripts/net.sh up >"$LOG/net-default.log" 2>&1
fi
env $(env | grep -o '^SLUICE_[A-Z_]*' | sed 's/^/-u /') "$APP" server 7 0 >"$LOG/default-server.log" 2>&1 &
dserver=$!
pids+=($dserver)
wait_line "$LOG/default-server.log" "serving on port" 20
ip netns exec sluice-peer ping -c 3 -W 2 10.0.0.2 >"$LOG/default-ping.log" 2>&1
st=$?
ip netns exec sluice-peer python3 "$PEER" client 10.0.0.2 7 1 100 >>"$LOG/default-ping.log" 2>&1
stop_server "$dserver"
result "no configuration at all, after net.sh up: reachable from the peer at 10.0.0.2" $((st | $?))
if [ "$made_default" = 1 ]; then
    env -u SLUICE_NET_NS -u SLUICE_NET_IF -u SLUICE_NET_PEER_IF -u SLUICE_NET_VETH_QUEUES ./scripts/net.sh down >/dev/null 2>&1
    made_default=0
fi

grep -hE "udp_echo:|udp_peer:|packets transmitted" "$LOG"/*.log | sed 's/^/  /'
echo "integration: $passed passed, $failed failed"
[ "$failed" = 0 ] && rm -rf "$LOG"
[ "$failed" = 0 ]
