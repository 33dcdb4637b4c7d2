#!/usr/bin/env bash
# Several index shards used as one gallery without a merge step (docs/distributed.md): query
# and eval with `--index A --index B` give exactly what they give with the merged index;
# an incomplete set of shards is refused.
set -u
. "$(dirname "$0")/train_harness.sh"
"$CTCIR" synth-shapes --out "$T/g" --train 0 --val 0 --test 15 --seed 8 -q >/dev/null 2>&1 || bad "synth-shapes"
M=$INIT   # a plain CLIP folder: the head is seeded
for k in 0 1 2; do
  "$CTCIR" index -m "$M" --list "$T/g/test_gallery.txt" --shard "$k/3" --out "$T/s$k.index" -t 1 2>/dev/null || bad "shard $k"
done
"$CTCIR" index merge "$T/s2.index" "$T/s0.index" "$T/s1.index" --out "$T/all.index" 2>/dev/null || bad "merge"
ref=$(sed -n 1p "$T/g/test.jsonl" | sed 's/.*"reference":"\([^"]*\)".*/\1/')
cap=$(sed -n 1p "$T/g/test.jsonl" | sed 's/.*"caption":"\([^"]*\)".*/\1/')
Q=(query -m "$M" --image "$T/g/$ref" --text "$cap" -k 20 --json -t 1)
"$CTCIR" "${Q[@]}" --index "$T/all.index" 2>/dev/null | sed 's/"search_seconds[^,}]*//; s/"seconds[^,}]*//' > "$T/q1"
"$CTCIR" "${Q[@]}" --index "$T/s1.index" --index "$T/s0.index" --index "$T/s2.index" 2>/dev/null \
  | sed 's/"search_seconds[^,}]*//; s/"seconds[^,}]*//' > "$T/q3"
[ -s "$T/q1" ] && cmp -s "$T/q1" "$T/q3" && ok || bad "query over 3 shards differs from the merged index: $(cat "$T/q1" "$T/q3")"
E=(eval -m "$M" --dataset manifest --root "$T/g" --split test --json -t 1)
"$CTCIR" "${E[@]}" --index "$T/all.index" 2>/dev/null | sed 's/"seconds.*//' > "$T/e1"
"$CTCIR" "${E[@]}" --index "$T/s0.index" --index "$T/s1.index" --index "$T/s2.index" 2>/dev/null | sed 's/"seconds.*//' > "$T/e3"
[ -s "$T/e1" ] && cmp -s "$T/e1" "$T/e3" && ok || bad "eval over 3 shards differs: $(cat "$T/e1" "$T/e3")"
"$CTCIR" "${Q[@]}" --index "$T/s0.index" --index "$T/s2.index" > /dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q 'row 25 is missing' "$T/err" && ok || bad "two of three shards must be refused: $(cat "$T/err")"
harness_end
