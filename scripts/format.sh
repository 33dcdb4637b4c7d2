#!/usr/bin/env bash
# Formats every C file of the tree with .clang-format (tests/test_format.sh checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 'bench/*.[ch]' 'examples/*.[ch]' | xargs clang-format -i
