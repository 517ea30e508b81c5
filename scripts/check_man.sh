#!/usr/bin/env bash
# check_man.sh - every function libsluice.so exports has an installed man
# page that man(1) shows. Run after `meson install` (scripts/test.sh does).
# Usage: scripts/check_man.sh PREFIX   (e.g. build/prefix)
set -uo pipefail
prefix=${1:?usage: check_man.sh PREFIX}
lib=$(find "$prefix" -name 'libsluice.so' -print -quit)
mandir="$prefix/share/man"
if [ -z "$lib" ]; then
    echo "check_man: no libsluice.so under $prefix (run meson install first)" >&2
    exit 1
fi
missing=()
n=0
for sym in $(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort); do
    n=$((n + 1))
    if [ ! -f "$mandir/man3/$sym.3" ] || ! MANPAGER=cat man -M "$mandir" 3 "$sym" 2>/dev/null | grep -q "$sym"; then
        missing+=("$sym")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "check_man: no installed page for: ${missing[*]}" >&2
    exit 1
fi
echo "check_man: all $n exported functions of $(basename "$lib") have a page in $mandir"
