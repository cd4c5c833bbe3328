#!/bin/sh
# Bridge test (issue: kernel and content joined). The official SDK client talks
# through `mcpguard run` to server.mjs while mcpguardd guards the session:
#   quarantine: a credential leaked in a tool argument is blocked by the proxy and
#               quarantines the session: the server's own connect() then fails;
#   taint:      the server reads a watched (audit) credential file itself; the kernel
#               then refuses its egress outside the allowlist.
# Evidence (issue 5): the proxy runs with --log and the daemon with --record; both
# flight recorders verify (exit 0), hold the block, the quarantine and the kernel's
# refusals, never the leaked key, and a copy with one byte changed does not verify.
# Runs in a network namespace of its own whose lo also carries test host 10.77.0.1:
# nothing is sent off this machine.
set -u
cd "$(dirname "$0")/../../.."
O=${O:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - bridge tests need root (sudo make test)"
	exit 1
fi
if [ ! -d tests/e2e/node_modules/@modelcontextprotocol/sdk ]; then
	(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "not ok - bridge: npm ci failed"; exit 1; }
fi
dir=$(mktemp -d /tmp/mg-bridge-XXXXXX)
mkdir -p "$dir/watched"
echo "[default]" > "$dir/watched/credentials"
echo "aws_secret_access_key = not-a-real-key" >> "$dir/watched/credentials"
cat > "$dir/policy.yaml" <<EOP
mcp_ssrf: {enabled: false}
baseline_dir: $dir/baselines
egress:
  allow_loopback: true
  rules: []
files:
  rules:
    - name: watched-credentials
      paths: ["$dir/watched/credentials"]
      action: warn
EOP
# One recorder key for the proxy and the daemon, the test's own (pinned in verify).
export MCPGUARD_RECORDER_KEY=$dir/key/recorder.key
# The SDK client starts "$mcpguard run ..."; this puts --log in front of its options.
cat > "$dir/mcpguard-log" <<EOW
#!/bin/sh
cmd=\$1
shift
exec "$(cd "$O" && pwd)/mcpguard" "\$cmd" --log "\$BRIDGE_PROXY_LOG" "\$@"
EOW
chmod 755 "$dir/mcpguard-log"
. tests/lib/daemon.sh
mg_daemon_start bridge "$dir" --record "$dir/daemon-record.jsonl" || exit 1
rc=0
for scenario in quarantine:127.0.0.1 taint:10.77.0.1; do
	name=${scenario%%:*} host=${scenario#*:}
	MCPGUARD_CTL_SOCK=$ctl BRIDGE_SERVER_LOG=$dir/server-$name.log HOME=$dir \
	BRIDGE_PROXY_LOG=$dir/proxy-$name.jsonl \
	unshare -n sh -c '
		ip link set lo up && ip addr add 10.77.0.1/32 dev lo || exit 3
		python3 -c "
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"0.0.0.0\", 47011)); s.listen(16); s.settimeout(60)
print(\"ready\", flush=True)
try:
    while True: s.accept()[0].close()
except Exception: pass
" > "$0/listener.out" &
		lp=$!
		for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q ready "$0/listener.out" 2>/dev/null && break; sleep 0.2; done
		node tests/e2e/bridge/client.mjs "$1" "$0/policy.yaml" "$2" 47011 \
			"$0/watched/credentials" "$3"
		r=$?
		kill $lp 2>/dev/null
		exit $r
	' "$dir" "$dir/mcpguard-log" "$host" "$name" || rc=1
	# The kernel's side of the story: the events name the rule that refused.
	case $name in
	quarantine) want='"rule":"quarantine"' ;;
	taint) want='"rule":"taint"' ;;
	esac
	if grep -q "$want" "$dir/events.jsonl" 2>/dev/null; then
		echo "ok - bridge: $name: the daemon logged the refusal ($want)"
	else
		echo "not ok - bridge: $name: no event with $want"
		rc=1
	fi
done

# verify_log NAME FILE: intact under the pinned key; a one-byte change is tampering.
verify_log() {
	"$O/mcpguard" verify --pubkey "$dir/key/recorder.key.pub" "$2" >"$dir/verify.out" 2>&1
	v=$?
	if [ $v -eq 0 ]; then
		echo "ok - bridge: $1 flight recorder verifies (exit 0): $(head -n 1 "$dir/verify.out")"
	else
		echo "not ok - bridge: $1 flight recorder verifies: exit $v: $(cat "$dir/verify.out")"
		rc=1
	fi
	# the digit of the first "seq" of line 2: one byte, nothing else touched
	sed '2s/"seq":2/"seq":3/' "$2" >"$dir/tampered.jsonl"
	"$O/mcpguard" verify "$dir/tampered.jsonl" >"$dir/verify.out" 2>&1
	v=$?
	if [ $v -eq 1 ] && ! cmp -s "$2" "$dir/tampered.jsonl"; then
		echo "ok - bridge: $1 flight recorder with one byte changed fails verify (exit 1)"
	else
		echo "not ok - bridge: $1 tampered copy: exit $v: $(cat "$dir/verify.out")"
		rc=1
	fi
}
# has_line NAME FILE PYTHON-CONDITION (on a line l): some line of the record matches.
has_line() {
	if python3 -c '
import json, sys
sys.exit(0 if any(eval(sys.argv[2], {"l": json.loads(x), "json": json}) for x in open(sys.argv[1])) else 1)
' "$2" "$3" 2>"$dir/py.err"; then
		echo "ok - bridge: $1"
	else
		echo "not ok - bridge: $1 ($3 not in $(basename "$2") $(cat "$dir/py.err"))"
		rc=1
	fi
}
plog=$dir/proxy-quarantine.jsonl
verify_log "proxy (quarantine scenario)" "$plog"
has_line "proxy record: the probe call was allowed (tool and argument names only)" "$plog" \
	'l["kind"] == "allow" and l.get("tool") == "probe" and l["arguments"] == ["host", "port"] and "127.0.0.1" not in json.dumps(l)'
has_line "proxy record: the leaked key was blocked by the dlp scanner" "$plog" \
	'l["kind"] == "block" and l.get("scanner") == "dlp" and l.get("tool") == "note"'
has_line "proxy record: the session was quarantined" "$plog" \
	'l.get("event") == "quarantine" and l["verdict"] == "block"'
if grep -q 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ' "$plog"; then
	echo "not ok - bridge: the leaked key is in the proxy's record"
	rc=1
else
	echo "ok - bridge: the leaked key itself is not in the proxy's record"
fi
verify_log "proxy (taint scenario)" "$dir/proxy-taint.jsonl"

# The daemon's record is closed (signed) when it stops.
kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
dpid=
verify_log "daemon" "$dir/daemon-record.jsonl"
has_line "daemon record: the proxy's quarantine verdict" "$dir/daemon-record.jsonl" \
	'l["kind"] == "quarantine" and l["source"] == "daemon" and "dlp" in l.get("summary", "")'
has_line "daemon record: the quarantined session's connect refused" "$dir/daemon-record.jsonl" \
	'l["kind"] == "kernel-deny" and l["rule"] == "quarantine" and l["summary"].startswith("connect 127.0.0.1:")'
has_line "daemon record: the tainted session's connect refused" "$dir/daemon-record.jsonl" \
	'l["kind"] == "kernel-deny" and l["rule"] == "taint" and l["summary"].startswith("connect 10.77.0.1:")'
has_line "daemon record: the watched credential read (audit)" "$dir/daemon-record.jsonl" \
	'l["kind"] == "kernel-audit" and l["rule"] == "watched-credentials"'
[ $rc -eq 0 ] || sed 's/^/# daemon: /' "$dir/daemon.log" | tail -30
exit $rc
