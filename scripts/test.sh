#!/usr/bin/env bash
# The whole test suite: a Release build and an AddressSanitizer + UBSan build, each with ctest.
# CTCIR_TEST_NO_SANITIZE=1 skips the sanitizer pass (for a quick local run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${CTCIR_TEST_NO_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCTCIR_SANITIZE=ON -DCTCIR_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow
fi
