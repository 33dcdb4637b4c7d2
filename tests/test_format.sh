#!/usr/bin/env bash
# The tree is formatted with the project's .clang-format (Debian's clang-format 14):
# src/, include/, tests/, bench/ and examples/ C files. Reformat with scripts/format.sh.
set -u
command -v clang-format >/dev/null || { echo "FAILED: clang-format not found (scripts/install-deps.sh installs it)"; exit 1; }
files=$(git ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 'bench/*.[ch]' 'examples/*.[ch]' 2>/dev/null)
[ -n "$files" ] || files=$(find src include tests bench examples -name '*.[ch]' 2>/dev/null)
n=0 bad=0
for f in $files; do
  n=$((n+1))
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad=$((bad+1)); echo "FAILED: $f is not formatted (scripts/format.sh)" >&2
  fi
done
[ "$n" -gt 50 ] || { echo "FAILED: only $n files found"; exit 1; }
echo "$((n-bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
