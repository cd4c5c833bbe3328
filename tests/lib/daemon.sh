# Sourced by test runners that need a private mcpguardd (set O first).
# mg_daemon_start NAME DIR [daemon args...]: a daemon on its own cgroup, pin root and
# control socket, with DIR/policy.yaml, events in DIR/events.jsonl and its log in
# DIR/daemon.log; no flight recorder or metrics unless the args ask (later flags win),
# so tests never write the machine's own record. Sets cg, pin, ctl, dpid and a trap
# that stops the daemon, removes its pins and cgroups, and DIR.
mg_daemon_start() {
	mg_name=$1 mg_dir=$2
	shift 2
	cg=/mcpguard-$mg_name-$$
	pin=/sys/fs/bpf/mcpguard-$mg_name-$$
	ctl=/run/mcpguard-$mg_name-$$/control.sock
	trap mg_daemon_cleanup EXIT INT TERM
	"$O/mcpguardd" --cgroup "$cg" --policy "$mg_dir/policy.yaml" --pin-root "$pin" \
		--socket "$ctl" --events "$mg_dir/events.jsonl" --record none --metrics none "$@" \
		>"$mg_dir/daemon.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1 100); do
		[ -S "$ctl" ] && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	echo "not ok - $mg_name: daemon did not start"
	sed 's/^/# /' "$mg_dir/daemon.log"
	return 1
}

mg_daemon_cleanup() {
	[ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	"$O/mcpguardd" --uninstall --pin-root "$pin" >/dev/null 2>&1
	mg_mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
	for d in "$mg_mnt$cg"/*/ "$mg_mnt$cg"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rm -rf "$mg_dir" "$(dirname "$ctl")"
}
