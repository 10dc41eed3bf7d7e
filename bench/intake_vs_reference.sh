#!/usr/bin/env bash
# The paired intake benchmark: the same wrk load (THREADS threads, CONNECTIONS connections,
# DURATION seconds, client on the same machine) first on the reference server
# (bench/reference: axum, one SQLite writer thread, group commit, synchronous=FULL, one INSERT
# per request), then on yongxin's intake (POST /api/v1/appeals as department staff with an API
# token, on a fresh demo database), in one run; prints both, the ratio, and checks yongxin's
# side: every acknowledged appeal stored, the audit record intact.
#
#   bench/intake_vs_reference.sh            # needs wrk (apt-get install wrk) and python3
#   RUNS=5 DURATION=20 bench/intake_vs_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"
duration="${DURATION:-20}"
runs="${RUNS:-1}"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }

cargo build --release -q -p yongxin -p yongxin-reference
bin="${CARGO_TARGET_DIR:-target}/release"

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
# "Requests/sec" and the 99th percentile (in ms) of a wrk report.
rate() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v }' "$1"; }
errors() { awk '/Non-2xx or 3xx responses:/ {n += $5} /Socket errors:/ {n += $4 + $6 + $8 + $10} END {print n + 0}' "$1"; }
count() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@"; }

echo "== yongxin's demo database and a staff token"
"$bin/yongxin" demo --no-serve --fresh --data-dir "$work/yx" >/dev/null
db="$work/yx/yongxin.db"
token="$("$bin/yongxin" --database-url "sqlite://$db" user token staff | tail -n 1)"

for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: wrk -t$threads -c$connections -d${duration}s"
  port="$(free_port)"
  "$bin/yongxin-reference" --listen "127.0.0.1:$port" --db "$work/reference-$run.db" >/dev/null &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/"
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s bench/intake.lua \
    "http://127.0.0.1:$port/appeals" >"$work/reference.txt"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

  port="$(free_port)"
  before="$(count "$db" 'SELECT count(*) FROM appeals')"
  "$bin/yongxin" --database-url "sqlite://$db" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz"
  YONGXIN_TOKEN="$token" wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s bench/intake.lua \
    "http://127.0.0.1:$port/api/v1/appeals" >"$work/yongxin.txt"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  after="$(count "$db" 'SELECT count(*) FROM appeals')"
  answered="$(awk '/requests in/ {print $1}' "$work/yongxin.txt")"
  refused="$(errors "$work/yongxin.txt")"

  ref_rate="$(rate "$work/reference.txt")"; yx_rate="$(rate "$work/yongxin.txt")"
  printf 'reference  %10.0f/s  p99 %7.2f ms  errors %s\n' "$ref_rate" "$(p99 "$work/reference.txt")" "$(errors "$work/reference.txt")"
  printf 'yongxin    %10.0f/s  p99 %7.2f ms  errors %s\n' "$yx_rate" "$(p99 "$work/yongxin.txt")" "$refused"
  python3 -c 'import sys; print("ratio      %.1f %% of the reference" % (100 * float(sys.argv[2]) / float(sys.argv[1])))' "$ref_rate" "$yx_rate"
  # Every answered request that was not refused was acknowledged: each must be stored.
  stored=$((after - before)); acknowledged=$((answered - refused))
  echo "stored     $stored appeals for $acknowledged acknowledged"
  [ "$stored" -ge "$acknowledged" ] || { echo "LOST: $((acknowledged - stored)) acknowledged appeals are not stored" >&2; exit 1; }
done
"$bin/yongxin" --database-url "sqlite://$db" audit verify | tail -n 2
