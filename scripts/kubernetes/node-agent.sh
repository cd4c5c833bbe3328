#!/bin/sh
# Entrypoint of the mcpguard node agent (the DaemonSet in mcpguard.yaml): runs
# mcpguardd for the node's MCP cgroup and, when the policy file changes (a
# ConfigMap update swaps it in place), tells it to re-read it with SIGHUP.
# TERM and INT are passed on; the agent exits with the daemon's status.
#
# Environment: MCPGUARD_POLICY (/etc/mcpguard/policy.yaml), MCPGUARD_CGROUP
# (/mcp), MCPGUARD_POLL (seconds between checks of the policy, 5),
# MCPGUARD_BIN (mcpguardd). Arguments are passed to mcpguardd.
set -u
policy=${MCPGUARD_POLICY:-/etc/mcpguard/policy.yaml}
cgroup=${MCPGUARD_CGROUP:-/mcp}
poll=${MCPGUARD_POLL:-5}
bin=${MCPGUARD_BIN:-mcpguardd}

digest() { sha256sum <"$policy" 2>/dev/null; }

last=$(digest)
"$bin" --cgroup "$cgroup" --policy "$policy" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
while kill -0 "$pid" 2>/dev/null; do
	sleep "$poll"
	now=$(digest) || continue # mid-swap: look again next time
	if [ "$now" != "$last" ]; then
		last=$now
		echo "node-agent: $policy changed: asking mcpguardd to reload it" >&2
		kill -HUP "$pid" 2>/dev/null
	fi
done
# A trapped signal interrupts wait: wait until the daemon has really gone.
while :; do
	wait "$pid"
	rc=$?
	kill -0 "$pid" 2>/dev/null || exit "$rc"
done
