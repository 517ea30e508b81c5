#!/usr/bin/env bash
# build-with-pkg-config.sh PREFIX - builds tests/apps/native_pipe.c against
# the Sluice installed in PREFIX with nothing but pkg-config, and runs it.
set -euo pipefail
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
pc=$(dirname "$(find "$prefix" -name sluice.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "pkg-config --cflags --libs sluice: $(pkg-config --cflags --libs sluice)"
cc -std=c11 -Wall -Wextra -Werror "$here/native_pipe.c" -o "$out/native_pipe" \
   $(pkg-config --cflags --libs sluice) -Wl,-rpath,"$(pkg-config --variable=libdir sluice)"
"$out/native_pipe"
