#!/usr/bin/env bash
# ctest: slow (left out of the sanitizer pass)
# A scaled-down main job through the real binary: generate -> bpe-train -> init -> train ->
# index -> eval -> explain -> query --grid. Every command must succeed and retrieval must be
# clearly above chance after a short training.
set -u
CTCIR=${CTCIR:-build/ctcir}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
run() { if "$@" >"$T/out" 2>"$T/err"; then ok; else bad "$*"; tail -5 "$T/err" >&2; fi; }

run "$CTCIR" synth-shapes --out "$T/data" --size 48 --train 512 --val 8 --test 40 --seed 1 -q
sed -n 's/.*"caption":"\([^"]*\)".*/\1/p' "$T/data/train.jsonl" > "$T/captions.txt"
run "$CTCIR" bpe-train --input "$T/captions.txt" --vocab-size 1024 --out "$T/vocab"
run "$CTCIR" init --config configs/synthetic-tiny-model.json --vocab "$T/vocab" --out "$T/init" --seed 1
run "$CTCIR" train --config configs/synthetic-tiny.json --init "$T/init" --data "$T/data/train.jsonl" \
  --image-root "$T/data" --batch-size 32 --max-steps 50 --warmup 5 --set cycle_steps=50 --set lr=2e-3 --out "$T/run"
grep -q '"step": 50,' "$T/run/metrics.jsonl" && ok || bad "50 steps logged"
first=$(sed -n '1s/.*"loss": \([^,]*\),.*/\1/p' "$T/run/metrics.jsonl")
last=$(tail -5 "$T/run/metrics.jsonl" | sed -n 's/.*"loss": \([^,]*\),.*/\1/p' | awk '{ s += $1 } END { print s / NR }')
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' && ok || bad "loss did not fall ($first -> $last)"
run "$CTCIR" index --model "$T/run/last" --list "$T/data/test_gallery.txt" --out "$T/test.index"
run "$CTCIR" eval --model "$T/run/last" --dataset manifest --root "$T/data" --split test --index "$T/test.index" --json
cp "$T/out" "$T/eval.json"
G=$(wc -l < "$T/data/test_gallery.txt")
r10=$(sed -n 's/.*"recall@10":\([0-9.]*\).*/\1/p' "$T/eval.json")
r50=$(sed -n 's/.*"recall@50":\([0-9.]*\).*/\1/p' "$T/eval.json")
echo "test gallery $G images: recall@10 $r10, recall@50 $r50 (chance $(awk -v g="$G" 'BEGIN { printf "%.1f / %.1f", 1000/(g-1), 5000/(g-1) }'))" >&2
# chance: K / (G - 1) with the reference excluded; demand at least twice that
awk -v r="$r10" -v g="$G" 'BEGIN { exit !(r >= 2 * 1000 / (g - 1)) }' && ok || bad "recall@10 $r10 not above 2x chance"
awk -v r="$r50" -v g="$G" 'BEGIN { exit !(r >= 1.5 * 5000 / (g - 1)) }' && ok || bad "recall@50 $r50 not above 1.5x chance"
line=$(sed -n 1p "$T/data/test.jsonl")
ref=$(echo "$line" | sed 's/.*"reference":"\([^"]*\)".*/\1/')
cap=$(echo "$line" | sed 's/.*"caption":"\([^"]*\)".*/\1/')
run "$CTCIR" explain --model "$T/run/last" --image "$T/data/$ref" --text "$cap" --out "$T/explain.png"
test -s "$T/explain.png" && ok || bad "explain picture"
run "$CTCIR" query --model "$T/run/last" --index "$T/test.index" --image "$T/data/$ref" --text "$cap" -k 5 \
  --grid "$T/grid.png" --images "$T/data"
test -s "$T/grid.png" && ok || bad "results grid"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
