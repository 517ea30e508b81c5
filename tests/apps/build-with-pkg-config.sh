#!/usr/bin/env bash
# build-with-pkg-config.sh PREFIX - builds tests/apps/native_pipe.c against
# the Sluice installed in PREFIX with nothing but pkg-config, and runs it;
# then builds the mTCP and mOS compile tests (tests/compile/) the same way,
# mTCP's as its apps are built (-fgnu89-inline), and runs the mTCP one.
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
cc -std=gnu99 -fgnu89-inline -Wall -Wextra -Werror "$here/../compile/mtcp_dialect.c" -o "$out/mtcp_dialect" \
   $(pkg-config --cflags --libs sluice) -Wl,-rpath,"$(pkg-config --variable=libdir sluice)"
cc -std=gnu11 -Wall -Wextra -Werror "$here/../compile/mos_dialect.c" -o "$out/mos_dialect" \
   $(pkg-config --cflags --libs sluice) -Wl,-rpath,"$(pkg-config --variable=libdir sluice)"
cc -std=c11 -Wall -Wextra -Werror "$here/../compile/all_headers.c" -o "$out/all_headers" \
   $(pkg-config --cflags --libs sluice) -Wl,-rpath,"$(pkg-config --variable=libdir sluice)"
"$out/mtcp_dialect" >/dev/null
echo "mtcp: mTCP's and mOS's dialects and all four headers compile and link against the installed sluice.pc"
