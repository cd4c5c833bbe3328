#!/bin/sh
# Test driver. Runs the suites named (default: all) and prints one closing line
# "N passed, N failed, N skipped". Every suite prints "ok - name", "not ok - name"
# or "skip - name: why" lines; a suite that exits non-zero without saying which
# check failed counts as one failure, so a crash or a VM that never booted fails the run.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
export O
suites=${*:-unit unit-san unit-scalar host vm e2e e2e-san bridge escape}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pass=0 fail=0 skip=0

run_suite() {
	name=$1
	shift
	echo "=== suite $name: $*"
	"$@" >"$log.out" 2>&1
	rc=$?
	cat "$log.out"
	p=$(grep -c '^ok - ' "$log.out")
	f=$(grep -c '^not ok - ' "$log.out")
	s=$(grep -c '^skip - ' "$log.out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - suite $name exited $rc without naming a failed check"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "not ok - suite $name ran no check"
		f=1
	fi
	echo "=== suite $name: $p passed, $f failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	rm -f "$log.out"
}

for s in $suites; do
	case $s in
	unit) run_suite unit build/tests/unit-tests ;;
	unit-san) run_suite unit-san build-san/tests/unit-tests ;;
	unit-scalar) run_suite unit-scalar build-scalar/tests/unit-tests ;;
	host) run_suite host sh tests/host/run.sh ;;
	vm) run_suite vm sh scripts/vmtest ;;
	e2e) run_suite e2e sh tests/e2e/run.sh ;;
	# The proxy under ASan/UBSan against the real SDK and servers: a memory error aborts it.
	e2e-san) run_suite e2e-san env O=build-san sh tests/e2e/run.sh ;;
	bridge) run_suite bridge sh tests/e2e/bridge/run.sh ;;
	escape) run_suite escape sh tests/escape/run.sh ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
