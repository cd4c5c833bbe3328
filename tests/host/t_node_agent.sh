#!/bin/sh
# The Kubernetes node agent's entrypoint (scripts/kubernetes/node-agent.sh) on
# this host, as the kubelet runs it: it starts mcpguardd, asks it to reload when
# the policy file changes (as a ConfigMap update does), keeps it when the new
# policy is bad, and stops with it on TERM.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
D=$O/mcpguardd
A=scripts/kubernetes/node-agent.sh
fails=0
ok() { echo "ok - node-agent: $*"; }
nok() { echo "not ok - node-agent: $*"; fails=$((fails + 1)); }

[ -x "$D" ] || { echo "not ok - node-agent: $D missing (run make)"; exit 1; }
CGROOT=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -n "$CGROOT" ] || { echo "not ok - node-agent: no cgroup2 mount"; exit 1; }
NAME=mg-t-agent-$$
PINS=/sys/fs/bpf/$NAME
T=$(mktemp -d /tmp/mg-t-agent.XXXXXX)
LOG=$T/agent.log
APID=

cleanup() {
	[ -n "$APID" ] && kill -9 "$APID" 2>/dev/null
	pkill -9 -f -- "--pin-root $PINS" 2>/dev/null
	wait 2>/dev/null
	"$D" --uninstall --pin-root "$PINS" >/dev/null 2>&1
	rmdir "$CGROOT/$NAME" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

policy() { # policy RULE-CIDR: a network-only policy blocking one prefix
	cat >"$T/policy.yaml.new" <<YAML
egress:
  default: allow
  rules:
    - name: t-agent
      cidr: [$1]
      action: block
files:
  enabled: false
YAML
	mv "$T/policy.yaml.new" "$T/policy.yaml" # replaced whole, as a ConfigMap is
}
wait_log() { # wait_log PATTERN COUNT: up to 10 s for COUNT lines matching PATTERN
	i=0
	while [ "$(grep -c -- "$1" "$LOG" 2>/dev/null)" -lt "$2" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(grep -c -- "$1" "$LOG" 2>/dev/null)" -ge "$2" ]
}

policy 10.0.0.0/8
MCPGUARD_BIN=$D MCPGUARD_POLICY=$T/policy.yaml MCPGUARD_CGROUP=/$NAME MCPGUARD_POLL=0.2 \
	sh "$A" --pin-root "$PINS" --events "$T/events.jsonl" --socket "$T/ctl.sock" \
	--record none --metrics none >"$LOG" 2>&1 &
APID=$!
if wait_log 'mcpguardd: network: enforcing' 1; then
	ok "starts mcpguardd on the cgroup it is given"
else
	nok "starts mcpguardd: $(cat "$LOG")"
	exit 1
fi
DPID=$(pgrep -f -- "--pin-root $PINS" | while read -r p; do
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = mcpguardd ] && echo "$p"; done)

# An unchanged policy is left alone; a changed one is reloaded.
sleep 1
[ "$(grep -c 'SIGHUP' "$LOG")" -eq 0 ] && ok "an unchanged policy is not reloaded" ||
	nok "an unchanged policy is not reloaded: $(cat "$LOG")"
policy 172.16.0.0/12
if wait_log 'SIGHUP: reloaded' 1; then
	ok "a changed policy file is reloaded by the running daemon"
else
	nok "a changed policy file is reloaded: $(cat "$LOG")"
fi
if grep -q "node-agent: $T/policy.yaml changed: asking mcpguardd to reload it" "$LOG"; then
	ok "the agent says why it signalled"
else
	nok "the agent says why it signalled: $(cat "$LOG")"
fi

# A bad policy: the daemon says why and keeps running the last good one.
printf 'egress:\n  default: sometimes\n' >"$T/policy.yaml"
if wait_log 'not reloaded, the running policy stays' 1 && kill -0 "$DPID" 2>/dev/null; then
	ok "a bad policy is refused and the daemon keeps running"
else
	nok "a bad policy is refused and the daemon keeps running: $(cat "$LOG")"
fi

# TERM to the agent (what the kubelet sends) stops the daemon, then the agent.
kill -TERM "$APID"
i=0
while kill -0 "$APID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if ! kill -0 "$APID" 2>/dev/null && ! kill -0 "$DPID" 2>/dev/null; then
	ok "TERM stops the daemon and the agent"
	APID=
else
	nok "TERM stops the daemon and the agent"
fi
[ "$fails" -eq 0 ]
