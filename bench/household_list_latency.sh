#!/usr/bin/env bash
# Median latency of the household list page (signed in as admin) over N requests.
# Usage: bench/household_list_latency.sh [BASE_URL] [N]   (serve the demo first)
set -euo pipefail
base="${1:-http://127.0.0.1:8080}"
n="${2:-100}"
jar="$(mktemp)"
csrf="$(curl -s -c "$jar" -b "$jar" "$base/sign-in" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -n1 | sed 's/.*value="//;s/"//')"
curl -s -o /dev/null -c "$jar" -b "$jar" --data "username=admin&password=demo&csrf=$csrf" "$base/sign-in"
for path in "/households" "/households?q=%E7%8E%8B" "/households?page=100"; do
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -b "$jar" -w '%{time_total}\n' "$base$path"
  done | sort -n | awk -v p="$path" '{a[NR]=$1} END {printf "%-28s n=%d median=%.2f ms p90=%.2f ms max=%.2f ms\n", p, NR, a[int((NR+1)/2)]*1000, a[int(NR*0.9)]*1000, a[NR]*1000}'
done
rm -f "$jar"
