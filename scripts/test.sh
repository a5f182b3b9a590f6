#!/usr/bin/env bash
# `make test`: every test, in three builds (docs/decisions.md, "What make test runs").
#   release    the service and the suite's tools; the HTTP suite, plain in full, then over TLS and
#              distributed (dynalite, DynamoDB Local) for the files each of those can change
#              (tests/integration/lib/passes.mjs)
#   asan       clang, ASan+UBSan: the unit and conformance tests, the HTTP suite against the
#              instrumented server, and every libFuzzer harness for a bounded time
#   tsan       ThreadSanitizer: the unit tests that start threads
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

echo "== clang-format"
git ls-files "*.cpp" "*.h" | xargs clang-format --dry-run --Werror

echo "== layers: includes follow http → api → domain ← adapters, no folder cycle"
node scripts/check-layers.mjs

echo "== release: the HTTP suite against the service (the unit tests run in the sanitizer builds)"
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS" --target image-service isvc_sigv4_tool isvc_thumbhash_tool \
  isvc_loadgen isvc_process_bench
(cd build/release && ctest --output-on-failure -j "$JOBS" -L integration)

echo "== asan+ubsan (clang): unit, conformance"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$JOBS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j "$JOBS" -L 'unit|conformance')

echo "== asan+ubsan: the HTTP integration suite against the instrumented server"
# Leak checking is off for the server process only: libvips/glib keep process-lifetime caches
# that LeakSanitizer would report at exit; any memory error or UB still aborts the server.
# The migration test's dataset is smaller here (the release pass runs the full 100k rows), and
# the 200-upload overload test runs in the release pass only.
ISVC_MIGRATE_ROWS=20000 ISVC_LOAD_TEST=0 ISVC_BIN=build/asan/image-service \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  node tests/integration/run-sanitizer.mjs tests/integration/*.test.mjs

echo "== fuzzers (the asan build's harnesses): each for a bounded time on its committed corpus"
FUZZ_PRESET=asan scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

echo "== tsan: the unit tests that start threads"
# Any report fails the test (halt_on_error). tests/tsan.supp silences only named third-party
# code that is not instrumented, each entry with its reason. The tests that start no thread of
# their own run single-threaded code, which ThreadSanitizer has nothing to say about; they run
# under ASan+UBSan above.
mapfile -t threaded < <(grep -lE 'std::(thread|jthread|async)|io_context|run_threads' tests/unit/*_test.cpp |
  xargs -n1 basename | sed 's/\.cpp$//')
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$JOBS" --target "${threaded[@]}"
TSAN_SUPPRESSIONS="$PWD/tests/tsan.supp"
(cd build/tsan &&
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$TSAN_SUPPRESSIONS" \
    ctest --output-on-failure -j "$JOBS" -L unit)
