#!/usr/bin/env bash
# setup.sh - installs the Debian packages Sluice builds and tests with, and
# reserves hugepages when it can (DPDK falls back to --no-huge otherwise).
# Idempotent: installs only what is missing. Needs root for both steps.
set -euo pipefail

PACKAGES=(gcc pkg-config meson ninja-build libdpdk-dev libcriterion-dev libyaml-dev libpcap-dev
          clang-14 libclang-rt-14-dev iproute2 ethtool iputils-ping python3 libsodium-dev
          python3-scapy tcpdump vde2 redis-server redis-tools nginx-light memcached wrk curl
          sockperf iperf3 apache2-utils python3-matplotlib scdoc man-db
          apache2 postgresql mosquitto mosquitto-clients socat libmemcached-tools)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing packages (${missing[*]}); run as root or: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    # The servers (apache2, postgresql, mosquitto...) are for the tests,
    # which start them by PID in namespaces of their own: Debian's packages
    # must not start them as services on this machine's network on install.
    own_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
    fi
    apt-get update -qq
    rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || exit "$rc"
fi

# Hugepages: 512 x 2 MiB, and a hugetlbfs mount. Failure is not fatal.
if [ "$(id -u)" = 0 ]; then
    total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
    if [ "${total:-0}" -lt 512 ]; then
        echo 512 > /proc/sys/vm/nr_hugepages 2>/dev/null || true
    fi
    if ! grep -q ' hugetlbfs ' /proc/mounts; then
        mkdir -p /dev/hugepages
        mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
    fi
    # bpffs for libxdp (net_af_xdp): without it libxdp loads its program
    # without the dispatcher and says so on every start
    if ! grep -q ' /sys/fs/bpf bpf ' /proc/mounts; then
        mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
    fi
fi
free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
if grep -q ' hugetlbfs ' /proc/mounts && [ "${free:-0}" -gt 0 ]; then
    echo "setup: hugepages: ${free} free"
else
    echo "setup: no hugepages here: Sluice will run DPDK with --no-huge"
fi
