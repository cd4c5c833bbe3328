#!/bin/sh
# Flight recorder under real crashes: a writer killed with -9 at random moments
# loses at most the line it was writing, `mcpguard verify` tells the crash
# (exit 3 truncated / 4 torn tail) from tampering (exit 1), the next writer
# resumes the chain, and rotated .gz files verify as one chain.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
MG=${MG:-$O/mcpguard}
W=$O/tests/recwriter
fail=0
ok() { echo "ok - recorder: $1"; }
nok() { echo "not ok - recorder: $1"; fail=1; }
for b in "$MG" "$W"; do
	[ -x "$b" ] || { echo "not ok - recorder: $b not built (make)"; exit 1; }
done
d=$(mktemp -d /tmp/mg-t-recorder.XXXXXX)
trap 'rm -rf "$d"' EXIT
log=$d/audit.jsonl key=$d/keys/recorder.key

last_seq() { "$MG" verify --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("last_seq", 0))'; }

# 1. kill -9 at random moments, with 16 KiB lines so one write(2) spans several pages.
rounds=12 torn=0 trunc=0 bad=0 lost=0
i=0
while [ $i -lt $rounds ]; do
	"$W" "$log" "$key" 0 8 0 16384 300 >"$d/acked" 2>"$d/err" &
	pid=$!
	# 20-120 ms
	sleep "0.$(( (i * 37) % 10 + 2 ))"
	if ! kill -9 $pid 2>/dev/null; then
		wait $pid
		nok "round $i: the writer exited before it was killed: $(cat "$d/err")"
		break
	fi
	wait $pid 2>/dev/null
	acked=$(tail -n 1 "$d/acked")
	[ -n "$acked" ] || { nok "round $i: the writer acknowledged nothing"; break; }
	"$MG" verify "$log" >"$d/out" 2>&1
	rc=$?
	case $rc in
	3) trunc=$((trunc + 1)) ;;
	4) torn=$((torn + 1)) ;;
	*) bad=$((bad + 1)); echo "# round $i: verify exit $rc"; sed 's/^/#   /' "$d/out" ;;
	esac
	got=$(last_seq "$log")
	if [ -n "$acked" ] && [ "$got" -lt "$acked" ]; then
		lost=$((lost + 1))
		echo "# round $i: writer acknowledged seq $acked, log verifies only to $got"
	fi
	i=$((i + 1))
done
[ $bad -eq 0 ] && ok "$rounds kill -9 rounds: every log verifies as a crash ($trunc truncated, $torn torn tail), never as tampering" ||
	nok "$bad of $rounds crashed logs did not verify as truncated/torn"
[ $lost -eq 0 ] && ok "no acknowledged line lost in $rounds kill -9 rounds" ||
	nok "$lost rounds lost acknowledged lines"

# 2. a crash inside a write(2) that the kernel had half done: the tail is torn
sz=$(stat -c %s "$log")
truncate -s $((sz - 5000)) "$log"
"$MG" verify "$log" >"$d/out" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q 'incomplete last line' "$d/out" &&
	ok "a line cut mid-write: exit 4 (torn tail), everything before it verified" ||
	{ nok "torn tail: exit $rc"; sed 's/^/#   /' "$d/out"; }
torn=$((torn + 1))

# 3. a clean run after the crashes closes the chain: intact, with the crashes recorded
"$W" "$log" "$key" 5 8 0 100 >/dev/null 2>"$d/err" || nok "writer failed after crashes: $(cat "$d/err")"
"$MG" verify --pubkey "$key.pub" "$log" >"$d/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "after $rounds crashes and a clean close the log is intact (pinned key)" ||
	{ nok "log after crashes: verify exit $rc"; sed 's/^/#   /' "$d/out"; }
n=$(grep -c '"kind":"recovered"' "$log")
[ "$n" -eq "$torn" ] && ok "each torn tail ($torn) was cut and recorded in a \"recovered\" line" ||
	nok "$torn torn tails but $n recovered lines"

# 4. tampering with the same log: one changed byte in the middle
sz=$(wc -l <"$log")
mid=$((sz / 2))
cp "$log" "$d/t.jsonl"
sed -i "${mid}s/\"rule\":\"ssh-keys\"/\"rule\":\"ssh-kezs\"/" "$d/t.jsonl"
if cmp -s "$log" "$d/t.jsonl"; then
	sed -i "${mid}s/\"kind\":\"checkpoint\"/\"kind\":\"checkpoinT\"/" "$d/t.jsonl"
fi
"$MG" verify "$d/t.jsonl" >"$d/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q ":$mid: TAMPERED" "$d/out" && ok "a changed byte on line $mid: exit 1 naming line $mid" ||
	{ nok "tampered log: exit $rc"; sed 's/^/#   /' "$d/out"; }

# 5. the wrong trusted key
"$W" "$d/other.jsonl" "$d/keys/other.key" 3 8 0 10 >/dev/null 2>&1
"$MG" verify --pubkey "$key.pub" "$d/other.jsonl" >"$d/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "not the trusted key" "$d/out" && ok "a log signed by another key is refused with --pubkey" ||
	{ nok "other key: exit $rc"; sed 's/^/#   /' "$d/out"; }

# 6. rotation: gzip files and the live file verify as one chain, in order
"$W" "$d/rot.jsonl" "$key" 400 16 32768 200 >/dev/null 2>"$d/err" || nok "rotating writer: $(cat "$d/err")"
ngz=$(ls "$d"/rot.jsonl.*.gz 2>/dev/null | wc -l)
"$MG" verify "$d"/rot.jsonl.*.gz "$d/rot.jsonl" >"$d/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$ngz" -ge 2 ] && ok "rotation: $ngz .gz files + live file verify as one chain" ||
	{ nok "rotation: exit $rc with $ngz gz files"; sed 's/^/#   /' "$d/out"; }
"$MG" verify --all "$d/rot.jsonl" >"$d/out" 2>&1
rc=$?
grep -q "in $((ngz + 1)) file(s)" "$d/out" && [ $rc -eq 0 ] && ok "verify --all finds the rotated files in order" ||
	{ nok "verify --all: exit $rc"; sed 's/^/#   /' "$d/out"; }
first=$(ls "$d"/rot.jsonl.*.gz | head -n 1)
"$MG" verify $(ls "$d"/rot.jsonl.*.gz | grep -v "$first") "$d/rot.jsonl" >"$d/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "continues an earlier log file" "$d/out" && ok "without the oldest file: intact, and says it continues an earlier file" ||
	{ nok "missing oldest: exit $rc"; sed 's/^/#   /' "$d/out"; }
second=$(ls "$d"/rot.jsonl.*.gz | sed -n 2p)
"$MG" verify $(ls "$d"/rot.jsonl.*.gz | grep -v "$second") "$d/rot.jsonl" >"$d/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "does not continue the previous one" "$d/out" && ok "a rotated file missing from the middle: exit 1" ||
	{ nok "missing middle: exit $rc"; sed 's/^/#   /' "$d/out"; }
exit $fail
