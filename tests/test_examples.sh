#!/usr/bin/env bash
# examples/query.c, a program that uses only include/ctcir/, answers a query exactly as
# `ctcir query` does; and `cmake --install` gives a prefix (binary, libctcir.a, headers,
# ctcir.pc) against which the same example compiles with pkg-config alone.
set -u
CTCIR=${CTCIR:-build/ctcir}
CTCIR=$(cd "$(dirname "$CTCIR")" && pwd)/$(basename "$CTCIR")
BUILD=$(dirname "$CTCIR")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }

. tests/tiny_model.sh
make_tiny "$T" || { echo "FAILED: fixture" >&2; exit 1; }
REF=$T/d/images/test/test-000002-ref.png
TEXT="make the circle red"
"$CTCIR" query --model "$T/m" --index "$T/ix.st" --image "$REF" --text "$TEXT" -k 4 -t 1 2>/dev/null > "$T/cli.tsv"
[ "$(grep -c . "$T/cli.tsv")" -eq 4 ] && ok || bad "ctcir query gave $(grep -c . "$T/cli.tsv") lines"

# the example built with the project
EX=$BUILD/examples/query
[ -x "$EX" ] && ok || bad "no $EX"
OMP_NUM_THREADS=1 "$EX" "$T/m" "$T/ix.st" "$REF" "$TEXT" 4 > "$T/ex.tsv" 2>"$T/ex.err" && ok || bad "example failed: $(cat "$T/ex.err")"
cmp -s "$T/cli.tsv" "$T/ex.tsv" && ok || bad "example differs from ctcir query: $(diff "$T/cli.tsv" "$T/ex.tsv")"
"$EX" "$T/m" "$T/nope.st" "$REF" "$TEXT" > /dev/null 2>&1; [ $? -eq 1 ] && ok || bad "example: missing index is exit 1"

# install into a fresh prefix, then build the example from the installed files only
if cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log" 2>&1; then ok; else bad "cmake --install: $(tail -5 "$T/install.log")"; fi
for f in bin/ctcir include/ctcir/model.h include/ctcir/index.h include/ctcir/status.h; do
  [ -e "$T/prefix/$f" ] && ok || bad "not installed: $f"
done
lib=$(find "$T/prefix" -name libctcir.a | head -1)
[ -n "$lib" ] && ok || bad "libctcir.a not installed"
pc=$(find "$T/prefix" -name ctcir.pc | head -1)
[ -n "$pc" ] && ok || bad "ctcir.pc not installed"
if [ -n "$pc" ] && command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH=$(dirname "$pc")
  [ "$(pkg-config --modversion ctcir)" = "$("$CTCIR" --version | sed -n 's/^ctcir //p')" ] && ok || bad "ctcir.pc version"
  # a copy outside the source tree: nothing but the installed prefix on the include path
  cp examples/query.c "$T/query.c"
  if ${CC:-cc} -std=c11 -O1 -o "$T/q" "$T/query.c" $(pkg-config --cflags --libs ctcir) 2> "$T/cc.err"; then ok; else bad "compile against ctcir.pc: $(head -5 "$T/cc.err")"; fi
  if [ -x "$T/q" ]; then
    OMP_NUM_THREADS=1 "$T/q" "$T/m" "$T/ix.st" "$REF" "$TEXT" 4 > "$T/q.tsv" 2>/dev/null
    cmp -s "$T/cli.tsv" "$T/q.tsv" && ok || bad "installed-build example differs from ctcir query"
  fi
  "$T/prefix/bin/ctcir" --version > /dev/null && ok || bad "installed ctcir does not run"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
