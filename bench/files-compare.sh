#!/usr/bin/env bash
# File delivery: GET /files/{key} of image-service (hot: from its in-memory cache; cold: the cache
# off, every request reads the file) against nginx serving the same directory, in the same run.
# 100 uploaded photos give 200 objects (main + thumbnail); 32 keep-alive clients fetch them round
# robin. nginx comes from Debian's package, unpacked into bench/.tools (not installed: the package
# would start a server on port 80). Both log every request to a file. Prints a Markdown table;
# part of `make bench`. Under tests/integration/with-engines.mjs (distributed mode) the objects
# live in s3rver: hot is the service's cache, cold is a GetObject from s3rver per request, and
# there is no nginx row (nginx cannot serve s3rver's files).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/image-service
LOADGEN=build/release/bench/isvc_loadgen
REQUESTS=${REQUESTS:-40000}
# shellcheck source=bench/nginx-env.sh
. bench/nginx-env.sh

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

# shellcheck source=bench/service-env.sh
. bench/service-env.sh

# shellcheck source=bench/engines-env.sh
. bench/engines-env.sh files

start_service() {  # $1 = FILE_CACHE_BYTES
  start_isvc "$TMP/server.log" "$TMP/data" "$BIN" \
    JWT_SECRET=bench-secret-bench-secret-bench-secret FILE_CACHE_BYTES="$1"
  SVC=$ISVC_PID PORT=$ISVC_PORT
  PIDS+=("$SVC")
}

start_service $((256 * 1024 * 1024))
TOKEN=$(JWT_SECRET=bench-secret-bench-secret-bench-secret DATA_DIR="$TMP/data" "$BIN" token --user bench)
# 100 real photos (the corpus's 3 MB JPEG, or a generated noise JPEG without it): main images of
# a few hundred KB and 400x400 thumbnails, like a gallery's.
PHOTO=$(gallery_photo "$TMP")
"$LOADGEN" --base "127.0.0.1:$PORT" --token "$TOKEN" --scenario upload --file "$PHOTO" \
  --requests 100 --concurrency 2 --ids "$TMP/ids" >/dev/null
while read -r id; do
  echo "/files/images/bench/$id.webp"
  echo "/files/images/bench/thumbnails/$id.webp"
done <"$TMP/ids" >"$TMP/paths"
sed 's|^/files/||; s|^|/|' "$TMP/paths" >"$TMP/nginx-paths"
BYTES=0
while read -r p; do
  BYTES=$((BYTES + $(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$p")))
done <"$TMP/paths"

run() {  # name base paths pids…
  local name=$1 base=$2 paths=$3
  shift 3
  "$LOADGEN" --base "$base" --token "$TOKEN" --scenario files --ids "$paths" --requests 2000 \
    --concurrency 32 >/dev/null  # warm-up
  local c0 r c1
  c0=$(cpu_ms "$@")
  r=$("$LOADGEN" --base "$base" --token "$TOKEN" --scenario files --ids "$paths" \
    --requests "$REQUESTS" --concurrency 32)
  c1=$(cpu_ms "$@")
  echo "$name|$r|$(( (c1 - c0) * 1000 / REQUESTS ))"
}

ROWS=()
HOT="hot (in-memory cache)" COLD="cold (cache off: a file read per request)"
[ "$MODE" = distributed ] && COLD="cold (cache off: a GetObject from s3rver per request)"
ROWS+=("$(run "image-service, $HOT" "127.0.0.1:$PORT" "$TMP/paths" "$SVC")")
kill "$SVC"; wait "$SVC" 2>/dev/null || true
start_service 0
ROWS+=("$(run "image-service, $COLD" "127.0.0.1:$PORT" "$TMP/paths" "$SVC")")
kill "$SVC"; wait "$SVC" 2>/dev/null || true

if [ "$MODE" = embedded ]; then
start_nginx "$TMP" "$TMP/data/objects" "types { image/webp webp; }" \
  "public, max-age=31536000, immutable"
NPORT=$NGINX_PORT
ROWS+=("$(run "nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), 2 workers, sendfile" "127.0.0.1:$NPORT" "$TMP/nginx-paths" "${NGX_PIDS[@]}")")
fi

echo "$MODE mode: 200 objects ($((BYTES / 1024)) KiB: 100 main images + 100 thumbnails), $REQUESTS GETs by 32 keep-alive clients, $(date -u +%F), $(nproc) cores"
echo
echo "| server | P50 ms | P95 ms | P99 ms | requests/s | CPU ms per 1,000 views | errors |"
echo "|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name json cpu <<<"$row"
  node -e "const r=JSON.parse(process.argv[1]); console.log('| ${name} | ' + r.p50 + ' | ' + r.p95 + ' | ' + r.p99 + ' | ' + Math.round(r.throughput) + ' | ${cpu} | ' + r.errors + ' |')" "$json"
done
if [ ${#ROWS[@]} -eq 3 ]; then  # the ratios of the service's rows to nginx's
  node -e '
    const rows = process.argv.slice(1).map((r) => { const [n, j, c] = r.split("|"); return { ...JSON.parse(j), cpu: Number(c) }; });
    const [hot, cold, ngx] = rows, f = (x) => x.toFixed(2) + "×";
    const line = (name, s) => `${name}: P50 ${f(s.p50 / ngx.p50)}, P95 ${f(s.p95 / ngx.p95)}, throughput ${f(s.throughput / ngx.throughput)}, CPU per view ${f(s.cpu / ngx.cpu)}`;
    console.log(`\nRatios to nginx (image-service ÷ nginx): ${line("hot", hot)}; ${line("cold", cold)}.`);
  ' "${ROWS[@]}"
fi
