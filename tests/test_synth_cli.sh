#!/usr/bin/env bash
# ctcir synth-shapes end to end: a tiny dataset, its layout, determinism, usage errors.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*" >&2; fi; }
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; local rc=$?; [ "$rc" -eq "$want" ] || { echo "rc $rc != $want: $*" >&2; return 1; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check expect_rc 0 "$CTCIR" synth-shapes --help
check expect_rc 0 "$CTCIR" help synth-shapes
"$CTCIR" --help | grep -q '^  synth-shapes ' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAILED: synth-shapes not listed" >&2; }
check expect_rc 2 "$CTCIR" synth-shapes                       # no --out
check expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --size 8
check expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --jpeg-fraction 2
check expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --train abc
check expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --negatives 99
check expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --bogus
check expect_rc 1 "$CTCIR" synth-shapes --out /proc/no/such/dir --train 1 --val 0 --test 0 -q

gen() { "$CTCIR" synth-shapes --out "$1" --train 20 --val 4 --test 10 --size 32 --seed 7 --jpeg-fraction 0.25 -q "${@:2}"; }
check gen "$tmp/a" -t 1
check gen "$tmp/b" -t 2
out=$(gen "$tmp/c")
echo "$out" | grep -q '"images":110' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAILED: summary: $out" >&2; }
check diff -r "$tmp/a" "$tmp/b"
check test -f "$tmp/a/train.jsonl" -a -f "$tmp/a/val.jsonl" -a -f "$tmp/a/test.jsonl" -a -f "$tmp/a/synth.json"
check test "$(wc -l < "$tmp/a/train.jsonl")" -eq 20
check test "$(wc -l < "$tmp/a/test.jsonl")" -eq 10
check test "$(wc -l < "$tmp/a/test_gallery.txt")" -eq 50          # 10 x (reference + target + 3)
check test "$(sort -u "$tmp/a/test_gallery.txt" | wc -l)" -eq 50
check test "$(wc -l < "$tmp/a/train_gallery.txt")" -eq 40
# every gallery path exists under the image root, PNG or JPEG by extension and magic
bad=0
while read -r p; do
  f="$tmp/a/$p"
  [ -s "$f" ] || { bad=$((bad+1)); continue; }
  magic=$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')
  case "$p" in
    *.png) [ "$magic" = 89504e47 ] || bad=$((bad+1)) ;;
    *.jpg) [ "${magic:0:6}" = ffd8ff ] || bad=$((bad+1)) ;;
    *) bad=$((bad+1)) ;;
  esac
done < <(cat "$tmp/a/train_gallery.txt" "$tmp/a/val_gallery.txt" "$tmp/a/test_gallery.txt")
check test "$bad" -eq 0
check test "$(cat "$tmp/a"/*_gallery.txt | grep -c '\.jpg$')" -gt 0
grep -q '"noun_phrases":\[' "$tmp/a/train.jsonl" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAILED: noun_phrases" >&2; }
# a different seed gives different captions
"$CTCIR" synth-shapes --out "$tmp/d" --train 20 --val 0 --test 0 --size 32 --seed 8 -q >/dev/null
check test "$(cmp -s "$tmp/a/train.jsonl" "$tmp/d/train.jsonl"; echo $?)" -ne 0
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
