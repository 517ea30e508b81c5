#!/usr/bin/env bash
# demo.sh - the main job: an unmodified redis-server on the Sluice stack,
# served to redis-benchmark, with the result printed.
#
# Not yet: it needs the network stack (issues 3 and 4) and the LD_PRELOAD
# interposer (issue 5). Until they land this says so and exits 1, so that
# nobody mistakes it for a result. What works today: ./scripts/test.sh.
echo "demo: not yet - redis-server on Sluice needs the network stack and the interposer," >&2
echo "      which have not landed. See README.md for what works today." >&2
exit 1
