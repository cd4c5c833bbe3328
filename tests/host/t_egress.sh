#!/bin/sh
# Network egress, against the real daemon and real sockets.
#
# Network safety: every probe runs in its own network namespace with only `lo` up,
# so nothing ever leaves the machine. There a connection our hooks refuse fails
# with EPERM, one they let through to a non-loopback address fails with
# ENETUNREACH (no route), and loopback ones reach listeners the test starts in the
# same namespace. "Outside the cgroup is untouched" is shown with loopback
# destinations the policy denies inside it.
set -u
cd "$(dirname "$0")/../.."

D=${MCPGUARDD:-build/mcpguardd}
NP=build/tests/netprobe
RP=build/tests/replace
MS=build/tests/manysess
T=mcpguard-test-$$
CGREL=/$T
PIN=/sys/fs/bpf/$T
TMP=$(mktemp -d /tmp/mcpguard-egress.XXXXXX)
EV=$TMP/events.json
SOCK=$TMP/control.sock
POL=$TMP/policy.yaml
OUT=$TMP/probe.out
DPID=
fails=0

ok() { echo "ok - egress: $1"; }
nok() {
	echo "not ok - egress: $1${2:+: $2}"
	fails=$((fails + 1))
}

for f in $D $NP $RP $MS; do
	if [ ! -x $f ]; then
		echo "not ok - egress: $f not built (run make)"
		exit 1
	fi
done
CGMNT=$(awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
if [ -z "$CGMNT" ]; then
	echo "not ok - egress: no cgroup2 mount"
	exit 1
fi
CGP=$CGMNT$CGREL

# Bounded: a daemon that ignores SIGTERM is a failure, not a hung test run.
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	i=0
	while kill -0 "$DPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$DPID" 2>/dev/null; then
		nok "daemon exits within 10 s of SIGTERM"
		kill -9 "$DPID" 2>/dev/null
	fi
	wait "$DPID" 2>/dev/null
	DPID=
}

cleanup() {
	stop_daemon
	$D --uninstall --pin-root "$PIN" >/dev/null 2>&1
	for cg in "$CGP/sess" "$CGP"; do
		[ -d "$cg" ] || continue
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		sleep 0.2
		rmdir "$cg" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_daemon [args]: the daemon in the background; waits for its banner.
start_daemon() {
	# Emptied first: the previous daemon's banner must not pass for this one's.
	: >"$TMP/daemon.err"
	$D --cgroup "$CGREL" --pin-root "$PIN" --events "$EV" --socket "$SOCK" "$@" \
		2>"$TMP/daemon.err" &
	DPID=$!
	i=0
	while [ $i -lt 100 ]; do
		grep -q 'network:' "$TMP/daemon.err" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sed 's/^/# /' "$TMP/daemon.err"
	DPID=
	return 1
}

# netrun CGROUP_DIR|"" SPEC...: probes in a fresh netns with loopback listeners
# (started before joining the cgroup, so they stay outside it); results in $OUT.
netrun() {
	cg=$1
	shift
	unshare -n sh -c '
		np=$1 cg=$2
		shift 2
		ip link set lo up || exit 1
		sysctl -qw net.ipv4.ping_group_range="0 2147483647" 2>/dev/null
		sp=$($np serve -t 15 tcp:0.0.0.0:18080 tcp:[::]:18080 tcp:0.0.0.0:18081 \
			tcp:[::]:18081 udp:0.0.0.0:18080 udp:[::]:18080 udp:0.0.0.0:53) || exit 1
		if [ -n "$cg" ]; then echo $$ > "$cg/cgroup.procs" || exit 1; fi
		$np probe "$@"
		kill $sp' sh "$NP" "$cg" "$@" >"$OUT" 2>&1
}

result() { awk -v s="$1" '$1 == s { print $2 }' "$OUT"; }
probe_pid() { awk '$1 == "pid" { print $2 }' "$OUT"; }

expect() { # name spec want
	got=$(result "$2")
	if [ "$got" = "$3" ]; then ok "$1"; else nok "$1" "$2 gave '$got', want $3"; fi
}

# has_event hook target rule action [extra fixed string]
has_event() {
	i=0
	while [ $i -lt 30 ]; do
		if grep -F "\"hook\":\"$1\"" "$EV" 2>/dev/null | grep -F "\"target\":\"$2\"" |
			grep -F "\"rule\":\"$3\"" | grep -F "\"action\":\"$4\"" |
			grep -qF -- "${5:-\"}"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

expect_event() { # name hook target rule action [extra]
	name=$1
	shift
	if has_event "$@"; then ok "$name"; else nok "$name" "no event $*"; fi
}

# le_hex N BYTES: N as little-endian hex bytes for bpftool.
le_hex() {
	n=$1 i=0 s=
	while [ $i -lt "$2" ]; do
		s="$s $(printf '%02x' $((n & 255)))"
		n=$((n >> 8))
		i=$((i + 1))
	done
	echo "$s"
}

set_session() { # flags: 0 none, 1 quarantine, 2 tainted
	bpftool map update pinned "$PIN/mg_sessions" key hex $(le_hex "$SESS_ID" 8) \
		value hex $(le_hex "$1" 4) 00 00 00 00 $(le_hex 0 8)
}

cat >"$POL" <<'YAML'
egress:
  default: allow
  allow_loopback: false
  deny_raw_sockets: true
  dns_resolvers: [127.0.0.1]
  rules:
    - name: t-metadata
      cidr: [169.254.169.254/32, "fd00:ec2::254/128"]
      action: block
    - name: t-private
      cidr: [10.0.0.0/8, "fc00::/7"]
      action: block
    - name: t-lo-allowed
      cidr: [127.0.0.1/32, "::1/128"]
      ports: [18080]
      action: allow
    - name: t-lo-audit
      cidr: [127.0.0.3/32]
      action: warn
    # A host rule goes through the daemon's resolver path; a numeric name keeps
    # the test off the network (getaddrinfo answers it without DNS).
    - name: t-host
      host: ["127.0.0.4"]
      ports: [18081]
      action: allow
files:
  enabled: false
YAML

# --- a bad policy: refused, naming file, line and key
printf 'egress:\n  default: allow\n  rules:\n    - name: x\n      cidr: [10.0.0.0/8]\n      action: maybe\n' >"$TMP/bad.yaml"
$D --cgroup "$CGREL" --pin-root "$PIN" --policy "$TMP/bad.yaml" --socket "$SOCK" \
	>/dev/null 2>"$TMP/bad.err"
rc=$?
if [ $rc -ne 0 ] && grep -qF "$TMP/bad.yaml:6" "$TMP/bad.err" && grep -q "action" "$TMP/bad.err" &&
	[ ! -e "$PIN/egress_connect4" ]; then
	ok "bad policy refused with file:line and key"
else
	nok "bad policy refused with file:line and key" "rc=$rc: $(cat "$TMP/bad.err")"
fi

# --- a cgroup path ending in "/." names the same directory one level up: the level
# the hooks compare would be wrong and nothing guarded. Refused (bounded: a daemon
# that accepted it would serve in the foreground).
timeout 10 $D --cgroup "$CGREL/." --pin-root "$PIN" --policy "$POL" --socket "$SOCK" \
	>/dev/null 2>"$TMP/dot.err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'want an absolute cgroup path' "$TMP/dot.err" &&
	[ ! -e "$PIN/egress_connect4" ]; then
	ok "--cgroup with a trailing /. refused"
else
	nok "--cgroup with a trailing /. refused" "rc=$rc: $(cat "$TMP/dot.err")"
fi

# --- enforcing daemon
if ! start_daemon --policy "$POL"; then
	nok "daemon starts"
	exit 1
fi
ok "daemon starts"
if grep -q 'network: enforcing' "$TMP/daemon.err" && grep -q 'files: OFF' "$TMP/daemon.err"; then
	ok "banner names network and file modes"
else
	nok "banner names network and file modes" "$(cat "$TMP/daemon.err")"
fi
n=$(bpftool cgroup show "$CGP" 2>/dev/null | grep -c 'mg_')
[ "$n" -eq 5 ] && ok "five hooks attached to the guarded cgroup" || nok "five hooks attached" "found $n"
if $D --cgroup "$CGREL" --pin-root "$PIN" --policy "$POL" --socket "$TMP/c2.sock" \
	--events "$TMP/ev2.json" >/dev/null 2>"$TMP/second.err"; then
	nok "a second daemon on the same pin root is refused"
else
	grep -q 'another mcpguardd is running' "$TMP/second.err" &&
		ok "a second daemon on the same pin root is refused" ||
		nok "a second daemon on the same pin root is refused" "$(cat "$TMP/second.err")"
fi
if ! $D --uninstall --pin-root "$PIN" >/dev/null 2>&1 && [ -e "$PIN/egress_connect4" ]; then
	ok "uninstall refused while the daemon runs"
else
	nok "uninstall refused while the daemon runs"
fi
# A process already in a session cannot be placed into a new one (that would lift
# its session's quarantine and taint), even by its own unguarded parent.
out=$(MCPGUARD_CTL_SOCK=$SOCK $RP 2>&1)
case "$out" in
*"first OK"*"second REFUSED"*"already inside the guarded cgroup"*)
	ok "a process in a session is not placed into a second one" ;;
*) nok "a process in a session is not placed into a second one" "$out" ;;
esac
# A session list too big for one message is refused in words, not left unanswered
# (the caller would wait forever): 170 sessions with long command lines.
out=$(MCPGUARD_CTL_SOCK=$SOCK timeout 60 $MS 170 2>&1)
case "$out" in
*"sessions: ok 170"* | *"sessions: refused: "*"too large"*)
	ok "the session list always gets a reply (${out%% (*})" ;;
*) nok "the session list always gets a reply" "$out" ;;
esac
capeff=$(awk '/^CapEff/ { print $2 }' /proc/$DPID/status)
[ "$capeff" != "000001ffffffffff" ] && [ "$capeff" != "000000ffffffffff" ] &&
	ok "capabilities dropped after attach ($capeff)" || nok "capabilities dropped" "CapEff $capeff"

netrun "$CGP" \
	tcp:127.0.0.1:18080 tcp:127.0.0.1:18081 tcp:127.0.0.2:18080 \
	tcp:[::1]:18080 tcp:[::1]:18081 \
	tcp:[::ffff:127.0.0.1]:18080 tcp:[::ffff:127.0.0.2]:18080 \
	tcp:169.254.169.254:80 tcp:[fd00:ec2::254]:80 tcp:[::ffff:169.254.169.254]:80 \
	tcp:[64:ff9b::a9fe:a9fe]:80 udp:[64:ff9b::7f00:1]:53 \
	tcp:10.1.2.3:443 tcp:[fc00::1]:443 tcp:203.0.113.5:443 tcp:[2001:db8::5]:443 \
	udp:127.0.0.1:18080 udp:[::1]:18080 udp:169.254.169.254:80 udp:[fc00::1]:9 \
	udp:[::ffff:10.0.0.1]:9 udpc:169.254.169.254:80 udp:203.0.113.5:9 \
	udp:127.0.0.1:53 udp:203.0.113.5:53 tcp:203.0.113.5:53 udp:[2001:db8::1]:53 \
	tcp:127.0.0.3:18081 tfo:127.0.0.2:18080 tcp:0.0.0.0:18080 tcp:[::]:18080 \
	raw4 raw6 ping4 ping6 tcp:127.0.0.4:18081 tcp:127.0.0.4:18080 \
	mptcp:127.0.0.1:18080 mptcp:127.0.0.2:18080 mptcp:169.254.169.254:80 \
	udplite:169.254.169.254:80 udplite:203.0.113.5:9
PID=$(probe_pid)
if [ -z "$PID" ]; then
	nok "probe ran in the cgroup" "$(cat "$OUT")"
fi

expect "tcp4 allowed loopback port connects" tcp:127.0.0.1:18080 OK
expect "tcp4 loopback port outside the rule: EPERM" tcp:127.0.0.1:18081 EPERM
expect_event "event for the loopback port miss" connect4 127.0.0.1:18081 loopback block \
	"\"pid\":$PID,"
expect "tcp4 other loopback address: EPERM" tcp:127.0.0.2:18080 EPERM
expect "tcp6 allowed ::1 port connects" tcp:[::1]:18080 OK
expect "tcp6 ::1 other port: EPERM" tcp:[::1]:18081 EPERM
expect_event "event for ::1 port miss" connect6 "[::1]:18081" loopback block
expect "v4-mapped allowed loopback connects" tcp:[::ffff:127.0.0.1]:18080 OK
expect "v4-mapped denied loopback: EPERM" tcp:[::ffff:127.0.0.2]:18080 EPERM
expect "tcp4 metadata: EPERM" tcp:169.254.169.254:80 EPERM
expect_event "metadata event: hook, target, rule, action, cgroup" connect4 169.254.169.254:80 \
	t-metadata block "\"cgroup\":\"$CGREL\""
expect "tcp6 metadata: EPERM" tcp:[fd00:ec2::254]:80 EPERM
expect_event "tcp6 metadata event" connect6 "[fd00:ec2::254]:80" t-metadata block
expect "v4-mapped metadata judged as IPv4: EPERM" tcp:[::ffff:169.254.169.254]:80 EPERM
expect_event "v4-mapped metadata event names the v4 rule" connect6 \
	"[::ffff:169.254.169.254]:80" t-metadata block
expect "NAT64 metadata (64:ff9b::169.254.169.254) judged as IPv4: EPERM" \
	tcp:[64:ff9b::a9fe:a9fe]:80 EPERM
expect_event "NAT64 metadata event names the v4 rule" connect6 "[64:ff9b::a9fe:a9fe]:80" \
	t-metadata block
expect "NAT64 form of the named resolver passes the dns check" udp:[64:ff9b::7f00:1]:53 ENETUNREACH
expect "tcp4 private: EPERM" tcp:10.1.2.3:443 EPERM
expect "tcp6 ULA: EPERM" tcp:[fc00::1]:443 EPERM
expect_event "ULA event" connect6 "[fc00::1]:443" t-private block
expect "tcp4 unlisted public passes the hook (ENETUNREACH)" tcp:203.0.113.5:443 ENETUNREACH
expect "tcp6 unlisted public passes the hook (ENETUNREACH)" tcp:[2001:db8::5]:443 ENETUNREACH
expect "udp4 allowed loopback echo" udp:127.0.0.1:18080 OK
expect "udp6 allowed loopback echo" udp:[::1]:18080 OK
expect "udp4 sendto metadata: EPERM" udp:169.254.169.254:80 EPERM
expect_event "udp4 metadata event" sendmsg4 169.254.169.254:80 t-metadata block '"proto":"udp"'
expect "udp6 sendto ULA: EPERM" udp:[fc00::1]:9 EPERM
expect_event "udp6 ULA event" sendmsg6 "[fc00::1]:9" t-private block
expect "udp6 sendto v4-mapped private: EPERM" udp:[::ffff:10.0.0.1]:9 EPERM
expect_event "udp v4-mapped private judged as IPv4" sendmsg4 10.0.0.1:9 t-private block
expect "connected udp to metadata: EPERM" udpc:169.254.169.254:80 EPERM
expect_event "connected udp event" connect4 169.254.169.254:80 t-metadata block '"proto":"udp"'
expect "udp4 unlisted public passes the hook" udp:203.0.113.5:9 ENETUNREACH
expect "dns to the named resolver passes" udp:127.0.0.1:53 OK
expect "udp dns to another server: EPERM" udp:203.0.113.5:53 EPERM
expect_event "dns event" sendmsg4 203.0.113.5:53 dns block
expect "tcp dns to another server: EPERM" tcp:203.0.113.5:53 EPERM
expect "udp6 dns to another server: EPERM" udp:[2001:db8::1]:53 EPERM
expect "audit rule lets the connection through" tcp:127.0.0.3:18081 OK
expect_event "audit rule event" connect4 127.0.0.3:18081 t-lo-audit audit
expect "tcp fast open to denied loopback: EPERM" tfo:127.0.0.2:18080 EPERM
expect "0.0.0.0 (reaches the local host) denied as loopback" tcp:0.0.0.0:18080 EPERM
expect "[::] (reaches the local host) denied as loopback" tcp:[::]:18080 EPERM
expect "raw IPv4 socket refused" raw4 EPERM
expect "raw IPv6 socket refused" raw6 EPERM
expect "ICMP ping socket refused" ping4 EPERM
expect "ICMPv6 ping socket refused" ping6 EPERM
expect_event "raw socket event" sock_create "raw socket (inet, protocol 1)" raw-socket block
expect "mptcp to allowed loopback connects" mptcp:127.0.0.1:18080 OK
expect "mptcp to denied loopback: EPERM" mptcp:127.0.0.2:18080 EPERM
expect "mptcp to metadata: EPERM" mptcp:169.254.169.254:80 EPERM
expect "udp-lite to metadata: EPERM" udplite:169.254.169.254:80 EPERM
expect "udp-lite to unlisted public passes the hook" udplite:203.0.113.5:9 ENETUNREACH
expect "host rule: resolved address and port allowed" tcp:127.0.0.4:18081 OK
expect "host rule: other port falls back to loopback deny" tcp:127.0.0.4:18080 EPERM

# --- outside the cgroup: the same loopback destinations work, no events
before=$(wc -l <"$EV")
netrun "" tcp:127.0.0.2:18080 tcp:[::1]:18081 tcp:127.0.0.1:18081 udp:[::ffff:127.0.0.2]:18080 raw4
OPID=$(probe_pid)
expect "outside: tcp4 127.0.0.2 connects" tcp:127.0.0.2:18080 OK
expect "outside: tcp6 ::1 other port connects" tcp:[::1]:18081 OK
expect "outside: tcp4 127.0.0.1 other port connects" tcp:127.0.0.1:18081 OK
expect "outside: udp v4-mapped loopback echo" udp:[::ffff:127.0.0.2]:18080 OK
expect "outside: raw socket allowed" raw4 OK
sleep 0.3
if [ -n "$OPID" ] && ! grep -q "\"pid\":$OPID," "$EV"; then
	ok "outside: no events"
else
	nok "outside: no events" "pid $OPID in $(tail -n +$((before + 1)) "$EV")"
fi

# --- a descendant cgroup is guarded; its events name it
mkdir -p "$CGP/sess"
SESS_ID=$(stat -c %i "$CGP/sess")
netrun "$CGP/sess" tcp:127.0.0.2:18080 tcp:127.0.0.1:18080 tcp:203.0.113.5:443
expect "descendant cgroup guarded" tcp:127.0.0.2:18080 EPERM
expect_event "descendant event names its cgroup" connect4 127.0.0.2:18080 loopback block \
	"\"cgroup\":\"$CGREL/sess\""

# --- session state written by the proxy's verdicts
if set_session 2; then
	netrun "$CGP/sess" tcp:127.0.0.1:18080 tcp:203.0.113.5:443
	expect "tainted session: rule-allowed destination still connects" tcp:127.0.0.1:18080 OK
	expect "tainted session: default-allowed destination refused" tcp:203.0.113.5:443 EPERM
	expect_event "taint event" connect4 203.0.113.5:443 taint block
	set_session 1
	netrun "$CGP/sess" tcp:127.0.0.1:18080 udp:127.0.0.1:53
	expect "quarantined session: even allowed loopback refused" tcp:127.0.0.1:18080 EPERM
	expect "quarantined session: dns refused" udp:127.0.0.1:53 EPERM
	expect_event "quarantine event" connect4 127.0.0.1:18080 quarantine block
	netrun "$CGP" tcp:127.0.0.1:18080
	expect "quarantine is per session" tcp:127.0.0.1:18080 OK
	set_session 0
else
	nok "session state written through the pinned mg_sessions"
fi

# --- kill -9: enforcement stays
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
netrun "$CGP" tcp:127.0.0.2:18080 tcp:127.0.0.1:18080 tcp:169.254.169.254:80 tcp:10.9.9.9:80
expect "after kill -9: denied still EPERM" tcp:127.0.0.2:18080 EPERM
expect "after kill -9: metadata still EPERM" tcp:169.254.169.254:80 EPERM
expect "after kill -9: allowed still connects" tcp:127.0.0.1:18080 OK
# With nobody reading, 1 MB of ring buffer holds about 3000 events: overflow it.
netrun "$CGP" -n 5000 tcp:127.0.0.5:18080
expect "after kill -9: a flood of denied connects" tcp:127.0.0.5:18080 EPERM

# --- restart adopts the pinned links and swaps in the new policy's programs
sed 's#cidr: \[127.0.0.1/32, "::1/128"\]#cidr: [127.0.0.1/32, 127.0.0.2/32, "::1/128"]#' "$POL" >"$TMP/pol2.yaml"
: >"$EV"
if start_daemon --policy "$TMP/pol2.yaml"; then
	grep -q 'adopted' "$TMP/daemon.err" && ok "restart adopts pinned links" ||
		nok "restart adopts pinned links" "$(cat "$TMP/daemon.err")"
	n=$(bpftool cgroup show "$CGP" 2>/dev/null | grep -c 'mg_')
	[ "$n" -eq 5 ] && ok "adoption does not stack links" || nok "adoption does not stack links" "found $n"
	netrun "$CGP" tcp:127.0.0.2:18080 tcp:127.0.0.2:18081 tcp:169.254.169.254:80
	expect "adopted: new policy in force (127.0.0.2 now allowed)" tcp:127.0.0.2:18080 OK
	expect "adopted: port miss still denied" tcp:127.0.0.2:18081 EPERM
	expect_event "adopted daemon reports events" connect4 169.254.169.254:80 t-metadata block
	expect_event "events from while no daemon ran are delivered" connect4 10.9.9.9:80 \
		t-private block
	grep -q 'ring buffer full: [0-9]* events lost' "$TMP/daemon.err" &&
		ok "ring-buffer drops are counted and reported" ||
		nok "ring-buffer drops are counted and reported" "$(cat "$TMP/daemon.err")"

	# --- SIGHUP: the policy file is read again and applied in place
	# hup NAME: signal the daemon, wait for its NAME-th "SIGHUP:" line.
	hup() {
		kill -HUP "$DPID"
		i=0
		while [ "$(grep -c 'SIGHUP:' "$TMP/daemon.err")" -lt "$1" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	}
	# 127.0.0.2 allowed no more; a new host rule allows 127.0.0.7 on 18080.
	sed 's#    - name: t-host#    - name: t-host7\n      host: ["127.0.0.7"]\n      ports: [18080]\n      action: allow\n    - name: t-host#' \
		"$POL" >"$TMP/pol2.yaml"
	hup 1
	if grep -q "SIGHUP: reloaded $TMP/pol2.yaml" "$TMP/daemon.err"; then
		ok "SIGHUP reloads the policy file"
	else
		nok "SIGHUP reloads the policy file" "$(cat "$TMP/daemon.err")"
	fi
	sleep 1.5 # a name new to the policy is resolved at the next tick (1 s)
	netrun "$CGP" tcp:127.0.0.2:18080 tcp:127.0.0.1:18080 tcp:127.0.0.7:18080 tcp:127.0.0.4:18081
	expect "reloaded: a rule removed is no longer in force" tcp:127.0.0.2:18080 EPERM
	expect "reloaded: rules kept still allow" tcp:127.0.0.1:18080 OK
	expect "reloaded: a new host rule allows its address" tcp:127.0.0.7:18080 OK
	expect "reloaded: a host rule kept still allows" tcp:127.0.0.4:18081 OK
	# A bad policy: refused with file:line and key, the running one stays.
	cp "$TMP/bad.yaml" "$TMP/pol2.yaml"
	hup 2
	if grep -q "SIGHUP: $TMP/pol2.yaml not reloaded, the running policy stays: $TMP/pol2.yaml:6" \
		"$TMP/daemon.err" && kill -0 "$DPID" 2>/dev/null; then
		ok "SIGHUP with a bad policy: refused with file:line, daemon running"
	else
		nok "SIGHUP with a bad policy: refused with file:line, daemon running" \
			"$(cat "$TMP/daemon.err")"
	fi
	# What only a restart can do is refused too: the file guard switched on.
	sed 's#^  enabled: false#  enabled: true#' "$POL" >"$TMP/pol2.yaml"
	hup 3
	grep -q 'files.enabled changed to true; restart mcpguardd for that' "$TMP/daemon.err" &&
		ok "SIGHUP refuses to switch the file guard on (a restart's job)" ||
		nok "SIGHUP refuses to switch the file guard on" "$(cat "$TMP/daemon.err")"
	netrun "$CGP" tcp:127.0.0.2:18080 tcp:127.0.0.7:18080
	expect "refused reloads: the last good policy stays (denied)" tcp:127.0.0.2:18080 EPERM
	expect "refused reloads: the last good policy stays (allowed)" tcp:127.0.0.7:18080 OK
	# audit: true in the policy turns blocks into audit events at once.
	printf 'audit: true\n' | cat - "$POL" >"$TMP/pol2.yaml"
	: >"$EV"
	hup 4
	netrun "$CGP" tcp:169.254.169.254:80
	expect "reloaded with audit: true: metadata passes the hook" tcp:169.254.169.254:80 ENETUNREACH
	expect_event "reloaded with audit: true: event with action audit" connect4 \
		169.254.169.254:80 t-metadata audit
	stop_daemon
else
	nok "restart adopts pinned links" "daemon did not start"
fi

# --- --audit: blocks become audit events, traffic flows
: >"$EV"
if start_daemon --policy "$POL" --audit; then
	grep -q 'AUDIT ONLY' "$TMP/daemon.err" && ok "audit banner" || nok "audit banner"
	netrun "$CGP" tcp:127.0.0.2:18080 tcp:169.254.169.254:80 raw4
	expect "audit: denied loopback connects" tcp:127.0.0.2:18080 OK
	expect "audit: metadata passes the hook" tcp:169.254.169.254:80 ENETUNREACH
	expect "audit: raw socket allowed" raw4 OK
	expect_event "audit: event with action audit" connect4 169.254.169.254:80 t-metadata audit
	stop_daemon
else
	nok "audit daemon starts"
fi

# --- --uninstall removes every pin and the enforcement with it
$D --uninstall --pin-root "$PIN" >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -e "$PIN" ] && ok "uninstall removes the pin root" ||
	nok "uninstall removes the pin root" "rc=$rc, $(ls "$PIN" 2>&1)"
n=$(bpftool cgroup show "$CGP" 2>/dev/null | grep -c 'mg_')
[ "$n" -eq 0 ] && ok "uninstall detaches every hook" || nok "uninstall detaches every hook" "$n left"
netrun "$CGP" tcp:127.0.0.2:18080
expect "after uninstall: traffic unguarded" tcp:127.0.0.2:18080 OK

# --- host names are re-resolved, resolvers come from resolv.conf. The daemon runs in
# its own mount namespace (private /etc/hosts and /etc/resolv.conf) and network
# namespace (a lookup that escaped to DNS could not leave the machine).
printf '127.0.0.6 mg-refresh.test\n' >"$TMP/hosts"
printf '# test\nnameserver 127.0.0.9\n' >"$TMP/resolv.conf"
cat >"$TMP/pol3.yaml" <<'YAML'
egress:
  resolve_interval: 5
  rules:
    - name: t-refresh
      host: [mg-refresh.test]
      ports: [18080]
      action: allow
files:
  enabled: false
YAML
: >"$TMP/daemon.err"
unshare -m -n sh -c 'mount --bind "$1/hosts" /etc/hosts && mount --bind "$1/resolv.conf" \
	/etc/resolv.conf && shift && exec "$@"' sh "$TMP" $D --cgroup "$CGREL" --pin-root "$PIN" \
	--events "$EV" --socket "$SOCK" --policy "$TMP/pol3.yaml" 2>"$TMP/daemon.err" &
DPID=$!
i=0
while ! grep -q 'network:' "$TMP/daemon.err" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q '1 host names, 1 DNS resolvers' "$TMP/daemon.err"; then
	netrun "$CGP" tcp:127.0.0.6:18080 udp:127.0.0.9:53 udp:127.0.0.1:53
	expect "host name resolved into the trie" tcp:127.0.0.6:18080 OK
	expect "resolver from resolv.conf allowed" udp:127.0.0.9:53 OK
	expect "resolver not in resolv.conf refused" udp:127.0.0.1:53 EPERM
	printf '127.0.0.7 mg-refresh.test\n' >"$TMP/hosts"
	sleep 6
	netrun "$CGP" tcp:127.0.0.6:18080 tcp:127.0.0.7:18080
	expect "refresh: new address of the host allowed" tcp:127.0.0.7:18080 OK
	expect "refresh: old address of the host removed" tcp:127.0.0.6:18080 EPERM
else
	nok "daemon with a host rule starts" "$(cat "$TMP/daemon.err")"
fi
stop_daemon

# --- the built-in default policy (files module included) starts and guards
if start_daemon; then
	ok "daemon starts with the built-in default policy"
	grep -q 'files: ' "$TMP/daemon.err" && ok "default policy banner names the files mode" ||
		nok "default policy banner names the files mode" "$(cat "$TMP/daemon.err")"
	netrun "$CGP" tcp:169.254.169.254:80 tcp:[fd00:ec2::254]:80 tcp:100.100.100.200:80 \
		tcp:192.168.1.1:80 tcp:127.0.0.1:18080 tcp:203.0.113.5:443
	expect "default policy: metadata v4 denied" tcp:169.254.169.254:80 EPERM
	expect "default policy: metadata v6 denied" tcp:[fd00:ec2::254]:80 EPERM
	expect "default policy: alibaba metadata denied" tcp:100.100.100.200:80 EPERM
	expect "default policy: private range denied" tcp:192.168.1.1:80 EPERM
	expect "default policy: loopback denied" tcp:127.0.0.1:18080 EPERM
	expect "default policy: public passes the hook" tcp:203.0.113.5:443 ENETUNREACH
	stop_daemon
else
	nok "daemon starts with the built-in default policy"
fi
$D --uninstall --pin-root "$PIN" >/dev/null 2>&1

[ $fails -eq 0 ]
