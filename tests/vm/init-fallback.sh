#!/bin/sh
# Runs inside the test VM booted WITHOUT "bpf" in lsm=: the kernel has BPF-LSM
# built in, loads and attaches LSM programs, and never calls them. mcpguardd must
# notice (its self-test open), refuse with --require-lsm, and otherwise run the
# kill-on-access fallback, which on this kernel can also blank the path.
set -u
PATH=/opt/mg:/bin:/sbin
CG=/sys/fs/cgroup/mcp
EV=/tmp/events.jsonl
LOG=/tmp/mcpguardd.log
H=/home/alice
SECRET=VMSECRET
fails=0

ok() { echo "ok - fallback: $*"; }
nok() { echo "not ok - fallback: $*"; fails=$((fails + 1)); }
inside() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}
killed() {
	n=$1
	shift
	out=$(inside "$@" 2>&1)
	rc=$?
	case $out in
	*$SECRET*) nok "$n: secret leaked: $out" ;;
	*) [ $rc -eq 137 ] && ok "$n (SIGKILL)" || nok "$n: status $rc: $out" ;;
	esac
}

mkdir -p $H/.aws $H/.ssh $H/.kube $H/proj
echo "aws_secret_access_key=$SECRET" >$H/.aws/credentials
echo "PRIVATE KEY $SECRET" >$H/.ssh/id_rsa
echo "token: $SECRET" >$H/.kube/config
echo "benign notes" >$H/proj/notes.txt

out=$(mcpguardd --cgroup /mcp --require-lsm --events "$EV" --socket /tmp/ctl.sock 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q 'never ran'; then
	ok "--require-lsm refuses: the attached LSM hook never runs"
else
	echo "$out" | sed 's/^/# /'
	nok "--require-lsm did not refuse (status $rc)"
fi
mcpguardd --uninstall >/dev/null 2>&1

mcpguardd --cgroup /mcp --events "$EV" --socket /tmp/ctl.sock >"$LOG" 2>&1 &
DPID=$!
i=0
while ! grep -q '^mcpguardd: policy: ' "$LOG" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
sed -n 's/^mcpguardd: files: /# daemon files: /p' "$LOG"
grep -q '^mcpguardd: files: FALLBACK.*never ran' "$LOG" &&
	ok "daemon detects hooks that attach but never run, and falls back" ||
	nok "daemon did not fall back"
grep -q 'path blanking on' "$LOG" && ok "path blanking available on this kernel" ||
	nok "path blanking not available"

killed "cat of an ssh key" cat $H/.ssh/id_rsa
killed "open of a glob-protected path" fileprobe open $H/.aws/credentials
killed "openat2 of a key" fileprobe openat2 $H/.ssh/id_rsa
killed "open of a key through int 0x80 (ia32 syscall numbers)" fileprobe int80 $H/.ssh/id_rsa
killed "rename of a key" fileprobe rename $H/.ssh/id_rsa $H/proj/moved
killed "hard link of a glob-protected path" fileprobe link $H/.aws/credentials $H/proj/hl
killed "creating a symlink to a key" ln -s $H/.ssh/id_rsa /tmp/innocent
[ -e $H/.ssh/id_rsa ] && [ ! -e $H/proj/moved ] && [ ! -e $H/proj/hl ] && [ ! -L /tmp/innocent ] &&
	ok "blanked paths: the rename and the link did not happen" || nok "a protected file moved"
out=$(inside cat $H/proj/notes.txt 2>&1)
[ "$out" = "benign notes" ] && ok "benign file reads inside the cgroup" || nok "benign: $out"
out=$(cat $H/.ssh/id_rsa 2>&1)
[ "$out" = "PRIVATE KEY $SECRET" ] && ok "key reads outside the cgroup" || nok "outside: $out"
sleep 1
grep -q '"hook":"sys_enter","target":"/home/alice/.ssh/id_rsa","rule":"ssh-private-keys","action":"kill"' "$EV" &&
	ok "kill event written" || nok "no kill event"

# Glob-protected files without a protected basename, reached by relative paths.
killed "relative path from the directory (~/.kube/config)" sh -c "cd $H/.kube && exec cat config"
killed "dirfd-relative openat (~/.kube/config)" fileprobe openat $H/.kube config
killed "path with .. and //" cat $H/.ssh/..//.kube/config

# Names that hide the file (made outside the cgroup): judged on the opened file at exit.
ln -s $H/.kube/config /tmp/kc
ln $H/.kube/config $H/proj/innocent
killed "innocent-named symlink to ~/.kube/config" cat /tmp/kc
killed "innocent-named hard link made before" cat $H/proj/innocent
killed "/proc/self/fd reopen" fileprobe procfd /tmp/kc
rm -f $H/proj/innocent

# Documented limit, shown rather than asserted: io_uring opens are not seen.
out=$(inside fileprobe uring $H/.kube/config 2>&1)
case $out in "ok "*) echo "# known fallback limit: io_uring IORING_OP_OPENAT read ~/.kube/config" ;; esac

kill $DPID
wait $DPID 2>/dev/null
mcpguardd --uninstall >/dev/null 2>&1
echo "# fallback checks: $fails failed"
[ "$fails" -eq 0 ]
