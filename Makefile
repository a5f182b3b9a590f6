# Entry points. `make run` and `make test` do all set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
ASAN_DIR := build/asan
BIN := $(RELEASE_DIR)/image-service

.PHONY: help deps build run test test-unit test-asan test-tsan test-integration bench fuzz format format-check clean

help:
	@echo "make run     install what is missing, build, start on http://127.0.0.1:8080 (data in ./data)"
	@echo "make test    install what is missing, build, run every test"
	@echo "make build   build the release binary ($(BIN))"
	@echo "make bench   run the benchmarks (results in bench/results/ and docs/benchmarks.md)"
	@echo "make fuzz    run every libFuzzer harness for FUZZ_SECONDS (600) and grow the corpora"
	@echo "make format  clang-format the sources"

deps:
	@bash scripts/install-deps.sh

$(RELEASE_DIR)/build.ninja:
	cmake --preset release >/dev/null

build: $(RELEASE_DIR)/build.ninja
	cmake --build --preset release -j $(JOBS)

run: deps build
	@bash scripts/run-dev.sh

# Every test (scripts/test.sh: the HTTP suite against the release binary; unit, conformance,
# HTTP suite and fuzzers in the clang ASan+UBSan build; ThreadSanitizer on the threaded tests).
test: deps
	@bash scripts/test.sh

test-unit: build
	cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS) -L 'unit|conformance'

test-asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -L 'unit|conformance'

test-tsan:
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	cd build/tsan && TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|conformance'

test-integration: build
	cd $(RELEASE_DIR) && ctest --output-on-failure -L integration

bench: deps build
	@bash bench/all.sh

# Longer fuzzing than make test's: findings are merged into fuzz/corpus/ and the run is
# recorded in fuzz/runs.tsv (commit both).
fuzz: deps
	FUZZ_MERGE=1 FUZZ_RECORD=1 bash scripts/fuzz.sh $(or $(FUZZ_SECONDS),600)

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build
