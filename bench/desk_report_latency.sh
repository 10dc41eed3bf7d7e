#!/usr/bin/env bash
# Latency of the leader's desk, the supervision list, the scorecards and the weekly report through
# HTTP, signed in as a leader, and the server's resident memory.
# Usage: bench/desk_report_latency.sh BASE_URL N [SERVER_PID]
# With 1,000,000 appeals: target/release/yongxin demo --no-serve --fresh --appeals 1000000
# --data-dir /tmp/yx1m, then serve it (yongxin --database-url sqlite:///tmp/yx1m/yongxin.db serve)
# and wait until the log says "search index built".
set -euo pipefail
base="${1:-http://127.0.0.1:8080}"
n="${2:-100}"
pid="${3:-}"
jar="$(mktemp)"
csrf="$(curl -s -c "$jar" -b "$jar" "$base/sign-in" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -n1 | sed 's/.*value="//;s/"//')"
curl -s -o /dev/null -c "$jar" -b "$jar" --data "username=leader&password=demo&csrf=$csrf" "$base/sign-in"
last_week="$(date -u -d "7 days ago" +%G-W%V)"
this_week="$(date -u -d 'now' +%G-W%V)"
month_start="$(date -u +%Y-%m-01)"
today="$(date -u +%Y-%m-%d)"
# The first request of a finished week's report makes and keeps it: time it once, apart.
first="$(curl -s -o /dev/null -b "$jar" -w '%{time_total}' "$base/reports/weekly?week=$last_week")"
printf '%-70s first=%.2f ms (made and kept)\n' "/reports/weekly?week=$last_week" "$(echo "$first * 1000" | bc -l)"
for path in \
  "/" \
  "/supervision" \
  "/scorecards?group_by=cadre&from=$month_start&to=$today" \
  "/api/v1/scorecards?group_by=department&from=$month_start&to=$today" \
  "/reports/weekly?week=$last_week" \
  "/reports/weekly.xlsx?week=$last_week" \
  "/reports/weekly?week=$this_week"; do
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -b "$jar" -w '%{time_total}\n' "$base$path"
  done | sort -n | awk -v p="$path" '{a[NR]=$1} END {printf "%-70s n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", p, NR, a[int((NR+1)/2)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}'
done
if [ -n "$pid" ]; then
  grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
fi
rm -f "$jar"
