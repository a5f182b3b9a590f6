#!/usr/bin/env bash
# `make bench`: builds the release binary and the load generator, starts the service on a free
# loopback port with a fresh DATA_DIR, runs the scenarios and writes bench/results/<date>.md.
# Bounded: a fixed number of requests per scenario (about 3-5 minutes on 2 cores).
#   BENCH_BIN=path  another build of the service (an A/B against it; nothing is built)
#   BENCH_ONLY=delete  only the seeding and the delete run (a quick look at one row)
#   BENCH_OUT=file  where the table goes (default bench/results/<date>-<mode>.md)
#   BENCH_METRICS=file  the service's /metrics after the runs
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_BIN:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target image-service isvc_loadgen >/dev/null
fi
BIN=${BENCH_BIN:-build/release/image-service}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in "" | delete) ;; *) echo "BENCH_ONLY: only 'delete' is known" >&2; exit 2 ;; esac
LG=build/release/bench/isvc_loadgen
DATA=../shared/testdata/images
TMP=$(mktemp -d)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$PID" ] && wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
# shellcheck source=bench/service-env.sh
. bench/service-env.sh

export JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# Distributed mode when run under tests/integration/with-engines.mjs (dynalite, s3rver, Redis).
# shellcheck source=bench/engines-env.sh
. bench/engines-env.sh bench
SEED=10000 GETS=40000 LISTS=20000 UPDATES=10000 DELETES=3200 CONC=32
if [ "$MODE" = distributed ]; then
  # The JavaScript engines saturate long before the service: fewer clients, fewer requests.
  SEED=3000 GETS=20000 LISTS=10000 UPDATES=4000 DELETES=1600 CONC=8
  DYNALITE=$(node -p "require('./tests/tools/node_modules/dynalite/package.json').version")
  S3RVER=$(node -p "require('./tests/tools/node_modules/s3rver/package.json').version")
  BACKENDS="dynalite $DYNALITE + s3rver $S3RVER + Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2), on the same cores as the service"
else
  BACKENDS="SQLite + filesystem"
fi
[ "$ONLY" = delete ] && SEED=$DELETES
# Rate limits off and access logs on (bench/service-env.sh).
start_isvc "$TMP/server.log" "$TMP/data" "$BIN"
PID=$ISVC_PID PORT=$ISVC_PORT
BASE=127.0.0.1:$PORT
TOKEN=$(DATA_DIR="$TMP/data" "$BIN" token --user bench --ttl 2h)
run() { "$LG" --base "$BASE" --token "$TOKEN" "$@"; }
rss_kb() { awk '/VmHWM/ {print $2}' /proc/$PID/status; }

declare -A R C
# timed KEY loadgen-args…: the run's JSON in R[KEY], the service's CPU ms spent in C[KEY].
timed() {
  local key=$1 c0
  shift
  c0=$(cpu_ms "$PID")
  R[$key]=$(run "$@")
  C[$key]=$(($(cpu_ms "$PID") - c0))
}
if [ -z "$ONLY" ] && [ -f "$DATA/photo_12mp.jpg" ]; then
  run --scenario upload --file "$DATA/photo_12mp.jpg" --requests 2 >/dev/null  # warm-up
  timed up12 --scenario upload --file "$DATA/photo_12mp.jpg" --requests 30
  timed up3 --scenario upload --file "$DATA/photo_3mb.jpg" --requests 30
  RSS_C1=$(rss_kb)
  timed up12c4 --scenario upload --file "$DATA/photo_12mp.jpg" --requests 40 --concurrency 4
fi
RSS_UPLOAD=$(rss_kb)
timed seed --scenario seed --requests $SEED --concurrency 4 --ids "$TMP/ids"
if [ -z "$ONLY" ]; then
  timed get --scenario get --requests $GETS --concurrency $CONC --ids "$TMP/ids"
  timed list --scenario list --requests $LISTS --concurrency $CONC --ids "$TMP/ids"
  timed update --scenario update --requests $UPDATES --concurrency $CONC --ids "$TMP/ids"
fi
timed delete --scenario delete --requests $DELETES --concurrency $CONC --ids "$TMP/ids"
RSS_END=$(rss_kb)
# BENCH_METRICS=file: the service's /metrics (Prometheus text) after the runs, e.g. for the
# per-operation store timings.
if [ -n "${BENCH_METRICS:-}" ]; then
  curl -sf -H 'accept: text/plain;version=0.0.4' -H "authorization: Bearer $TOKEN" "http://$BASE/metrics" > "$BENCH_METRICS"
fi

row() {  # key, name, targets
  local j=${R[$1]} ok
  ok=$(field "$j" ok)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(field "$j" concurrency)" \
    "$ok" "$(field "$j" errors)" "$(field "$j" p50)" "$(field "$j" p95)" \
    "$(field "$j" p99)" "$(field "$j" throughput)" \
    "$(awk -v c="${C[$1]}" -v n="$ok" 'BEGIN {printf "%.2f", n ? c / n : 0}')" "$3"
}
OUT=${BENCH_OUT:-bench/results/$(date -u +%Y-%m-%d)-$MODE.md}
mkdir -p "$(dirname "$OUT")"
{
  echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
  echo
  echo "Machine: $(nproc) cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2}')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -sr). Loopback, release build (RelWithDebInfo), $MODE mode ($BACKENDS), WEBP_EFFORT default."
  echo
  if [ -n "${BENCH_BIN:-}" ]; then echo "Service binary: $BIN."; echo; fi
  echo "| operation | clients | ok | errors | P50 ms | P95 ms | P99 ms | req/s | service CPU ms/op | target P95 (SPEC §10 / this project) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  [ -n "${R[up12]:-}" ] && row up12 "upload 12 MP JPEG (4.3 MB)" "1000 / 700"
  [ -n "${R[up3]:-}" ] && row up3 "upload 3 MB JPEG (8 MP)" "1000 / —"
  [ -n "${R[up12c4]:-}" ] && row up12c4 "upload 12 MP JPEG, 4 clients" "— / —"
  row seed "upload 120×120 PNG (seeding)" "— / —"
  [ -n "${R[get]:-}" ] && row get "get by id ($SEED images)" "50 / 5"
  [ -n "${R[list]:-}" ] && row list "list 20 (first + cursor pages)" "100 / 10"
  [ -n "${R[update]:-}" ] && row update "update (PATCH title)" "80 / 10"
  row delete "delete" "100 / 20"
  echo
  [ -n "${RSS_C1:-}" ] && echo "Peak RSS of the service (VmHWM): $((RSS_C1 / 1024)) MB after the one-client upload runs (target ≤ 400 MB), $((RSS_UPLOAD / 1024)) MB after the 4-client 12 MP run, $((RSS_END / 1024)) MB at the end."
  [ -z "${RSS_C1:-}" ] && echo "Peak RSS of the service (VmHWM): $((RSS_END / 1024)) MB at the end."
} > "$OUT"
cat "$OUT"
