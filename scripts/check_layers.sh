#!/usr/bin/env bash
# check_layers.sh - fails if an include crosses a layer the wrong way
# (docs/DESIGN.md "Layers"):
#   1. no file under stack/ includes from core/ or preload/ (or include/:
#      the stack knows nothing of queue descriptors);
#   2. a file under preload/ or mtcp/ includes only system headers (<...>
#      that are not DPDK's), its own layer's headers and the public headers
#      of include/;
#   3. core/ includes of the stack name only its interface (stack.h, tcp.h,
#      netdev.h, mon.h);
#   4. the build's include directories make a private header of stack/
#      unreachable from core/: compiling `#include "tcp_conn.h"` with core's
#      flags (from build/compile_commands.json) must fail;
#   5. every comment citing docs/DESIGN.md names a section it has.
# Usage: scripts/check_layers.sh [BUILD_DIR]   (default build; step 4 is
# skipped with a note when the build directory has no compile_commands.json)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bad=0

fail() { echo "check_layers: $*" >&2; bad=1; }

# the quoted includes of a file, one per line
quoted() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
angled() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$1"; }

core_headers=$(cd core && ls -- *.h)
preload_headers=$(cd preload && ls -- *.h)
mtcp_headers=$(cd mtcp && ls -- *.h)
public_headers=$(cd include && find . -name '*.h' | sed 's|^\./||')
stack_headers=$(cd stack && find . -name '*.h' -printf '%f\n')

# the compiler's own search path for <...> (the system headers)
mapfile -t sys_dirs < <(${CC:-cc} -xc -E -Wp,-v /dev/null 2>&1 >/dev/null | sed -n 's/^ \(\/.*\)/\1/p')
is_system() {
    for d in "${sys_dirs[@]}"; do [ -e "$d/$1" ] && return 0; done
    return 1
}

# 1. stack/
while IFS= read -r f; do
    for h in $(quoted "$f"); do
        case " $(echo $stack_headers) " in
        *" $(basename "$h") "*) [[ $h == */* ]] && fail "$f includes \"$h\" by path" ;;
        *) fail "$f includes \"$h\", which is not a header of stack/" ;;
        esac
        case $h in
        *core/* | *preload/* | *include/*) fail "$f includes \"$h\" from another layer" ;;
        esac
    done
    for h in $(angled "$f"); do
        case $h in
        demi/* | dmtr/* | sluice/*) fail "$f includes <$h> (public API: core/'s business, not the stack's)" ;;
        esac
    done
done < <(find stack -name '*.[ch]')

# 2. preload/ and mtcp/: system headers, their own and include/ only
check_above() { # dir, its own headers
    local dir=$1 own=$2 f h
    while IFS= read -r f; do
        for h in $(quoted "$f"); do
            grep -qx -- "$h" <<<"$own" || fail "$f includes \"$h\", which is not $dir/'s own"
        done
        for h in $(angled "$f"); do
            if grep -qx -- "$h" <<<"$public_headers"; then continue; fi
            case $h in
            rte_* | dpdk/* | generic/rte_*) fail "$f includes the DPDK header <$h>" ;;
            esac
            is_system "$h" || fail "$f includes <$h>, which is neither a system header nor in include/"
        done
    done < <(find "$dir" -name '*.[ch]')
}
check_above preload "$preload_headers"
check_above mtcp "$mtcp_headers"

# 3. core/: the stack through its interface only
while IFS= read -r f; do
    for h in $(quoted "$f"); do
        grep -qx -- "$h" <<<"$core_headers" && continue
        case $h in
        stack.h | tcp.h | netdev.h | mon.h) ;;
        *) fail "$f includes \"$h\", which is neither core/'s nor the stack's interface" ;;
        esac
    done
done < <(find core -name '*.[ch]')

# 4. the include directories of core/ cannot reach a private stack header
cc_json="$BUILD/compile_commands.json"
if [ -f "$cc_json" ]; then
    cmd=$(python3 - "$cc_json" <<'EOF'
import json, sys, shlex
for e in json.load(open(sys.argv[1])):
    if e["file"].endswith("core/net.c") and "sluice_core" in e.get("output", e["command"]):
        args = shlex.split(e["command"])
        out, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-c", "-MF", "-MQ"):
                skip = True
                continue
            if a.endswith("core/net.c") or a in ("-MD",):
                continue
            out.append(a)
        print(e["directory"])
        print(shlex.join(out))
        break
EOF
)
    dir=$(sed -n 1p <<<"$cmd")
    flags=$(sed -n 2p <<<"$cmd")
    if [ -z "$flags" ]; then
        fail "no compile command for core/net.c in $cc_json"
    else
        probe() { # header: 0 when it compiles with core's flags
            (cd "$dir" && printf '#include "%s"\n' "$1" | eval "$flags -fsyntax-only -x c -" >/dev/null 2>&1)
        }
        probe stack.h || fail "core/ cannot include the stack's interface stack.h (the check itself is broken)"
        for h in tcp_conn.h stack_priv.h timer.h mbuf_fifo.h tcp_cc.h; do
            probe "$h" && fail "core/'s include directories reach the stack's private header $h"
        done
    fi
else
    echo "check_layers: no $cc_json: include-directory probe skipped"
fi

# 5. every comment that cites a section of docs/DESIGN.md names one that
#    exists (a citation may wrap: `docs/DESIGN.md` at a line's end, the
#    quoted section at the start of the next)
sections=$(sed -n 's/^## //p' docs/DESIGN.md)
while IFS= read -r cited; do
    grep -qxF -- "$cited" <<<"$sections" || fail "a comment cites docs/DESIGN.md \"$cited\", which has no such section"
done < <(find core stack preload mtcp include tests -name '*.[ch]' -exec cat {} + |
    tr '\n' ' ' | grep -oE 'docs/DESIGN\.md[[:space:]*]*"[^"]+"' | sed 's/.*"\(.*\)"/\1/' | sort -u)

if [ $bad -ne 0 ]; then
    echo "check_layers: FAILED (see docs/DESIGN.md \"Layers\")" >&2
    exit 1
fi
echo "check_layers: ok (stack/ includes nothing of core/ or preload/; preload/ and mtcp/ only system, their own and include/ headers; core/ only the stack's interface; private stack headers unreachable from core/; design citations resolve)"
