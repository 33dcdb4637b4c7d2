#!/usr/bin/env bash
# Every header under include/ and src/ compiles on its own, as C11 and as C++ (the way a
# program that includes only that header sees it): no header leans on what another header
# happened to include first.
set -u
CC=${CC:-cc}
CXX=${CXX:-g++}
command -v "$CC" >/dev/null || { echo "no C compiler ($CC)" >&2; exit 1; }
command -v "$CXX" >/dev/null || { echo "no C++ compiler ($CXX)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
deps=$(pkg-config --cflags openblas libcjson libpng libjpeg stb zlib libutf8proc 2>/dev/null)
flags="-Iinclude -Isrc $deps -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fsyntax-only -Wall -Wextra"
pass=0 fail=0
for h in $(find include src -name '*.h' | sort); do
  rel=${h#include/}; rel=${rel#src/}
  printf '#include "%s"\n#include "%s"\n' "$rel" "$rel" > "$tmp/one.c"   # twice: include guards work
  if "$CC" -std=c11 $flags -Werror=implicit-function-declaration -x c "$tmp/one.c" 2> "$tmp/err"; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAILED (C): $h" >&2; head -5 "$tmp/err" >&2; fi
  if "$CXX" -std=c++17 $flags -x c++ "$tmp/one.c" 2> "$tmp/err"; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAILED (C++): $h" >&2; head -5 "$tmp/err" >&2; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
