#!/bin/sh
# A real Prometheus server scrapes the metrics endpoint: the target is up and
# the values it stored are the ones served (labels with quotes and backslashes
# included, histogram quantiles computable).
set -u
cd "$(dirname "$0")/../.."
O=${O:-build}
H=$O/tests/metricsd
fail=0
ok() { echo "ok - metrics: $1"; }
nok() { echo "not ok - metrics: $1"; fail=1; }
[ -x "$H" ] || { echo "not ok - metrics: $H not built (make)"; exit 1; }
command -v prometheus >/dev/null 2>&1 || { echo "skip - metrics: no prometheus binary (scripts/deps.sh installs it)"; exit 0; }
d=$(mktemp -d /tmp/mg-t-metrics.XXXXXX)
mp=$((20000 + $$ % 10000)) pp=$((30000 + $$ % 10000))
"$H" "127.0.0.1:$mp" 40 2>"$d/h.err" &
hp=$!
cat >"$d/p.yml" <<Y
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: mcpguard
    static_configs:
      - targets: ['127.0.0.1:$mp']
Y
prometheus --config.file="$d/p.yml" --storage.tsdb.path="$d/data" \
	--web.listen-address="127.0.0.1:$pp" >"$d/p.log" 2>&1 &
pp_pid=$!
trap 'kill $hp $pp_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$d"' EXIT

q() { curl -s --get "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1"; }
val() { q "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null; }
up=""
i=0
while [ $i -lt 60 ]; do
	up=$(val 'up{job="mcpguard"}')
	[ "$up" = 1 ] && [ -n "$(val mcpguard_sessions)" ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$up" = 1 ] && ok "Prometheus scraped the endpoint (up == 1)" || { nok "target not up: $(tail -n 3 "$d/p.log")"; exit 1; }
v=$(val 'mcpguard_kernel_decisions_total{hook="connect4",rule="cloud-metadata",action="block"}')
[ "$v" = 2 ] && ok "counter with labels stored: $v" || nok "kernel decisions: '$v'"
v=$(val 'mcpguard_proxy_findings_total{server="npx \"fs\" \\ server"}')
[ "$v" = 3 ] && ok "escaped label value survives the scrape" || nok "escaped label: '$v'"
v=$(val 'sum(mcpguard_sessions)')
[ "$v" = 1 ] && ok "gauge stored" || nok "gauge: '$v'"
v=$(val 'histogram_quantile(0.5, mcpguard_scan_duration_seconds_bucket)')
python3 -c "import sys; v=float('$v'); sys.exit(0 if 2.5e-05 <= v <= 1e-04 else 1)" 2>/dev/null &&
	ok "histogram usable: median scan latency $v s" || nok "histogram quantile: '$v'"
exit $fail
