#!/bin/sh
# Argument DLP throughput: dlp_scan_text on 1 MiB of benign tool output, prose and
# base64, and on a 1 KiB argument, as CPU time against a byte-reading loop over the
# same buffer measured in the same run.
set -u
cd "$(dirname "$0")/.."
B=build/bench/dlp_bench
[ -x $B ] || { echo "bench/dlp.sh: $B not built (run make)" >&2; exit 1; }
exec $B "${DLP_MIB:-1}" "${DLP_ROUNDS:-20}"
