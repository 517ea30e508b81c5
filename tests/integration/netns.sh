#!/usr/bin/env bash
# netns.sh - the throwaway network of one integration test, and the
# clean-up of whatever a crashed test left behind.
#
#   netns.sh up NS HOST_IF PEER_IF ADDR/LEN MTU
#       namespace NS holding PEER_IF (ADDR/LEN, lo up), its veth peer
#       HOST_IF in the caller's namespace (no address, IPv6 off); both ends
#       with MTU and offloads off. Each name is first appended to the file
#       $SLUICE_TEST_LEDGER (when set), so that run.sh can remove it even if
#       the test dies before its teardown.
#   netns.sh down NS HOST_IF      removes both (absent is fine)
#   netns.sh cleanup LEDGER       removes everything LEDGER lists
#
# It only ever deletes names it is given: never anything else.
set -uo pipefail

record() { # kind name
    if [ -n "${SLUICE_TEST_LEDGER:-}" ]; then
        printf '%s %s\n' "$1" "$2" >>"$SLUICE_TEST_LEDGER"
    fi
}

offloads_off() { # exec-prefix... dev
    local dev=${*: -1}
    command -v ethtool >/dev/null || return 0
    for feature in tx rx tso gso gro; do
        "${@:1:$#-1}" ethtool -K "$dev" "$feature" off >/dev/null 2>&1 || true
    done
}

up() {
    local ns=$1 host_if=$2 peer_if=$3 addr=$4 mtu=$5
    record ns "$ns"
    record if "$host_if"
    ip netns add "$ns" || return 1
    ip link add "$host_if" mtu "$mtu" type veth peer name "$peer_if" mtu "$mtu" netns "$ns" || return 1
    sysctl -q -w "net.ipv6.conf.$host_if.disable_ipv6=1" >/dev/null 2>&1 || true
    ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$peer_if.disable_ipv6=1" >/dev/null 2>&1 || true
    offloads_off env "$host_if"
    offloads_off ip netns exec "$ns" "$peer_if"
    ip -n "$ns" addr add "$addr" dev "$peer_if" || return 1
    ip -n "$ns" link set dev lo up || return 1
    ip -n "$ns" link set dev "$peer_if" up || return 1
    ip link set dev "$host_if" up
}

down() {
    local ns=$1 host_if=$2
    if ip link show dev "$host_if" >/dev/null 2>&1; then
        ip link del dev "$host_if"
    fi
    if ip netns list | awk '{print $1}' | grep -qx -- "$ns"; then
        ip netns del "$ns"
    fi
    return 0
}

cleanup() {
    local ledger=$1 kind name
    [ -f "$ledger" ] || return 0
    while read -r kind name; do
        case $kind in
            ns) ip netns list | awk '{print $1}' | grep -qx -- "$name" && ip netns del "$name" &&
                    echo "netns.sh: removed leftover namespace $name" ;;
            if) ip link show dev "$name" >/dev/null 2>&1 && ip link del dev "$name" &&
                    echo "netns.sh: removed leftover interface $name" ;;
        esac
    done <"$ledger"
    return 0
}

case ${1:-} in
    up) [ $# -eq 6 ] || { echo "usage: $0 up NS HOST_IF PEER_IF ADDR/LEN MTU" >&2; exit 2; }; shift; up "$@" ;;
    down) [ $# -eq 3 ] || { echo "usage: $0 down NS HOST_IF" >&2; exit 2; }; shift; down "$@" ;;
    cleanup) [ $# -eq 2 ] || { echo "usage: $0 cleanup LEDGER" >&2; exit 2; }; cleanup "$2" ;;
    *) echo "usage: $0 up|down|cleanup ..." >&2; exit 2 ;;
esac
