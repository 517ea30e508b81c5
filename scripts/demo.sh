#!/usr/bin/env bash
# demo.sh - the main job in one command: an unmodified redis-server (Debian's
# own binary) on the Sluice stack, served to redis-benchmark running on the
# Linux kernel, with the requests per second printed.
#
# From a fresh clone, as root: installs what is missing (scripts/setup.sh),
# builds (meson/ninja in build/), brings up the default topology
# (scripts/net.sh: Sluice at 10.0.0.2 on the veth sluice0, the kernel at
# 10.0.0.1 in namespace sluice-peer), starts redis-server under sluice-run,
# runs redis-benchmark from the namespace, prints the results and tears
# down what it made (the topology only if it was not there before), even on
# failure. Environment: REQUESTS (default 100000), CLIENTS (default 50),
# BUILD (default build: the build directory), SKIP_SETUP=1 (do not run
# scripts/setup.sh: everything is installed already).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-50}
NS=sluice-peer
say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and creates a network namespace): sudo $0"
# the default topology, whatever the caller's environment says
unset SLUICE_NET_NS SLUICE_NET_IF SLUICE_NET_PEER_IF SLUICE_NET_PEER_ADDR SLUICE_NET_DEVARGS SLUICE_NET_ADDR \
    SLUICE_CONFIG SLUICE_PRELOAD_RULES LD_PRELOAD

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    say "installing what is missing (scripts/setup.sh)"
    ./scripts/setup.sh >/tmp/sluice-demo-setup.log 2>&1 ||
        { tail -20 /tmp/sluice-demo-setup.log; die "setup failed (log: /tmp/sluice-demo-setup.log)"; }
fi
say "building (meson + ninja in $BUILD/)"
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --prefix="$ROOT/$BUILD/prefix" >/dev/null
fi
ninja -C "$BUILD" >/tmp/sluice-demo-build.log 2>&1 ||
    { tail -20 /tmp/sluice-demo-build.log; die "build failed (log: /tmp/sluice-demo-build.log)"; }

made_net=0
redis=
workdir=$(mktemp -d /tmp/sluice-demo.XXXXXX)
cleanup() {
    if [ -n "$redis" ]; then
        kill "$redis" 2>/dev/null || true
        wait "$redis" 2>/dev/null || true
    fi
    [ "$made_net" = 1 ] && ./scripts/net.sh down >/dev/null 2>&1
    rm -rf "$workdir"
}
trap cleanup EXIT

if ./scripts/net.sh status >/dev/null 2>&1; then
    say "topology already up (scripts/net.sh status): using it"
else
    ./scripts/net.sh up >/dev/null
    made_net=1
    say "topology up: Sluice 10.0.0.2 on sluice0 <-> the kernel 10.0.0.1 in namespace $NS"
fi

say "starting redis-server under sluice-run (Debian's binary, unmodified)"
(cd "$workdir" && exec "$ROOT/$BUILD/preload/sluice-run" -- redis-server --port 6379 --save '' \
    --appendonly no --protected-mode no) >"$workdir/redis.log" 2>&1 &
redis=$!
for _ in $(seq 150); do
    ip netns exec "$NS" redis-cli -h 10.0.0.2 ping >/dev/null 2>&1 && break
    kill -0 "$redis" 2>/dev/null || { cat "$workdir/redis.log"; die "redis-server did not start under sluice-run"; }
    sleep 0.2
done
ip netns exec "$NS" redis-cli -h 10.0.0.2 ping >/dev/null 2>&1 || { tail "$workdir/redis.log"; die "redis-server on Sluice does not answer"; }

say "redis-benchmark on the Linux kernel (namespace $NS) -> redis-server on Sluice (10.0.0.2):"
for args in "-c $CLIENTS" "-c $CLIENTS -P 16"; do
    out=$(ip netns exec "$NS" redis-benchmark -h 10.0.0.2 -t set,get -n "$REQUESTS" $args -q 2>&1 | tr '\r' '\n' |
        grep 'requests per second') || die "redis-benchmark failed"
    printf '  %-14s %s\n' "($args)" "$(echo "$out" | sed 's/, p50.*//' | paste -sd ';' | sed 's/;/;  /g')"
done
say "done (redis-server stopped, topology removed if this script made it)"
