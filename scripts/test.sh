#!/usr/bin/env bash
# `make test`: every test. clang-format; the release build's unit, conformance and HTTP
# integration tests (embedded and distributed); the unit and conformance tests again under
# ASan+UBSan and under ThreadSanitizer, and the HTTP suite against the ASan server; then every
# libFuzzer harness for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

echo "== clang-format"
git ls-files "*.cpp" "*.h" | xargs clang-format --dry-run --Werror

echo "== layers: includes follow http → api → domain ← adapters, no folder cycle"
node scripts/check-layers.mjs

echo "== release: unit, conformance, integration"
cmake --build --preset release -j "$JOBS"
(cd build/release && ctest --output-on-failure -j "$JOBS")

echo "== asan+ubsan: unit, conformance"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$JOBS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j "$JOBS" -L 'unit|conformance')

echo "== tsan: unit, conformance"
# Any report fails the test (halt_on_error). tests/tsan.supp silences only named third-party
# code that is not instrumented, each entry with its reason.
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$JOBS"
TSAN_SUPPRESSIONS="$PWD/tests/tsan.supp"
(cd build/tsan &&
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$TSAN_SUPPRESSIONS" \
    ctest --output-on-failure -j "$JOBS" -L 'unit|conformance')

echo "== asan+ubsan: the HTTP integration suite against the instrumented server"
# Leak checking is off for the server process only: libvips/glib keep process-lifetime caches
# that LeakSanitizer would report at exit; any memory error or UB still aborts the server.
# The migration test's dataset is smaller here (the release pass runs the full 100k rows).
export ISVC_MIGRATE_ROWS=20000
# The overload test (200 concurrent 3 MB uploads) runs in the release pass only.
export ISVC_LOAD_TEST=0
ISVC_BIN=build/asan/image-service ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  node --test --test-concurrency=2 --test-timeout=900000 tests/integration/*.test.mjs
echo "== asan+ubsan: the HTTP integration suite in distributed mode (dynalite, s3rver, redis)"
ISVC_BIN=build/asan/image-service ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  node tests/integration/run-distributed.mjs tests/integration/*.test.mjs

echo "== fuzzers (clang, ASan+UBSan): each harness for a bounded time on its committed corpus"
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
