#!/usr/bin/env bash
# Configures and builds the ctcir binary into build/ (Release). `scripts/build.sh all` also
# builds the tests and benchmarks. Extra arguments after it go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
target=ctcir
if [ "${1:-}" = all ]; then target=all; shift; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)" --target "$target"
