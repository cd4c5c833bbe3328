#!/bin/sh
# Proxy benchmark: mcpguard run against a direct connection, a plain byte relay and
# mcpguard with scanning off, all measured in this run (see bench/proxy_bench.c).
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
[ -x "$O/bench/proxy_bench" ] && [ -x "$O/mcpguard" ] || { echo "build first: make $O/bench/proxy_bench $O/mcpguard" >&2; exit 1; }
# The bench server answers with a self-made id; give it its own baselines so user state is untouched.
export XDG_STATE_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
"$O/bench/proxy_bench" client "$O/mcpguard" "${RTTS:-5000}" 2>/dev/null
