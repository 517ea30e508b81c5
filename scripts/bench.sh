#!/usr/bin/env bash
# bench.sh [--quick] [--out DIR] - Sluice against the Linux kernel and the
# wire's floor, side by side in one run on this machine (issue 6).
#
#   Sluice: both ends on Sluice, two processes joined by net_memif
#           (10.78.0.1 server, 10.78.0.2 client), unmodified programs under
#           build-bench/preload/sluice-run, native demi programs as they are;
#   kernel: both ends on Linux, two network namespaces joined by a veth pair
#           (10.77.0.1 server, 10.77.0.2 client), the same binaries without
#           the interposer;
#   raw:    bench/raw_pingpong over a net_memif pair, DPDK and no stack.
#
# Scenarios: sockperf ping-pong RTT (64 B, 1 KiB, 16 KiB; p50/p99/p99.9),
# the native demi echo pair (tests/apps/tcp_tool --rr: mean RTT), the raw
# floor, iperf3 one and four streams at MTU 1500 and 9000, short
# connections per second (bench/sock_bench), redis-benchmark GET/SET at
# -c 1, -c 50, -c 50 -P 16, the server's CPU seconds per million requests,
# the idle CPU of a listening redis-server, redis GET -c 1 with 5,000 idle
# connections held against none (C10K), and memory per idle connection
# (10,000 connections). docs/BENCHMARKS.md says what each number means.
#
# Results: a CSV (scenario,metric,stack,value,unit,status,note,
# others_busy_pct: how busy other jobs kept the CPUs just before), a Markdown
# table with each ratio next to its target, and PNG plots, written to
#   --quick: build-bench/bench-quick/ (about 60 s of measuring)
#   full:    docs/ (bench-results.csv, bench-*.png and the section of
#            docs/BENCHMARKS.md between its bench markers); ~15 minutes
# --out DIR writes them to DIR instead. A scenario that fails is recorded as
# failed with the reason, never as a number.
#
# Needs root. Installs what is missing (scripts/setup.sh), builds into
# build-bench/. Everything it makes (namespaces bkS$$/bkC$$, veth
# bvS$$/bvC$$ and bvA$$/bvB$$, memif sockets /tmp/sluice-bench-$$-*.sock, processes) has
# this run's PID in its name and is removed on exit, even on failure; it
# stops only the processes it started, by PID.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/integration/procs.sh
ROOT=$PWD

QUICK=0
OUT=
while [ $# -gt 0 ]; do
    case $1 in
        --quick) QUICK=1; shift ;;
        --out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a directory" >&2; exit 2; }; OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: must run as root (namespaces, DPDK)" >&2; exit 1; }

B=$ROOT/build-bench
if [ -z "$OUT" ]; then
    if [ "$QUICK" = 1 ]; then OUT=$B/bench-quick; else OUT=$ROOT/docs; fi
fi

# ---- durations (seconds) and counts ----
if [ "$QUICK" = 1 ]; then
    ENGAPP_T=5; ENGAPP_N=100000
    LAT_SIZES="64 1024"; LAT_T=3; RAW_N=100000; RR_N=50000
    TPUT_T=3; TPUT_CASES="1:1500 4:1500 1:9000"; CRR_T=3; ENG_N=20000
    REDIS_N1=20000; REDIS_N50=50000; REDIS_NP=200000; IDLE_T=5; HOLD_N=10000; C10K_REQ=20000
else
    ENGAPP_T=10; ENGAPP_N=300000
    LAT_SIZES="64 1024 16384"; LAT_T=10; RAW_N=500000; RR_N=100000
    TPUT_T=10; TPUT_CASES="1:1500 4:1500 1:9000 4:9000"; CRR_T=10; ENG_N=100000
    REDIS_N1=100000; REDIS_N50=300000; REDIS_NP=2000000; IDLE_T=10; HOLD_N=10000; C10K_REQ=100000
fi
C10K_N=5000

ID=$$
NS_S=bkS$ID NS_C=bkC$ID IF_S=bvS$ID IF_C=bvC$ID IF_A=bvA$ID IF_B=bvB$ID IF_E=bvE$ID IF_F=bvF$ID
E_SRV=10.80.0.1 E_CLI=10.80.0.2
K_SRV=10.77.0.1 K_CLI=10.77.0.2 S_SRV=10.78.0.1 S_CLI=10.78.0.2 C_SRV=10.79.0.1 C_CLI=10.79.0.2
LOG=$(mktemp -d /tmp/sluice-bench.XXXXXX)
CSV=$LOG/results.csv
pids=()
sock_n=0
step=0
T0=$(date +%s)

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    ip link del dev "$IF_S" 2>/dev/null
    ip link del dev "$IF_A" 2>/dev/null
    ip link del dev "$IF_E" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    ip netns del "$NS_C" 2>/dev/null
    rm -f /tmp/sluice-bench-"$ID"-*.sock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '[bench %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

# ---- set up: packages, build ----
say "setup: packages and build (build-bench/)"
./scripts/setup.sh >"$LOG/setup.log" 2>&1 || { cat "$LOG/setup.log"; echo "bench.sh: setup failed" >&2; exit 1; }
if [ ! -f "$B/build.ninja" ]; then
    meson setup "$B" -Dtests=true >"$LOG/meson.log" 2>&1 || { tail -20 "$LOG/meson.log"; exit 1; }
fi
# only what the bench runs (not the unit tests)
ninja -C "$B" preload/libsluice-preload.so tests/apps/tcp_tool tests/apps/tcp_engines bench/raw_pingpong bench/sock_bench \
    >"$LOG/ninja.log" 2>&1 || { tail -30 "$LOG/ninja.log"; echo "bench.sh: build failed" >&2; exit 1; }
RUN=$B/preload/sluice-run
RAW=$B/bench/raw_pingpong
SOCKB=$B/bench/sock_bench
TCPT=$B/tests/apps/tcp_tool
ENGS=$B/tests/apps/tcp_engines
# Debian's python3 (with python3-matplotlib), not another one first in PATH
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for t in sockperf iperf3 redis-server redis-benchmark "$PY"; do
    command -v "$t" >/dev/null || { echo "bench.sh: $t not found after setup" >&2; exit 1; }
done

echo "scenario,metric,stack,value,unit,status,note,others_busy_pct" >"$CSV"
# row SCENARIO METRIC STACK VALUE UNIT [NOTE]: a number; fail ... REASON: a failure
# the last column: the % of the CPUs other jobs used just before the step
row() { printf '%s,%s,%s,%s,%s,ok,"%s",%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" "$BUSY" >>"$CSV"; }
fail() { # scenario metric stack unit reason
    local why=${5//\"/\'}
    printf '%s,%s,%s,,%s,failed,"%s",%s\n' "$1" "$2" "$3" "$4" "$why" "$BUSY" >>"$CSV"
    say "  FAILED: $1 $2 $3: $5"
}
# why LOG...: a failure's reason: the first "sluice: error" line of the
# logs, else the last meaningful line of the first one
why() {
    local r
    r=$(grep -h -m1 'sluice: error' "$@" 2>/dev/null | head -1)
    [ -n "$r" ] || r=$(grep -v '^\s*$' "$1" 2>/dev/null | grep -viE 'warning: no free hugepages|^[{}]' | tail -1)
    printf '%s' "$r" | cut -c1-240 | tr ',"' ";'"
}

# ---- the kernel's network: two namespaces and a veth ----
kernel_up() {
    ip netns add "$NS_S" && ip netns add "$NS_C" || return 1
    ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_C" netns "$NS_C" || return 1
    ip -n "$NS_S" addr add "$K_SRV/24" dev "$IF_S"
    ip -n "$NS_C" addr add "$K_CLI/24" dev "$IF_C"
    local ns
    for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
    ip -n "$NS_S" link set "$IF_S" up && ip -n "$NS_C" link set "$IF_C" up || return 1
    # short connections: a wide port range on the client (the server
    # closes first, so TIME-WAIT stays on the server)
    ip netns exec "$NS_C" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000" >/dev/null 2>&1
    ip netns exec "$NS_C" sysctl -q -w net.ipv4.tcp_tw_reuse=1 >/dev/null 2>&1
    for _ in $(seq 50); do
        ip netns exec "$NS_C" ping -c 1 -W 1 "$K_SRV" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
kernel_mtu() { ip -n "$NS_S" link set "$IF_S" mtu "$1" && ip -n "$NS_C" link set "$IF_C" mtu "$1"; }

# ---- process helpers ----
# srv_kernel NAME CMD...: a server in the server namespace; SRV = its PID
srv_kernel() {
    local name=$1; shift
    ip netns exec "$NS_S" "$@" >"$LOG/$name.srv.log" 2>&1 &
    SRV=$!; pids+=("$SRV")
}
# new memif socket for the next Sluice pair
new_sock() { sock_n=$((sock_n + 1)); SOCK=/tmp/sluice-bench-$ID-$sock_n.sock; rm -f "$SOCK"; }
# sluice_env ROLE ADDR: the environment of one end of the memif pair
sluice_env() {
    echo "SLUICE_NET_DEVARGS=net_memif0,role=$1,socket=$SOCK SLUICE_NET_ADDR=$2 SLUICE_NET_LINK_TIMEOUT_MS=20000 ${EXTRA_ENV:-}"
}
# srv_sluice NAME [--native] CMD...: a server on the memif server end (under
# sluice-run unless --native); SRV = its PID
srv_sluice() {
    local name=$1; shift
    local pre=("$RUN" --)
    if [ "$1" = --native ]; then pre=(); shift; fi
    # shellcheck disable=SC2046
    env $(sluice_env server "$S_SRV") "${pre[@]}" "$@" >"$LOG/$name.srv.log" 2>&1 &
    SRV=$!; pids+=("$SRV")
    # the memif server's (abstract) socket: a Sluice client started before
    # it exists fails at once ("the port did not start")
    for _ in $(seq 200); do
        grep -q "@$SOCK\$" /proc/net/unix 2>/dev/null && return 0
        kill -0 "$SRV" 2>/dev/null || return 0
        sleep 0.05
    done
}
# cli_kernel NAME SECONDS CMD...: a client in the client namespace, bounded
cli_kernel() {
    local name=$1 t=$2; shift 2
    ip netns exec "$NS_C" timeout -k 5 "$t" "$@" >"$LOG/$name.cli.log" 2>&1
}
# cli_sluice NAME SECONDS [--native] CMD...: a client on the memif client end
cli_sluice() {
    local name=$1 t=$2; shift 2
    local pre=("$RUN" --)
    if [ "$1" = --native ]; then pre=(); shift; fi
    # shellcheck disable=SC2046
    env $(sluice_env client "$S_CLI") timeout -k 5 "$t" "${pre[@]}" "$@" >"$LOG/$name.cli.log" 2>&1
}
# wait_log FILE PATTERN SECONDS: until PATTERN appears in FILE
wait_log() {
    local i
    for i in $(seq $(($3 * 20))); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        kill -0 "$SRV" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# wait_port NS|- ADDR PORT SECONDS: until a kernel TCP listener is there
wait_listen_kernel() {
    for _ in $(seq $(($3 * 20))); do
        ip netns exec "$NS_S" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    return 1
}
# cpu_ticks PID: utime+stime in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
HZ=$(getconf CLK_TCK)
# mem_kib PID: VmRSS + HugetlbPages in KiB
mem_kib() { awk '/^(VmRSS|HugetlbPages):/ {s += $2} END {print s + 0}' "/proc/$1/status" 2>/dev/null; }

# busy_pct: % of all CPUs busy over 0.3 s, taken between steps (none of
# our processes runs then): what other jobs take from this run
busy_pct() {
    local a b
    a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    sleep 0.3
    b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? (y[1] - x[1]) * 100 / t : 0)}'
}
BUSY=0
begin() {
    step=$((step + 1))
    BUSY=$(busy_pct)
    say "$step. $* [others busy: $BUSY % of the CPUs]"
}

if ! kernel_up >"$LOG/netns.log" 2>&1; then
    cat "$LOG/netns.log"
    echo "bench.sh: could not build the namespaces and veth" >&2
    exit 1
fi
say "network: kernel $K_SRV ($NS_S) <-> $K_CLI ($NS_C) over veth; Sluice $S_SRV <-> $S_CLI over net_memif"
say "results in $OUT (logs in $LOG)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at the start: $LOAD_START (Sluice's two polling processes want both cores)"

# ---- 1. latency: the raw floor ----
for size in $LAT_SIZES; do
    begin "raw floor: raw_pingpong $size B over net_memif"
    for try in 1 2; do # a memif pair that did not link up is tried once more
        new_sock
        "$RAW" server "$SOCK" --seconds $((LAT_T + 30)) >"$LOG/raw$size.srv.log" 2>&1 &
        SRV=$!; pids+=("$SRV")
        wait_log "$LOG/raw$size.srv.log" "port started" 10
        timeout -k 5 $((LAT_T + 40)) "$RAW" client "$SOCK" --size "$size" --count "$RAW_N" --seconds "$LAT_T" \
            --link-timeout-ms 10000 >"$LOG/raw$size.cli.log" 2>&1
        line=$(grep '^raw_pingpong: size=' "$LOG/raw$size.cli.log")
        [ -n "$line" ] && break
        stop_pid "$SRV" 3
        [ "$try" = 1 ] && say "  raw_pingpong: $(why "$LOG/raw$size.cli.log"); once more"
    done
    if [ -n "$line" ]; then
        for m in p50 p99 p999; do
            row "latency_$size" "${m}_us" raw "$(sed -E "s/.* ${m}_us=([0-9.]+).*/\1/" <<<"$line")" us "raw_pingpong"
        done
    else
        for m in p50 p99 p999; do fail "latency_$size" "${m}_us" raw us "$(why "$LOG/raw$size.cli.log" "$LOG/raw$size.srv.log")"; done
    fi
    stop_pid "$SRV" 3
done

# ---- 2. latency: sockperf ping-pong, kernel and Sluice ----
sockperf_rows() { # log size stack
    local p50 p99 p999
    p50=$(awk '/percentile 50.000 =/ {print $NF}' "$1")
    p99=$(awk '/percentile 99.000 =/ {print $NF}' "$1")
    p999=$(awk '/percentile 99.900 =/ {print $NF}' "$1")
    if [ -n "$p50" ] && [ -n "$p99" ] && [ -n "$p999" ]; then
        row "latency_$2" p50_us "$3" "$p50" us sockperf
        row "latency_$2" p99_us "$3" "$p99" us sockperf
        row "latency_$2" p999_us "$3" "$p999" us sockperf
    else
        local r; r=$(why "$1")
        for m in p50 p99 p999; do fail "latency_$2" "${m}_us" "$3" us "sockperf: ${r:-no result}"; done
    fi
}
begin "latency: sockperf ping-pong on the kernel ($LAT_SIZES B)"
srv_kernel sockperf-k sockperf server --tcp -i "$K_SRV" -p 11111
if wait_listen_kernel - 11111 10; then
    for size in $LAT_SIZES; do
        BUSY=$(busy_pct)
        cli_kernel "sockperf-k$size" $((LAT_T + 20)) sockperf ping-pong --tcp -i "$K_SRV" -p 11111 -m "$size" -t "$LAT_T"
        sockperf_rows "$LOG/sockperf-k$size.cli.log" "$size" kernel
    done
else
    for size in $LAT_SIZES; do sockperf_rows "$LOG/sockperf-k.srv.log" "$size" kernel; done
fi
stop_pid "$SRV" 3

begin "latency: sockperf ping-pong on Sluice, both ends under sluice-run ($LAT_SIZES B)"
new_sock
srv_sluice sockperf-s sockperf server --tcp -i "$S_SRV" -p 11111
sleep 1
for size in $LAT_SIZES; do
    BUSY=$(busy_pct) # (the idle sockperf server under sluice-run counts a little)
    cli_sluice "sockperf-s$size" $((LAT_T + 30)) sockperf ping-pong --tcp -i "$S_SRV" -p 11111 -m "$size" -t "$LAT_T"
    sockperf_rows "$LOG/sockperf-s$size.cli.log" "$size" sluice
done
stop_pid "$SRV" 3

# ---- 3. latency: the native demi echo pair (tests/apps/tcp_tool) ----
for size in $LAT_SIZES; do
    begin "latency: native demi echo pair, tcp_tool --rr $RR_N x $size B"
    new_sock
    srv_sluice "demi$size" --native "$TCPT" server 5001 --echo --conns 1 --quiet
    cli_sluice "demi$size" 120 --native "$TCPT" client "$S_SRV" 5001 --rr "$RR_N" --size "$size" --linger-ms 50
    secs=$(sed -nE 's/^tcp_tool: conn .*: received [0-9]+ bytes .* in ([0-9.]+) s .*/\1/p' "$LOG/demi$size.cli.log" | head -1)
    if [ -n "$secs" ]; then
        row "latency_$size" mean_us sluice-demi "$(awk -v s="$secs" -v n="$RR_N" 'BEGIN {printf "%.3f", s * 1e6 / n}')" us \
            "tcp_tool --rr: mean only"
    else
        fail "latency_$size" mean_us sluice-demi us "tcp_tool: $(why "$LOG/demi$size.cli.log")"
    fi
    stop_pid "$SRV" 3
done

# ---- 4. throughput: iperf3, one and four streams, MTU 1500 and 9000 ----
iperf_row() { # log scenario stack
    local g
    g=$("$PY" - "$1" <<'EOF' 2>/dev/null
import json, sys
try:
    # the JSON document, without lines DPDK may print around it
    t = open(sys.argv[1], errors="replace").read()
    d = json.loads(t[t.index("{"):t.rindex("}") + 1])
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    pass
EOF
)
    if [ -n "$g" ]; then
        row "$2" gbps "$3" "$g" Gbit/s iperf3
    else
        local r
        r=$("$PY" -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t[t.index("{"):t.rindex("}")+1]).get("error",""))' "$1" 2>/dev/null)
        fail "$2" gbps "$3" Gbit/s "$(why "$4" "$1") (iperf3: ${r:-$(why "$1")})"
    fi
}
for c in $TPUT_CASES; do
    streams=${c%%:*} mtu=${c##*:}
    sc=tput_${streams}x_mtu$mtu
    begin "throughput: iperf3 -P $streams at MTU $mtu, kernel"
    kernel_mtu "$mtu"
    srv_kernel "$sc-k" iperf3 -s -1 -B "$K_SRV"
    wait_listen_kernel - 5201 10
    cli_kernel "$sc-k" $((TPUT_T + 20)) iperf3 -c "$K_SRV" -t "$TPUT_T" -P "$streams" -J
    iperf_row "$LOG/$sc-k.cli.log" "$sc" kernel "$LOG/$sc-k.srv.log"
    stop_pid "$SRV" 3
    begin "throughput: iperf3 -P $streams at MTU $mtu, Sluice (both under sluice-run)"
    new_sock
    EXTRA_ENV=
    [ "$mtu" != 1500 ] && EXTRA_ENV="SLUICE_NET_MTU=$mtu SLUICE_MBUF_DATA_ROOM=9216"
    srv_sluice "$sc-s" iperf3 -s -1 -B "$S_SRV"
    sleep 1
    cli_sluice "$sc-s" $((TPUT_T + 30)) iperf3 -c "$S_SRV" -t "$TPUT_T" -P "$streams" -J
    iperf_row "$LOG/$sc-s.cli.log" "$sc" sluice "$LOG/$sc-s.srv.log"
    EXTRA_ENV=
    stop_pid "$SRV" 3
done
kernel_mtu 1500

# ---- 5. connection rate: sock_bench crr (same binary both ways) ----
crr_row() { # log stack
    local r
    r=$(sed -nE 's/^sock_bench: crr conns=.* rate=([0-9.]+) per_s failed=([0-9]+)$/\1 \2/p' "$1")
    if [ -n "$r" ] && [ "${r#* }" -le 100 ]; then
        row crr conns_per_s "$2" "${r% *}" conn/s "sock_bench crr; failed ${r#* }"
    else
        fail crr conns_per_s "$2" conn/s "sock_bench: $(grep -m1 'sock_bench: connection' "$1" | tr ',' ';') $(why "$1" "$3")"
    fi
}
begin "connection rate: connect, 64 B, 64 B, close for ${CRR_T} s, kernel"
srv_kernel crr-k "$SOCKB" server "$K_SRV" 7000 --seconds $((CRR_T + 30))
wait_listen_kernel - 7000 10
cli_kernel crr-k $((CRR_T + 20)) "$SOCKB" crr "$K_SRV" 7000 --seconds "$CRR_T"
crr_row "$LOG/crr-k.cli.log" kernel "$LOG/crr-k.srv.log"
stop_pid "$SRV" 3
begin "connection rate: connect, 64 B, 64 B, close for ${CRR_T} s, Sluice (both under sluice-run)"
new_sock
# no wait for "listening": a Sluice server's network comes up with its
# client's (the memif link); the client retries its first connect
srv_sluice crr-s "$SOCKB" server "$S_SRV" 7000 --seconds $((CRR_T + 60))
cli_sluice crr-s $((CRR_T + 30)) "$SOCKB" crr "$S_SRV" 7000 --seconds "$CRR_T"
crr_row "$LOG/crr-s.cli.log" sluice "$LOG/crr-s.srv.log"
stop_pid "$SRV" 3

# ---- 5b. engines: connection rate, native, 1 vs 2 engines a side ----
# tests/apps/tcp_engines over a memif with as many queue pairs as engines:
# ENG_N connections, 1 KiB echoed on each, 16 at once per engine (one
# client address: TIME-WAIT cut to 200 ms, MSL 100 ms, so that the
# ephemeral ports last, as the kernel's crr uses a wide port range); the
# rate from the moment every engine is up, and the CPU both processes
# spent per million connections. This machine's 2 cores are shared by
# client and server (4 polling threads with 2 engines a side), so 2
# engines here measure the cost of the split, not its gain: see
# docs/BENCHMARKS.md "Engines" for what N cores give.
for ne in 1 2; do
    begin "engines: $ENG_N connections (connect, 1 KiB echoed, close), native, $ne engine(s) a side over net_memif"
    new_sock
    EXTRA_ENV="SLUICE_NET_QUEUES=$ne" srv_sluice "eng$ne" --native "$ENGS" server 7100 "$ne" "$ENG_N"
    EXTRA_ENV="SLUICE_NET_QUEUES=$ne SLUICE_TCP_MSL_MS=100" cli_sluice "eng$ne" 300 --native "$ENGS" client "$S_SRV" 7100 "$ne" "$ENG_N" 1024 16
    for _ in $(seq 100); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
    r=$(sed -nE 's/^tcp_engines: ([0-9]+) connections in [0-9.]+ s: ([0-9]+) per s; cpu ([0-9.]+) s$/\1 \2 \3/p' "$LOG/eng$ne.cli.log")
    sc=$(sed -nE 's/^tcp_engines: [0-9]+ connections in [0-9.]+ s: [0-9]+ per s; cpu ([0-9.]+) s$/\1/p' "$LOG/eng$ne.srv.log")
    if [ -n "$r" ] && [ "${r%% *}" = "$ENG_N" ] && [ -n "$sc" ]; then
        read -r en erate ecpu <<<"$r"
        row engines_crr conns_per_s "sluice-demi-${ne}eng" "$erate" conn/s "tcp_engines: $ne engine(s) a side; connect + 1 KiB echo + close"
        row engines_crr cpu_s_per_Mconn "sluice-demi-${ne}eng" "$(awk -v a="$ecpu" -v b="$sc" -v n="$en" 'BEGIN {printf "%.2f", (a + b) / (n / 1e6)}')" \
            "CPU s / 1M conn" "client + server process CPU"
    else
        fail engines_crr conns_per_s "sluice-demi-${ne}eng" conn/s "tcp_engines: $(why "$LOG/eng$ne.cli.log" "$LOG/eng$ne.srv.log")"
    fi
    stop_pid "$SRV" 3
done

# ---- 6. redis: redis-benchmark against redis-server, idle CPU, CPU per request ----
redis_rows() { # log scenario-suffix stack
    local t v
    for t in GET SET; do
        v=$(awk -F'"' -v t="$t" '$2 == t {print $4}' "$1" | head -1)
        local sc="redis_$(tr 'A-Z' 'a-z' <<<"$t")_$2"
        if [ -n "$v" ]; then row "$sc" rps "$3" "$v" req/s redis-benchmark; else fail "$sc" rps "$3" req/s "redis-benchmark: $(why "$1" "$LOG/redis-$3.srv.log")"; fi
    done
}
redis_suite() { # stack cli-function addr
    local stack=$1 cli=$2 addr=$3 t0 t1 name
    name=redis-$stack-c1
    "$cli" "$name" 120 redis-benchmark -h "$addr" -t set,get -n "$REDIS_N1" -c 1 --csv
    redis_rows "$LOG/$name.cli.log" c1 "$stack"
    # idle CPU of the listening server, no traffic (after a first client:
    # under sluice-run the network comes up with the first one)
    sleep 1
    t0=$(cpu_ticks "$SRV")
    sleep "$IDLE_T"
    t1=$(cpu_ticks "$SRV")
    if [ -n "$t0" ] && [ -n "$t1" ]; then
        row idle_cpu pct_core "$stack" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v t="$IDLE_T" 'BEGIN {printf "%.2f", (b - a) * 100 / hz / t}')" \
            "% of one core" "redis-server listening with no client for ${IDLE_T} s, after a first benchmark"
    else
        fail idle_cpu pct_core "$stack" "% of one core" "redis-server is not running: $(why "$LOG/redis-$stack.srv.log")"
    fi
    name=redis-$stack-c50
    t0=$(cpu_ticks "$SRV")
    "$cli" "$name" 120 redis-benchmark -h "$addr" -t set,get -n "$REDIS_N50" -c 50 --csv
    t1=$(cpu_ticks "$SRV")
    redis_rows "$LOG/$name.cli.log" c50 "$stack"
    if grep -q '^"GET"' "$LOG/$name.cli.log" && grep -q '^"SET"' "$LOG/$name.cli.log" && [ -n "$t1" ]; then
        row cpu cpu_s_per_Mreq "$stack" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v n="$REDIS_N50" 'BEGIN {printf "%.3f", (b - a) / hz / (2 * n / 1e6)}')" \
            "CPU s / 1M req" "redis-server's user+system CPU over SET+GET at -c 50"
    else
        fail cpu cpu_s_per_Mreq "$stack" "CPU s / 1M req" "the redis-benchmark -c 50 run failed"
    fi
    name=redis-$stack-P16
    "$cli" "$name" 180 redis-benchmark -h "$addr" -t set,get -n "$REDIS_NP" -c 50 -P 16 --csv
    redis_rows "$LOG/$name.cli.log" c50_P16 "$stack"
}
REDIS_ARGS=(--port 6379 --protected-mode no --save "" --appendonly no --daemonize no --maxclients 20000)
begin "redis: redis-server and redis-benchmark on the kernel (idle ${IDLE_T} s, -c 1, -c 50, -c 50 -P 16)"
srv_kernel redis-kernel redis-server "${REDIS_ARGS[@]}" --bind "$K_SRV"
if wait_listen_kernel - 6379 10; then
    redis_suite kernel cli_kernel "$K_SRV"
else
    redis_suite kernel cli_kernel "$K_SRV" # records the failures
fi
stop_pid "$SRV" 3
begin "redis: both under sluice-run over net_memif (idle ${IDLE_T} s, -c 1, -c 50, -c 50 -P 16)"
new_sock
srv_sluice redis-sluice redis-server "${REDIS_ARGS[@]}" --bind "$S_SRV"
sleep 1
redis_suite sluice cli_sluice "$S_SRV"
stop_pid "$SRV" 3

# ---- 6b. C10K: one client's GETs while 5,000 other connections idle ----
# redis-benchmark -c 1 GET, first with no other connection, then while
# sock_bench hold keeps C10K_N connections open and silent: an epoll_wait
# that scanned every member would slow down with them. The server runs on
# its stack and every client on the kernel in the client namespace:
# Sluice's server on net_af_packet on a second veth (bvA/bvB, Sluice at
# C_SRV), the kernel's in the server namespace.
# client_veth IF PEER_IF CLIENT_ADDR QUEUES: a veth from the host (Sluice's
# side) to the client namespace, offloads off on both ends (the device sees
# what the veth carries: no checksums left undone, no super-frames)
client_veth() {
    ip link add "$1" numtxqueues "$4" numrxqueues "$4" type veth peer name "$2" numtxqueues "$4" numrxqueues "$4" \
        netns "$NS_C" || return 1
    ip -n "$NS_C" addr add "$3/24" dev "$2"
    ip link set "$1" up && ip -n "$NS_C" link set "$2" up || return 1
    for f in tx rx tso gso gro; do
        ethtool -K "$1" "$f" off >/dev/null 2>&1
        ip netns exec "$NS_C" ethtool -K "$2" "$f" off >/dev/null 2>&1
    done
    return 0
}
c10k_up() { client_veth "$IF_A" "$IF_B" "$C_CLI" 1; }
c10k_get() { # stack addr name: GET -c 1 req/s, or empty
    cli_kernel "$3" 120 redis-benchmark -h "$2" -p 6390 -t get -n "$C10K_REQ" -c 1 --csv
    awk -F'"' '$2 == "GET" {print $4}' "$LOG/$3.cli.log" | head -1
}
c10k_case() { # stack addr
    local stack=$1 addr=$2 v0 v1 holder cli=$LOG/c10k-hold-$1.cli.log
    # a first run warms up (ARP, the server's first allocations), unmeasured
    cli_kernel "c10k-$stack-warm" 60 redis-benchmark -h "$addr" -p 6390 -t get -n 5000 -c 1 -q
    v0=$(c10k_get "$stack" "$addr" "c10k-$stack-none")
    ip netns exec "$NS_C" "$SOCKB" hold "$addr" 6390 "$C10K_N" --seconds 120 >"$cli" 2>&1 &
    holder=$!; pids+=("$holder")
    if wait_log "$cli" "^sock_bench: holding $C10K_N\$" 90; then
        v1=$(c10k_get "$stack" "$addr" "c10k-$stack-held")
    fi
    if [ -n "$v0" ]; then row c10k_get_c1 rps_none_idle "$stack" "$v0" req/s "redis-benchmark -c 1 GET, no other connection"
    else fail c10k_get_c1 rps_none_idle "$stack" req/s "redis-benchmark: $(why "$LOG/c10k-$stack-none.cli.log" "$LOG/c10k-$stack.srv.log")"; fi
    if [ -n "${v1:-}" ]; then row c10k_get_c1 "rps_${C10K_N}_idle" "$stack" "$v1" req/s "redis-benchmark -c 1 GET while $C10K_N other connections are open and idle"
    else fail c10k_get_c1 "rps_${C10K_N}_idle" "$stack" req/s "$(why "$cli" "$LOG/c10k-$stack-held.cli.log" "$LOG/c10k-$stack.srv.log")"; fi
    if [ -n "$v0" ] && [ -n "${v1:-}" ]; then
        row c10k_get_c1 held_over_none "$stack" "$(awk -v a="$v1" -v b="$v0" 'BEGIN {printf "%.3f", a / b}')" ratio \
            "req/s with $C10K_N idle connections held / with none"
    else
        fail c10k_get_c1 held_over_none "$stack" ratio "a run failed"
    fi
    stop_pid "$holder" 3
}
begin "C10K: redis GET -c 1 with none and with $C10K_N idle connections, kernel"
srv_kernel c10k-kernel redis-server "${REDIS_ARGS[@]}" --port 6390 --bind "$K_SRV"
wait_listen_kernel - 6390 10
c10k_case kernel "$K_SRV"
stop_pid "$SRV" 3
begin "C10K: the same, redis-server under sluice-run (net_af_packet on a veth), clients on the kernel"
if c10k_up >"$LOG/c10k-net.log" 2>&1; then
    SLUICE_NET_DEVARGS="net_af_packet0,iface=$IF_A" SLUICE_NET_ADDR=$C_SRV SLUICE_NET_LINK_TIMEOUT_MS=20000 \
        "$RUN" -- redis-server "${REDIS_ARGS[@]}" --port 6390 --bind "$C_SRV" >"$LOG/c10k-sluice.srv.log" 2>&1 &
    SRV=$!; pids+=("$SRV")
    for _ in $(seq 100); do
        ip netns exec "$NS_C" redis-cli -h "$C_SRV" -p 6390 ping >/dev/null 2>&1 && break
        sleep 0.2
    done
    c10k_case sluice "$C_SRV"
    stop_pid "$SRV" 3
else
    for m in rps_none_idle "rps_${C10K_N}_idle" held_over_none; do
        fail c10k_get_c1 "$m" sluice req/s "the second veth: $(why "$LOG/c10k-net.log")"
    done
fi

# ---- 6c. engines under sluice-run: redis and nginx, 1 vs 2 engines ----
# The server under sluice-run on net_af_xdp on a third veth (bvE/bvF, 2
# queues; `ethtool -L` sets 1 or 2, one per engine, net.queues the same),
# its clients on the kernel in the client namespace: redis-server (one
# process that waits: it takes engine 1, and engine 0 is polled when idle)
# with redis-benchmark -c 50 SET+GET, and nginx with worker_processes 2
# (a worker per engine) with wrk -c 100. Requests/s and the server's CPU
# (every process of it) per million requests. 2 cores carry the clients
# too: see docs/BENCHMARKS.md "Engines" for what N cores give.
eng_veth_up() {
    client_veth "$IF_E" "$IF_F" "$E_CLI" 2 || return 1
    grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf 2>/dev/null
    return 0
}
eng_queues() { ethtool -L "$IF_E" rx "$1" tx "$1" && ip netns exec "$NS_C" ethtool -L "$IF_F" rx "$1" tx "$1"; }
# family_ticks PID: utime+stime of PID and its children
family_ticks() {
    local t=0 p
    for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do t=$((t + $(cpu_ticks "$p" || echo 0))); done
    echo "$t"
}
eng_env() { # engines
    echo "SLUICE_NET_DEVARGS=net_af_xdp0,iface=$IF_E SLUICE_NET_ADDR=$E_SRV SLUICE_NET_LINK_TIMEOUT_MS=20000 SLUICE_NET_QUEUES=$1"
}
eng_redis() { # engines
    local ne=$1 name=engredis$1 t0 t1 v
    # shellcheck disable=SC2046
    env $(eng_env "$ne") "$RUN" -- redis-server "${REDIS_ARGS[@]}" --port 6391 --bind "$E_SRV" >"$LOG/$name.srv.log" 2>&1 &
    SRV=$!; pids+=("$SRV")
    for _ in $(seq 100); do
        ip netns exec "$NS_C" redis-cli -h "$E_SRV" -p 6391 ping >/dev/null 2>&1 && break
        sleep 0.2
    done
    t0=$(family_ticks "$SRV")
    cli_kernel "$name" 120 redis-benchmark -h "$E_SRV" -p 6391 -t set,get -n "$ENGAPP_N" -c 50 --csv
    t1=$(family_ticks "$SRV")
    v=$(awk -F'"' '$2 == "GET" {print $4}' "$LOG/$name.cli.log" | head -1)
    if [ -n "$v" ] && grep -q '^"SET"' "$LOG/$name.cli.log"; then
        row engines_redis rps "sluice-${ne}eng" "$v" req/s "redis-benchmark -c 50 GET; redis-server under sluice-run, net.queues $ne"
        row engines_redis cpu_s_per_Mreq "sluice-${ne}eng" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v n="$ENGAPP_N" 'BEGIN {printf "%.3f", (b - a) / hz / (2 * n / 1e6)}')" \
            "CPU s / 1M req" "redis-server's CPU over SET+GET"
    else
        fail engines_redis rps "sluice-${ne}eng" req/s "redis-benchmark: $(why "$LOG/$name.cli.log" "$LOG/$name.srv.log")"
    fi
    stop_pid "$SRV" 3
}
eng_nginx() { # engines
    local ne=$1 name=engnginx$1 d=$LOG/engnginx t0 t1 v n master
    mkdir -p "$d/ngx" && echo "hello from nginx" >"$d/index.html" && chmod -R a+rX "$d" && chmod a+x "$LOG"
    cat >"$d/nginx.conf" <<CONF
user www-data;
worker_processes 2;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/ngx/body;
    proxy_temp_path $d/ngx/proxy;
    fastcgi_temp_path $d/ngx/fastcgi;
    uwsgi_temp_path $d/ngx/uwsgi;
    scgi_temp_path $d/ngx/scgi;
    server { listen $E_SRV:8090; root $d; }
}
CONF
    # shellcheck disable=SC2046
    env $(eng_env "$ne") "$RUN" -- nginx -c "$d/nginx.conf" -p "$d/ngx" >"$LOG/$name.srv.log" 2>&1 &
    SRV=$!; pids+=("$SRV")
    for _ in $(seq 100); do
        ip netns exec "$NS_C" curl -sf -m 2 -o /dev/null "http://$E_SRV:8090/index.html" && break
        sleep 0.2
    done
    t0=$(family_ticks "$SRV")
    cli_kernel "$name" 120 wrk -c 100 -t 2 -d "${ENGAPP_T}s" "http://$E_SRV:8090/index.html"
    t1=$(family_ticks "$SRV")
    v=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$LOG/$name.cli.log")
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$LOG/$name.cli.log")
    if [ -n "$v" ] && [ -n "$n" ] && [ "$n" -gt 0 ] && ! grep -q 'Socket errors' "$LOG/$name.cli.log"; then
        row engines_nginx rps "sluice-${ne}eng" "$v" req/s "wrk -c 100 for ${ENGAPP_T} s; nginx worker_processes 2 under sluice-run, net.queues $ne"
        row engines_nginx cpu_s_per_Mreq "sluice-${ne}eng" "$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v n="$n" 'BEGIN {printf "%.3f", (b - a) / hz / (n / 1e6)}')" \
            "CPU s / 1M req" "nginx's master and workers"
    else
        fail engines_nginx rps "sluice-${ne}eng" req/s "wrk: $(why "$LOG/$name.cli.log" "$d/error.log" "$LOG/$name.srv.log")"
    fi
    master=$SRV
    kill -QUIT "$master" 2>/dev/null
    stop_pid "$master" 10
}
if eng_veth_up >"$LOG/eng-net.log" 2>&1; then
    for ne in 1 2; do
        if ! eng_queues "$ne" >>"$LOG/eng-net.log" 2>&1; then
            fail engines_redis rps "sluice-${ne}eng" req/s "ethtool -L $ne: $(why "$LOG/eng-net.log")"
            continue
        fi
        begin "engines: redis-server under sluice-run, net_af_xdp, $ne engine(s), redis-benchmark -c 50 from the kernel"
        eng_redis "$ne"
        begin "engines: nginx worker_processes 2 under sluice-run, net_af_xdp, $ne engine(s), wrk -c 100 from the kernel"
        eng_nginx "$ne"
    done
else
    for sc in engines_redis engines_nginx; do
        fail "$sc" rps sluice-1eng req/s "the veth with 2 queues: $(why "$LOG/eng-net.log")"
    done
fi

# ---- 7. memory per idle connection ----
# The client is always sock_bench hold (on the kernel, or under sluice-run):
# it makes one connection, pauses 2 s (the server's baseline memory is
# taken then: listening, network up, one connection), then the other
# HOLD_N - 1, and says "holding N". Servers: sock_bench server on the
# kernel and under sluice-run (the stack and the interposer), and
# tests/apps/tcp_tool server --hold (the native stack alone).
mem_case() { # stack
    local stack=$1 addr m0 m1 s0 s1 holder cli=$LOG/hold-$1.cli.log srv=$LOG/hold-$1.srv.log
    begin "memory: $HOLD_N idle connections, $stack"
    case $stack in
        kernel)
            addr=$K_SRV
            srv_kernel "hold-$stack" "$SOCKB" server "$addr" 7100 --seconds 150
            wait_listen_kernel - 7100 10
            ip netns exec "$NS_C" "$SOCKB" hold "$addr" 7100 "$HOLD_N" --seconds 30 >"$cli" 2>&1 & ;;
        sluice|sluice-demi)
            addr=$S_SRV
            new_sock
            if [ "$stack" = sluice ]; then
                srv_sluice "hold-$stack" "$SOCKB" server "$addr" 7100 --seconds 150
            else
                EXTRA_ENV="SLUICE_TCP_BACKLOG_MAX=4096" srv_sluice "hold-$stack" --native "$TCPT" server 7100 --hold --quiet
            fi
            # shellcheck disable=SC2046
            env $(sluice_env client "$S_CLI") "$RUN" -- "$SOCKB" hold "$addr" 7100 "$HOLD_N" --seconds 30 >"$cli" 2>&1 & ;;
    esac
    holder=$!; pids+=("$holder")
    if wait_log "$cli" "^sock_bench: first connection up" 40; then
        sleep 1
        m0=$(mem_kib "$SRV")
        s0=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
    fi
    if [ -n "${m0:-}" ] && wait_log "$cli" "^sock_bench: holding $HOLD_N\$" 90; then
        sleep 1
        m1=$(mem_kib "$SRV")
        s1=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
        case $stack in
            kernel)
                row idle_mem kib_per_conn kernel "$(awk -v a="$m0" -v b="$m1" -v c="$s0" -v d="$s1" -v n="$HOLD_N" 'BEGIN {printf "%.2f", ((b - a) + (d - c) / 2) / (n - 1)}')" \
                    KiB/conn "sock_bench server: its RSS growth + half the system-wide slab growth (both ends are in this kernel)" ;;
            sluice)
                row idle_mem kib_per_conn sluice "$(awk -v a="$m0" -v b="$m1" -v n="$HOLD_N" 'BEGIN {printf "%.2f", (b - a) / (n - 1)}')" \
                    KiB/conn "sock_bench server under sluice-run: VmRSS+HugetlbPages growth (stack + interposer; the kernel fd of each socket not counted)" ;;
            sluice-demi)
                row idle_mem kib_per_conn sluice-demi "$(awk -v a="$m0" -v b="$m1" -v n="$HOLD_N" 'BEGIN {printf "%.2f", (b - a) / (n - 1)}')" \
                    KiB/conn "tcp_tool server --hold (native): VmRSS+HugetlbPages growth, the stack alone" ;;
        esac
    else
        fail idle_mem kib_per_conn "$stack" "KiB/conn" "not all $HOLD_N connections came up: $(why "$cli" "$srv")"
    fi
    EXTRA_ENV=
    stop_pid "$holder" 3
    stop_pid "$SRV" 3
}
mem_case kernel
mem_case sluice
mem_case sluice-demi

# ---- report ----
say "report: table and plots"
mkdir -p "$OUT"
cp "$CSV" "$OUT/bench-results.csv"
MODE=full; [ "$QUICK" = 1 ] && MODE=quick
"$PY" bench/report.py --csv "$OUT/bench-results.csv" --out "$OUT" --mode "$MODE" \
    --command "./scripts/bench.sh$([ "$QUICK" = 1 ] && echo ' --quick')" \
    --machine "$(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d), load average $LOAD_START at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end" \
    ${BENCH_DOC:+--doc "$BENCH_DOC"} $([ "$QUICK" = 0 ] && [ "$OUT" = "$ROOT/docs" ] && echo --doc "$ROOT/docs/BENCHMARKS.md")
rc=$?
failed=$(grep -c ',failed,' "$CSV")
table=$OUT/bench-results.md
[ "$QUICK" = 0 ] && [ "$OUT" = "$ROOT/docs" ] && table=$ROOT/docs/BENCHMARKS.md
say "done: $(($(grep -c . "$CSV") - 1)) results, $failed failed; table $table, plots $OUT/bench-*.png"
exit $rc
