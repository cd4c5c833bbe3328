#!/bin/sh
# Bridge test (issue: kernel and content joined). The official SDK client talks
# through `mcpguard run` to server.mjs while mcpguardd guards the session:
#   quarantine: a credential leaked in a tool argument is blocked by the proxy and
#               quarantines the session: the server's own connect() then fails;
#   taint:      the server reads a watched (audit) credential file itself; the kernel
#               then refuses its egress outside the allowlist.
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
t=$$
cg=/mcpguard-bridge-$t
pin=/sys/fs/bpf/mcpguard-bridge-$t
ctl=/run/mcpguard-bridge-$t/control.sock
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
cleanup() {
	[ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	"$O/mcpguardd" --uninstall --pin-root "$pin" >/dev/null 2>&1
	mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	for d in "$mnt$cg"/*/ "$mnt$cg"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rm -rf "$dir" "$(dirname "$ctl")"
}
trap cleanup EXIT INT TERM
"$O/mcpguardd" --cgroup "$cg" --policy "$dir/policy.yaml" --pin-root "$pin" \
	--socket "$ctl" --events "$dir/events.jsonl" >"$dir/daemon.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do
	[ -S "$ctl" ] && break
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if [ ! -S "$ctl" ]; then
	echo "not ok - bridge: daemon did not start"
	sed 's/^/# /' "$dir/daemon.log"
	exit 1
fi
rc=0
for scenario in quarantine:127.0.0.1 taint:10.77.0.1; do
	name=${scenario%%:*} host=${scenario#*:}
	MCPGUARD_CTL_SOCK=$ctl BRIDGE_SERVER_LOG=$dir/server-$name.log HOME=$dir \
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
	' "$dir" "$O/mcpguard" "$host" "$name" || rc=1
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
[ $rc -eq 0 ] || sed 's/^/# daemon: /' "$dir/daemon.log" | tail -30
exit $rc
