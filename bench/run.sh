#!/bin/sh
# make bench: every benchmark, each printing ratios against a baseline measured in the same run.
set -u
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "=== $b"
	sh "$b" || rc=1
done
exit $rc
