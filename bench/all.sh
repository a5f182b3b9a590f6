#!/usr/bin/env bash
# `make bench`: every benchmark of docs/benchmarks.md in one run, one report:
# bench/results/<date>-all.md (date, commit, machine, then each table). About 30 minutes on 2 cores.
#   1. bench/run.sh in embedded mode and in distributed mode (dynalite + s3rver + Redis)
#   2. the processing step against npm sharp on the same files (bench/sharp-compare.mjs), and
#      the main WebP's bytes and butteraugli distance against sharp's (bench/quality-compare.mjs),
#      and the service's CPU per 12 MP upload against that step alone (bench/upload-cpu.sh)
#   3. GET /images/{id} against nginx serving the same JSON bytes (bench/reads-compare.sh)
#   4. file delivery hot/cold against nginx (embedded), and hot/cold from s3rver (distributed)
#   5. the migration of the 100k-row legacy dataset against its --dry-run (bench/migrate-bench.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=../shared/testdata/images
OUT=bench/results/$(date -u +%Y-%m-%d)-all.md
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
mkdir -p bench/results
{
  echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ' (with uncommitted changes)')"
  echo
  echo "Machine: $(nproc) cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2}')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -sr)."
  echo
} >"$OUT"
section() { printf '\n## %s\n\n' "$1" >>"$OUT"; }

section "API, embedded mode"
bash bench/run.sh | tee "$LOG"
sed -n '/^| operation/,$p' "$LOG" >>"$OUT"

section "API, distributed mode"
node tests/integration/with-engines.mjs bash bench/run.sh | tee "$LOG"
grep '^Machine' "$LOG" | sed 's/^Machine: [^.]*\. //' >>"$OUT" || true
echo >>"$OUT"
sed -n '/^| operation/,$p' "$LOG" >>"$OUT"

section "Processing step against sharp"
npm ci --prefix bench/sharp --no-audit --no-fund --loglevel=error >/dev/null
files=()
for f in photo_3mb.jpg photo_12mp.jpg alpha.png photo_lossy.webp; do
  [ -f "$IMAGES/$f" ] && files+=("$IMAGES/$f")
done
# Without the corpus, sharp-compare makes a 3 MB noise JPEG itself.
node bench/sharp-compare.mjs --runs 20 "${files[@]}" | tee -a "$OUT"

section "Output bytes and butteraugli against sharp"
# butteraugli_main comes with Debian's libjxl-devtools (installed here, for `make bench` only).
command -v butteraugli_main >/dev/null ||
  apt-get install -y -q --no-install-recommends libjxl-devtools >/dev/null
qfiles=()
for f in photo_12mp.jpg photo_3mb.jpg alpha.png photo.png photo_gray.jpg photo_cmyk.jpg; do
  [ -f "$IMAGES/$f" ] && qfiles+=("$IMAGES/$f")
done
if [ ${#qfiles[@]} -gt 0 ]; then
  node bench/quality-compare.mjs "${qfiles[@]}" | tee -a "$OUT"
else
  echo "(skipped: the corpus ../shared/testdata/images is not here)" | tee -a "$OUT"
fi

section "CPU per 12 MP upload against the processing step (alternated rounds)"
bash bench/upload-cpu.sh 5 | tee -a "$OUT"

section "Metadata GET against nginx serving the same JSON bytes"
bash bench/reads-compare.sh 3 | tee -a "$OUT"

section "File delivery, embedded mode (against nginx)"
bash bench/files-compare.sh | tee -a "$OUT"

section "File delivery, distributed mode (objects in s3rver)"
node tests/integration/with-engines.mjs bash bench/files-compare.sh | grep -v '^engines:' | tee -a "$OUT"

section "Migration into the embedded store (against --dry-run)"
node bench/migrate-bench.mjs --rounds 3 | tee -a "$OUT"

echo
echo "report: $OUT"
