#!/usr/bin/env bash
# The CLI's help, version and exit-code contract.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*" >&2; fi; }
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; local rc=$?; [ "$rc" -eq "$want" ] || { echo "rc $rc != $want: $*" >&2; return 1; }; }

check expect_rc 0 "$CTCIR" --help
check expect_rc 0 "$CTCIR" --version
check expect_rc 2 "$CTCIR"
check expect_rc 2 "$CTCIR" no-such-command
check expect_rc 2 "$CTCIR" help no-such-command
"$CTCIR" --version | grep -q '^ctcir [0-9]' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAILED: version format" >&2; }
# every listed command answers --help and 'help <cmd>' with exit 0 and some text
for c in $("$CTCIR" --help | awk '/^commands:/{on=1;next} on && /^  [a-z]/{print $1}'); do
  check expect_rc 0 "$CTCIR" help "$c"
  check expect_rc 0 "$CTCIR" "$c" --help
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
