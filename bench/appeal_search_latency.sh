#!/usr/bin/env bash
# Latency of appeal searches and the three-rates page through HTTP, signed in as admin, and the
# server's resident memory. Usage: bench/appeal_search_latency.sh BASE_URL N [SERVER_PID]
# With 1,000,000 appeals: target/release/yongxin demo --no-serve --fresh --appeals 1000000
# --data-dir /tmp/yx1m, then serve it and wait until the log says "search index built".
set -euo pipefail
base="${1:-http://127.0.0.1:8080}"
n="${2:-200}"
pid="${3:-}"
jar="$(mktemp)"
csrf="$(curl -s -c "$jar" -b "$jar" "$base/sign-in" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -n1 | sed 's/.*value="//;s/"//')"
curl -s -o /dev/null -c "$jar" -b "$jar" --data "username=admin&password=demo&csrf=$csrf" "$base/sign-in"
# 噪音 漏水 拆迁 供暖 王 秸秆焚烧, then a filtered search, then the three rates of a year by village.
for path in \
  "/api/v1/appeals?q=%E5%99%AA%E9%9F%B3" \
  "/api/v1/appeals?q=%E6%BC%8F%E6%B0%B4" \
  "/api/v1/appeals?q=%E6%8B%86%E8%BF%81" \
  "/api/v1/appeals?q=%E4%BE%9B%E6%9A%96" \
  "/api/v1/appeals?q=%E7%8E%8B" \
  "/api/v1/appeals?q=%E7%A7%B8%E7%A7%86%E7%84%9A%E7%83%A7&status=closed&page=3" \
  "/appeals?q=%E6%BC%8F%E6%B0%B4" \
  "/appeals/stats?group_by=village" \
  "/api/v1/appeals/stats?group_by=village"; do
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -b "$jar" -w '%{time_total}\n' "$base$path"
  done | sort -n | awk -v p="$path" '{a[NR]=$1} END {printf "%-70s n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", p, NR, a[int((NR+1)/2)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}'
done
if [ -n "$pid" ]; then
  grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
fi
rm -f "$jar"
