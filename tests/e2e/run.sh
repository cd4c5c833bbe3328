#!/bin/sh
# End-to-end suite: the official MCP SDK client and real npm MCP servers through
# `mcpguard run`, our malicious server for each attack, and relay checks below the SDK.
# Prints ok / not ok / skip lines; exits non-zero if any check failed.
set -u
cd "$(dirname "$0")"
O=${O:-build}
MCPGUARD=${MCPGUARD:-$(cd ../.. && pwd)/$O/mcpguard}
export MCPGUARD

if [ ! -x "$MCPGUARD" ]; then
	echo "not ok - e2e: $MCPGUARD is not built (make $O/mcpguard)"
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "not ok - e2e: node is not installed"
	exit 1
fi
# Reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	if ! npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1; then
		echo "not ok - e2e: npm ci failed"
		sed 's/^/#   /' npm.log | tail -20
		exit 1
	fi
	rm -f npm.log
fi
echo "ok - e2e: SDK $(node -p 'require("./node_modules/@modelcontextprotocol/sdk/package.json").version') and servers installed"

rc=0
node raw.mjs || rc=1
node driver.mjs || rc=1
exit $rc
