#!/usr/bin/env bash
# A/B of GET /files between two builds of the service, in one run on one machine, with nginx
# (sendfile) as the reference: the same 200 objects (100 uploaded photos: main + thumbnail) are
# copied into five data directories; A and B each run hot (FILE_CACHE_BYTES 256 MiB) and cold
# (FILE_CACHE_BYTES=0: every request reads the object), and the rounds alternate A, B, nginx so
# drift in the shared machine hits all of them. Prints a row per run and the medians with the
# ratios to nginx. PERF=1 records `perf record -g` of each service's last round into $PERF_DIR.
#   bench/ab-files.sh BIN_A BIN_B [ROUNDS]   (LOADGEN=… picks the load generator)
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 ROUNDS=${3:-3}
LG=${LOADGEN:-build/release/bench/isvc_loadgen}
REQUESTS=${REQUESTS:-20000} CONC=${CONC:-32}
# shellcheck source=bench/nginx-env.sh
. bench/nginx-env.sh
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export JWT_SECRET

# shellcheck source=bench/service-env.sh
. bench/service-env.sh

declare -A PORT PID
start() {  # name binary cache_bytes
  start_isvc "$TMP/$1/server.log" "$TMP/$1/data" "$2" FILE_CACHE_BYTES="$3"
  PID[$1]=$ISVC_PID PORT[$1]=$ISVC_PORT
  PIDS+=("$ISVC_PID")
}

mkdir -p "$TMP/seed"
start seed "$A" 0
PHOTO=$(gallery_photo "$TMP")
TOKEN=$(DATA_DIR="$TMP/seed/data" "$A" token --user bench --ttl 2h)
"$LG" --base "127.0.0.1:${PORT[seed]}" --token "$TOKEN" --scenario upload --file "$PHOTO" \
  --requests 100 --concurrency 2 --ids "$TMP/ids" >/dev/null
kill "${PID[seed]}"
wait "${PID[seed]}" 2>/dev/null || true
while read -r id; do
  echo "/files/images/bench/$id.webp"
  echo "/files/images/bench/thumbnails/$id.webp"
done <"$TMP/ids" >"$TMP/paths"
sed 's|^/files/||; s|^|/|' "$TMP/paths" >"$TMP/nginx-paths"

for n in A-hot A-cold B-hot B-cold nginx; do
  mkdir -p "$TMP/$n"
  cp -a "$TMP/seed/data" "$TMP/$n/data"  # -a keeps the objects' ETag attributes
done
start A-hot "$A" $((256 * 1024 * 1024))
start A-cold "$A" 0
start B-hot "$B" $((256 * 1024 * 1024))
start B-cold "$B" 0
start_nginx "$TMP" "$TMP/nginx/data/objects" "types { image/webp webp; }" \
  "public, max-age=31536000, immutable"
NPORT=$NGINX_PORT

RES="$TMP/results"
: >"$RES"
echo "| round | server | P50 ms | P95 ms | P99 ms | req/s | CPU ms per 1,000 views |"
echo "|---|---|---|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
  for n in A-hot B-hot A-cold B-cold nginx; do
    if [ "$n" = nginx ]; then
      base=127.0.0.1:$NPORT paths=$TMP/nginx-paths pids=("${NGX_PIDS[@]}")
    else
      base=127.0.0.1:${PORT[$n]} paths=$TMP/paths pids=("${PID[$n]}")
    fi
    "$LG" --base "$base" --token "$TOKEN" --scenario files --ids "$paths" --requests 2000 \
      --concurrency "$CONC" >/dev/null  # warm-up
    perf_pid=""
    if [ "${PERF:-0}" = 1 ] && [ "$r" = "$ROUNDS" ] && [ "$n" != nginx ]; then
      mkdir -p "${PERF_DIR:=/tmp/ab-files-perf}"
      perf record -g -o "$PERF_DIR/$n.data" -p "${pids[0]}" >/dev/null 2>&1 &
      perf_pid=$!
      sleep 0.5
    fi
    c0=$(cpu_ms "${pids[@]}")
    j=$("$LG" --base "$base" --token "$TOKEN" --scenario files --ids "$paths" \
      --requests "$REQUESTS" --concurrency "$CONC")
    c=$(($(cpu_ms "${pids[@]}") - c0))
    if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
    [ "$(field "$j" errors)" = 0 ] || { echo "errors in round $r $n: $j"; exit 1; }
    cpu=$((c * 1000 / REQUESTS))
    echo "| $r | $n | $(field "$j" p50) | $(field "$j" p95) | $(field "$j" p99) | $(field "$j" throughput | cut -d. -f1) | $cpu |"
    echo "$n $(field "$j" throughput) $cpu" >>"$RES"
  done
done
echo
echo "Medians over $ROUNDS rounds ($REQUESTS GETs by $CONC keep-alive clients per run; ratio = server / nginx):"
echo
echo "| server | req/s | CPU ms per 1,000 views | req/s ÷ nginx | CPU ÷ nginx |"
echo "|---|---|---|---|---|"
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
nt=$(awk '$1 == "nginx" {print $2}' "$RES" | median)
nc=$(awk '$1 == "nginx" {print $3}' "$RES" | median)
for n in A-hot B-hot A-cold B-cold nginx; do
  t=$(awk -v n="$n" '$1 == n {print $2}' "$RES" | median)
  c=$(awk -v n="$n" '$1 == n {print $3}' "$RES" | median)
  echo "| $n | ${t%.*} | $c | $(awk -v a="$t" -v b="$nt" 'BEGIN {printf "%.2f", a / b}') | $(awk -v a="$c" -v b="$nc" 'BEGIN {printf "%.2f", a / b}') |"
done
