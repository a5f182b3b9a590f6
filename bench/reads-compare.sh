#!/usr/bin/env bash
# Metadata reads against their floor: GET /images/{id} of image-service (embedded mode) against
# nginx serving the very same JSON bytes as static files, in one run. The service is seeded with
# SEED images; each image's JSON is fetched once and written under nginx's root, so both servers
# answer the same paths with the same bodies. 32 keep-alive clients fetch the ids round robin
# (the load generator's `files` scenario, for both), the rounds alternate service, nginx, service…
# so drift in the machine hits both. Both log every request. Prints a Markdown table, the medians
# and the ratios; part of `make bench`.
#   bench/reads-compare.sh [ROUNDS]   (SEED=2000 REQUESTS=60000 CONC=32)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/release/image-service}
LOADGEN=build/release/bench/isvc_loadgen
ROUNDS=${1:-3} SEED=${SEED:-2000} REQUESTS=${REQUESTS:-60000} CONC=${CONC:-32}
# shellcheck source=bench/nginx-env.sh
. bench/nginx-env.sh

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=bench/service-env.sh
. bench/service-env.sh

export JWT_SECRET=bench-secret-bench-secret-bench-secret
start_isvc "$TMP/server.log" "$TMP/data" "$BIN"
SVC=$ISVC_PID PORT=$ISVC_PORT
PIDS+=("$SVC")
TOKEN=$(DATA_DIR="$TMP/data" "$BIN" token --user bench --ttl 2h)
"$LOADGEN" --base "127.0.0.1:$PORT" --token "$TOKEN" --scenario seed --requests "$SEED" \
  --concurrency 4 --ids "$TMP/ids" >/dev/null
mkdir -p "$TMP/www/images"
sed 's|^|/images/|' "$TMP/ids" >"$TMP/paths"
BYTES=0
while read -r id; do
  curl -sf -H "Authorization: Bearer $TOKEN" -o "$TMP/www/images/$id" "http://127.0.0.1:$PORT/images/$id"
  BYTES=$((BYTES + $(stat -c %s "$TMP/www/images/$id")))
done <"$TMP/ids"

start_nginx "$TMP" "$TMP/www" "default_type application/json;" "private, no-cache"
NPORT=$NGINX_PORT

run() {  # name base pids…
  local name=$1 base=$2
  shift 2
  local c0 j c1
  c0=$(cpu_ms "$@")
  j=$("$LOADGEN" --base "$base" --token "$TOKEN" --scenario files --ids "$TMP/paths" \
    --requests "$REQUESTS" --concurrency "$CONC")
  c1=$(cpu_ms "$@")
  [ "$(field "$j" errors)" = 0 ] || { echo "errors from $name: $j"; exit 1; }
  local cpu
  cpu=$(awk -v c="$((c1 - c0))" -v n="$REQUESTS" 'BEGIN {printf "%.1f", c * 1000 / n}')
  echo "| $r | $name | $(field "$j" p50) | $(field "$j" p95) | $(field "$j" p99) | $(field "$j" throughput) | $cpu |"
  echo "$name $(field "$j" p50) $(field "$j" p95) $(field "$j" p99) $(field "$j" throughput) $cpu" >>"$TMP/results"
}

for base in "127.0.0.1:$PORT" "127.0.0.1:$NPORT"; do  # warm-up
  "$LOADGEN" --base "$base" --token "$TOKEN" --scenario files --ids "$TMP/paths" --requests 5000 \
    --concurrency "$CONC" >/dev/null
done
echo "GET /images/{id}: $SEED images (JSON bodies of $((BYTES / SEED)) bytes on average), $REQUESTS GETs per round by $CONC keep-alive clients, $ROUNDS alternated rounds, $(date -u +%F), $(nproc) cores; nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), 2 workers, serving the same bytes from files"
echo
echo "| round | server | P50 ms | P95 ms | P99 ms | requests/s | CPU µs per request |"
echo "|---|---|---|---|---|---|---|"
: >"$TMP/results"
for r in $(seq "$ROUNDS"); do
  run image-service "127.0.0.1:$PORT" "$SVC"
  run nginx "127.0.0.1:$NPORT" "${NGX_PIDS[@]}"
done
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
echo "| medians | P50 ms | P95 ms | P99 ms | requests/s | CPU µs per request |"
echo "|---|---|---|---|---|---|"
declare -A M
for s in image-service nginx; do
  line="| $s"
  for col in 2 3 4 5 6; do
    M[$s$col]=$(awk -v n="$s" -v c="$col" '$1 == n {print $c}' "$TMP/results" | median)
    line+=" | ${M[$s$col]}"
  done
  echo "$line |"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", b ? a / b : 0}'; }
echo
echo "Ratios (image-service ÷ nginx, medians): throughput $(ratio "${M[image-service5]}" "${M[nginx5]}"), CPU per request $(ratio "${M[image-service6]}" "${M[nginx6]}"), P50 $(ratio "${M[image-service2]}" "${M[nginx2]}"), P95 $(ratio "${M[image-service3]}" "${M[nginx3]}")."
