#!/usr/bin/env bash
# net.sh up|down|status - the default network Sluice talks to: a veth pair
# whose far end lives in its own network namespace, so that the kernel
# there is the peer and nothing on the host's real network is touched.
#
#   host namespace                        namespace sluice-peer
#   +--------------------------------+    +----------------------------+
#   | sluice0  (no IP address)       |    | peer0  10.0.0.1/24         |
#   |   Sluice: 10.0.0.2 through     |====|   the kernel answers ARP,  |
#   |   net_af_xdp0,iface=sluice0    |veth|   ping, UDP...             |
#   +--------------------------------+    | lo up                      |
#                                         +----------------------------+
#
# sluice0 is left to Sluice: no IPv4 address, IPv6 off (no router
# solicitations or DAD of the host's kernel in Sluice's way), forwarding
# off, and arp_ignore 8 so the host's kernel never answers ARP there.
# Offloads (tx/rx checksum, TSO, GSO, GRO) are off on both ends: veth would
# otherwise hand the device frames with unfinished checksums and
# super-frames larger than the MTU. IPv6 is off on peer0 too, so that the
# peer sends Sluice only what a test asked for.
#
# The pair has SLUICE_NET_VETH_QUEUES queues each way (default 1, at most
# 64): with more, net_af_xdp gives each engine a queue of its own
# (net.queues) and the peer kernel's transmit hash picks the queue of each
# flow, so net.queues must then be that number (a queue nobody reads loses
# its frames; Sluice warns). bpffs is mounted at /sys/fs/bpf when it is not
# (libxdp keeps its dispatcher there).
#
# Environment (defaults):
#   SLUICE_NET_NS=sluice-peer  SLUICE_NET_IF=sluice0  SLUICE_NET_PEER_IF=peer0
#   SLUICE_NET_PEER_ADDR=10.0.0.1/24  SLUICE_NET_MTU=1500
#   SLUICE_NET_VETH_QUEUES=1
#
# up is idempotent (it fixes settings of an existing pair), down removes
# exactly what up made (the veth pair and the namespace) and succeeds if
# nothing is there, status says what is there (exit 0 when complete).
# Needs root (iproute2, ethtool).
set -euo pipefail

NS=${SLUICE_NET_NS:-sluice-peer}
IF=${SLUICE_NET_IF:-sluice0}
PEER_IF=${SLUICE_NET_PEER_IF:-peer0}
PEER_ADDR=${SLUICE_NET_PEER_ADDR:-10.0.0.1/24}
MTU=${SLUICE_NET_MTU:-1500}
QUEUES=${SLUICE_NET_VETH_QUEUES:-1}
[ "$QUEUES" -gt 64 ] && QUEUES=64

say() { printf 'net.sh: %s\n' "$*"; }
die() { printf 'net.sh: %s\n' "$*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it creates a namespace and a veth pair): sudo $0 $*"
    command -v ip >/dev/null || die "ip not found: apt-get install iproute2"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$NS"; }
if_exists() { ip link show dev "$IF" >/dev/null 2>&1; }
peer_exists() { ns_exists && ip -n "$NS" link show dev "$PEER_IF" >/dev/null 2>&1; }
is_veth() { ip -d link show dev "$IF" 2>/dev/null | grep -qw veth; }

# ethtool -K one feature at a time: a feature the driver does not have
# would make the whole command fail.
offloads_off() { # [netns] ifname
    local exec=() dev
    if [ $# -eq 2 ]; then exec=(ip netns exec "$1"); dev=$2; else dev=$1; fi
    if ! command -v ethtool >/dev/null; then
        say "warning: ethtool not found (apt-get install ethtool): offloads stay on for $dev"
        return 0
    fi
    for feature in tx rx tso gso gro; do
        "${exec[@]}" ethtool -K "$dev" "$feature" off >/dev/null 2>&1 || true
    done
}

sysctl_set() { # [netns] key value; a missing key (no IPv6 in the kernel) is fine
    local exec=()
    if [ $# -eq 3 ]; then exec=(ip netns exec "$1"); shift; fi
    "${exec[@]}" sysctl -q -w "$1=$2" >/dev/null 2>&1 || true
}

check_mtu() {
    case $MTU in
        ''|*[!0-9]*) die "SLUICE_NET_MTU=$MTU is not a number (68..9000)" ;;
    esac
    if [ "$MTU" -lt 68 ] || [ "$MTU" -gt 9000 ]; then
        die "SLUICE_NET_MTU=$MTU is out of range (68..9000)"
    fi
    if [ ${#IF} -gt 15 ] || [ ${#PEER_IF} -gt 15 ]; then
        die "interface names are at most 15 characters: $IF, $PEER_IF"
    fi
}

make_pair() {
    if if_exists; then
        peer_exists || die "$IF exists but its peer $PEER_IF is not in namespace $NS: not ours; remove it (ip link del $IF) or set SLUICE_NET_IF"
        is_veth || die "$IF exists and is not a veth: set SLUICE_NET_IF to another name"
        return 0
    fi
    if peer_exists; then
        die "$PEER_IF already exists in namespace $NS without $IF: run '$0 down' first"
    fi
    ip link add "$IF" numtxqueues "$QUEUES" numrxqueues "$QUEUES" type veth peer name "$PEER_IF" \
        numtxqueues "$QUEUES" numrxqueues "$QUEUES" netns "$NS" ||
        die "cannot create the veth pair $IF/$PEER_IF (is the veth module available? modprobe veth)"
}

# libxdp (net_af_xdp) pins its dispatcher program in bpffs.
mount_bpffs() {
    if ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
        mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
            say "bpffs could not be mounted at /sys/fs/bpf: net_af_xdp will not load its XDP program (mount -t bpf bpf /sys/fs/bpf)"
    fi
}

up() {
    need_root up
    check_mtu
    if ! ns_exists; then
        ip netns add "$NS" || die "cannot create network namespace $NS"
    fi
    make_pair
    mount_bpffs
    # host end: Sluice's alone
    ip addr flush dev "$IF"
    sysctl_set "net.ipv6.conf.$IF.disable_ipv6" 1
    sysctl_set "net.ipv4.conf.$IF.forwarding" 0
    sysctl_set "net.ipv4.conf.$IF.arp_ignore" 8
    ip link set dev "$IF" mtu "$MTU"
    offloads_off "$IF"
    # peer end: the kernel in the namespace
    sysctl_set "$NS" "net.ipv6.conf.$PEER_IF.disable_ipv6" 1
    ip -n "$NS" link set dev "$PEER_IF" mtu "$MTU"
    if ! ip -n "$NS" -4 addr show dev "$PEER_IF" | grep -qw "inet ${PEER_ADDR%%/*}"; then
        ip -n "$NS" addr flush dev "$PEER_IF"
        ip -n "$NS" addr add "$PEER_ADDR" dev "$PEER_IF" || die "cannot put $PEER_ADDR on $PEER_IF"
    fi
    offloads_off "$NS" "$PEER_IF"
    ip -n "$NS" link set dev lo up
    ip -n "$NS" link set dev "$PEER_IF" up
    ip link set dev "$IF" up
    say "up: $IF (host, no IP, MTU $MTU) <-> $PEER_IF ($PEER_ADDR in namespace $NS)"
    say "Sluice: net.devargs net_af_xdp0,iface=$IF (the default; net_af_packet0,iface=$IF is the fallback) with an address in ${PEER_ADDR%%/*}'s subnet (default 10.0.0.2)"
}

down() {
    need_root down
    local did=0
    if if_exists; then
        is_veth || die "$IF is not a veth: not ours, left alone"
        ip link del dev "$IF" # takes its peer with it
        say "removed the veth pair $IF/$PEER_IF"
        did=1
    fi
    if ns_exists; then
        ip netns del "$NS"
        say "removed namespace $NS"
        did=1
    fi
    [ $did = 1 ] || say "nothing to remove ($IF and namespace $NS are not there)"
}

status() {
    local ok=0
    if ns_exists; then say "namespace $NS: present"; else say "namespace $NS: missing"; ok=1; fi
    if if_exists; then
        say "$IF: $(ip -br link show dev "$IF" | awk '{print $2}'), MTU $(cat "/sys/class/net/$IF/mtu"), MAC $(cat "/sys/class/net/$IF/address")"
    else
        say "$IF: missing"
        ok=1
    fi
    if peer_exists; then
        say "$PEER_IF (in $NS): $(ip -n "$NS" -br addr show dev "$PEER_IF" | awk '{print $2, $3}')"
    else
        say "$PEER_IF (in $NS): missing"
        ok=1
    fi
    [ $ok = 0 ] || say "incomplete: run '$0 up'"
    return $ok
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    *) die "usage: $0 up|down|status (see the comment at the top of $0)" ;;
esac
