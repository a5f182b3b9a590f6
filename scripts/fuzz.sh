#!/usr/bin/env bash
# Runs the libFuzzer harnesses of fuzz/ (clang, ASan+UBSan).
#   scripts/fuzz.sh SECONDS [TARGET...]     default targets: all (see fuzz/CMakeLists.txt)
# Each target runs SECONDS on its committed corpus fuzz/corpus/TARGET (read-only) plus a scratch
# directory for what it finds. FUZZ_MERGE=1 merges the findings into the committed corpus
# (minimised); FUZZ_RECORD=1 appends the run to fuzz/runs.tsv. A crash, leak or sanitizer report
# fails the script and leaves the input in build/PRESET/fuzz-artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(multipart jwt cursor probe json request png_walk jpeg_walk webp_walk heif_walk thumbhash exif)

# The commit the harnesses are built from (+dirty with uncommitted changes), for fuzz/runs.tsv.
# What the runs themselves write (runs.tsv, merged corpora) is not a change to the code.
build_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src fuzz CMakeLists.txt ':!fuzz/runs.tsv' ':!fuzz/corpus' 2>/dev/null ||
  build_commit="$build_commit+dirty"

# FUZZ_PRESET=asan (make test) runs the harnesses the ASan build already made; make fuzz builds
# the optimised fuzz preset, which runs several times more inputs a second.
preset=${FUZZ_PRESET:-fuzz}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "${JOBS:-$(nproc)}"

max_len() {
  case $1 in
    probe | png_walk | jpeg_walk) echo 65536 ;; request | multipart | webp_walk | heif_walk) echo 16384 ;;
    json) echo 8192 ;; *) echo 4096 ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  bin=build/$preset/fuzz/fuzz_$t
  scratch=$(mktemp -d)
  artifacts=build/$preset/fuzz-artifacts/$t
  mkdir -p "$artifacts"
  log=$(mktemp)
  echo "fuzz_$t: ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=30 \
      -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$scratch" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz_$t: FAILED (input in $artifacts/)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  found=$(find "$scratch" -type f | wc -l)
  echo "fuzz_$t: ${runs:-0} runs, $found new inputs"
  if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$found" -gt 0 ]; then
    "$bin" -merge=1 -max_len="$(max_len "$t")" "fuzz/corpus/$t" "$scratch" >/dev/null 2>&1 || true
  fi
  if [ "${FUZZ_RECORD:-0}" = 1 ]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" "$seconds" \
      "${runs:-0}" "$build_commit" "$([ $status = 0 ] && echo clean || echo CRASH)" \
      >>fuzz/runs.tsv
  fi
  rm -rf "$scratch" "$log"
done
exit $status
