#!/usr/bin/env bash
# apps.sh BUILD_DIR - Debian's own unmodified binaries on the Sluice stack
# under sluice-run (net_af_packet on a veth into a namespace this script
# creates), with clients on the Linux kernel in that namespace, and the
# other way round:
#   redis-server: redis-benchmark -t set,get,lpush,lpop,mset -n 100000 at
#     -c 1, -c 50 and -P 16; BGSAVE under load; values of 1 B..1 MiB equal;
#   redis BLPOP order: two clients blocked on one key are served in the
#     order their requests arrived (tests/preload/redis_blpop.py);
#   sluice-stat on that redis-server under load: its connections, counters,
#     --json, a 10 s capture read back by tcpdump;
#   the servers run with the process settings Debian ships (only the listen
#   address and the paths of pid, log and data files changed):
#   nginx (user www-data, worker_processes auto, daemon): a 100 MiB file
#     with an equal SHA-256, wrk -c 200 and -c 1000 -d 10s with no socket
#     errors, a busy worker killed with SIGKILL mid-run and respawned;
#   apache2 (User www-data) with mpm_event and mpm_prefork: ab -n 20000 -c 50;
#   postgres 15 under user postgres: pgbench -T 20 -c 8 -j 2, 0 failed;
#   socat TCP-LISTEN,fork EXEC:cat: 100 connections echoed byte-exact;
#   mosquitto (user mosquitto): 1,000 messages published and received equal;
#   memcached -t 2: 10,000 keys set and read back equal;
#   redis-benchmark and curl under sluice-run against a kernel redis-server
#     and a kernel nginx in the namespace;
#   iperf3 -s: two UDP tests back to back (its second socket on the port),
#     one reversed, one TCP, at 50 Mbit/s with under 5 % lost;
#   python3 -m http.server (backlog 5): ab -n 5000 -c 50, 0 failed.
# Needs root. Everything it creates (the namespace, the veth pair, files in
# its log directory, the processes it starts - stopped by PID) is removed on
# exit, even on failure. Prints "apps: N passed, N failed" last.
# REQUESTS (default 100000) scales the redis-benchmark runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/procs.sh
ROOT=$PWD
BUILD=${1:-build}
RUN=$ROOT/$BUILD/preload/sluice-run
N=${REQUESTS:-100000}
ID=$$
export SLUICE_NET_NS=slapp-$ID SLUICE_NET_IF=slap$ID SLUICE_NET_PEER_IF=slapp$ID
export SLUICE_NET_PEER_ADDR=10.0.0.1/24 SLUICE_NET_ADDR=10.0.0.2 SLUICE_NET_LINK_TIMEOUT_MS=10000
# the device: net_af_xdp (an AF_XDP socket on the veth, the default), or
# SLUICE_TEST_PMD (net_af_packet0: the single-queue fallback)
export SLUICE_NET_DEVARGS="${SLUICE_TEST_PMD:-net_af_xdp0},iface=$SLUICE_NET_IF"
LOG=$(mktemp -d /tmp/sluice-apps.XXXXXX)
pids=()
pidfiles=()
passed=0
failed=0

cleanup() {
    for f in "${pidfiles[@]}"; do
        [ -s "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null
    done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    sleep 0.5
    ./scripts/net.sh down >/dev/null 2>&1
    rm -f "$LOG"/big.bin "$LOG"/html/big.bin "$LOG"/*.rdb
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

retry() { # seconds, command...: until the command succeeds, for at most that long
    local end=$((SECONDS + $1)); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# requests/s lines of redis-benchmark -q (it prints one per test when every
# request of the test was answered)
rps() { tr '\r' '\n' <"$1" | grep 'requests per second'; }
# "SET 34831 GET 31377 ..." from those lines
rps_short() { rps "$1" | sed 's/ (10 keys)//; s/: \([0-9]*\)\.[0-9]* requests per second.*/ \1/' | tr '\n' ' ' | sed 's/ $//'; }


# Every Sluice process on the veth answers for 10.0.0.2 (they share its MAC
# and the address), so one server must be gone before the next starts.
stop_nginx() { # pid file: graceful stop, then wait for the master (it waits for its worker)
    local p
    [ -s "$1" ] || return 0
    p=$(cat "$1")
    kill -QUIT "$p" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    # not gone: its workers too (ours, by PID), or they would keep the
    # device's queue and answer for 10.0.0.2 in every test after this one
    kill -9 $(ps -o pid= --ppid "$p") "$p" 2>/dev/null
}

for f in "$RUN" "$BUILD/preload/libsluice-preload.so"; do
    [ -e "$f" ] || { echo "FAIL - $f missing (build first)"; echo "apps: 0 passed, 1 failed"; exit 1; }
done
for b in redis-server redis-benchmark redis-cli nginx memcached wrk curl iperf3 ab; do
    command -v "$b" >/dev/null || { echo "FAIL - $b not installed (scripts/setup.sh)"; echo "apps: 0 passed, 1 failed"; exit 1; }
done
if ! ./scripts/net.sh up >"$LOG/net.log" 2>&1; then
    echo "FAIL - net.sh up"; cat "$LOG/net.log"; echo "apps: 0 passed, 1 failed"; exit 1
fi

# ---- redis-server on Sluice, redis-benchmark on the kernel ----
# (DEBUG is enabled for the BLPOP order probe below: DEBUG SLEEP keeps the
# server busy while two clients' requests arrive)
(cd "$LOG" && exec "$RUN" --stats -- redis-server --port 6379 --save '' --appendonly no \
    --protected-mode no --enable-debug-command yes --dir "$LOG" --dbfilename sluice.rdb) >"$LOG/redis.log" 2>&1 &
redis=$!
pids+=($redis)
retry 30 in_peer redis-cli -h 10.0.0.2 ping
result "redis-server under sluice-run answers PING from the kernel" $?

for args in "-c 1" "-c 50" "-c 50 -P 16"; do
    name=$(echo "$args" | tr -d ' ')
    in_peer timeout 600 redis-benchmark -h 10.0.0.2 -t set,get,lpush,lpop,mset -n "$N" $args -q \
        >"$LOG/bench$name.txt" 2>&1
    st=$?
    [ "$(rps "$LOG/bench$name.txt" | wc -l)" = 5 ]
    st=$((st | $?))
    result "redis-benchmark $args -n $N: all 5 tests answered (requests/s: $(rps_short "$LOG/bench$name.txt"))" $st
done

# BGSAVE while 20 clients write; the server keeps serving
ip netns exec "$SLUICE_NET_NS" timeout 300 redis-benchmark -h 10.0.0.2 -t set -n 200000 -c 20 -r 100000 -q >"$LOG/bench-bgsave.txt" 2>&1 &
load=$!
sleep 1
in_peer redis-cli -h 10.0.0.2 bgsave >"$LOG/bgsave.txt" 2>&1
st=$?
retry 60 sh -c "ip netns exec $SLUICE_NET_NS redis-cli -h 10.0.0.2 info persistence | grep -q 'rdb_bgsave_in_progress:0'"
st=$((st | $?))
wait "$load"
st=$((st | $?))
in_peer redis-cli -h 10.0.0.2 info persistence >>"$LOG/bgsave.txt" 2>&1
grep -q 'rdb_last_bgsave_status:ok' "$LOG/bgsave.txt" && [ "$(rps "$LOG/bench-bgsave.txt" | wc -l)" = 1 ] &&
    [ -s "$LOG/sluice.rdb" ] && in_peer redis-cli -h 10.0.0.2 ping >/dev/null
result "BGSAVE during load: the child saved, every request answered, the server still serves" $((st | $?))

# ---- sluice-stat (tools/sluice-stat) on the running redis-server ----
# While redis-benchmark -c 50 runs: its 50 connections ESTABLISHED with
# bytes both ways, counters with rates, --json that parses, two at once; a
# 10 s capture whose frames tcpdump reads back, as many as the device
# moved meanwhile; a PID that is not Sluice's, and one that exited.
STAT=$ROOT/tools/sluice-stat
ip netns exec "$SLUICE_NET_NS" redis-benchmark -h 10.0.0.2 -c 50 -n 100000000 -t get -q >"$LOG/stat-load.txt" 2>&1 &
load=$!
pids+=($load)
st=0
estab() { # the ESTABLISHED connections with bytes both ways, per sluice-stat --json
    "$STAT" "$redis" --json -i 0.2 2>"$LOG/stat-json.err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for c in d["tcp"] if c["state_name"] == "ESTAB" and c["bytes_acked"] > 0 and c["bytes_received"] > 0))'
}
for _ in $(seq 60); do [ "$(estab 2>/dev/null)" = 50 ] && break; sleep 0.5; done
[ "$(estab)" = 50 ] || st=1
"$STAT" "$redis" >"$LOG/stat.txt" 2>&1 || st=1
[ "$(grep -c '^ESTAB' "$LOG/stat.txt")" = 50 ] || st=1
awk '$1 == "eth_rx_frames" && $3 > 0 {ok = 1} END {exit !ok}' "$LOG/stat.txt" || st=1
"$STAT" "$redis" --json >"$LOG/stat-a.json" 2>&1 &
a=$!
"$STAT" "$redis" --json >"$LOG/stat-b.json" 2>&1 || st=1
wait "$a" || st=1
python3 -c 'import json, sys; [json.load(open(f)) for f in sys.argv[1:]]' "$LOG/stat-a.json" "$LOG/stat-b.json" || st=1
result "sluice-stat on redis-server under load: 50 connections ESTABLISHED with bytes both ways, counters and rates, --json twice at once" $st
st=0
"$STAT" "$redis" --capture "$LOG/cap.pcapng" --seconds 10 >"$LOG/cap.txt" 2>&1 || st=1
written=$(sed -nE 's/.* ([0-9]+) frames written .* of ([0-9]+) the device moved.*/\1/p' "$LOG/cap.txt")
moved=$(sed -nE 's/.* ([0-9]+) frames written .* of ([0-9]+) the device moved.*/\2/p' "$LOG/cap.txt")
read_back=$(tcpdump -r "$LOG/cap.pcapng" -n 2>/dev/null | wc -l)
[ -n "$written" ] && [ "$written" -gt 1000 ] && [ "$written" = "$moved" ] && [ "$read_back" = "$written" ] || st=1
result "a 10 s capture from sluice-stat: tcpdump reads $read_back frames, the device moved ${moved:-?}" $st
stop_pid "$load"
st=0
"$STAT" $$ >"$LOG/stat-notours.txt" 2>&1 && st=1
[ "$(wc -l <"$LOG/stat-notours.txt")" = 1 ] && grep -q 'is not a Sluice process' "$LOG/stat-notours.txt" || st=1
sleep 0 &
gone=$!
wait "$gone"
"$STAT" "$gone" >"$LOG/stat-gone.txt" 2>&1 && st=1
[ "$(wc -l <"$LOG/stat-gone.txt")" = 1 ] && grep -q 'is not running' "$LOG/stat-gone.txt" || st=1
result "sluice-stat on a process that is not Sluice's, or has exited: one line, non-zero exit" $st

st=0
for sz in 1 1000 65536 1048576; do
    head -c "$sz" /dev/urandom | base64 -w0 | head -c "$sz" >"$LOG/v$sz"
    in_peer redis-cli -h 10.0.0.2 -x set "k$sz" <"$LOG/v$sz" >/dev/null 2>&1 || st=1
    in_peer redis-cli -h 10.0.0.2 --raw get "k$sz" 2>/dev/null | head -c "$sz" >"$LOG/g$sz"
    cmp -s "$LOG/v$sz" "$LOG/g$sz" || st=1
done
result "values of 1 B, 1000 B, 64 KiB, 1 MiB read back equal" $st

# Two clients blocked on one key: redis must read their BLPOPs in the order
# they arrived (epoll's ready list), so the first gets the first element
in_peer timeout 120 python3 tests/preload/redis_blpop.py 10.0.0.2 6379 200 >"$LOG/blpop.txt" 2>&1
st=$? # before the result line: its $(...) would set $?
result "BLPOP order: A, then B block while redis sleeps; the first element goes to A ($(tail -n1 "$LOG/blpop.txt"))" $st
in_peer redis-cli -h 10.0.0.2 shutdown nosave >/dev/null 2>&1
for _ in $(seq 50); do kill -0 "$redis" 2>/dev/null || break; sleep 0.2; done
stop_pid "$redis"

# ---- nginx on Sluice as Debian ships it (user www-data; worker_processes
# auto: a worker per core; daemon), curl and wrk on the kernel ----
# The master binds its listeners as root, which starts the stack; it
# daemonizes (the first process exits) and forks its workers, which switch
# to www-data: one stack for the whole family, every worker serving the
# listeners they inherited (docs/preload.md "Process families").
mkdir -p "$LOG/html" "$LOG/ngx"
chmod 755 "$LOG" "$LOG/html" # www-data reads the files
head -c $((100 * 1024 * 1024)) /dev/urandom >"$LOG/html/big.bin"
echo "hello from nginx on Sluice" >"$LOG/html/index.html"
chmod 644 "$LOG/html/big.bin" "$LOG/html/index.html"
cat >"$LOG/nginx.conf" <<CONF
user www-data;
worker_processes auto;
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
pidfiles+=("$LOG/nginx.pid")
"$RUN" -- nginx -c "$LOG/nginx.conf" -p "$LOG/ngx" >"$LOG/nginx-start.log" 2>&1
retry 30 in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8080/index.html
st=$?
workers() { [ -s "$LOG/nginx.pid" ] && ps -o pid= -o user= --ppid "$(cat "$LOG/nginx.pid")" | awk '$2 == "www-data" {print $1}' | sort; }
nw=$(workers | wc -l)
[ "$nw" = "$(nproc)" ]
result "nginx (user www-data, worker_processes auto: $nw workers as www-data, daemon) under sluice-run answers curl from the kernel" $((st | $?))
want=$(sha256sum <"$LOG/html/big.bin" | cut -d' ' -f1)
got=$(in_peer curl -s -m 120 http://10.0.0.2:8080/big.bin | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ]
result "a 100 MiB file through nginx on Sluice: equal SHA-256" $?
in_peer timeout 60 wrk -c 200 -t 2 -d 10s http://10.0.0.2:8080/index.html >"$LOG/wrk.txt" 2>&1
st=$?
! grep -q 'Socket errors' "$LOG/wrk.txt" && ! grep -q 'Non-2xx' "$LOG/wrk.txt" && grep -q 'Requests/sec' "$LOG/wrk.txt"
result "wrk -c 200 -d 10s: no socket errors ($(grep 'Requests/sec' "$LOG/wrk.txt" | tr -s ' '))" $((st | $?))
in_peer timeout 60 wrk -c 1000 -t 2 -d 10s http://10.0.0.2:8080/index.html >"$LOG/wrk1000.txt" 2>&1
st=$?
! grep -q 'Socket errors' "$LOG/wrk1000.txt" && ! grep -q 'Non-2xx' "$LOG/wrk1000.txt" && grep -q 'Requests/sec' "$LOG/wrk1000.txt"
result "wrk -c 1000 -d 10s: no socket errors ($(grep 'Requests/sec' "$LOG/wrk1000.txt" | tr -s ' '))" $((st | $?))
# SIGKILL to a busy worker in the middle of a wrk run: its connections end
# (closed by the family's reaper, as the kernel closes a dead process's
# sockets: wrk counts read errors for them), nginx's master starts another
# worker, the run goes on, and a run after it has no socket errors. The
# kill often lands while the worker holds the family's lock: the next
# holder repairs what can be half done (docs/preload.md).
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
before=$(workers)
victim=$(echo "$before" | head -n1)
t0=$(cputicks "$victim")
in_peer timeout 60 wrk -c 200 -t 2 -d 10s http://10.0.0.2:8080/index.html >"$LOG/wrk-kill.txt" 2>&1 &
wk=$!
pids+=($wk)
busy() { [ $(($(cputicks "$victim") - t0)) -ge 50 ]; } # 0.5 s of CPU: it is serving
retry 10 busy
st=$?
kill -9 "$victim"
respawned() { w=$(workers); [ "$(echo "$w" | wc -l)" = "$nw" ] && ! echo "$w" | grep -qx "$victim"; }
retry 10 respawned
st=$((st | $?))
wait "$wk"
st=$((st | $?))
keep=(); for p in "${pids[@]}"; do [ "$p" = "$wk" ] || keep+=("$p"); done; pids=("${keep[@]}") # waited for
grep -q 'Requests/sec' "$LOG/wrk-kill.txt"
st=$((st | $?))
in_peer timeout 60 wrk -c 200 -t 2 -d 5s http://10.0.0.2:8080/index.html >"$LOG/wrk-after.txt" 2>&1
st=$((st | $?))
! grep -q 'Socket errors' "$LOG/wrk-after.txt" && grep -q 'Requests/sec' "$LOG/wrk-after.txt" &&
    ! grep -q 'exited on signal 11' "$LOG/nginx-error.log"
held=$(grep -c "died holding Sluice's lock" "$LOG/nginx-error.log")
rerr=$(sed -n 's/.*Socket errors:.*read \([0-9]*\).*/\1/p' "$LOG/wrk-kill.txt")
result "SIGKILL to worker $victim in the middle of wrk -c 200 -d 10s (${rerr:-0} read errors; died holding the lock: $held): the master respawned it, the run went on; wrk -c 200 -d 5s after: no socket errors ($(grep 'Requests/sec' "$LOG/wrk-after.txt" | tr -s ' '))" $((st | $?))
stop_nginx "$LOG/nginx.pid"

# ---- apache2 on Sluice as Debian ships it (/etc/apache2 copied: User
# www-data, mpm_event, then mpm_prefork; only Listen changed), ab on the
# kernel ----
apache_run() { # mpm: starts apache2 with that MPM, runs ab -n 20000 -c 50, stops it
    local conf="$LOG/apache2-$1" pidf="$LOG/apache2-$1.run/apache2.pid" p st
    rm -rf "$conf"
    cp -a /etc/apache2 "$conf"
    sed -i 's/^Listen 80$/Listen 10.0.0.2:8081/' "$conf/ports.conf"
    sed -i 's/<VirtualHost \*:80>/<VirtualHost *:8081>/' "$conf/sites-enabled/000-default.conf"
    rm -f "$conf"/mods-enabled/mpm_*
    ln -s "../mods-available/mpm_$1.load" "$conf/mods-enabled/"
    ln -s "../mods-available/mpm_$1.conf" "$conf/mods-enabled/"
    mkdir -p "$LOG/apache2-$1.run" "$LOG/apache2-$1.lock" "$LOG/apache2-$1.log"
    pidfiles+=("$pidf")
    env APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE="$pidf" \
        APACHE_RUN_DIR="$LOG/apache2-$1.run" APACHE_LOCK_DIR="$LOG/apache2-$1.lock" \
        APACHE_LOG_DIR="$LOG/apache2-$1.log" LANG=C \
        "$RUN" -- apache2 -d "$conf" -f "$conf/apache2.conf" -k start >"$LOG/apache2-$1.start" 2>&1
    retry 30 in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8081/
    st=$?
    in_peer timeout 300 ab -n 20000 -c 50 http://10.0.0.2:8081/ >"$LOG/ab-apache2-$1.txt" 2>&1
    st=$((st | $?))
    grep -q '^Complete requests: *20000$' "$LOG/ab-apache2-$1.txt" && grep -q '^Failed requests: *0$' "$LOG/ab-apache2-$1.txt" &&
        ! grep -q '^Non-2xx responses' "$LOG/ab-apache2-$1.txt"
    st=$((st | $?))
    # AH00056: the parent's connection to its own listener (prefork wakes
    # a child so) failed; it goes through Sluice's loop
    ! grep -q 'AH00056' "$LOG/apache2-$1.log/error.log"
    st=$((st | $?))
    local kids
    kids=$(ps -o user= --ppid "$(cat "$pidf" 2>/dev/null || echo 1)" | grep -c www-data)
    [ "$kids" -ge 1 ]
    st=$((st | $?))
    local what="apache2 (mpm_$1, $kids children as www-data) under sluice-run: ab -n 20000 -c 50, 0 failed ($(grep 'Requests per second' "$LOG/ab-apache2-$1.txt" | tr -s ' '))"
    result "$what" "$st"
    p=$(cat "$pidf" 2>/dev/null)
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
    for _ in $(seq 100); do [ -n "$p" ] && kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
}
apache_run event
apache_run prefork

# ---- PostgreSQL 15 on Sluice under its own user, pgbench on the kernel ----
# postgres never runs as root: it gets the capabilities the device needs
# (CAP_NET_RAW to open, CAP_NET_ADMIN to bring it up; below for AF_XDP),
# and nothing else. The postmaster forks a backend per connection, each
# serving the socket it inherited.
PGBIN=/usr/lib/postgresql/15/bin
mkdir -p "$LOG/pg"
chown postgres:postgres "$LOG/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$LOG/pg/data" -U postgres --auth=trust >"$LOG/pg-initdb.log" 2>&1
st=$?
cat >>"$LOG/pg/data/postgresql.conf" <<PGC
listen_addresses = '10.0.0.2'
port = 5433
unix_socket_directories = '$LOG/pg'
PGC
echo "host all all 10.0.0.0/24 trust" >>"$LOG/pg/data/pg_hba.conf"
# user postgres may not reach the build tree (a checkout under /root, a
# mktemp directory): sluice-run and the libraries, copied where it can
# (libsluice-preload.so finds libsluice.so at $ORIGIN/../core)
mkdir -p "$LOG/rt/preload" "$LOG/rt/core"
cp "$ROOT/$BUILD/preload/sluice-run" "$ROOT/$BUILD/preload/libsluice-preload.so" "$LOG/rt/preload/"
for f in "$ROOT/$BUILD/core"/libsluice.so*; do [ -d "$f" ] || cp -P "$f" "$LOG/rt/core/"; done
chmod -R a+rX "$LOG/rt"
# AF_XDP also needs CAP_SYS_ADMIN (its UMEM, its XDP program) and
# CAP_IPC_LOCK (the UMEM is locked memory)
case $SLUICE_NET_DEVARGS in
net_af_xdp*) PGCAPS=+net_raw,+net_admin,+sys_admin,+ipc_lock ;;
*) PGCAPS=+net_raw,+net_admin ;;
esac
setpriv --reuid=postgres --regid=postgres --init-groups --inh-caps=$PGCAPS \
    --ambient-caps=$PGCAPS -- "$LOG/rt/preload/sluice-run" -- "$PGBIN/postgres" -D "$LOG/pg/data" \
    >"$LOG/pg.log" 2>&1 &
pg=$!
pids+=($pg)
retry 30 in_peer env PGCONNECT_TIMEOUT=2 "$PGBIN/psql" -h 10.0.0.2 -p 5433 -U postgres -c 'select 1' postgres
st=$((st | $?))
in_peer timeout 120 "$PGBIN/pgbench" -h 10.0.0.2 -p 5433 -U postgres -i -s 2 postgres >"$LOG/pgbench-init.txt" 2>&1
st=$((st | $?))
in_peer timeout 120 "$PGBIN/pgbench" -h 10.0.0.2 -p 5433 -U postgres -T 20 -c 8 -j 2 postgres >"$LOG/pgbench.txt" 2>&1
st=$((st | $?))
grep -q '^number of failed transactions: 0 ' "$LOG/pgbench.txt" &&
    [ "$(awk '/^number of transactions actually processed/ {print $NF}' "$LOG/pgbench.txt")" -gt 0 ]
result "postgres (user postgres) under sluice-run: pgbench -T 20 -c 8 -j 2, 0 failed ($(grep '^tps' "$LOG/pgbench.txt" | cut -d' ' -f1-3))" $((st | $?))
kill -INT "$pg" 2>/dev/null # fast shutdown: the postmaster stops its backends
stop_pid "$pg" 20

# ---- socat TCP-LISTEN:PORT,fork EXEC:cat on Sluice ----
# a child per connection (the parent closes its copy at once: the child's
# reference keeps the connection), and a grandchild exec'ing cat
"$RUN" -- socat TCP-LISTEN:7001,fork,reuseaddr EXEC:cat >"$LOG/socat.log" 2>&1 &
sc=$!
pids+=($sc)
retry 30 in_peer python3 -c "import socket; socket.create_connection(('10.0.0.2', 7001), timeout=1).close()"
# 4 at a time: socat listens with a backlog of 5, and past it Linux itself
# answers with SYN cookies and resets a cookie connection whose last ACK
# found the accept queue full (60 at a time against a kernel socat: 97 of
# 100 echoed); the backlog rules have their own unit tests
in_peer timeout 120 python3 tests/preload/echo_client.py 10.0.0.2 7001 100 4 >"$LOG/socat-echo.txt" 2>&1
st=$?
result "socat TCP-LISTEN,fork EXEC:cat under sluice-run: $(tail -n1 "$LOG/socat-echo.txt")" $st
stop_pid "$sc"

# ---- mosquitto with Debian's settings (it switches to user mosquitto
# before binding: the stack starts at that switch), clients on the kernel ----
mkdir -p "$LOG/mq"
chown mosquitto "$LOG/mq"
cat >"$LOG/mosquitto.conf" <<MQC
pid_file $LOG/mq/mosquitto.pid
persistence true
persistence_location $LOG/mq/
log_dest file $LOG/mq/mosquitto.log
listener 1883 10.0.0.2
allow_anonymous true
MQC
"$RUN" -- mosquitto -c "$LOG/mosquitto.conf" >"$LOG/mosquitto.start" 2>&1 &
mq=$!
pids+=($mq)
retry 30 in_peer mosquitto_pub -h 10.0.0.2 -t probe -m up
st=$?
seq 1 1000 | sed 's/^/message-/' >"$LOG/mq-sent.txt"
# the subscriber is ready once a probe it subscribed to comes back
ip netns exec "$SLUICE_NET_NS" timeout 60 mosquitto_sub -h 10.0.0.2 -v -q 1 -t t/1 -t probe >"$LOG/mq-sub.txt" 2>"$LOG/mq-sub.err" &
sub=$!
pids+=($sub)
sub_ready() { in_peer mosquitto_pub -h 10.0.0.2 -t probe -m ready && grep -q '^probe ready$' "$LOG/mq-sub.txt"; }
retry 10 sub_ready
st=$((st | $?))
in_peer mosquitto_pub -h 10.0.0.2 -t t/1 -q 1 -l <"$LOG/mq-sent.txt"
st=$((st | $?))
mq_all() { [ "$(grep -c '^t/1 ' "$LOG/mq-sub.txt")" -ge 1000 ]; }
retry 20 mq_all
st=$((st | $?))
stop_pid "$sub"
sed -n 's|^t/1 ||p' "$LOG/mq-sub.txt" >"$LOG/mq-got.txt"
cmp -s "$LOG/mq-sent.txt" "$LOG/mq-got.txt" && [ "$(ps -o user= -p "$mq")" = mosquitto ]
result "mosquitto (user mosquitto) under sluice-run: 1000 messages published and received equal" $((st | $?))
stop_pid "$mq"

# ---- memcached -t 2 on Sluice ----
"$RUN" -- memcached -u root -t 2 -p 11211 -U 0 -l 0.0.0.0 -m 256 >"$LOG/memcached.log" 2>&1 &
mc=$!
pids+=($mc)
retry 30 in_peer python3 -c "import socket; socket.create_connection(('10.0.0.2', 11211), timeout=1).close()"
in_peer timeout 300 python3 tests/preload/memcache_client.py 10.0.0.2 11211 10000 >"$LOG/memcache.txt" 2>&1
st=$?
result "memcached -t 2 under sluice-run: $(tail -n1 "$LOG/memcache.txt" | sed 's/memcache_client: //')" $st
stop_pid "$mc"

# ---- clients on Sluice, servers on the kernel ----
# not through in_peer: a backgrounded function is a subshell, and $! must be redis-server itself
ip netns exec "$SLUICE_NET_NS" redis-server --bind 10.0.0.1 --port 6380 --save '' --appendonly no --protected-mode no \
    >"$LOG/kredis.log" 2>&1 &
kredis=$!
pids+=($kredis)
retry 30 in_peer redis-cli -h 10.0.0.1 -p 6380 ping
timeout 300 "$RUN" -- redis-benchmark -h 10.0.0.1 -p 6380 -t set,get -n 20000 -c 10 -q >"$LOG/sbench.txt" 2>&1
st=$?
[ "$(rps "$LOG/sbench.txt" | wc -l)" = 2 ]
result "redis-benchmark under sluice-run against a kernel redis-server (requests/s: $(rps_short "$LOG/sbench.txt"))" $((st | $?))
stop_pid "$kredis"

head -c $((10 * 1024 * 1024)) /dev/urandom >"$LOG/html/ten.bin"
sed -e "s|listen 8080|listen 10.0.0.1:8081|" -e "s|$LOG/nginx.pid|$LOG/knginx.pid|" \
    -e "s|nginx-error.log|knginx-error.log|" "$LOG/nginx.conf" >"$LOG/knginx.conf"
pidfiles+=("$LOG/knginx.pid")
in_peer nginx -c "$LOG/knginx.conf" -p "$LOG/ngx" >"$LOG/knginx-start.log" 2>&1
retry 30 in_peer curl -sf -m 2 -o /dev/null http://10.0.0.1:8081/index.html
want=$(sha256sum <"$LOG/html/ten.bin" | cut -d' ' -f1)
got=$(timeout 120 "$RUN" -- curl -s -m 100 http://10.0.0.1:8081/ten.bin 2>"$LOG/scurl.err" | sha256sum | cut -d' ' -f1)
[ "$want" = "$got" ]
result "curl under sluice-run fetching 10 MiB from a kernel nginx: equal SHA-256" $?
stop_nginx "$LOG/knginx.pid"

# ---- iperf3 -s on Sluice, the client on the kernel ----
# iperf3's UDP server connects its socket to the client and binds a second
# one to the same port (both SO_REUSEADDR) for the next client, which it
# closes once the test's streams are there: two UDP tests back to back on
# one server, each binding two Sluice sockets to the port (the interposer's
# debug line per socket made on the stack says so).
listening() { # pid port: a Sluice TCP listener on port, per sluice-stat --json
    "$STAT" "$1" --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(r["state"] == 1 and r["lport"] == int(sys.argv[1]) for r in json.load(sys.stdin)["tcp"]) else 1)' "$2"
}
iperf_ok() { # json file, udp|tcp: the test ran and bytes arrived (UDP: under 5 % lost); prints a summary
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("no JSON")
    sys.exit(1)
e = d.get("end", {})
r = e.get("sum_received") or e.get("sum") or {}
ok = "error" not in d and r.get("bytes", 0) > 0
if sys.argv[2] == "udp":
    ok = ok and r.get("packets", 0) > 0 and r.get("lost_percent", 100) < 5
print("%s: %d bytes received, %.1f Mbit/s, lost %s %%" % (d.get("error", "ok"), r.get("bytes", 0),
      r.get("bits_per_second", 0) / 1e6, r.get("lost_percent", "-")))
sys.exit(0 if ok else 1)
PY
}
"$RUN" --log debug -- iperf3 -s -4 -p 5201 >"$LOG/iperf3-server.log" 2>&1 &
ip3=$!
pids+=($ip3)
retry 30 listening "$ip3" 5201
result "iperf3 -s under sluice-run listens" $?
in_peer timeout 60 iperf3 -u -c 10.0.0.2 -b 50M -t 3 --json >"$LOG/iperf3-u1.json" 2>&1
st=$?
sum=$(iperf_ok "$LOG/iperf3-u1.json" udp)
result "iperf3 -u -b 50M -t 3 to Sluice ($sum)" $((st | $?))
in_peer timeout 60 iperf3 -u -c 10.0.0.2 -b 50M -t 3 --json >"$LOG/iperf3-u2.json" 2>&1
st=$?
sum=$(iperf_ok "$LOG/iperf3-u2.json" udp)
st=$((st | $?))
bound=$(grep -c 'UDP socket on Sluice (qd [0-9]*), bound to port 5201' "$LOG/iperf3-server.log")
[ "$bound" -ge 4 ] && ! grep -q 'iperf3: error' "$LOG/iperf3-server.log"
result "iperf3 -u again on the same server: $bound UDP sockets bound to port 5201 in two tests ($sum)" $((st | $?))
in_peer timeout 60 iperf3 -u -R -c 10.0.0.2 -b 50M -t 3 --json >"$LOG/iperf3-ur.json" 2>&1
st=$?
sum=$(iperf_ok "$LOG/iperf3-ur.json" udp)
result "iperf3 -u -R -b 50M -t 3 from Sluice ($sum)" $((st | $?))
in_peer timeout 60 iperf3 -c 10.0.0.2 -t 3 --json >"$LOG/iperf3-tcp.json" 2>&1
st=$?
sum=$(iperf_ok "$LOG/iperf3-tcp.json" tcp)
result "iperf3 TCP -t 3 to Sluice ($sum)" $((st | $?))
stop_pid "$ip3"

# ---- python3 -m http.server on Sluice (listen backlog 5), ab -c 50 on the kernel ----
mkdir -p "$LOG/www"
head -c 4096 /dev/urandom | base64 >"$LOG/www/file.txt"
(cd "$LOG/www" && exec "$RUN" -- /usr/bin/python3 -m http.server 8000 --bind 0.0.0.0) >"$LOG/httpd.log" 2>&1 &
httpd=$!
pids+=($httpd)
retry 30 in_peer curl -sf -m 2 -o /dev/null http://10.0.0.2:8000/file.txt
result "python3 -m http.server under sluice-run answers curl from the kernel" $?
in_peer timeout 300 ab -n 5000 -c 50 http://10.0.0.2:8000/file.txt >"$LOG/ab.txt" 2>&1
st=$?
grep -q '^Complete requests: *5000$' "$LOG/ab.txt" && grep -q '^Failed requests: *0$' "$LOG/ab.txt" &&
    ! grep -q '^Non-2xx responses' "$LOG/ab.txt"
result "ab -n 5000 -c 50 against python3's http.server: 0 failed, 0 non-2xx ($(grep 'Requests per second' "$LOG/ab.txt" | tr -s ' '))" $((st | $?))
stop_pid "$httpd"

echo "apps: $passed passed, $failed failed"
[ "$failed" = 0 ] && { cleanup; rm -rf "$LOG"; trap - EXIT; }
[ "$failed" = 0 ]
