#!/usr/bin/env bash
# `ctcir train` on the one option parser (cli/opts.h): the error style, exit 2 with nothing
# created, bounded -t, the flags of the training branch, and defaults in the help.
set -u
CTCIR=${CTCIR:-build/ctcir}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
rc() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local got=$?; [ "$got" -eq "$want" ] && ok || bad "exit $got != $want: $* ($(head -c 300 "$T/err"))"; }
has() { grep -q -- "$2" "$1" && ok || bad "$1 lacks '$2': $(head -c 300 "$1")"; }

rc 2 "$CTCIR" train --hlep;                   has "$T/err" "ctcir train: unknown option --hlep; did you mean --help?"
rc 2 "$CTCIR" train --out;                    has "$T/err" "ctcir train: --out needs a value"
[ "$(grep -c . "$T/err")" -le 2 ] && ok || bad "one message: $(cat "$T/err")"
rc 2 "$CTCIR" train --out "$T/x";             has "$T/err" "no model to start from"
[ ! -e "$T/x" ] && ok || bad "train usage error created --out"
rc 2 "$CTCIR" train --out "$T/x" -t 1000000;  has "$T/err" "--threads: expected an integer in 1..1024"
rc 2 "$CTCIR" train --out "$T/x" --override;  has "$T/err" "--override goes with --resume"
rc 2 "$CTCIR" train --out "$T/x" --set no_such_key=1
[ ! -e "$T/x" ] && ok || bad "train usage error created --out"
rc 0 "$CTCIR" train --help
for f in --config --init --data --image-root --batch-size --micro-batch --max-steps --lr --lr-min --warmup \
         --no-shuffle --seed --set --out --resume --override --force --val --val-image-root --val-every \
         --val-metric --dump-first-grads --strict --precision --threads --quiet --verbose; do
  grep -q -- "$f" "$T/out" && ok || bad "help lacks $f"
done
has "$T/out" "--batch-size N .*(default [0-9]"
has "$T/out" "--max-steps K .*(default [0-9]"
rc 0 "$CTCIR" help train
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
