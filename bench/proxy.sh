#!/bin/sh
# Proxy benchmark: mcpguard run against a direct connection, a plain byte relay and
# mcpguard with scanning off, all measured in this run (see bench/proxy_bench.c).
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
[ -x "$O/bench/proxy_bench" ] && [ -x "$O/mcpguard" ] || { echo "build first: make $O/bench/proxy_bench $O/mcpguard" >&2; exit 1; }
# Private state (drift baselines, compiled pattern cache) so user state is untouched; one
# run first fills the pattern cache, as any earlier session would have on a real machine.
export XDG_STATE_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
"$O/mcpguard" run -- true </dev/null >/dev/null 2>&1 || true
"$O/bench/proxy_bench" client "$O/mcpguard" "${RTTS:-5000}" 2>/dev/null
