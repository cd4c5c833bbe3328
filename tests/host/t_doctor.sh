#!/bin/sh
# mcpguard doctor on this host: its answers are checked against what the kernel
# really does here (the lsm program refused, tp_btf and cgroup hooks loadable).
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
MG=${MG:-$O/mcpguard}
fail=0
ok() { echo "ok - doctor: $1"; }
nok() { echo "not ok - doctor: $1"; fail=1; }
[ -x "$MG" ] || { echo "not ok - doctor: $MG not built (make)"; exit 1; }
out=$(mktemp) js=$(mktemp)
trap 'rm -f "$out" "$js"' EXIT

"$MG" doctor >"$out" 2>&1
rc=$?
"$MG" doctor --json >"$js" 2>&1
jrc=$?
[ $rc -eq $jrc ] && ok "text and --json agree on the exit code ($rc)" || nok "exit $rc vs --json $jrc"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$js" && ok "--json is valid JSON" || nok "--json is not JSON"
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$js" "$1"; }
check() { field "[c['status'] for c in d['checks'] if c['id']=='$1'][0]"; }

# cgroup v2: the mount point the kernel reports
cg=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-" && $(i+1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
if [ -n "$cg" ]; then
	grep -q "cgroup v2 .*mounted at $cg\$" "$out" && ok "cgroup v2 found at $cg" || nok "cgroup v2 mount $cg not reported"
else
	[ "$(check cgroup2)" = fail ] && ok "no cgroup2 mount: reported as missing" || nok "cgroup2 missing but not failed"
fi

# BPF-LSM: ground truth from bpftool, independent of doctor's own probe
truth=$(mktemp -d)
cat >"$truth/p.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";
SEC("lsm/file_open") int BPF_PROG(t, struct file *f) { return 0; }
C
lsm_truth=unknown
if clang -g -O2 -target bpf -I"$O/vmlinux" -c "$truth/p.c" -o "$truth/p.o" 2>/dev/null; then
	if bpftool prog load "$truth/p.o" /sys/fs/bpf/mg_doctor_truth 2>/dev/null; then
		lsm_truth=loads
		rm -f /sys/fs/bpf/mg_doctor_truth
	else
		lsm_truth=refused
	fi
fi
rm -rf "$truth"
case $lsm_truth in
refused)
	[ "$(check bpf_lsm)" = fail ] && ok "BPF-LSM refused by this kernel: doctor says fail" || nok "kernel refuses lsm programs but doctor says $(check bpf_lsm)"
	[ $rc -eq 1 ] && ok "exit 1 (degraded) without BPF-LSM" || nok "exit $rc, expected 1 (degraded)"
	grep -q '^mode: degraded' "$out" && ok "mode says degraded" || nok "mode line: $(grep '^mode' "$out")"
	[ "$(field "d['mode']")" = degraded ] && ok "--json mode degraded" || nok "--json mode $(field "d['mode']")"
	tr '\n' ' ' <"$out" | tr -s ' ' | grep -q 'GRUB_CMDLINE_LINUX="lsm=[a-z,]*bpf"' &&
		tr '\n' ' ' <"$out" | grep -q 'update-grub' && ok "names the GRUB lsm= line and update-grub" || nok "no GRUB lsm= fix in the output"
	grep -q 'CONFIG_BPF_LSM' "$out" && ok "names CONFIG_BPF_LSM" || nok "CONFIG_BPF_LSM not mentioned"
	;;
loads)
	# loading is not enough: doctor also requires the hook to run (bpf in lsm=)
	if [ "$(check bpf_lsm)" = ok ]; then
		[ $rc -eq 0 ] && ok "BPF-LSM works here: ok and exit 0" || nok "BPF-LSM ok but exit $rc"
	else
		grep -q 'never called' "$out" && ok "lsm loads but never runs here: doctor says so" ||
			nok "lsm loads here but doctor says $(check bpf_lsm) without saying why"
	fi
	;;
*) echo "skip - doctor: could not build the independent lsm probe" ;;
esac

# tp_btf fallback: doctor attached and saw it run; the mode names the fallback
if [ "$(check tp_btf)" = ok ]; then
	[ $rc -eq 0 ] || grep -q 'kill-on-access' "$out" && ok "fallback kill-on-access named in the mode" || nok "fallback not named"
fi
# Landlock ABI: the same number a direct syscall gives
abi=$(python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.syscall(444, None, 0, 1))')
if [ "$abi" -gt 0 ] 2>/dev/null; then
	grep -q "Landlock .*ABI version $abi" "$out" && ok "Landlock ABI $abi reported" || nok "Landlock ABI $abi not reported"
fi
# no test cgroup left behind
[ -z "$cg" ] || ! ls -d "$cg"/mcpguard-doctor.* >/dev/null 2>&1 && ok "no probe cgroup left behind" || nok "probe cgroup left in $cg"
# the content scanner: compiled into an empty cache, then read from it
sc=$(mktemp -d)
XDG_CACHE_HOME=$sc "$MG" doctor --json >"$js" 2>/dev/null
d1=$(field "[c['status']+': '+c['detail'] for c in d['checks'] if c['id']=='scanner'][0]")
XDG_CACHE_HOME=$sc "$MG" doctor --json >"$js" 2>/dev/null
d2=$(field "[c['status']+': '+c['detail'] for c in d['checks'] if c['id']=='scanner'][0]")
rm -rf "$sc"
case "$d1" in
"ok: "*": 0 from the cache, "[1-9]*" compiled and cached for the next start")
	ok "scanner: pattern databases compiled and cached ($d1)" ;;
*) nok "scanner, empty cache: $d1" ;;
esac
case "$d2" in
"ok: "*": "[1-9]*" from the cache, 0 compiled") ok "scanner: then read from the cache ($d2)" ;;
*) nok "scanner, warm cache: $d2" ;;
esac
MCPGUARD_CACHE_DIR=/proc/mcpguard-none "$MG" doctor --json >"$js" 2>/dev/null
case "$(check scanner)" in
warn) ok "scanner: a cache that cannot be written is a warning" ;;
*) nok "scanner: unwritable cache gave '$(check scanner)'" ;;
esac

# as an unprivileged user: says it needs root, exit 2
if command -v setpriv >/dev/null 2>&1 && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$MG" 2>/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MG" doctor >"$out" 2>&1
	nrc=$?
	[ $nrc -eq 2 ] && grep -q 'needs root' "$out" && ok "unprivileged: exit 2, says it needs root" || nok "unprivileged: exit $nrc"
else
	echo "skip - doctor: unprivileged run: $MG not reachable by uid 65534"
fi
exit $fail
