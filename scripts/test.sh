#!/usr/bin/env bash
# test.sh - installs what is missing, builds Sluice twice (normal, and
# ASan+UBSan) and runs every test:
#   1. the Criterion unit tests of the normal build (hugepages when the
#      machine has them),
#   2. `meson install` into build/prefix and a native program of
#      tests/apps/ (and the mTCP/mOS compile tests) built against it with
#      pkg-config alone; every exported
#      function has an installed man page (scripts/check_man.sh),
#   3. the integration tests: Sluice against the Linux kernel in a network
#      namespace (ping, ARP, UDP echo both ways, ICMP), two Sluice processes
#      over net_memif (tests/integration/dataplane.sh; needs root), TCP
#      against the Linux kernel (tests/integration/tcp_linux.sh),
#      programs written to mTCP's API (tests/integration/mtcp.sh),
#      mOS's monitor sockets inline and passive between two namespaces
#      (tests/integration/mos.sh),
#      the interposer (tests/preload/run.sh) and Debian's redis-server,
#      nginx, memcached, redis-benchmark, wrk and curl on Sluice
#      (tests/preload/apps.sh), and nginx's workers on an engine each
#      (tests/preload/engines.sh),
#   4. the libFuzzer targets (clang-14): config parser, TCP options, an
#      established connection fed segments, clock steps and app calls
#      (fuzz_tcp_state), and frames into the stack for 60 s,
#   5. the Criterion unit tests of the sanitizer build, with DPDK on
#      --no-huge (so both memory paths are tested),
#   6. a check that no process this run started is still alive (each
#      carries SLUICE_TEST_RUN in its environment); one that is fails the
#      run (and is stopped, by PID).
# Between the builds and the tests, scripts/check_layers.sh checks that no
# include crosses a layer the wrong way (docs/DESIGN.md "Layers").
# Exits non-zero if anything failed. Idempotent.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_FRAME_SECONDS=${FUZZ_FRAME_SECONDS:-60}
failed=()

step() { printf '\n=== %s\n' "$*"; }

# Every process this run starts carries this mark in its environment (also
# after it is reparented, e.g. a peer left in a namespace that was
# deleted); the last step looks for marked processes still alive.
export SLUICE_TEST_RUN="test.sh.$$.$(date +%s%N)"

# PIDs of live processes carrying this run's mark (the grep itself runs
# without it; forked subshells of this script show its original
# environment, which has no mark).
marked_processes() {
    local f
    for f in $(env -u SLUICE_TEST_RUN grep -lzx "SLUICE_TEST_RUN=$SLUICE_TEST_RUN" /proc/[0-9]*/environ 2>/dev/null); do
        f=${f#/proc/}
        echo "${f%/environ}"
    done
}

./scripts/setup.sh || exit 1

configure() { # dir, meson args...
    local dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

step "build: normal (-Wall -Wextra -Werror)"
configure build --prefix="$ROOT/build/prefix" || exit 1
ninja -C build || exit 1

step "build: ASan+UBSan"
configure build-asan -Db_sanitize=address,undefined -Db_lundef=false || exit 1
ninja -C build-asan || exit 1

step "layers: includes cross no layer the wrong way (scripts/check_layers.sh)"
./scripts/check_layers.sh build || failed+=("layer check (scripts/check_layers.sh)")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}

step "unit tests (normal build)"
./build/tests/sluice-unit --jobs=2 || failed+=("unit tests (normal build)")

step "install + a native program built with pkg-config alone"
if ninja -C build install >/dev/null &&
   ./tests/apps/build-with-pkg-config.sh "$ROOT/build/prefix"; then
    echo "apps: native program built against the installed sluice.pc and ran: ok"
else
    failed+=("native program via pkg-config")
fi

step "man pages: every exported function of libsluice.so has an installed page (scripts/check_man.sh)"
./scripts/check_man.sh "$ROOT/build/prefix" || failed+=("man pages (scripts/check_man.sh)")

step "integration: DPDK devices (af_packet, tap, memif) in namespaces of their own"
./tests/integration/run.sh ./build/tests/test_netdev || failed+=("device integration tests")

step "integration: Sluice against the Linux kernel and over net_memif"
./tests/integration/dataplane.sh build || failed+=("data-plane integration tests")

step "integration: TCP against the Linux kernel (tests/integration/tcp_linux.sh: 100 MiB each way clean and under loss, reordering, duplication; 1,000 sequential and 10,000 concurrent connections; every close path; a SYN flood)"
./tests/integration/tcp_linux.sh build || failed+=("TCP against Linux (tests/integration/tcp_linux.sh)")

step "integration: programs written to mTCP's API (tests/integration/mtcp.sh: an epoll server with two contexts on two threads against curl and wrk, a client against a kernel nginx)"
./tests/integration/mtcp.sh build || failed+=("mTCP API programs (tests/integration/mtcp.sh)")

step "integration: mOS monitors (tests/integration/mos.sh: midstat inline between two namespaces over 1,000 flows with 1 % loss and 2 % reordering, passive on a mirrored copy, an inline firewall)"
./tests/integration/mos.sh build || failed+=("mOS monitors (tests/integration/mos.sh)")

step "interposer: errno comparison with the kernel, readiness order and epoll semantics, passthrough, UDP, fork, epoll, half-close, one-byte writes (tests/preload/run.sh)"
./tests/preload/run.sh build || failed+=("interposer tests (tests/preload/run.sh)")

step "apps on Sluice: redis-server, nginx, memcached; redis-benchmark and curl under sluice-run (tests/preload/apps.sh)"
./tests/preload/apps.sh build || failed+=("app tests (tests/preload/apps.sh)")

step "a process family on two engines: nginx worker_processes 2, an engine per worker, net_af_xdp on a 2-queue veth (tests/preload/engines.sh)"
./tests/preload/engines.sh build || failed+=("engines per process (tests/preload/engines.sh)")

fuzz() { # target, seconds: runs the kept corpus (regressions) and then new inputs
    mkdir -p "build-fuzz/corpus-$1"
    ./build-fuzz/tests/"fuzz_$1" -max_total_time="$2" -print_final_stats=0 \
        "build-fuzz/corpus-$1" "tests/fuzz/corpus/$1" > "build-fuzz/fuzz-$1.log" 2>&1
    local rc=$?
    tail -n 2 "build-fuzz/fuzz-$1.log"
    return $rc
}

step "fuzz: config parser, TCP options and TCP connection states ${FUZZ_SECONDS}s each, frames ${FUZZ_FRAME_SECONDS}s (clang-14, ASan+UBSan)"
if CC=clang-14 configure build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false && ninja -C build-fuzz tests/fuzz_config tests/fuzz_frame tests/fuzz_tcp_options tests/fuzz_tcp_state >/dev/null; then
    fuzz config "$FUZZ_SECONDS" || failed+=("fuzz: config parser (see build-fuzz/fuzz-config.log)")
    fuzz frame "$FUZZ_FRAME_SECONDS" || failed+=("fuzz: frames (see build-fuzz/fuzz-frame.log)")
    fuzz tcp_options "$FUZZ_SECONDS" || failed+=("fuzz: TCP options (see build-fuzz/fuzz-tcp_options.log)")
    fuzz tcp_state "$FUZZ_SECONDS" || failed+=("fuzz: TCP connection states (see build-fuzz/fuzz-tcp_state.log)")
else
    failed+=("fuzz build")
fi

step "unit tests (ASan+UBSan build, DPDK --no-huge)"
SLUICE_EAL_HUGEPAGES=off ./build-asan/tests/sluice-unit --jobs=2 || failed+=("unit tests (sanitizer build)")

step "no process this run started is still alive"
sleep 1 # processes that are exiting right now
left=$(marked_processes)
if [ -n "$left" ]; then
    echo "test.sh: processes started by this run outlived it:" >&2
    for pid in $left; do
        ps -o pid=,ppid=,etime=,args= -p "$pid" >&2
    done
    for pid in $left; do kill -TERM "$pid" 2>/dev/null; done # by PID: ours alone
    failed+=("processes left running: $(echo $left)")
else
    echo "test.sh: none left"
fi

if [ ${#failed[@]} -gt 0 ]; then
    printf '\nFAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
