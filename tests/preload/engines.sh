#!/usr/bin/env bash
# engines.sh BUILD_DIR - a process family on two engines (docs/preload.md
# "Engines per process"): nginx as Debian ships it (user www-data,
# daemon), worker_processes 2, under sluice-run with net.queues 2 on the
# default device (net_af_xdp on a veth with two queues, one per engine):
#   each worker serves an engine of its own (the log names them), curl and
#   a 100 MiB file with an equal SHA-256, wrk -c 200 -d 10s with no socket
#   errors and each engine's counters showing 35-65 % of the connections,
#   a busy worker killed with SIGKILL mid-run: nginx respawns it, the new
#   worker takes the dead one's engine, the errors are no more than the
#   dead worker's connections, and a run after it has none; at the stop,
#   the family's last process takes the XDP program off the interface;
# memcached -t 2 with every get of memcaslap verified, with the shared
# default (net.queues 1) and with an engine per thread
# (SLUICE_PRELOAD_ENGINE_PER_THREAD=1, net.queues 2); and redis-server on
# the fallback device, net_af_packet.
# Needs root. Everything it creates (the namespace, the veth pair, its log
# directory's big file, the processes it starts - stopped by PID) is
# removed on exit, even on failure. Prints "engines: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/procs.sh
ROOT=$PWD
BUILD=${1:-build}
RUN=$ROOT/$BUILD/preload/sluice-run
ID=$$
export SLUICE_NET_NS=sleng-$ID SLUICE_NET_IF=sleg$ID SLUICE_NET_PEER_IF=slegp$ID
export SLUICE_NET_PEER_ADDR=10.0.0.1/24 SLUICE_NET_ADDR=10.0.0.2 SLUICE_NET_LINK_TIMEOUT_MS=10000
export SLUICE_NET_VETH_QUEUES=2 SLUICE_NET_QUEUES=2
export SLUICE_NET_DEVARGS="${SLUICE_TEST_PMD:-net_af_xdp0},iface=$SLUICE_NET_IF"
LOG=$(mktemp -d /tmp/sluice-engines.XXXXXX)
passed=0
failed=0
pids=()

cleanup() {
    [ -s "$LOG/nginx.pid" ] && kill -QUIT "$(cat "$LOG/nginx.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -s "$LOG/nginx.pid" ] && wait_gone "$(cat "$LOG/nginx.pid")"
    ./scripts/net.sh down >/dev/null 2>&1
    rm -f "$LOG/html/big.bin"
}
wait_gone() { # pid: up to 10 s, then SIGKILL
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 $(ps -o pid= --ppid "$1") "$1" 2>/dev/null # its workers too (ours, by PID)
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
retry() { # seconds, command...
    local end=$((SECONDS + $1)); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}
finish() { echo "engines: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

for b in nginx wrk curl; do
    command -v "$b" >/dev/null || { result "$b installed (scripts/setup.sh)" 1; finish; }
done
if ! ./scripts/net.sh up >"$LOG/net.log" 2>&1; then
    cat "$LOG/net.log"; result "net.sh up (a veth with 2 queues)" 1; finish
fi

mkdir -p "$LOG/html" "$LOG/ngx"
chmod 755 "$LOG" "$LOG/html" # www-data reads the files
head -c $((100 * 1024 * 1024)) /dev/urandom >"$LOG/html/big.bin"
echo "hello from nginx on two engines" >"$LOG/html/index.html"
chmod 644 "$LOG/html/big.bin" "$LOG/html/index.html"
cat >"$LOG/nginx.conf" <<CONF
user www-data;
worker_processes 2;
pid $LOG/nginx.pid;
error_log $LOG/nginx-error.log warn;
events { worker_connections 768; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $LOG/ngx/body;
    proxy_temp_path $LOG/ngx/proxy;
    fastcgi_temp_path $LOG/ngx/fastcgi;
    uwsgi_temp_path $LOG/ngx/uwsgi;
    scgi_temp_path $LOG/ngx/scgi;
    server { listen 8080; root $LOG/html; }
}
CONF
"$RUN" --stats -- nginx -c "$LOG/nginx.conf" -p "$LOG/ngx" >"$LOG/nginx-start.log" 2>&1
retry 30 in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8080/index.html
st=$?
workers() { [ -s "$LOG/nginx.pid" ] && ps -o pid= -o user= --ppid "$(cat "$LOG/nginx.pid")" | awk '$2 == "www-data" {print $1}' | sort; }
# which engine worker $1 serves (its line in the log), or nothing
engine_of() { sed -n "s/.*process $1 serves engine \([0-9]*\).*/\1/p" "$LOG/nginx-error.log" | tail -n1; }
# a few requests so that both workers have waited (each claims on its first wait)
for _ in 1 2 3 4; do in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8080/index.html; done
both_claimed() { for w in $(workers); do [ -n "$(engine_of "$w")" ] || return 1; done; }
retry 10 both_claimed
nw=$(workers | wc -l)
engines=$(for w in $(workers); do engine_of "$w"; done | sort | tr '\n' ' ')
[ "$nw" = 2 ] && [ "$engines" = "0 1 " ]
result "nginx (user www-data, worker_processes 2, daemon) under sluice-run, net.queues 2: $nw workers as www-data, serving engines: $engines" $((st | $?))

want=$(sha256sum <"$LOG/html/big.bin" | cut -d' ' -f1)
got=$(in_peer curl -s -m 120 http://10.0.0.2:8080/big.bin | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ]
result "a 100 MiB file through nginx on two engines: equal SHA-256" $?

in_peer timeout 60 wrk -c 200 -t 2 -d 10s http://10.0.0.2:8080/index.html >"$LOG/wrk.txt" 2>&1
st=$?
! grep -q 'Socket errors' "$LOG/wrk.txt" && ! grep -q 'Non-2xx' "$LOG/wrk.txt" && grep -q 'Requests/sec' "$LOG/wrk.txt"
result "wrk -c 200 -d 10s: no socket errors ($(grep 'Requests/sec' "$LOG/wrk.txt" | tr -s ' '))" $((st | $?))

# SIGKILL to a busy worker in the middle of a wrk run: its connections end
# (the family's reaper closes them, as the kernel closes a dead process's
# sockets), nginx's master starts another worker, which takes the dead
# one's engine, and the run goes on.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
before=$(workers)
# the worker on engine 1: its replacement must take engine 1 back (engine 0
# is the other worker's, so taking the lowest free one is not enough)
victim=$(for w in $before; do [ "$(engine_of "$w")" = 1 ] && echo "$w"; done | head -n1)
victim=${victim:-$(echo "$before" | head -n1)}
veng=$(engine_of "$victim")
t0=$(cputicks "$victim")
in_peer timeout 60 wrk -c 200 -t 2 -d 10s http://10.0.0.2:8080/index.html >"$LOG/wrk-kill.txt" 2>&1 &
wk=$!
pids+=($wk)
busy() { [ $(($(cputicks "$victim") - t0)) -ge 50 ]; } # 0.5 s of CPU: it is serving
retry 10 busy
st=$?
kill -9 "$victim"
respawned() { w=$(workers); [ "$(echo "$w" | wc -l)" = 2 ] && ! echo "$w" | grep -qx "$victim"; }
retry 10 respawned
st=$((st | $?))
wait "$wk"
st=$((st | $?))
pids=()
newbie=$(comm -13 <(echo "$before") <(workers) | head -n1)
in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8080/index.html
retry 10 test -n "$(engine_of "$newbie")"
neng=$(engine_of "$newbie")
errs=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$LOG/wrk-kill.txt")
read -r cerr rerr werr terr <<<"${errs:-0 0 0 0}"
# only the dead worker's connections fail: at most its share of the 200
# (wrk opens a new connection for each one that failed, on any engine)
[ "$cerr" = 0 ] && [ $((rerr + werr + terr)) -le 150 ] && grep -q 'Requests/sec' "$LOG/wrk-kill.txt" &&
    ! grep -q 'Non-2xx' "$LOG/wrk-kill.txt" && [ "$veng" = 1 ] && [ "$neng" = 1 ]
st=$((st | $?))
in_peer timeout 60 wrk -c 200 -t 2 -d 5s http://10.0.0.2:8080/index.html >"$LOG/wrk-after.txt" 2>&1
st=$((st | $?))
! grep -q 'Socket errors' "$LOG/wrk-after.txt" && grep -q 'Requests/sec' "$LOG/wrk-after.txt" &&
    ! grep -q 'exited on signal 11' "$LOG/nginx-error.log"
result "SIGKILL to worker $victim (engine $veng) mid-run: respawned as $newbie on engine ${neng:-none}; errors in that run: connect $cerr, read $rerr, write $werr, timeout $terr; wrk -c 200 -d 5s after: no socket errors ($(grep 'Requests/sec' "$LOG/wrk-after.txt" | tr -s ' '))" $((st | $?))

# Stopped: the master, last of the family, prints each engine's counters.
final_workers=$(workers)
workers_at_end() { echo "$final_workers"; }
master=$(cat "$LOG/nginx.pid")
kill -QUIT "$master"
wait_gone "$master"
ip -d link show "$SLUICE_NET_IF" >"$LOG/link-after-nginx.txt" 2>&1
# the process that started the stack exited long ago (nginx daemonizes):
# the family's last process closed the device (sluice_take_over)
! grep -q 'prog/xdp' "$LOG/link-after-nginx.txt"
result "after nginx stopped, its last process took the XDP program off the interface (sluice_take_over)" $?
grep 'engine [0-9]*: tcp_conns_opened' "$LOG/nginx-error.log" | sed 's/.*: engine/engine/' >"$LOG/shares.txt"
read -r c0 c1 <<<"$(sed -n 's/^engine \([01]\): tcp_conns_opened \([0-9]*\).*/\2/p' "$LOG/shares.txt" | tr '\n' ' ')"
c0=${c0:-0}; c1=${c1:-0}
tot=$((c0 + c1))
[ "$tot" -ge 400 ] && [ $((c0 * 100)) -ge $((tot * 35)) ] && [ $((c0 * 100)) -le $((tot * 65)) ]
result "each engine's counters show its share of the connections: engine 0 $c0, engine 1 $c1 (35-65 % each)" $?
# both workers that ran to the end served: each says at exit how many
# connections it accepted (--stats)
served=$(for w in $(workers_at_end); do sed -n "s/.*sluice-preload\[$w\]: stats: .*accepted \([0-9]*\),.*/\1/p" "$LOG/nginx-error.log"; done | tr '\n' ' ')
all_positive() { for a in "$@"; do [ "$a" -gt 0 ] || return 1; done; }
# shellcheck disable=SC2086
[ "$(echo $served | wc -w)" = 2 ] && all_positive $served
result "both workers served: connections accepted by each (at exit): $served" $?

# ---- memcached -t 2 (as apps.sh runs it), memcaslap from the kernel with
# every get verified: with the shared default (net.queues 1, the veth on one
# queue: one engine for the process, its threads take turns) and with an
# engine per thread (SLUICE_PRELOAD_ENGINE_PER_THREAD=1, net.queues 2: the
# accepting thread and the workers each take an engine; a connection the
# main thread accepted is served by a worker on the engine it arrived on) ----
veth_queues() { # n
    ethtool -L "$SLUICE_NET_IF" rx "$1" tx "$1" && in_peer ethtool -L "$SLUICE_NET_PEER_IF" rx "$1" tx "$1"
}
memcached_run() { # name, queues, per-thread (0/1): memcached under sluice-run, memcaslap, stop
    local name=$1 out="$LOG/memcached-$1.log" mc st
    veth_queues "$2" >"$LOG/ethtool-$name.log" 2>&1 || { result "$name: ethtool -L $2 on the veth" 1; return; }
    SLUICE_NET_QUEUES=$2 SLUICE_PRELOAD_ENGINE_PER_THREAD=$3 "$RUN" --stats -- memcached -u root -t 2 -p 11211 -l 10.0.0.2 -c 1024 >"$out" 2>&1 &
    mc=$!
    pids+=($mc)
    retry 30 in_peer bash -c 'exec 3<>/dev/tcp/10.0.0.2/11211 && printf "version\r\n" >&3 && head -c 7 <&3 | grep -q VERSION'
    st=$?
    in_peer timeout 60 memcaslap -s 10.0.0.2:11211 -T 2 -c 32 -t 5s --verify=1.0 -b >"$LOG/memcaslap-$name.txt" 2>&1
    st=$((st | $?))
    local gets vmiss vfail gmiss
    gets=$(sed -n 's/^cmd_get: \([0-9]*\)/\1/p' "$LOG/memcaslap-$name.txt")
    vmiss=$(sed -n 's/^verify_misses: \([0-9]*\)/\1/p' "$LOG/memcaslap-$name.txt")
    vfail=$(sed -n 's/^verify_failed: \([0-9]*\)/\1/p' "$LOG/memcaslap-$name.txt")
    gmiss=$(sed -n 's/^get_misses: \([0-9]*\)/\1/p' "$LOG/memcaslap-$name.txt")
    [ "${gets:-0}" -gt 1000 ] && [ "$vmiss" = 0 ] && [ "$vfail" = 0 ] && [ "$gmiss" = 0 ]
    st=$((st | $?))
    kill -TERM "$mc"
    wait_pid "$mc" 10
    pids=()
    local engines
    engines=$(sed -n 's/.*serves engine \([0-9]*\).*/\1/p' "$out" | sort -u | tr '\n' ' ')
    if [ "$3" = 1 ]; then
        [ "$engines" = "0 1 " ]
        st=$((st | $?))
    fi
    result "memcached -t 2, $name: memcaslap 5 s, every get verified: ${gets:-?} gets, verify_misses ${vmiss:-?}, verify_failed ${vfail:-?}, get_misses ${gmiss:-?}${engines:+; threads serve engines $engines}" $st
}
command -v memcaslap >/dev/null && command -v memcached >/dev/null
result "memcached and memcaslap installed (scripts/setup.sh: memcached, libmemcached-tools)" $?
memcached_run "shared default (net.queues 1)" 1 0
memcached_run "an engine per thread (net.queues 2)" 2 1

# ---- the fallback device: net_af_packet (one queue), redis-server ----
veth_queues 1 >"$LOG/ethtool-fallback.log" 2>&1
SLUICE_NET_DEVARGS="net_af_packet0,iface=$SLUICE_NET_IF" SLUICE_NET_QUEUES=1 \
    "$RUN" -- redis-server --port 6379 --save '' --appendonly no --protected-mode no --dir "$LOG" >"$LOG/redis-af_packet.log" 2>&1 &
rs=$!
pids+=($rs)
retry 30 in_peer redis-cli -h 10.0.0.2 ping
st=$?
in_peer timeout 120 redis-benchmark -h 10.0.0.2 -t set,get -n 20000 -c 50 -q >"$LOG/redis-af_packet-bench.txt" 2>&1
st=$((st | $?))
[ "$(tr '\r' '\n' <"$LOG/redis-af_packet-bench.txt" | grep -c 'requests per second')" = 2 ]
st=$((st | $?))
in_peer redis-cli -h 10.0.0.2 set fallback-key fallback-value >/dev/null 2>&1
[ "$(in_peer redis-cli -h 10.0.0.2 get fallback-key 2>/dev/null)" = fallback-value ]
st=$((st | $?))
stop_pid "$rs" 5
pids=()
result "the fallback device (net_af_packet): redis-server under sluice-run answers redis-benchmark SET and GET -c 50 and a value reads back" $st
veth_queues 2 >/dev/null 2>&1
finish
