#!/usr/bin/env bash
# A/B of the metadata reads (GET /images/{id}, list 20) between two builds of the service, in
# one run on one machine: both servers run side by side on the embedded backends, each seeded
# with the same number of images, and the rounds alternate A, B, A, B… so drift in the machine
# hits both. Prints a table per round and the medians with the ratio B/A.
#   bench/ab-reads.sh BIN_A BIN_B [ROUNDS]   (LOADGEN=… to pick the load generator)
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 ROUNDS=${3:-3}
LG=${LOADGEN:-build/release/bench/isvc_loadgen}
SEED=${SEED:-10000} GETS=${GETS:-40000} LISTS=${LISTS:-20000} CONC=${CONC:-32}
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
export JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# shellcheck source=bench/service-env.sh
. bench/service-env.sh

declare -A PORT PID TOKEN
start() {  # name binary
  mkdir -p "$TMP/$1"
  start_isvc "$TMP/$1/server.log" "$TMP/$1/data" "$2"
  PID[$1]=$ISVC_PID PORT[$1]=$ISVC_PORT
  PIDS+=("$ISVC_PID")
  TOKEN[$1]=$(DATA_DIR="$TMP/$1/data" "$2" token --user bench --ttl 2h)
}

start A "$A"
start B "$B"
for n in A B; do
  "$LG" --base "127.0.0.1:${PORT[$n]}" --token "${TOKEN[$n]}" --scenario seed --requests "$SEED" \
    --concurrency 4 --ids "$TMP/$n/ids" >/dev/null
done

echo "| round | build | operation | P50 ms | P95 ms | P99 ms | req/s | CPU ms/op |"
echo "|---|---|---|---|---|---|---|---|"
RES="$TMP/results"
: >"$RES"
for r in $(seq 1 "$ROUNDS"); do
  for op in get list; do
    n_req=$GETS
    [ "$op" = list ] && n_req=$LISTS
    for n in A B; do
      c0=$(cpu_ms "${PID[$n]}")
      j=$("$LG" --base "127.0.0.1:${PORT[$n]}" --token "${TOKEN[$n]}" --scenario "$op" \
        --requests "$n_req" --concurrency "$CONC" --ids "$TMP/$n/ids")
      c=$(($(cpu_ms "${PID[$n]}") - c0))
      ok=$(field "$j" ok)
      cpu=$(awk -v c="$c" -v n="$ok" 'BEGIN {printf "%.3f", n ? c / n : 0}')
      [ "$(field "$j" errors)" = 0 ] || { echo "errors in round $r $op $n: $j"; exit 1; }
      echo "| $r | $n | $op | $(field "$j" p50) | $(field "$j" p95) | $(field "$j" p99) | $(field "$j" throughput) | $cpu |"
      echo "$op $n $(field "$j" p50) $(field "$j" p95) $(field "$j" p99) $(field "$j" throughput) $cpu" >>"$RES"
    done
  done
done
echo
echo "Medians over $ROUNDS rounds ($SEED images each, $CONC clients; ratio = B / A, so < 1 is faster for latency and CPU, > 1 faster for req/s):"
echo
echo "| operation | metric | A | B | B / A |"
echo "|---|---|---|---|---|"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for op in get list; do
  col=3
  for m in "P50 ms" "P95 ms" "P99 ms" "req/s" "CPU ms/op"; do
    a=$(awk -v o="$op" -v c="$col" '$1 == o && $2 == "A" {print $c}' "$RES" | median)
    b=$(awk -v o="$op" -v c="$col" '$1 == o && $2 == "B" {print $c}' "$RES" | median)
    echo "| $op | $m | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a ? b / a : 0}') |"
    col=$((col + 1))
  done
done
