#!/bin/sh
# The daemon's evidence against the real kernel: a server run through `mcpguard run`
# is placed in a session and denied a connect to the metadata address; then
#   - the daemon's flight recorder verifies (pinned key) and holds the session's
#     start and end and the kernel-deny line naming the rule, target and session;
#   - a copy with one byte changed does not verify (exit 1);
#   - the metrics endpoint counts the kernel decision and the proxy's messages
#     under the session's server, and promtool accepts the exposition;
#   - `--record none` is said in the start banner.
# The probe runs in a network namespace of its own with only lo up: nothing leaves
# the machine (the denied connect never gets a packet out anyway).
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
fails=0
ok() { echo "ok - daemon record: $1"; }
nok() {
	echo "not ok - daemon record: $1${2:+: $2}"
	fails=$((fails + 1))
}
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - daemon record: needs root"
	exit 1
fi
for f in "$O/mcpguardd" "$O/mcpguard" "$O/tests/netprobe"; do
	[ -x "$f" ] || { echo "not ok - daemon record: $f not built (make)"; exit 1; }
done
t=$$
cg=/mcpguard-rec-$t
pin=/sys/fs/bpf/mcpguard-rec-$t
dir=$(mktemp -d /tmp/mg-t-drec.XXXXXX)
ctl=$dir/control.sock
rec=$dir/log/record.jsonl
# A key of the test's own: the pinned-key check below means something.
export MCPGUARD_RECORDER_KEY=$dir/key/recorder.key
dpid=
cat >"$dir/policy.yaml" <<'EOP'
egress:
  default: allow
  allow_loopback: true
  rules:
    - name: t-metadata
      cidr: [169.254.169.254/32]
      action: block
files:
  enabled: false
EOP
stop_daemon() {
	[ -n "$dpid" ] || return 0
	kill "$dpid" 2>/dev/null
	i=0
	while kill -0 "$dpid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
}
cleanup() {
	stop_daemon
	"$O/mcpguardd" --uninstall --pin-root "$pin" >/dev/null 2>&1
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	for d in "$mnt$cg"/*/ "$mnt$cg"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_daemon ARGS...: waits for the evidence banner line.
start_daemon() {
	: >"$dir/daemon.err"
	"$O/mcpguardd" --cgroup "$cg" --policy "$dir/policy.yaml" --pin-root "$pin" \
		--socket "$ctl" --events "$dir/events.jsonl" "$@" >"$dir/daemon.out" 2>"$dir/daemon.err" &
	dpid=$!
	for _ in $(seq 1 100); do
		grep -q 'evidence:' "$dir/daemon.err" 2>/dev/null && [ -S "$ctl" ] && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# daemon: /' "$dir/daemon.err"
	dpid=
	return 1
}

if ! start_daemon --record "$rec" --metrics 127.0.0.1:0; then
	nok "daemon starts with --record and --metrics"
	exit 1
fi
port=$(sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$dir/daemon.err")
[ -n "$port" ] && ok "banner names the record and the metrics port ($port)" ||
	nok "banner names the metrics port" "$(grep evidence: "$dir/daemon.err")"
if [ "$(stat -c %a "$dir/log")" = 750 ] && [ "$(stat -c %a "$rec")" = 600 ]; then
	ok "record directory created 0750, record 0600"
else
	nok "record modes" "dir $(stat -c %a "$dir/log"), file $(stat -c %a "$rec")"
fi

# One tools/call from the client (counted by the proxy), then the server's denied connect.
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch","arguments":{"url":"x"}}}' \
	>"$dir/client.jsonl"
cat >"$dir/server.sh" <<EOS
"$O/tests/netprobe" probe tcp:169.254.169.254:80 >"$dir/probe.out" 2>&1
cat >/dev/null
EOS
server="sh $dir/server.sh"
run_session() {
	MCPGUARD_CTL_SOCK=$ctl unshare -n sh -c '
		ip link set lo up || exit 3
		"$1/mcpguard" run -- sh "$2/server.sh" <"$2/client.jsonl" >"$2/client.out" 2>"$2/proxy.err"
	' sh "$O" "$dir"
}
run_session
if grep -q '^tcp:169.254.169.254:80 EPERM' "$dir/probe.out" 2>/dev/null; then
	ok "the session's connect to 169.254.169.254:80 was refused (EPERM)"
else
	nok "connect refused" "probe: $(cat "$dir/probe.out" 2>&1) proxy: $(cat "$dir/proxy.err")"
fi

# Metrics while the daemon runs: the kernel's decision and the proxy's counts.
i=0
while [ $i -lt 30 ]; do
	curl -s "http://127.0.0.1:$port/metrics" >"$dir/metrics.txt" 2>/dev/null
	grep -q '^mcpguard_kernel_decisions_total{' "$dir/metrics.txt" && break
	sleep 0.1
	i=$((i + 1))
done
want='mcpguard_kernel_decisions_total{hook="connect4",rule="t-metadata",action="block"} 1'
if grep -qxF "$want" "$dir/metrics.txt"; then
	ok "metrics: $want"
else
	nok "metrics: no '$want'" "$(grep -v '^#' "$dir/metrics.txt" | head -20)"
fi
# The proxy's deltas arrive labelled with the session's server command.
if grep -qxF "mcpguard_messages_scanned_total{server=\"$server\",direction=\"client_to_server\"} 1" \
	"$dir/metrics.txt"; then
	ok "metrics: the proxy's scanned message, labelled with its server"
else
	nok "metrics: proxy messages" "$(grep messages_scanned "$dir/metrics.txt")"
fi
if grep -qxF "mcpguard_scan_duration_seconds_count{server=\"$server\",direction=\"client_to_server\"} 1" \
	"$dir/metrics.txt"; then
	ok "metrics: the proxy's scan latency histogram"
else
	nok "metrics: scan latency" "$(grep scan_duration_seconds_count "$dir/metrics.txt")"
fi
if command -v promtool >/dev/null 2>&1; then
	if promtool check metrics <"$dir/metrics.txt" >"$dir/promtool.out" 2>&1; then
		ok "promtool check metrics accepts the exposition"
	else
		nok "promtool check metrics" "$(cat "$dir/promtool.out")"
	fi
else
	echo "skip - daemon record: promtool: not installed (scripts/deps.sh installs prometheus)"
fi

# Counts for a live session from a connection that did not place it are refused.
(sleep 4 | MCPGUARD_CTL_SOCK=$ctl "$O/mcpguard" run -- sh -c 'cat >/dev/null' >/dev/null 2>&1) &
runner=$!
python3 - "$ctl" "$port" >"$dir/forge.out" 2>&1 <<'EOF'
import json, socket, sys, time, urllib.request
def call(req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1]); s.send(json.dumps(req).encode())
    r = json.loads(s.recv(65536)); s.close(); return r
for _ in range(40):
    ss = call({"op": "sessions"}).get("sessions", [])
    if ss: break
    time.sleep(0.1)
assert ss, "no live session to forge counts for"
forged = {"families": [{"name": "mcpguard_proxy_findings_total", "type": "counter",
    "series": [{"labels": 'scanner="forged",action="block"', "count": 5}]}]}
r = call({"op": "metrics", "session": ss[0]["session"], "metrics": forged})
assert r.get("ok") is False, r
print(r["error"])
EOF
frc=$?
# The operator (root) quarantines and releases that session: gauges and record follow.
python3 - "$ctl" "$port" >"$dir/gauge.out" 2>&1 <<'EOF'
import json, socket, sys, time, urllib.request
def call(req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1]); s.send(json.dumps(req).encode())
    r = json.loads(s.recv(65536)); s.close(); return r
def gauges(want):
    for _ in range(30):
        t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[2]).read().decode()
        got = [l for l in t.splitlines() if l.startswith("mcpguard_sessions{")]
        if got == want: return
        time.sleep(0.1)
    raise SystemExit("gauges %s, want %s" % (got, want))
sid = call({"op": "sessions"})["sessions"][0]["session"]
gauges(['mcpguard_sessions{state="live"} 1', 'mcpguard_sessions{state="quarantined"} 0'])
assert call({"op": "verdict", "session": sid, "action": "quarantine", "reason": "test"})["ok"]
gauges(['mcpguard_sessions{state="live"} 1', 'mcpguard_sessions{state="quarantined"} 1'])
assert call({"op": "release", "session": sid})["ok"]
gauges(['mcpguard_sessions{state="live"} 1', 'mcpguard_sessions{state="quarantined"} 0'])
print(sid)
EOF
grc=$?
wait $runner
curl -s "http://127.0.0.1:$port/metrics" >"$dir/metrics2.txt" 2>/dev/null
if [ $frc -eq 0 ] && ! grep -q forged "$dir/metrics2.txt"; then
	ok "metrics from a connection that did not place the session are refused ($(cat "$dir/forge.out"))"
else
	nok "forged metrics" "$(cat "$dir/forge.out"; grep forged "$dir/metrics2.txt")"
fi
[ $grc -eq 0 ] && ok "sessions gauges follow a live session's quarantine and release" ||
	nok "sessions gauges" "$(cat "$dir/gauge.out")"

stop_daemon # writes the closing checkpoint

"$O/mcpguard" verify --pubkey "$dir/key/recorder.key.pub" "$rec" >"$dir/verify.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "record verifies against the pinned key (exit 0)" ||
	nok "record verifies" "exit $rc: $(cat "$dir/verify.out")"

# The lines themselves: the deny names rule, target and the session it happened in.
python3 - "$rec" >"$dir/lines.out" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
start = [l for l in lines if l.get("kind") == "session-start"]
end = [l for l in lines if l.get("kind") == "session-end"]
deny = [l for l in lines if l.get("kind") == "kernel-deny"]
assert start and end, "no session-start/session-end lines"
assert len(deny) == 1, "want one kernel-deny line, got %d" % len(deny)
d = deny[0]
assert d["source"] == "daemon" and d["scanner"] == "egress", d
assert d["rule"] == "t-metadata" and d["verdict"] == "block", d
assert d["summary"] == "connect 169.254.169.254:80", d
assert d["comm"] == "netprobe" and d["pid"] > 0 and d["hook"] == "connect4", d
assert d["session"] == start[0]["session"] == end[0]["session"], (d, start[0])
assert d["cgroup"].endswith("/" + d["session"]), d
assert start[0]["seq"] < d["seq"] < end[0]["seq"], "out of order"
# the operator's quarantine and release of the second session, by root
q = [l for l in lines if l.get("kind") == "quarantine"]
rel = [l for l in lines if l.get("kind") == "release"]
assert len(q) == 1 and len(rel) == 1, "want one quarantine and one release line"
assert q[0]["session"] == rel[0]["session"] == start[1]["session"] and q[0]["by"] == 0, q
assert q[0]["summary"] == "test" and q[0]["seq"] < rel[0]["seq"] < end[1]["seq"], (q, rel)
print("seq %d: %s" % (d["seq"], d["summary"]))
EOF
if [ $? -eq 0 ]; then
	ok "record: kernel-deny line (rule, scanner, target, pid, comm, session), session start/end, quarantine and release ($(cat "$dir/lines.out"))"
else
	nok "record lines" "$(tail -3 "$dir/lines.out")"
fi

# One byte changed in the deny line's target: tampering, exit 1, naming that line.
n=$(grep -n '"kind":"kernel-deny"' "$rec" | cut -d: -f1)
sed "${n}s/169\.254\.169\.254:80/169.254.169.254:81/" "$rec" >"$dir/flipped.jsonl"
if cmp -s "$rec" "$dir/flipped.jsonl"; then
	nok "tampered copy differs from the record"
else
	"$O/mcpguard" verify "$dir/flipped.jsonl" >"$dir/verify2.out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q "flipped.jsonl:$n: TAMPERED" "$dir/verify2.out"; then
		ok "a copy with one byte changed fails verify (exit 1, line $n named)"
	else
		nok "byte-flipped copy" "exit $rc: $(cat "$dir/verify2.out")"
	fi
fi

# --record none / --metrics none: said at start, nothing written.
if start_daemon --record none --metrics none; then
	if grep -q 'flight recorder OFF (--record none)' "$dir/daemon.err" &&
		grep -q 'metrics off (--metrics none)' "$dir/daemon.err"; then
		ok "--record none and --metrics none are said in the start banner"
	else
		nok "--record none banner" "$(grep evidence: "$dir/daemon.err")"
	fi
	stop_daemon
else
	nok "daemon starts with --record none"
fi
# A small rotation size: the record continues across gzip files and verifies as one chain.
if start_daemon --record "$dir/rot/r.jsonl" --record-rotate 1K --metrics none; then
	run_session
	run_session
	stop_daemon
	n=$(ls "$dir"/rot/r.jsonl.*.gz 2>/dev/null | wc -l)
	"$O/mcpguard" verify --pubkey "$dir/key/recorder.key.pub" --all "$dir/rot/r.jsonl" \
		>"$dir/verify3.out" 2>&1
	rc=$?
	if [ "$n" -ge 1 ] && [ $rc -eq 0 ] &&
		[ "$(zcat "$dir"/rot/r.jsonl.*.gz | cat - "$dir/rot/r.jsonl" | grep -c '"kind":"kernel-deny"')" -eq 2 ]; then
		ok "--record-rotate 1K: $n gzip file(s), both denies kept, verify --all intact"
	else
		nok "--record-rotate" "$n rotated, verify exit $rc: $(cat "$dir/verify3.out")"
	fi
else
	nok "daemon starts with --record-rotate 1K"
fi
if "$O/mcpguardd" --cgroup "$cg" --record-rotate 12X >/dev/null 2>"$dir/bad.err"; then
	nok "a bad --record-rotate size is refused"
else
	grep -q "12X" "$dir/bad.err" && ok "a bad --record-rotate size is refused, naming it" ||
		nok "bad --record-rotate message" "$(cat "$dir/bad.err")"
fi
# An explicit record that cannot be opened stops the daemon (no silent fallback).
: >"$dir/notadir"
"$O/mcpguardd" --cgroup "$cg" --policy "$dir/policy.yaml" --pin-root "$pin" --socket "$ctl" \
	--events "$dir/events.jsonl" --record "$dir/notadir/r.jsonl" --metrics none \
	>/dev/null 2>"$dir/bad.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "notadir" "$dir/bad.err"; then
	ok "an explicit --record that cannot be opened is fatal (exit $rc)"
else
	nok "explicit bad --record" "exit $rc: $(cat "$dir/bad.err")"
fi
exit $((fails > 0))
