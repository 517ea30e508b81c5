#!/usr/bin/env bash
# mos.sh BUILD_DIR [FLOWS] - mOS's monitor sockets (docs/mtcp.md "Monitor
# sockets") between a Linux client and a Linux server, each in a network
# namespace this script creates:
#
#   inline:  client ns (10.9.0.1) c0 ==veth== hcID  [Sluice bridges]  hsID ==veth== s0 server ns (10.9.0.2)
#   passive: client ns (10.9.1.1) p0 ==veth== p1 server ns (10.9.1.2); tc mirrors
#            both directions of p0 to m0 ==veth== hmID, Sluice's one port
#
#   1. tests/apps/mos_midstat inline, with the fault injector losing 1 % and
#      reordering 2 % of the frames each port receives: FLOWS (1000) flows of
#      tests/integration/mos_flows.py, byte-exact at both ends, and each
#      reported once by midstat with the bytes each way the client sent and
#      received, ended (not timed out);
#   2. the same in passive mode on the mirrored copy (no faults);
#   3. tests/apps/mos_firewall inline blocking 'tcp dst port 8081': every
#      connection to 8081 fails, every flow to 8080 passes byte-exact.
#
# Needs root, python3, tc (u32 and mirred), ethtool. Everything it creates
# (namespaces, veth pairs, processes by PID) is removed on exit, even on
# failure. Prints "ok"/"FAIL" per check and "mos: N passed, N failed" last;
# exit 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/procs.sh
BUILD=${1:-build}
FLOWS=${2:-1000}
MIDSTAT=$BUILD/tests/apps/mos_midstat
FIREWALL=$BUILD/tests/apps/mos_firewall
FLOWPY=tests/integration/mos_flows.py
ID=$$
NSC=slmos-c-$ID NSS=slmos-s-$ID
HC=hc$ID HS=hs$ID HM=hm$ID
LOG=$(mktemp -d /tmp/sluice-mos.XXXXXX)
pids=()
passed=0
failed=0
T0=$(date +%s)
export SLUICE_NET_LINK_TIMEOUT_MS=10000 SLUICE_LOG=warn

cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ip link del "$HC" 2>/dev/null
    ip link del "$HS" 2>/dev/null
    ip link del "$HM" 2>/dev/null
    ip netns del "$NSC" 2>/dev/null
    ip netns del "$NSS" 2>/dev/null
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
    echo "mos: $passed passed, $failed failed in $(($(date +%s) - T0)) s"
    [ "$failed" = 0 ] && rm -rf "$LOG"
    [ "$failed" = 0 ]
    exit
}
background() { "$@" & bg=$!; pids+=("$bg"); }
forget() { # pid: stopped, no longer ours to kill
    local p keep=()
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

offloads_off() { # [netns] ifname
    local exec=()
    if [ $# -eq 2 ]; then exec=(ip netns exec "$1"); shift; fi
    for f in tx rx tso gso gro; do "${exec[@]}" ethtool -K "$1" "$f" off >/dev/null 2>&1 || true; done
}
quiet_host_end() { # ifname: Sluice's alone
    sysctl -q -w "net.ipv6.conf.$1.disable_ipv6=1" >/dev/null 2>&1 || true
    offloads_off "$1"
    ip link set dev "$1" up
}
ns_end() { # netns ifname addr
    ip netns exec "$1" sysctl -q -w "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null 2>&1 || true
    ip -n "$1" addr add "$3" dev "$2"
    offloads_off "$1" "$2"
    ip -n "$1" link set dev "$2" up
}

topology() {
    ip netns add "$NSC" && ip netns add "$NSS" || return 1
    ip -n "$NSC" link set lo up && ip -n "$NSS" link set lo up || return 1
    # inline: through Sluice
    ip link add "$HC" type veth peer name c0 netns "$NSC" || return 1
    ip link add "$HS" type veth peer name s0 netns "$NSS" || return 1
    quiet_host_end "$HC" && quiet_host_end "$HS" || return 1
    ns_end "$NSC" c0 10.9.0.1/24 && ns_end "$NSS" s0 10.9.0.2/24 || return 1
    # passive: a direct link, mirrored to Sluice
    ip -n "$NSC" link add p0 type veth peer name p1 netns "$NSS" || return 1
    ns_end "$NSC" p0 10.9.1.1/24 && ns_end "$NSS" p1 10.9.1.2/24 || return 1
    ip link add "$HM" type veth peer name m0 netns "$NSC" || return 1
    quiet_host_end "$HM" || return 1
    ip netns exec "$NSC" sysctl -q -w net.ipv6.conf.m0.disable_ipv6=1 >/dev/null 2>&1
    offloads_off "$NSC" m0
    ip -n "$NSC" link set dev m0 up || return 1
    ip netns exec "$NSC" tc qdisc add dev p0 clsact || return 1
    for dir in ingress egress; do
        ip netns exec "$NSC" tc filter add dev p0 "$dir" protocol all u32 match u32 0 0 \
            action mirred egress mirror dev m0 || return 1
    done
}

for prog in "$MIDSTAT" "$FIREWALL"; do
    [ -x "$prog" ] || { result "$prog is built" 1; finish; }
done
for tool in python3 tc ethtool; do
    command -v "$tool" >/dev/null || { result "$tool is installed" 1; finish; }
done
topology >"$LOG/topology.log" 2>&1
result "two namespaces, two veth pairs through Sluice's ports, a mirrored direct link" $? || true
[ "$failed" = 0 ] || { cat "$LOG/topology.log"; finish; }

# servers: one per namespace address, until the end
background ip netns exec "$NSS" python3 "$FLOWPY" server 0.0.0.0 8080 8081 >"$LOG/server.log" 2>&1
wait_line "$LOG/server.log" listening 10 || { result "the flow server listens" 1; finish; }

# Runs a monitor program in the background with the monitor's env: mode,
# ports; waits for its ready line. Sets $mon.
start_monitor() { # log ready-pattern mode port0 [port1] -- program args...
    local log=$1 ready=$2 mode=$3 p0=$4 p1=$5
    shift 5
    background env SLUICE_MON_MODE="$mode" SLUICE_MON_PORT0="$p0" SLUICE_MON_PORT1="$p1" \
        SLUICE_MON_IDLE_TIMEOUT_MS=60000 "${EXTRA_ENV[@]}" "$@" >"$log" 2>&1
    mon=$bg
    wait_line "$log" "$ready" 20
}

# Compares the client's lines with midstat's report, flow by flow. A flow
# is its client port and its byte counts: the client's kernel may give a
# later flow the port of one that has ended (its TIME_WAIT over), so a
# port may carry several flows, each reported once, in the order made.
compare() { # client.out midstat.log client-addr
    python3 - "$@" <<'PY'
import sys
from collections import defaultdict
cli, mid, addr = sys.argv[1], sys.argv[2], sys.argv[3]
want = defaultdict(list)  # port -> [(c2s, s2c)] in the order the client finished them
made = 0
bad = 0
for l in open(cli):
    port, c2s, s2c, res = l.split()
    if res != "ok":
        print("client flow", port, res); bad += 1
    want[port].append((int(c2s), int(s2c)))
    made += 1
seen = defaultdict(list)  # port -> [(c2s, s2c, how)] in the order midstat reported them
reported = 0
for l in open(mid):
    f = l.split()
    if not f or f[0] != "flow" or not f[1].startswith(addr + ":"):
        continue
    seen[f[1].split(":")[1]].append((int(f[4]), int(f[6]), f[11]))
    reported += 1
for port, flows in want.items():
    got = seen.get(port, [])
    if len(got) != len(flows):
        print("port %s: %d flows made, %d reported: %s" % (port, len(flows), len(got), got)); bad += 1
        continue
    for (c2s, s2c), m in zip(flows, got):
        if (m[0], m[1]) != (c2s, s2c) or m[2] != "end":
            print("port %s: sent c2s %d s2c %d, midstat c2s %d s2c %d %s" % (port, c2s, s2c, m[0], m[1], m[2])); bad += 1
extra = set(seen) - set(want)
if extra:
    print("reported but not made:", sorted(extra)[:10]); bad += 1
print("%d flows made, %d reported, %d mismatches" % (made, reported, bad))
sys.exit(1 if bad else 0)
PY
}

# Waits up to seconds for midstat to report n flows of addr (each flow
# ends when both sides are done: the last ACK may need a resend).
wait_flows() { # log addr n seconds
    for _ in $(seq $(($4 * 10))); do
        [ "$(grep -c "^flow $2:" "$1")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# TCP segments the kernels of both namespaces retransmitted so far.
retrans() {
    local n=0 v ns
    for ns in "$NSC" "$NSS"; do
        v=$(ip netns exec "$ns" awk '/^Tcp:/ && !h {h=1; for (i=1;i<=NF;i++) if ($i=="RetransSegs") c=i; next}
                                     /^Tcp:/ {print $c}' /proc/net/snmp)
        n=$((n + ${v:-0}))
    done
    echo "$n"
}

run_midstat() { # name mode port0 port1 client-addr server-addr
    local name=$1 st=0
    start_monitor "$LOG/$name.log" "midstat: monitoring" "$2" "$3" "$4" "$MIDSTAT" ||
        { result "$name: mos_midstat starts" 1; return; }
    local m=$mon
    timeout 120 ip netns exec "$NSC" python3 "$FLOWPY" client "$6" 8080 "$FLOWS" 8 "$LOG/$name.client" \
        2>"$LOG/$name.client.err" || st=1
    wait_flows "$LOG/$name.log" "$5" "$FLOWS" 30 || st=1
    stop_server "$m" || st=1
    forget "$m"
    compare "$LOG/$name.client" "$LOG/$name.log" "$5" >"$LOG/$name.compare" 2>&1 || st=1
    result "$name: $(tail -n 1 "$LOG/$name.compare")" $st
}

# ---- 1: inline, with loss and reordering ----
EXTRA_ENV=(SLUICE_FAULT_SEED=$ID SLUICE_FAULT_RX_LOSS_PPM=10000 SLUICE_FAULT_RX_REORDER_PPM=20000)
r0=$(retrans)
run_midstat "inline, 1 % loss, 2 % reorder" inline "net_af_packet0,iface=$HC" "net_af_packet1,iface=$HS" \
    10.9.0.1 10.9.0.2
r1=$(retrans)
st=0
grep -q "fault injector on" "$LOG/inline, 1 % loss, 2 % reorder.log" || st=1
[ "$r1" -gt "$r0" ] || st=1
result "the faults were real: the injector was on and the kernels retransmitted $((r1 - r0)) segments" $st
# ---- 2: passive ----
EXTRA_ENV=()
run_midstat passive passive "net_af_packet0,iface=$HM" "" 10.9.1.1 10.9.1.2

# ---- 3: the firewall ----
st=0
if start_monitor "$LOG/firewall.log" "firewall: blocking" inline "net_af_packet0,iface=$HC" \
    "net_af_packet1,iface=$HS" "$FIREWALL" 'tcp dst port 8081'; then
    fw=$mon
    timeout 60 ip netns exec "$NSC" python3 "$FLOWPY" client 10.9.0.2 8081 5 5 "$LOG/fw.blocked" 2 || st=1
    timeout 60 ip netns exec "$NSC" python3 "$FLOWPY" client 10.9.0.2 8080 100 8 "$LOG/fw.passed" || st=1
    [ "$(grep -c 'fail:connect' "$LOG/fw.blocked")" = 5 ] || st=1
    [ "$(grep -c ' ok$' "$LOG/fw.passed")" = 100 ] || st=1
    stop_server "$fw" || st=1
    forget "$fw"
    [ "$(grep -c '^blocked ' "$LOG/firewall.log")" = 5 ] || st=1
else
    st=1
fi
result "firewall: 5 connections to 8081 fail, 100 flows to 8080 pass byte-exact" $st
finish
