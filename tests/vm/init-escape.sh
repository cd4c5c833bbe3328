#!/bin/sh
# Runs inside the test VM after init-tests.sh, with BPF-LSM active:
#  - `mcpguard doctor` must report full enforcement (exit 0) where BPF-LSM works;
#  - the escape suite: an attacker placed in a session as `nobody` tries every
#    technique of tests/helpers/escape.c against BPF-LSM, the cgroup hooks and the
#    sandbox; zero may work;
#  - the daemon's flight recorder of those refusals verifies and holds LSM lines.
set -u
PATH=/opt/mg:/bin:/sbin
D=/tmp/esc
CTL=/tmp/esc-ctl.sock
fails=0
ok() { echo "ok - vm-escape: $*"; }
nok() { echo "not ok - vm-escape: $*"; fails=$((fails + 1)); }

out=$(mcpguard doctor 2>&1)
rc=$?
echo "$out" | sed -n 's/^mode: /# doctor mode: /p'
if [ $rc -eq 0 ] && echo "$out" | grep -q '\[ok  \] BPF-LSM'; then
	ok "doctor: BPF-LSM loads and runs here, full enforcement (exit 0)"
else
	echo "$out" | sed 's/^/#   /'
	nok "doctor: expected full enforcement, exit $rc"
fi

mkdir -p "$D/home/.ssh" "$D/work"
chmod 755 "$D" "$D/home" "$D/home/.ssh"
chmod 1777 "$D/work"
echo "-----BEGIN OPENSSH PRIVATE KEY----- VMSECRET" >"$D/home/.ssh/id_rsa"
chmod 644 "$D/home/.ssh/id_rsa" # nobody may read it: only mcpguard stands in the way
cat >"$D/policy.yaml" <<EOP
egress:
  allow_loopback: false
  dns_resolvers: [127.0.0.53]
files:
  rules:
    - name: test-ssh-key
      paths: ["$D/home/.ssh/id_rsa"]
      basenames: ["id_rsa*"]
EOP
mkdir -m 700 -p /tmp/esc-key
export MCPGUARD_RECORDER_KEY=/tmp/esc-key/recorder.key
mcpguardd --cgroup /mcpesc --policy "$D/policy.yaml" --socket "$CTL" --events "$D/events.jsonl" \
	--record "$D/record.jsonl" --metrics none >"$D/daemon.log" 2>&1 &
dpid=$!
i=0
while [ ! -S "$CTL" ]; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 $dpid 2>/dev/null; then
		sed 's/^/# daemon: /' "$D/daemon.log"
		nok "daemon did not start"
		exit 1
	fi
	sleep 0.1
done
grep -q 'files: enforcing with BPF-LSM' "$D/daemon.log" && ok "daemon guards files with BPF-LSM" ||
	nok "daemon not in LSM mode: $(grep 'files:' "$D/daemon.log" | head -2)"

MG_ESCAPE_WORKDIR=$D/work MCPGUARD_CTL_SOCK=$CTL escape --protected "$D/home/.ssh/id_rsa" \
	--daemon-pid $dpid --policy "$D/policy.yaml" >"$D/escape.out" 2>&1
erc=$?
sed 's/^ok - escape: /ok - vm-escape: /; s/^not ok - escape: /not ok - vm-escape: /; s/^skip - escape: /skip - vm-escape: /' "$D/escape.out"
grep -q '^not ok' "$D/escape.out" && fails=$((fails + 1))
[ $erc -eq 0 ] || nok "escape suite exited $erc"
grep -q '# escape suite: 2[0-9] techniques tried, 0 escapes' "$D/escape.out" ||
	nok "escape suite did not report its count"

kill $dpid
wait $dpid 2>/dev/null
vout=$(mcpguard verify "$D/record.jsonl" 2>&1)
vrc=$?
if [ $vrc -eq 0 ] && grep -q '"scanner":"lsm"' "$D/record.jsonl"; then
	ok "the daemon's record verifies and holds the BPF-LSM refusals"
else
	echo "$vout" | sed 's/^/#   /'
	cut -c1-220 "$D/record.jsonl" | tail -8 | sed 's/^/#   record: /'
	grep -o "\"hook\":\"[a-z_0-9]*\",\"target\":\"[^\"]*\",[^}]*\"rule\":\"[^\"]*\",\"action\":\"[a-z]*\"" "$D/events.jsonl" | cut -c1-160 | sed "s/^/#   events: /"
	nok "daemon record: verify exit $vrc, lsm lines: $(grep -c '"scanner":"lsm"' "$D/record.jsonl")"
fi
mcpguardd --uninstall >/dev/null 2>&1
[ $fails -eq 0 ]
