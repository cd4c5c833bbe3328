#!/bin/sh
# Runs inside the test VM (scripts/vmtest) as root, under a kernel with BPF-LSM.
# Starts the real mcpguardd on /mcp with the built-in default policy and tries
# every route to a protected file from inside the cgroup: each must fail with
# EPERM, the same files must open from outside, and the denies must be events.
set -u
PATH=/opt/mg:/bin:/sbin
CG=/sys/fs/cgroup/mcp
EV=/tmp/events.jsonl
LOG=/tmp/mcpguardd.log
H=/home/alice
SECRET=VMSECRET
fails=0
DPID=

ok() { echo "ok - lsm: $*"; }
nok() { echo "not ok - lsm: $*"; fails=$((fails + 1)); }

# Run a command inside the guarded cgroup (or a session cgroup below it).
inside() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}
inside_at() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

# denied NAME CMD...: fileprobe (or cat) inside the cgroup must fail with EPERM, no secret out.
denied() {
	n=$1
	shift
	out=$(inside "$@" 2>&1)
	rc=$?
	case $out in
	*$SECRET*) nok "$n: secret leaked: $out" ;;
	*"err EPERM"* | *"Operation not permitted"*) [ $rc -ne 0 ] && ok "$n" || nok "$n: rc 0: $out" ;;
	*) nok "$n: expected EPERM, got rc $rc: $out" ;;
	esac
}
# opened NAME CMD...: must succeed (fileprobe prints "ok N").
opened() {
	n=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	case $out in
	"ok "*) [ $rc -eq 0 ] && ok "$n" || nok "$n: rc $rc: $out" ;;
	*) nok "$n: rc $rc: $out" ;;
	esac
}

start_daemon() {
	mcpguardd --cgroup /mcp --events "$EV" --socket /tmp/ctl.sock "$@" >>"$LOG" 2>&1 &
	DPID=$!
	i=0
	while ! grep -q '^mcpguardd: policy: ' "$LOG" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$DPID" 2>/dev/null; then
			sed 's/^/# daemon: /' "$LOG"
			nok "mcpguardd did not start"
			return 1
		fi
		sleep 0.1
	done
}

# --- a home for two users, before the daemon starts ---
mkdir -p $H/.aws $H/.ssh $H/proj $H/venv/.env /home/bob/.ssh /root
echo "aws_secret_access_key=$SECRET" >$H/.aws/credentials
echo "PRIVATE KEY $SECRET" >$H/.ssh/id_rsa
echo "API_KEY=$SECRET" >$H/proj/.env
echo "benign notes" >$H/proj/notes.txt
echo "bob key $SECRET" >/home/bob/.ssh/id_ed25519
ln -s $H/.aws/credentials /tmp/innocent-symlink
ln $H/.aws/credentials $H/proj/innocent-hardlink # made before the daemon: same inode
printf '#!/bin/sh\necho %s\n' "$SECRET" >$H/.ssh/id_ecdsa
chmod +x $H/.ssh/id_ecdsa

start_daemon || exit 1
sed -n 's/^mcpguardd: files: /# daemon files: /p' "$LOG"
if grep -q '^mcpguardd: files: enforcing with BPF-LSM' "$LOG"; then
	ok "daemon banner says BPF-LSM mode"
else
	sed 's/^/# daemon: /' "$LOG"
	nok "daemon banner does not say BPF-LSM mode"
fi
[ -d $CG ] && ok "guarded cgroup /mcp created" || nok "no /mcp cgroup"

# --- every route to the contents, from inside ---
denied "direct path (glob ~/.aws/credentials)" fileprobe open $H/.aws/credentials
denied "cat of an ssh key" cat $H/.ssh/id_rsa
denied "another user's home (bob id_ed25519)" fileprobe open /home/bob/.ssh/id_ed25519
denied ".env by basename" fileprobe open $H/proj/.env
denied "symlink made before start" fileprobe open /tmp/innocent-symlink
denied "symlink made inside the cgroup" sh -c "ln -s $H/.ssh/id_rsa /tmp/s2 && exec fileprobe open /tmp/s2"
denied "hardlink with an innocent name, made before start" fileprobe open $H/proj/innocent-hardlink
denied "relative path from the directory" sh -c "cd $H/.aws && exec fileprobe open credentials"
denied "relative path with .. components" sh -c "cd $H/proj && exec fileprobe open ../.ssh/../.ssh/id_rsa"
denied "/proc/self/fd reopen of an O_PATH fd" fileprobe procfd $H/.aws/credentials
out=$(inside fileprobe opath $H/.aws/credentials 2>&1)
case $out in
*$SECRET* | "ok "*) nok "O_PATH fd gave data: $out" ;;
*) ok "O_PATH fd gives no data ($out)" ;;
esac
denied "openat2" fileprobe openat2 $H/.ssh/id_rsa
denied "open through the 32-bit syscall ABI (int 0x80)" fileprobe int80 $H/.ssh/id_rsa
if [ -e /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then
	echo "skip - lsm: io_uring openat: io_uring disabled by sysctl"
else
	denied "io_uring IORING_OP_OPENAT" fileprobe uring $H/.aws/credentials
fi
denied "exec of a protected file" $H/.ssh/id_ecdsa
denied "O_TRUNC-free truncate(2)" fileprobe truncate $H/.aws/credentials
grep -q $SECRET $H/.aws/credentials && ok "truncate left the contents" || nok "credentials truncated"

# --- giving the file another name ---
denied "hard link of a glob-protected file" fileprobe link $H/.aws/credentials $H/proj/hl
denied "hard link of a basename-protected file" fileprobe link $H/proj/.env $H/proj/env.txt
denied "hard link to a protected name" fileprobe link $H/proj/notes.txt $H/proj/server.pem
denied "rename of a protected file" fileprobe rename $H/.aws/credentials $H/.aws/c2
denied "rename of a basename-protected file" fileprobe rename $H/proj/.env $H/proj/env.txt
denied "rename of the directory above a protected file" fileprobe rename $H/.aws $H/aws2
echo "replacement" >$H/evil
denied "rename over a protected file" fileprobe rename $H/evil $H/.ssh/id_rsa
[ -e $H/.aws/credentials ] && [ -e $H/proj/.env ] && [ ! -e $H/proj/hl ] &&
	[ ! -e $H/proj/env.txt ] && [ ! -e $H/aws2 ] && grep -q $SECRET $H/.ssh/id_rsa &&
	ok "protected files kept their names and contents" || nok "a protected file was moved or replaced"

# --- files that appear later ---
echo "-----BEGIN PRIVATE KEY----- $SECRET" >$H/proj/late.pem
denied "file created later matching *.pem" fileprobe open $H/proj/late.pem
mkdir -p $H/.kube
echo "token: $SECRET" >$H/.kube/config
sleep 6 # path globs are re-resolved every few seconds
denied "glob-protected file created later (~/.kube/config)" fileprobe open $H/.kube/config

# --- what must keep working ---
opened "benign file inside the cgroup" inside fileprobe open $H/proj/notes.txt
opened "directory named .env (a virtualenv) inside the cgroup" inside fileprobe open $H/venv/.env
opened "outside the cgroup: ~/.aws/credentials" fileprobe open $H/.aws/credentials
opened "outside the cgroup: ssh key" fileprobe open $H/.ssh/id_rsa
opened "outside the cgroup: .env" fileprobe open $H/proj/.env
opened "outside the cgroup: through the symlink" fileprobe open /tmp/innocent-symlink
opened "outside the cgroup: io_uring" fileprobe uring $H/.aws/credentials
out=$(fileprobe rename $H/evil $H/evil2 2>&1) && [ -e $H/evil2 ] &&
	ok "outside the cgroup: rename works" || nok "outside rename: $out"

# --- events ---
sleep 1
for pat in \
	'"hook":"file_open","target":"/home/alice/.aws/credentials","rule":"cloud-credentials","action":"block"' \
	'"hook":"file_open","target":"/home/bob/.ssh/id_ed25519","rule":"ssh-private-keys","action":"block"' \
	'"hook":"file_open","target":"/home/alice/proj/.env","rule":"dotenv","action":"block"' \
	'"target":"/home/alice/.kube/config","rule":"kube-docker","action":"block"' \
	'"hook":"path_link","target":"server.pem","rule":"tls-private-keys","action":"block"' \
	'"hook":"path_rename","target":"credentials","rule":"cloud-credentials","action":"block"' \
	'"hook":"path_rename","target":".aws","rule":"protected-parent-dir","action":"block"' \
	'"hook":"path_truncate",.*"action":"block"'; do
	if grep -q "$pat" "$EV"; then ok "event $pat"; else nok "no event $pat"; fi
done
if grep -q 'notes.txt' "$EV"; then nok "event for a benign file"; else ok "no event for benign files"; fi
echo "# events: $(wc -l <"$EV") lines"

# --- indicative cost of the LSM hooks on open() (TCG: only the ratio means anything) ---
if [ -x /opt/mg/bench-kernel ]; then
	mkdir -p /sys/fs/cgroup/bench-base $CG/bench
	pid=$(bpftool -j link show pinned /sys/fs/bpf/mcpguard/link_file_open 2>/dev/null |
		sed -n 's/.*"prog_id":\([0-9]*\).*/\1/p')
	stats() { bpftool -j prog show id "$pid" 2>/dev/null |
		sed -n 's/.*"run_time_ns":\([0-9]*\),"run_cnt":\([0-9]*\).*/\1 \2/p'; }
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null
	before=$(stats)
	bench-kernel pair /sys/fs/cgroup/bench-base $CG/bench $H/proj/notes.txt 127.0.0.1 1 \
		40000 0 20 2>/dev/null | awk '$1 == "open_close" { v[$2] = $3 }
		END { if (v["base"] > 0) printf "# bench (TCG): open+close unguarded %.0f ns, guarded %.0f ns, ratio %.3f\n", v["base"], v["guarded"], v["guarded"] / v["base"] }'
	after=$(stats)
	sysctl -qw kernel.bpf_stats_enabled=0 2>/dev/null
	echo "$before $after" | awk 'NF == 4 && $4 > $2 {
		printf "# bench (TCG): lsm/file_open program %.0f ns per call over %d calls\n", ($3 - $1) / ($4 - $2), $4 - $2 }'
fi

# --- restart over the pins, then audit rules taint the session ---
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
denied "still enforced after kill -9 of the daemon" fileprobe open $H/.aws/credentials
cat >/tmp/audit.yaml <<EOF
files:
  enabled: true
  action: block
  rules:
    - name: watched
      paths: ["~/proj/watched.txt"]
      action: warn
    - name: cloud-credentials
      paths: ["~/.aws/credentials"]
EOF
echo "watched $SECRET" >$H/proj/watched.txt
: >"$LOG"
start_daemon --policy /tmp/audit.yaml || exit 1
grep -q '^mcpguardd: files: enforcing with BPF-LSM' "$LOG" && ok "restarted daemon in LSM mode" ||
	nok "restarted daemon not in LSM mode"
n=$(ls /sys/fs/bpf/mcpguard | grep -c '^link_')
[ "$n" -eq 4 ] && ok "four LSM links pinned after the restart" || nok "$n LSM links pinned: $(ls /sys/fs/bpf/mcpguard)"
denied "enforced by the restarted daemon" fileprobe open $H/.aws/credentials
mkdir -p $CG/s1
out=$(inside_at $CG/s1 fileprobe open $H/proj/watched.txt 2>&1)
case $out in "ok "*) ok "audit rule: the open is allowed" ;; *) nok "audit rule denied: $out" ;; esac
sleep 1
grep -q '"target":"/home/alice/proj/watched.txt","rule":"watched","action":"audit"' "$EV" &&
	ok "audit event written" || nok "no audit event"
cgid=$(stat -c %i $CG/s1)
key=$(printf '%016x' "$cgid" | sed 's/../& /g' | awk '{for (i = 8; i >= 1; i--) printf "%s ", $i}')
val=$(bpftool -j map lookup pinned /sys/fs/bpf/mcpguard/mg_sessions key hex $key 2>&1)
fl=$(echo "$val" | sed -n 's/.*"value":\["\(0x[0-9a-f]*\)".*/\1/p')
if [ -n "$fl" ] && [ $((fl & 2)) -ne 0 ]; then
	ok "session tainted by the audited read (flags $fl)"
else
	nok "session not tainted: $val"
fi
kill "$DPID"
wait "$DPID" 2>/dev/null

mcpguardd --uninstall >/dev/null 2>&1
opened "after --uninstall the guarded process opens the file" inside fileprobe open $H/.aws/credentials

echo "# lsm checks: $fails failed"
[ "$fails" -eq 0 ]
