# Sourced by the training shell tests: the binary, the tiny parity towers, a scratch folder
# removed at exit, and the pass/fail counters (finish with `harness_end`).
CTCIR=${CTCIR:-build/ctcir}
SHARED=${CTCIR_SHARED:-../shared}
INIT=$SHARED/parity/models/tiny-vit-b
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
check() { if "$@"; then ok; else bad "$*"; fi; }
harness_end() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
