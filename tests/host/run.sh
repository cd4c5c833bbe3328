#!/bin/sh
# Host kernel tests: every tests/host/t_*.sh, as root, against the real daemon.
# Each prints ok/not ok/skip lines and exits non-zero on failure.
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - host tests need root (run: sudo make test)"
	exit 1
fi
rc=0
for t in tests/host/t_*.sh; do
	[ -e "$t" ] || continue
	echo "# $t"
	sh "$t" || rc=1
done
exit $rc
