#!/bin/sh
# mcpguard assess against a recorded session: the report's numbers come from
# the log and baselines given, its mode from this kernel, and its signature
# catches any edit.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
MG=${MG:-$O/mcpguard}
W=$O/tests/recwriter
fail=0
ok() { echo "ok - assess: $1"; }
nok() { echo "not ok - assess: $1"; fail=1; }
for b in "$MG" "$W"; do
	[ -x "$b" ] || { echo "not ok - assess: $b not built (make)"; exit 1; }
done
d=$(mktemp -d /tmp/mg-t-assess.XXXXXX)
trap 'rm -rf "$d"' EXIT
key=$d/keys/recorder.key

# a recorded session: 37 kernel denies (recwriter's events), then closed
"$W" "$d/audit.jsonl" "$key" 37 8 0 10 >/dev/null || nok "recwriter failed"
mkdir -p "$d/baselines"
cat >"$d/baselines/s1.json" <<'J'
{"mcpguard_baseline":1,"server_id":"node evil-server.mjs","tools":[
 {"name":"read_note","sha256":"1111111111111111111111111111111111111111111111111111111111111111","structure_sha256":"2222222222222222222222222222222222222222222222222222222222222222","first_seen":1764000000,"definition":{"name":"read_note"}},
 {"name":"send|mail","sha256":"3333333333333333333333333333333333333333333333333333333333333333","structure_sha256":"4444444444444444444444444444444444444444444444444444444444444444","first_seen":1764000001,"definition":{"name":"send|mail"}}]}
J
"$MG" assess --log "$d/audit.jsonl" --baselines "$d/baselines" --key "$key" --out "$d/r" >"$d/stdout" 2>"$d/stderr"
rc=$?
[ $rc -eq 0 ] && [ -s "$d/r.json" ] && [ -s "$d/r.md" ] && [ -s "$d/r.json.sig" ] &&
	ok "writes r.json, r.md and r.json.sig" || { nok "assess exit $rc: $(cat "$d/stderr")"; exit 1; }
cmp -s "$d/stdout" "$d/r.md" && ok "prints the same Markdown it writes" || nok "stdout differs from r.md"

py() { python3 -c "import json,sys; r=json.load(open('$d/r.json')); $1"; }
[ "$(py 'print(r["findings"]["decisions"])')" = 37 ] && ok "37 decisions counted from the log" ||
	nok "decisions: $(py 'print(r["findings"]["decisions"])')"
[ "$(py 'print(r["findings"]["by_rule"]["ssh-keys"])')" = 37 ] && ok "counted by rule" || nok "by_rule wrong"
[ "$(py 'print(r["findings"]["verification"]["status"])')" = intact ] && ok "the log verified intact" || nok "log not verified intact"
[ "$(py 'print(len(r["policy"]["coverage"]))')" = 8 ] && ok "coverage lists the seven vectors and session binding" || nok "coverage entries"
[ "$(py 'print([t["name"] for s in r["servers"] for t in s["tools"]])')" = "['read_note', 'send|mail']" ] &&
	ok "server tools and fingerprints from the baselines" || nok "servers: $(py 'print(r["servers"])')"
grep -q '| send/mail |' "$d/r.md" && ok "Markdown cells cannot be broken by a tool name with |" || nok "pipe in tool name not escaped"
dm=$("$MG" doctor --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])')
[ "$(py 'print(r["enforcement"]["mode"])')" = "$dm" ] && ok "enforcement mode is doctor's ($dm)" || nok "mode differs from doctor"

# signature
"$MG" verify --report --pubkey "$key.pub" "$d/r.json" >"$d/out" 2>&1 && grep -q 'signature good' "$d/out" &&
	ok "verify --report: good with the pinned key" || nok "verify --report: $(cat "$d/out")"
"$W" "$d/o.jsonl" "$d/keys/other.key" 1 8 0 10 >/dev/null
"$MG" verify --report --pubkey "$d/keys/other.key.pub" "$d/r.json" >"$d/out" 2>&1
[ $? -eq 1 ] && ok "verify --report: another trusted key is refused" || nok "other key accepted"
sed 's/"decisions":37/"decisions":3/' "$d/r.json" >"$d/t.json" && cp "$d/r.json.sig" "$d/t.json.sig"
"$MG" verify --report "$d/t.json" >"$d/out" 2>&1
[ $? -eq 1 ] && grep -q 'report was changed' "$d/out" && ok "an edited report fails verification" || nok "edited report: $(cat "$d/out")"

# a tampered log shows up in the report
sed -i '5s/"rule":"ssh-keys"/"rule":"ssh-kexs"/' "$d/audit.jsonl"
"$MG" assess --log "$d/audit.jsonl" --baselines "$d/baselines" --json >"$d/j" 2>/dev/null
python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["findings"]["verification"]; assert v["status"]=="tampered" and v["line"]==5, v' "$d/j" &&
	ok "a tampered log is reported as tampered, line 5" || nok "tampered log not reported"
exit $fail
