#!/usr/bin/env bash
# mtcp.sh BUILD_DIR - programs written to mTCP's API (docs/mtcp.md) on
# Sluice (net_af_xdp on a veth; SLUICE_TEST_PMD=net_af_packet0 for the fallback), against the Linux kernel in a network
# namespace this script creates (scripts/net.sh with names of its own):
#
#   1. tests/apps/mtcp_epserver (two contexts on two threads, like mTCP's
#      epserver) answers curl from the kernel: the fixed body, then a 2 MiB
#      file byte-exact (SHA-256);
#   2. wrk (2 threads, 32 connections, 3 s, keep-alive) against it: no
#      socket error, no non-2xx answer, and both contexts served requests;
#   3. tests/apps/mtcp_client (like mTCP's epwget) fetches a 4 MiB file
#      from a kernel nginx in the namespace, byte-exact (SHA-256).
#
# Both programs read an mTCP configuration file (the upstream keys,
# comments). Needs root, curl, wrk, nginx. Everything it creates (the
# namespace, the veth pair, processes, by PID) is removed on exit, even on
# failure. Prints "ok"/"FAIL" per check and "mtcp: N passed, N failed"
# last; exit 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/procs.sh
BUILD=${1:-build}
SERVER=$BUILD/tests/apps/mtcp_epserver
CLIENT=$BUILD/tests/apps/mtcp_client
ID=$$
export SLUICE_NET_NS=slmt-ns-$ID SLUICE_NET_IF=slm$ID SLUICE_NET_PEER_IF=slmp$ID
export SLUICE_NET_PEER_ADDR=10.0.0.1/24
export SLUICE_NET_DEVARGS="${SLUICE_TEST_PMD:-net_af_xdp0},iface=$SLUICE_NET_IF"
export SLUICE_NET_ADDR=10.0.0.2 SLUICE_NET_LINK_TIMEOUT_MS=10000
LOG=$(mktemp -d /tmp/sluice-mtcp.XXXXXX)
chmod 755 "$LOG" # nginx's worker (nobody) reads its files
pids=()
passed=0
failed=0
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
        echo "FAIL - $1 (logs in $LOG)"
        failed=$((failed + 1))
    fi
}
finish() {
    echo "mtcp: $passed passed, $failed failed in $(($(date +%s) - T0)) s"
    [ "$failed" = 0 ] && rm -rf "$LOG"
    [ "$failed" = 0 ]
    exit
}
in_peer() { ip netns exec "$SLUICE_NET_NS" "$@"; }
background() { "$@" & bg=$!; pids+=("$bg"); }

for prog in "$SERVER" "$CLIENT"; do
    [ -x "$prog" ] || { result "$prog is built" 1; finish; }
done
for tool in curl wrk nginx; do
    command -v "$tool" >/dev/null || { result "$tool is installed (scripts/setup.sh)" 1; finish; }
done
if ! ./scripts/net.sh up >"$LOG/net.log" 2>&1; then
    result "net.sh up" 1
    cat "$LOG/net.log"
    finish
fi

# an upstream-style mTCP configuration file
cat >"$LOG/mtcp.conf" <<'CONF'
############### mtcp configuration file ###############
io = dpdk
num_mem_ch = 4
port = dpdk0          # ignored: the device is SLUICE_NET_DEVARGS
max_concurrency = 4096
max_num_buffers = 4096
rcvbuf = 262144
sndbuf = 262144
tcp_timeout = 30
tcp_timewait = 0
stat_print = dpdk0
CONF
head -c $((2 * 1024 * 1024)) /dev/urandom >"$LOG/page.bin"

# ---- 1, 2: the epoll server ----
background "$SERVER" -f "$LOG/mtcp.conf" -p 8080 -N 2 -r "$LOG/page.bin" >"$LOG/server.log" 2>&1
server=$bg
if ! wait_line "$LOG/server.log" "listening on 8080" 30; then
    result "mtcp_epserver starts two contexts and listens" 1
    finish
fi
want=$(sha256sum <"$LOG/page.bin" | cut -d' ' -f1)
got=$(timeout 20 ip netns exec "$SLUICE_NET_NS" curl -sS --max-time 15 http://10.0.0.2:8080/page.bin 2>>"$LOG/curl.err" |
    sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ]
result "curl from the kernel gets a 2 MiB file from mtcp_epserver, SHA-256 equal" $?

for i in 1 2 3; do
    timeout 20 ip netns exec "$SLUICE_NET_NS" curl -sS --max-time 15 -o "$LOG/curl.$i" -w '%{http_code}\n' \
        http://10.0.0.2:8080/ >>"$LOG/curl.codes" 2>>"$LOG/curl.err"
done
[ "$(grep -c '^200$' "$LOG/curl.codes")" = 3 ]
result "three sequential curl requests answered 200" $?

# each answer is the 2 MiB page: 32 at once on 2 shared cores may take
# more than wrk's default 2 s, which wrk counts as a socket error
timeout 30 ip netns exec "$SLUICE_NET_NS" wrk -t2 -c32 -d3s --timeout 10s http://10.0.0.2:8080/ >"$LOG/wrk.log" 2>&1
st=$?
reqs=$(awk '/requests in/ {print $1}' "$LOG/wrk.log")
grep -qE "Socket errors|Non-2xx" "$LOG/wrk.log" && st=1
[ "${reqs:-0}" -gt 0 ] || st=1
stop_server "$server" || st=1 # SIGTERM: the server leaves its loops, prints its counters
ctx0=$(sed -n 's/.*context 0 served \([0-9]*\) responses/\1/p' "$LOG/server.log")
ctx1=$(sed -n 's/.*context 1 served \([0-9]*\) responses/\1/p' "$LOG/server.log")
[ "${ctx0:-0}" -gt 0 ] && [ "${ctx1:-0}" -gt 0 ] || st=1
result "wrk (2 threads, 32 connections, 3 s): ${reqs:-0} requests, no errors; contexts served ${ctx0:-0} + ${ctx1:-0}" $st

# ---- 3: the client against a kernel nginx ----
mkdir -p "$LOG/www"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$LOG/www/file.bin"
chmod 755 "$LOG/www"
chmod 644 "$LOG/www/file.bin"
cat >"$LOG/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $LOG/nginx.pid;
error_log $LOG/nginx.err;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 10.0.0.1:8081;
        root $LOG/www;
    }
}
NGINX
background ip netns exec "$SLUICE_NET_NS" nginx -c "$LOG/nginx.conf" -p "$LOG"
nginx=$bg
up=1
for _ in $(seq 50); do
    in_peer curl -s -o /dev/null --max-time 1 http://10.0.0.1:8081/ && { up=0; break; }
    sleep 0.1
done
if [ $up != 0 ]; then
    result "nginx in the namespace starts" 1
    finish
fi
timeout 30 "$CLIENT" -f "$LOG/mtcp.conf" 10.0.0.1 8081 /file.bin >"$LOG/client.log" 2>&1
st=$?
want=$(sha256sum <"$LOG/www/file.bin" | cut -d' ' -f1)
grep -q "received $((4 * 1024 * 1024)) bytes sha256 $want" "$LOG/client.log" || st=1
stop_pid "$nginx"
result "mtcp_client gets a 4 MiB file from a kernel nginx, SHA-256 equal" $st
finish
