#!/bin/sh
# Scanner throughput: parse + every detector on benign 10 KB / 1 MB / 10 MB tool
# results, against parse-only in the same run (see bench/pipeline_bench.c).
set -eu
cd "$(dirname "$0")/.."
O=${O:-build}
[ -x "$O/bench/pipeline_bench" ] || { echo "build first: make $O/bench/pipeline_bench" >&2; exit 1; }
# Private state so the user's drift baselines and pattern cache are untouched; a
# first run fills the pattern cache as any earlier session would have.
export XDG_STATE_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
"$O/bench/pipeline_bench" 0.01 >/dev/null
"$O/bench/pipeline_bench" "${SCALE:-1}"
"$O/bench/pipeline_bench" "${SCALE:-1}" bench/seed.yaml
