#!/usr/bin/env bash
# run.sh TEST_PROGRAM [ARGS...] - runs an integration test program (root:
# it makes namespaces and veth pairs) and afterwards removes every
# namespace and interface its tests recorded, even if one crashed before
# its teardown. Exits with the program's status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 TEST_PROGRAM [ARGS...]" >&2; exit 2; }

SLUICE_TEST_LEDGER=$(mktemp /tmp/sluice-test-ledger.XXXXXX) || exit 1
export SLUICE_TEST_LEDGER
export SLUICE_TEST_NETNS_SH="$here/netns.sh"
trap '"$here/netns.sh" cleanup "$SLUICE_TEST_LEDGER"; rm -f "$SLUICE_TEST_LEDGER"' EXIT

"$@"
