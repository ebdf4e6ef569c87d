#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run the whole
# test suite (unit + integration) with ctest; build the tree with clang and
# libFuzzer (-DSLUICE_FUZZ=ON) and run every fuzz target a few seconds on
# its seed corpus; then the suite again under ASan+UBSan.
#   SLUICE_SKIP_ASAN=1 ./test.sh        skips the sanitizer pass
#   SLUICE_FUZZ_SECONDS=60 ./test.sh    fuzzes longer (default 5 s a target)
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh test
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

# clang, warning-free, and every parser of untrusted bytes fuzzed (a finding fails).
CC=clang cmake -S . -B build-fuzz -DSLUICE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs"
tests/fuzz/run.sh build-fuzz "${SLUICE_FUZZ_SECONDS:-5}"

if [ "${SLUICE_SKIP_ASAN:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Asan >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j"$jobs")
fi
