#!/bin/sh
# Kernel-path cost of mcpguardd: open()+close() of an unprotected file and connect()
# to an allowed loopback listener, in the guarded cgroup with the daemon running vs
# an unguarded sibling cgroup, in the same run and the same process (alternating
# batches; the median batch of each side is compared).
# Targets: at most 3% slower, daemon RSS under 24 MB.
# Runs in a private network namespace; nothing leaves loopback.
set -u
cd "$(dirname "$0")/.."

D=build/mcpguardd
K=build/bench/kernel
NP=build/tests/netprobe
N_OPEN=${N_OPEN:-200000}
N_CONN=${N_CONN:-20000}
BATCHES=${BATCHES:-40}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/kernel.sh: needs root (sudo make bench)" >&2
	exit 1
fi
for f in $D $K $NP; do
	[ -x $f ] || { echo "bench/kernel.sh: $f not built (run make)" >&2; exit 1; }
done
T=mcpguard-bench-$$
PIN=/sys/fs/bpf/$T
CGMNT=$(awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
G=$CGMNT/$T
B=$CGMNT/$T-base
B2=$CGMNT/$T-base2
TMP=$(mktemp -d /tmp/mcpguard-bench.XXXXXX)
DPID=

cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	$D --uninstall --pin-root "$PIN" >/dev/null 2>&1
	rmdir "$G" "$B" "$B2" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The default policy's egress rules plus the listener; files as in the default policy.
cat >"$TMP/policy.yaml" <<'YAML'
egress:
  rules:
    - name: cloud-metadata
      cidr: [169.254.169.254/32, "fd00:ec2::254/128", 100.100.100.200/32]
      action: block
    - name: link-local
      cidr: [169.254.0.0/16, "fe80::/10"]
      action: block
    - name: private-network
      cidr: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, "fc00::/7"]
      action: block
    - name: bench-listener
      cidr: [127.0.0.1/32]
      ports: [18080]
      action: allow
YAML
# FILES=off measures the network hooks alone.
[ "${FILES:-on}" = off ] && printf 'files:\n  enabled: false\n' >>"$TMP/policy.yaml"
echo "an ordinary file" >"$TMP/plain.txt"

$D --cgroup "/$T" --pin-root "$PIN" --policy "$TMP/policy.yaml" --events "$TMP/events.json" \
	--socket "$TMP/control.sock" 2>"$TMP/daemon.err" &
DPID=$!
i=0
while ! grep -q 'network:' "$TMP/daemon.err" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $DPID 2>/dev/null; then
		echo "bench/kernel.sh: daemon did not start:" >&2
		cat "$TMP/daemon.err" >&2
		DPID=
		exit 1
	fi
	sleep 0.1
done
grep -E 'network:|files:' "$TMP/daemon.err" | sed 's/^/# /'
mkdir -p "$B" "$B2"

# One process in a private netns moves itself between the unguarded, a second
# unguarded (the noise floor: what two identical sides differ by on this machine
# right now) and the guarded cgroup before each batch, in rotating order.
unshare -n sh -c '
	np=$1 k=$2 base=$3 base2=$4 guard=$5 file=$6 nopen=$7 nconn=$8 batches=$9
	ip link set lo up || exit 1
	sp=$($np serve -t 900 tcp:127.0.0.1:18080) || exit 1
	$k sides "$file" 127.0.0.1 18080 "$nopen" "$nconn" "$batches" \
		base="$base" base2="$base2" guarded="$guard"
	rc=$?
	# Sanity: port 18081 has no rule, so loopback is denied in the guarded cgroup only.
	echo $$ > "$guard/cgroup.procs" && $np probe tcp:127.0.0.1:18081 | sed "s/^/guarded /"
	echo $$ > "$base/cgroup.procs" && $np probe tcp:127.0.0.1:18081 | sed "s/^/base /"
	kill $sp
	exit $rc' sh "$NP" "$K" "$B" "$B2" "$G" "$TMP/plain.txt" "$N_OPEN" "$N_CONN" "$BATCHES" \
	>"$TMP/results" 2>&1 || { cat "$TMP/results" >&2; exit 1; }

if ! grep -q '^guarded tcp:127.0.0.1:18081 EPERM' "$TMP/results" ||
	! grep -q '^base tcp:127.0.0.1:18081 ECONNREFUSED' "$TMP/results"; then
	echo "bench/kernel.sh: the guarded cgroup was not enforcing; numbers meaningless" >&2
	cat "$TMP/results" >&2
	exit 1
fi

rss=$(awk '/^VmRSS/ { print $2 }' /proc/$DPID/status)
awk -v batches="$BATCHES" -v nopen="$N_OPEN" -v nconn="$N_CONN" -v rss="$rss" '
	$1 == "open_close" || $1 == "connect" { med[$2 " " $1] = $3 }
	END {
		printf "kernel: %d open+close and %d connect per side in %d alternating batches; median batch, ns/op\n", nopen, nconn, batches
		split("open_close connect", ops, " ")
		for (i = 1; i <= 2; i++) {
			o = ops[i]
			r = med["guarded " o] / med["base " o]
			n = med["base2 " o] / med["base " o]
			printf "  %-10s unguarded %9.1f  guarded %9.1f  ratio %.4f (%+.2f%%)  %s\n", o, med["base " o], med["guarded " o], r, (r - 1) * 100, r <= 1.03 ? "target <=3% met" : "target <=3% MISSED"
			printf "  %-10s noise floor (unguarded vs unguarded): %+.2f%%\n", "", (n - 1) * 100
		}
		printf "  mcpguardd VmRSS %d kB (%.1f MB)  %s\n", rss, rss / 1024, rss < 24 * 1024 ? "target <24 MB met" : "target <24 MB MISSED"
	}' "$TMP/results"
