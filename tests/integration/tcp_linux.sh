#!/usr/bin/env bash
# tcp_linux.sh BUILD_DIR - TCP against the Linux kernel: Sluice
# (tests/apps/tcp_tool, native demi API, net_af_packet on a veth) and the
# kernel in a network namespace this script creates (scripts/net.sh with
# names of its own), each side as server and as client:
#
#   1. bulk: TCP_LINUX_MIB (100) MiB each way, SHA-256 equal, on a clean link,
#      then through Sluice's fault injector (1 % and 5 % loss, reordering,
#      duplication, both directions of the device); goodput and the
#      retransmission counters are printed;
#   2. 1,000 sequential short connections each way (1 KiB request, 1 KiB
#      echo, close), then nothing left in Linux but the TIME-WAITs of the
#      side that closed first;
#   3. 10,000 concurrent established connections each way, each echoing a
#      byte while all are open;
#   4. every close path: FIN from either side first, simultaneous FIN (the
#      FINs cross: checked in a capture), RST from Linux (SO_LINGER 0),
#      zero-linger close from Sluice, TIME_WAIT expiry (tcp.msl_ms short);
#      afterwards Linux has no connection stuck in FIN-WAIT-2, CLOSE-WAIT,
#      LAST-ACK, CLOSING or FIN-WAIT-1;
#   5. an established transfer finishes while a SYN flood (scapy, random
#      source ports, more 4-tuples than the listener's backlog of 256, so
#      SYN cookies answer) hits the same listener, and a new connection
#      gets in.
#
# Needs root, python3-scapy (/usr/bin/python3), iproute2 (ss). Everything it
# creates (the namespace, the veth pair, processes, by PID) is removed on
# exit, even on failure; eth0 and the default topology are never touched.
# tcpdump, when installed, records each non-bulk test (kept with the logs
# on failure). Prints one "ok"/"FAIL" line per check and
# "tcp_linux: N passed, N failed" last; exit 1 on any failure.
#
# Environment: TCP_LINUX_MIB (100) bytes of each bulk transfer, MiB;
# TCP_LINUX_FAULT_MIB (same) for the fault-injected ones; TCP_LINUX_CONNS
# (1000) sequential connections; TCP_LINUX_HOLD (10000) concurrent ones;
# TCP_LINUX_ONLY (a regular expression) runs only the checks whose name
# matches it; TCP_LINUX_KEEP=1 keeps the logs and captures of passing checks.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/procs.sh
BUILD=${1:-build}
TOOL=$BUILD/tests/apps/tcp_tool
PEER=tests/integration/tcp_peer.py
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ID=$$
export SLUICE_NET_NS=sltcp-ns-$ID SLUICE_NET_IF=slt$ID SLUICE_NET_PEER_IF=sltp$ID
export SLUICE_NET_PEER_ADDR=10.0.0.1/24
# the device: net_af_xdp (an AF_XDP socket on the veth, the default), or
# SLUICE_TEST_PMD (net_af_packet0: the single-queue fallback)
export SLUICE_NET_DEVARGS="${SLUICE_TEST_PMD:-net_af_xdp0},iface=$SLUICE_NET_IF"
export SLUICE_NET_ADDR=10.0.0.2 SLUICE_NET_LINK_TIMEOUT_MS=10000
MIB=${TCP_LINUX_MIB:-100}
FMIB=${TCP_LINUX_FAULT_MIB:-$MIB}
CONNS=${TCP_LINUX_CONNS:-1000}
HOLD=${TCP_LINUX_HOLD:-10000}
ONLY=${TCP_LINUX_ONLY:-}
LOG=$(mktemp -d /tmp/sluice-tcp.XXXXXX)
pids=()
passed=0
failed=0
port=20000
T0=$(date +%s)

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ./scripts/net.sh down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

result() { # name, status
    if [ "$2" = 0 ]; then
        echo "ok   - $1"
        passed=$((passed + 1))
    else
        echo "FAIL - $1 (logs in $LOG/$cur.*)"
        failed=$((failed + 1))
    fi
}

in_peer() { ip netns exec "$SLUICE_NET_NS" "$@"; }
# Commands, not functions, for background(): $! must be the PID of the
# process itself (ip netns exec and env exec what they run), so that the
# clean-up stops exactly what this script started.
IN_PEER=(ip netns exec "$SLUICE_NET_NS")
# The Linux side (tcp_peer.py), with room for 10,000 sockets: the soft
# limit of open files raised to the hard one (a container may forbid more).
LINUX=(ip netns exec "$SLUICE_NET_NS" bash -c 'ulimit -n "$(ulimit -Hn)"; exec "$@"' linux "$PY" "$PEER")

# Runs a command in the background, remembering its PID; the PID is in $bg.
background() { "$@" & bg=$!; pids+=("$bg"); }

# Should check $1 run (TCP_LINUX_ONLY)? Also picks a fresh port and log name.
want() { # name
    port=$((port + 1))
    cur=$(printf '%03d' "$port" | tail -c 3)-$(echo "$1" | tr -c 'a-zA-Z0-9\n' '-' | cut -c1-60)
    [ -z "$ONLY" ] || echo "$1" | grep -qE -- "$ONLY"
}

# Starts a capture of the test's frames in the namespace when tcpdump is
# installed (for the stack author: the segment trace of a failure).
trace_start() { # [snaplen count]
    trace=""
    command -v tcpdump >/dev/null || return 0
    background "${IN_PEER[@]}" tcpdump -i "$SLUICE_NET_PEER_IF" -nn -s "${1:-0}" -c "${2:-100000}" -w "$LOG/$cur.pcap" tcp 2>/dev/null
    trace=$bg
    sleep 0.3
}
trace_stop() { # status: the capture is kept (as text too) only on failure
    [ -n "$trace" ] || return 0
    sleep 0.2
    kill "$trace" 2>/dev/null
    wait "$trace" 2>/dev/null
    if [ "$1" = 0 ] && [ "${TCP_LINUX_KEEP:-0}" != 1 ]; then
        rm -f "$LOG/$cur.pcap"
    else
        tcpdump -nn -r "$LOG/$cur.pcap" >"$LOG/$cur.trace" 2>/dev/null
    fi
}

# The hash of "sent|received N bytes sha256 HEX" in a log (the first line
# with that verb and count).
sha_of() { # file sent|received bytes
    grep -oE "$2 $3 bytes sha256 [0-9a-f]{64}" "$1" | head -1 | awk '{print $5}'
}
same_bytes() { # file1 verb1 file2 verb2 bytes: both logs have that count, with the same hash
    local a b
    a=$(sha_of "$1" "$2" "$5")
    b=$(sha_of "$3" "$4" "$5")
    [ -n "$a" ] && [ "$a" = "$b" ]
}
goodput() { # file verb bytes
    grep -oE "$2 $3 bytes sha256 [0-9a-f]{64} in [0-9.]+ s \([0-9.]+ MiB/s\)" "$1" | head -1 |
        sed -E 's/.* in ([0-9.]+) s \(([0-9.]+) MiB\/s\)/\2 MiB\/s (\1 s)/'
}
counters() { # sluice log: the retransmission and fault counters, one line
    grep -E "stat (tcp_retransmits|tcp_fast_retransmits|tcp_rto_expiries|tcp_tlp_probes|tcp_lost_retransmits|tcp_loss_by_time|tcp_tlp_repairs|tcp_syncookies_sent|tcp_syncookies_ok|fault_[a-z]+) " "$1" |
        awk '{printf "%s=%s ", $3, $4}'
}

# Linux's TCP sockets on port (either end) in state (an ss state name).
linux_count() { # port state
    in_peer ss -tanH state "$2" "( sport = :$1 or dport = :$1 )" 2>/dev/null | wc -l
}
# Waits (5 s) until Linux has nothing on port but LISTEN and TIME-WAIT;
# prints what is left otherwise.
linux_settled() { # port
    local left
    for _ in $(seq 50); do
        left=$(in_peer ss -tanH "( sport = :$1 or dport = :$1 )" | awk '$1 != "LISTEN" && $1 != "TIME-WAIT"')
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "tcp_linux: Linux still has on port $1:" >&2
    echo "$left" >&2
    return 1
}
# Linux settled on port, with exactly n TIME-WAITs there.
linux_left() { # port n_time_wait
    local tw
    linux_settled "$1" || return 1
    tw=$(linux_count "$1" time-wait)
    [ "$tw" = "$2" ] && return 0
    echo "tcp_linux: Linux has $tw TIME-WAIT on port $1, expected $2" >&2
    return 1
}

# A Sluice server and a Linux client; st = 0 when both succeeded.
# sluice_server "fault env" "sluice args" "linux args" seconds
sluice_server() {
    local envs=$1 sargs=$2 largs=$3 t=$4 server
    background env $envs "$TOOL" server "$port" $sargs >"$LOG/$cur.sluice" 2>&1
    server=$bg
    if ! wait_line "$LOG/$cur.sluice" "listening" 20; then
        st=1
        kill "$server" 2>/dev/null
        return
    fi
    timeout "$t" "${LINUX[@]}" client 10.0.0.2 "$port" $largs >"$LOG/$cur.linux" 2>&1
    st=$?
    wait_pid "$server" "$t"
    st=$((st | $?))
}

# A Linux server and a Sluice client; st = 0 when both succeeded.
# linux_server "fault env" "sluice args" "linux args" seconds
linux_server() {
    local envs=$1 sargs=$2 largs=$3 t=$4 server
    background "${LINUX[@]}" server "$port" $largs >"$LOG/$cur.linux" 2>&1
    server=$bg
    if ! wait_line "$LOG/$cur.linux" "listening" 20; then
        st=1
        kill "$server" 2>/dev/null
        return
    fi
    timeout "$t" env $envs "$TOOL" client 10.0.0.1 "$port" $sargs >"$LOG/$cur.sluice" 2>&1
    st=$?
    wait_pid "$server" "$t"
    st=$((st | $?))
}

if [ ! -x "$TOOL" ]; then
    echo "FAIL - $TOOL is not built"
    echo "tcp_linux: 0 passed, 1 failed"
    exit 1
fi
if ! ./scripts/net.sh up >"$LOG/net.log" 2>&1; then
    echo "FAIL - net.sh up"
    cat "$LOG/net.log"
    echo "tcp_linux: 0 passed, 1 failed"
    exit 1
fi
SLUICE_MAC=$(cat "/sys/class/net/$SLUICE_NET_IF/address")

# ---- 1. bulk transfers ----

# bulk NAME DIRECTION SERVER "FAULT ENV" MIB SECONDS
#   DIRECTION s2l (Sluice sends) or l2s; SERVER sluice or linux
bulk() {
    local name=$1 dir=$2 side=$3 envs=$4 mib=$5 t=$6 bytes sv lv
    want "$name" || return 0
    bytes=$((mib * 1024 * 1024))
    trace_start 96 300000
    if [ "$dir" = s2l ]; then
        sv=sent lv=received
        if [ "$side" = sluice ]; then
            sluice_server "$envs" "--source $bytes --conns 1" "--recv $bytes" "$t"
        else
            linux_server "$envs" "--send $bytes" "--sink --expect $bytes --conns 1" "$t"
        fi
    else
        sv=received lv=sent
        if [ "$side" = sluice ]; then
            sluice_server "$envs" "--sink --conns 1" "--send $bytes" "$t"
        else
            linux_server "$envs" "--recv $bytes" "--source $bytes --conns 1" "$t"
        fi
    fi
    same_bytes "$LOG/$cur.sluice" "$sv" "$LOG/$cur.linux" "$lv" "$bytes"
    st=$((st | $?))
    linux_settled "$port" 2>>"$LOG/$cur.linux"
    st=$((st | $?))
    trace_stop "$st"
    result "$name: $mib MiB, SHA-256 equal [$(goodput "$LOG/$cur.sluice" "$sv" "$bytes")] $(counters "$LOG/$cur.sluice")" "$st"
}

LOSS1="SLUICE_FAULT_RX_LOSS_PPM=10000 SLUICE_FAULT_TX_LOSS_PPM=10000 SLUICE_FAULT_SEED=11"
LOSS5="SLUICE_FAULT_RX_LOSS_PPM=50000 SLUICE_FAULT_TX_LOSS_PPM=50000 SLUICE_FAULT_SEED=12"
REORDER="SLUICE_FAULT_RX_REORDER_PPM=20000 SLUICE_FAULT_TX_REORDER_PPM=20000 SLUICE_FAULT_SEED=13"
DUP="SLUICE_FAULT_RX_DUPLICATE_PPM=20000 SLUICE_FAULT_TX_DUPLICATE_PPM=20000 SLUICE_FAULT_SEED=14"

bulk "bulk Sluice client -> Linux server, clean" s2l linux "" "$MIB" 120
bulk "bulk Linux client -> Sluice server, clean" l2s sluice "" "$MIB" 120
bulk "bulk Sluice server -> Linux client, clean" s2l sluice "" "$MIB" 120
bulk "bulk Linux server -> Sluice client, clean" l2s linux "" "$MIB" 120
bulk "bulk Sluice client -> Linux server, 1 % loss each way" s2l linux "$LOSS1" "$FMIB" 240
bulk "bulk Linux client -> Sluice server, 1 % loss each way" l2s sluice "$LOSS1" "$FMIB" 240
bulk "bulk Sluice client -> Linux server, 5 % loss each way" s2l linux "$LOSS5" "$FMIB" 300
bulk "bulk Linux client -> Sluice server, 5 % loss each way" l2s sluice "$LOSS5" "$FMIB" 300
bulk "bulk Sluice server -> Linux client, 2 % reordering each way" s2l sluice "$REORDER" "$FMIB" 240
bulk "bulk Linux server -> Sluice client, 2 % reordering each way" l2s linux "$REORDER" "$FMIB" 240
bulk "bulk Sluice client -> Linux server, 2 % duplication each way" s2l linux "$DUP" "$FMIB" 240
bulk "bulk Linux client -> Sluice server, 2 % duplication each way" l2s sluice "$DUP" "$FMIB" 240

# ---- 2. sequential short connections ----

if want "$CONNS sequential connections Sluice client -> Linux echo server (1 KiB each way), Sluice closes first"; then
    linux_server "" "--rr 1 --size 1024 --conns $CONNS --quiet" "--echo --conns $CONNS" 180
    grep -q "tcp_tool: $CONNS connections, 0 failed" "$LOG/$cur.sluice"
    st=$((st | $?))
    linux_left "$port" 0 2>>"$LOG/$cur.linux" # Linux closed second: no TIME-WAIT, nothing stuck
    st=$((st | $?))
    result "$CONNS sequential connections Sluice client -> Linux echo server (1 KiB each way), none left in Linux" "$st"
fi
if want "$CONNS sequential connections Linux client -> Sluice echo server (1 KiB each way), Linux closes first"; then
    sluice_server "" "--echo --conns $CONNS --quiet" "--rr 1 --size 1024 --conns $CONNS" 180
    grep -q "tcp_tool: $CONNS connections, 0 failed" "$LOG/$cur.sluice"
    st=$((st | $?))
    linux_left "$port" "$CONNS" 2>>"$LOG/$cur.linux" # exactly the TIME-WAITs of the closing side
    st=$((st | $?))
    result "$CONNS sequential connections Linux client -> Sluice echo server, Linux has $CONNS TIME-WAIT and nothing else" "$st"
fi

# ---- 3. concurrent connections ----

# established connections on port seen from Linux, sampled while held
held_count() { in_peer ss -tanH state established "( sport = :$port or dport = :$port )" | wc -l; }

if want "$HOLD concurrent connections Linux -> Sluice"; then
    background env "$TOOL" server "$port" --echo --conns "$HOLD" --quiet >"$LOG/$cur.sluice" 2>&1
    server=$bg
    st=1
    if wait_line "$LOG/$cur.sluice" listening 20; then
        background "${LINUX[@]}" client 10.0.0.2 "$port" --hold "$HOLD" --ping --hold-ms 3000 >"$LOG/$cur.linux" 2>&1
        client=$bg
        wait_line "$LOG/$cur.linux" "held connections echoed" 120
        n=$(held_count)
        wait_pid "$client" 120
        st=$?
        wait_pid "$server" 60
        st=$((st | $?))
        [ "$n" -ge "$HOLD" ] || { echo "tcp_linux: Linux saw $n established" >>"$LOG/$cur.linux"; st=1; }
        grep -q "$HOLD of $HOLD held connections echoed" "$LOG/$cur.linux" || st=1
        linux_settled "$port" 2>>"$LOG/$cur.linux" || st=1
    fi
    result "$HOLD concurrent connections Linux -> Sluice: ${n:-0} established at once, each echoed a byte" "$st"
fi
if want "$HOLD concurrent connections Sluice -> Linux"; then
    background "${LINUX[@]}" server "$port" --echo --conns "$HOLD" >"$LOG/$cur.linux" 2>&1
    server=$bg
    st=1
    if wait_line "$LOG/$cur.linux" listening 20; then
        # --linger-ms: 10,000 FINs at once overflow the af_packet rings; the
        # ones lost are sent again on the RTO (with backoff) while Sluice runs
        background "$TOOL" client 10.0.0.1 "$port" --hold "$HOLD" --ping --hold-ms 3000 --linger-ms 6000 --quiet >"$LOG/$cur.sluice" 2>&1
        client=$bg
        wait_line "$LOG/$cur.sluice" "held connections echoed" 120
        n=$(held_count)
        wait_pid "$client" 120
        st=$?
        wait_pid "$server" 60
        st=$((st | $?))
        [ "$n" -ge "$HOLD" ] || { echo "tcp_linux: Linux saw $n established" >>"$LOG/$cur.linux"; st=1; }
        grep -q "$HOLD of $HOLD held connections echoed" "$LOG/$cur.sluice" || st=1
        linux_settled "$port" 2>>"$LOG/$cur.linux" || st=1
    fi
    result "$HOLD concurrent connections Sluice -> Linux: ${n:-0} established at once, each echoed a byte" "$st"
fi

# ---- 4. close paths ----

# close_path NAME "linux TIME-WAITs expected" runner...
close_check() { # name n_time_wait
    linux_left "$port" "$2" 2>>"$LOG/$cur.linux"
    st=$((st | $?))
    trace_stop "$st"
    result "$1" "$st"
}

N="close: FIN from Sluice first (Sluice client), Linux closes second: no TIME-WAIT or LAST-ACK left in Linux"
if want "$N"; then
    trace_start
    linux_server "" "--send 1024" "--sink --expect 1024 --conns 1" 30
    close_check "$N" 0
fi
N="close: FIN from Sluice first (Sluice server), Linux closes second: nothing left in Linux"
if want "$N"; then
    trace_start
    sluice_server "" "--source 1024 --conns 1" "--recv 1024" 30
    close_check "$N" 0
fi
N="close: FIN from Linux first (Linux server): Linux in TIME-WAIT, no FIN-WAIT-2 (Sluice sent its FIN)"
if want "$N"; then
    trace_start
    linux_server "" "--recv 1024" "--source 1024 --conns 1" 30
    close_check "$N" 1
fi
N="close: FIN from Linux first (Linux client): Linux in TIME-WAIT, nothing else"
if want "$N"; then
    trace_start
    sluice_server "" "--sink --conns 1" "--send 1024" 30
    close_check "$N" 1
fi
N="close: simultaneous FIN (the FINs cross; Sluice's receive path delayed 200 ms): both in TIME-WAIT, nothing stuck"
if want "$N"; then
    trace=""
    background "${IN_PEER[@]}" "$PY" "$PEER" sniff "$SLUICE_NET_PEER_IF" "$LOG/$cur.pcap" 6 >"$LOG/$cur.sniff" 2>&1
    sniffer=$bg
    wait_line "$LOG/$cur.sniff" sniffing 30
    linux_server "SLUICE_FAULT_RX_DELAY_US=200000" "--hold 1 --hold-ms 400 --linger-ms 1500" \
        "--hold --close-after-ms 300 --conns 1" 30
    wait_pid "$sniffer" 15
    in_peer "$PY" "$PEER" fincheck "$LOG/$cur.pcap" "$port" >>"$LOG/$cur.linux" 2>&1
    st=$((st | $?))
    close_check "$N" 1
    [ "$st" = 0 ] && rm -f "$LOG/$cur.pcap"
fi
N="close: RST from Linux (server closes with SO_LINGER 0): the Sluice pop fails ECONNRESET"
if want "$N"; then
    trace_start
    linux_server "" "--recv 0 --expect-reset" "--hold --close-after-ms 200 --linger0 --conns 1" 30
    close_check "$N" 0
fi
N="close: RST from Linux (client closes with SO_LINGER 0 after 1 KiB): the Sluice pop fails ECONNRESET"
if want "$N"; then
    trace_start
    sluice_server "" "--sink --expect-reset --conns 1" "--send 1024 --close-after-ms 200 --linger0" 30
    close_check "$N" 0
fi
N="close: zero-linger close from Sluice (client, after 1 KiB acknowledged): Linux reads ECONNRESET"
if want "$N"; then
    trace_start
    linux_server "" "--send 1024 --linger0" "--sink --expect-reset --conns 1" 30
    close_check "$N" 0
fi
N="close: zero-linger close from Sluice (server, after 1 KiB acknowledged): Linux reads ECONNRESET"
if want "$N"; then
    trace_start
    sluice_server "" "--source 1024 --linger0 --conns 1" "--recv 0 --expect-reset" 30
    close_check "$N" 0
fi
N="close: TIME_WAIT expiry (tcp.msl_ms 250): the 4-tuple is refused at once and reconnects after 2 MSL"
if want "$N"; then
    trace_start
    linux_server "SLUICE_TCP_MSL_MS=250" "--timewait 250 --size 1024" "--sink --conns 2" 30
    close_check "$N" 0
fi

# ---- 5. SYN flood ----

N="SYN flood on the listener (scapy, random source ports, backlog 256): SYN cookies answer, an established 32 MiB transfer finishes, SHA-256 equal"
if want "$N"; then
    FLOOD_SECS=8
    bytes=$((32 * 1024 * 1024))
    # a backlog below the flood's ~2000 spoofed 4-tuples, so that the SYN
    # queue fills and SYN cookies answer (RFC 4987)
    background env SLUICE_TCP_BACKLOG_MAX=256 "$TOOL" server "$port" --sink --conns 2 >"$LOG/$cur.sluice" 2>&1
    server=$bg
    st=1
    if wait_line "$LOG/$cur.sluice" listening 20; then
        background "${LINUX[@]}" client 10.0.0.2 "$port" --send "$bytes" --pause-after 1048576 --pause-ms 3000 >"$LOG/$cur.linux" 2>&1
        client=$bg
        wait_line "$LOG/$cur.linux" pausing 20
        background "${IN_PEER[@]}" "$PY" "$PEER" flood "$SLUICE_NET_PEER_IF" "$SLUICE_MAC" 10.0.0.2 "$port" "$FLOOD_SECS" \
            >"$LOG/$cur.flood" 2>&1
        flooder=$bg
        wait_line "$LOG/$cur.flood" "SYNs going out" 30
        sleep 0.5 # the SYN queue fills
        # a new connection while the flood runs (SYN cookies, or room in the SYN queue)
        timeout 30 ip netns exec "$SLUICE_NET_NS" "$PY" "$PEER" client 10.0.0.2 "$port" --send 1024 \
            >"$LOG/$cur.linux-new" 2>&1
        newst=$?
        wait_pid "$client" 120
        st=$?
        flood_running=0
        kill -0 "$flooder" 2>/dev/null && flood_running=1
        wait_pid "$flooder" 30
        wait_pid "$server" 30
        st=$((st | $?))
        same_bytes "$LOG/$cur.sluice" received "$LOG/$cur.linux" sent "$bytes"
        st=$((st | $?))
        cookies=$(grep -oE "stat tcp_syncookies_sent [0-9]+" "$LOG/$cur.sluice" | awk '{print $3}')
        [ "${cookies:-0}" -gt 0 ] || { echo "tcp_linux: no SYN cookie was sent" >>"$LOG/$cur.linux"; st=1; }
        # the transfer must finish while the flood still runs, or it was
        # not tested under the flood at all
        [ "$flood_running" = 1 ] || { echo "tcp_linux: the transfer outlived the flood" >>"$LOG/$cur.linux"; st=1; }
        result "SYN flood: a new connection is accepted while the flood runs" "$newst"
    fi
    result "$N [$(goodput "$LOG/$cur.sluice" received "$bytes"); $(grep -o 'flood: .*' "$LOG/$cur.flood" 2>/dev/null)] $(counters "$LOG/$cur.sluice")" "$st"
fi

echo "tcp_linux: summary of the logs ($LOG):"
grep -hE "tcp_tool: [0-9]+ connections|tcp_peer: .*(connections|flood)" "$LOG"/*.sluice "$LOG"/*.linux "$LOG"/*.flood 2>/dev/null |
    sort | uniq -c | sort -rn | head -20 | sed 's/^/  /'
echo "tcp_linux: $passed passed, $failed failed in $(($(date +%s) - T0)) s"
[ "$failed" = 0 ] && [ "${TCP_LINUX_KEEP:-0}" != 1 ] && rm -rf "$LOG"
[ "$failed" = 0 ]
