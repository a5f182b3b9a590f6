#!/usr/bin/env bash
# CPU per upload against its floor, the processing step alone, in one run: the service (embedded
# mode, one client, the load generator's `upload` scenario) takes N uploads of FILE and its CPU
# (utime + stime from /proc) is divided by N; `isvc_process_bench --runs N` runs the same
# VipsProcessor on the same bytes in its own process and reports its CPU per run. The rounds
# alternate service, processing step, service… so that drift in the machine (this is a shared VM:
# the same build's CPU per upload moved by 25 % between days) hits both. Prints a Markdown table,
# the medians and the ratio; part of `make bench`.
#   bench/upload-cpu.sh [ROUNDS]   (FILE=../shared/testdata/images/photo_12mp.jpg N=12)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/release/image-service}
LOADGEN=build/release/bench/isvc_loadgen
PROCESS=build/release/bench/isvc_process_bench
ROUNDS=${1:-3} N=${N:-12} FILE=${FILE:-../shared/testdata/images/photo_12mp.jpg}
[ -f "$FILE" ] || { echo "(skipped: $FILE is not here)"; exit 0; }

TMP=$(mktemp -d)
SVC=""
cleanup() { [ -n "$SVC" ] && kill "$SVC" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=bench/service-env.sh
. bench/service-env.sh
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

export JWT_SECRET=bench-secret-bench-secret-bench-secret
start_isvc "$TMP/server.log" "$TMP/data" "$BIN"
SVC=$ISVC_PID PORT=$ISVC_PORT
TOKEN=$(DATA_DIR="$TMP/data" "$BIN" token --user bench --ttl 2h)
upload() { "$LOADGEN" --base "127.0.0.1:$PORT" --token "$TOKEN" --scenario upload --file "$FILE" --requests "$1"; }
upload 2 >/dev/null  # warm-up: libvips' operation cache, the allocator's arenas

SVC_MS=() PROC_MS=()
echo "| round | service CPU per upload (ms) | processing step CPU per run (ms) | ratio |"
echo "|---|---|---|---|"
for r in $(seq "$ROUNDS"); do
  c0=$(cpu_ms "$SVC")
  out=$(upload "$N")
  echo "$out" | grep -q "\"errors\":0" || { echo "uploads failed: $out"; exit 1; }
  s=$(( ($(cpu_ms "$SVC") - c0) / N ))
  p=$("$PROCESS" --runs "$N" "$FILE" | grep -o '"cpuMs":[0-9.]*' | cut -d: -f2)
  p=${p%.*}
  SVC_MS+=("$s") PROC_MS+=("$p")
  echo "| $r | $s | $p | $(awk -v a="$s" -v b="$p" 'BEGIN {printf "%.2f", a / b}') |"
done
ms=$(echo "${SVC_MS[*]}" | median) mp=$(echo "${PROC_MS[*]}" | median)
echo
echo "$(basename "$FILE"), $N uploads per round, $ROUNDS rounds alternated: median service CPU per upload" \
  "$ms ms, median processing step $mp ms, ratio $(awk -v a="$ms" -v b="$mp" 'BEGIN {printf "%.2f", a / b}')×" \
  "(issue 15's target: ≤ 1.1×)."
