#!/usr/bin/env bash
# Periodic validation while training (--val, --val-every, --val-metric): each validation
# appends {"step": s, "val": {<eval --json metric keys>}} to metrics.jsonl, saves a checkpoint
# at that step, and OUT/best points at the checkpoint with the best value, which pruning
# keeps; the values equal what `ctcir eval` reports for that checkpoint; resume keeps the best.
set -u
. "$(dirname "$0")/train_harness.sh"
# "step value" for every validation line of a metrics log, value of the given key
vals() { sed -n "s/^{\"step\": \([0-9]*\), \"val\": {.*\"$2\":\([^,}]*\).*/\1 \2/p" "$1"; }

"$CTCIR" synth-shapes --out "$T/data" --train 48 --val 12 --test 8 --seed 7 -q >/dev/null 2>&1 || bad "synth-shapes"
C=(--init "$INIT" --data "$T/data/train.jsonl" --image-root "$T/data" --batch-size 4 --lr 3e-3 --lr-min 3e-4 --warmup 1
   --set fusion_layers=1 --set fusion_heads=4 --set checkpoint_every=0 --set keep_checkpoints=1 -t 1)

# a manifest validation set, every 2 steps and after the last: steps 2, 4, 5
"$CTCIR" train "${C[@]}" --max-steps 5 --val "$T/data/val.jsonl" --val-every 2 --val-metric recall@5 --out "$T/a" 2>"$T/a.log"
rc=$?; check test $rc -eq 0
[ $rc -eq 0 ] || tail -3 "$T/a.log" >&2
check test "$(grep -c '"val"' "$T/a/metrics.jsonl")" -eq 3
check test "$(vals "$T/a/metrics.jsonl" recall@5 | cut -d' ' -f1 | tr '\n' ' ')" = "2 4 5 "
for k in recall@1 recall@5 recall@10 recall@50; do
  [ "$(vals "$T/a/metrics.jsonl" "$k" | wc -l)" -eq 3 ] && ok || bad "val key $k"
done
check test "$(grep -c '"loss"' "$T/a/metrics.jsonl")" -eq 5
# best -> the first checkpoint with the highest recall@5; pruning (keep 1) kept it and the last
best_step=$(vals "$T/a/metrics.jsonl" recall@5 | sort -k2,2gr -k1,1n | head -1 | cut -d' ' -f1)
check test -L "$T/a/best"
check test "$(readlink "$T/a/best")" = "checkpoint-$best_step"
check test -f "$T/a/best/model.safetensors"
check test "$(readlink "$T/a/last")" = "checkpoint-5"
n_ck=$(ls -d "$T"/a/checkpoint-* | wc -l)
if [ "$best_step" = 5 ]; then check test "$n_ck" -eq 1; else check test "$n_ck" -eq 2; fi
grep -q "\"best\"" "$T/a/last/trainer_state.json" && ok || bad "trainer_state records the best"
# the logged values are those of `ctcir eval` on the saved checkpoint
"$CTCIR" eval --model "$T/a/last" --dataset manifest --root "$T/data" --split val --json -t 1 > "$T/eval.json" 2>/dev/null
check test $? -eq 0
for k in recall@1 recall@5; do
  e=$(sed -n "s/.*\"$k\":\([^,}]*\).*/\1/p" "$T/eval.json")
  v=$(vals "$T/a/metrics.jsonl" "$k" | tail -1 | cut -d' ' -f2)
  awk -v a="$e" -v b="$v" 'BEGIN { exit !(a != "" && a + 0 == b + 0) }' && ok || bad "$k: eval $e, logged $v"
done

# validating changes nothing in the training: same losses, same final weights as without
"$CTCIR" train "${C[@]}" --max-steps 5 --out "$T/nv" 2>/dev/null; check test $? -eq 0
check diff <(sed -n 's/.*"loss": \([^,]*\),.*/\1/p' "$T/a/metrics.jsonl") <(sed -n 's/.*"loss": \([^,]*\),.*/\1/p' "$T/nv/metrics.jsonl")
check cmp "$T/a/last/model.safetensors" "$T/nv/last/model.safetensors"

# KIND:ROOT:SPLIT form, the dataset's headline metric (manifest: recall@1), and resume keeps best
"$CTCIR" train "${C[@]}" --max-steps 2 --val "manifest:$T/data:val" --val-every 1 --out "$T/b" 2>"$T/b.log"
rc=$?; check test $rc -eq 0
[ $rc -eq 0 ] || tail -3 "$T/b.log" >&2
check test "$(grep -c '"val"' "$T/b/metrics.jsonl")" -eq 2
grep -q "validation at step 2: recall@1 " "$T/b.log" && ok || bad "headline metric message"
cp "$T/b/best/trainer_state.json" "$T/best_state.json"
"$CTCIR" train "${C[@]}" --max-steps 3 --val "manifest:$T/data:val" --val-every 1 --out "$T/b" --resume "$T/b" 2>"$T/b2.log"
rc=$?; check test $rc -eq 0
check test "$(grep -c '"val"' "$T/b/metrics.jsonl")" -eq 3
check test -f "$T/b/best/model.safetensors"
best_step=$(vals "$T/b/metrics.jsonl" recall@1 | sort -k2,2gr -k1,1n | head -1 | cut -d' ' -f1)
check test "$(readlink "$T/b/best")" = "checkpoint-$best_step"

# pruning never deletes the best checkpoint: make step 1 unbeatable, then train on (keep 1)
"$CTCIR" train "${C[@]}" --max-steps 1 --val "$T/data/val.jsonl" --val-every 1 --out "$T/c" 2>/dev/null; check test $? -eq 0
check test "$(readlink "$T/c/best")" = "checkpoint-1"
sed -i 's/"value": [-0-9.e+]*/"value": 1000/' "$T/c/checkpoint-1/trainer_state.json"
grep -q '"value": 1000' "$T/c/checkpoint-1/trainer_state.json" && ok || bad "best value edit"
"$CTCIR" train "${C[@]}" --max-steps 3 --val "$T/data/val.jsonl" --val-every 1 --out "$T/c" --resume "$T/c" 2>"$T/c.log"
rc=$?; check test $rc -eq 0
[ $rc -eq 0 ] || tail -3 "$T/c.log" >&2
check test "$(cd "$T/c" && ls -d checkpoint-* | sort | tr '\n' ' ')" = "checkpoint-1 checkpoint-3 "
check test "$(readlink "$T/c/best")" = "checkpoint-1"
check test "$(readlink "$T/c/last")" = "checkpoint-3"

# --val without --val-every: validated once, after the last step
"$CTCIR" train "${C[@]}" --max-steps 2 --val "$T/data/val.jsonl" --out "$T/e" 2>/dev/null; check test $? -eq 0
check test "$(vals "$T/e/metrics.jsonl" recall@1 | cut -d' ' -f1 | tr '\n' ' ')" = "2 "
check test "$(readlink "$T/e/best")" = "checkpoint-2"

# bad specifications are usage errors before anything is created
"$CTCIR" train "${C[@]}" --max-steps 2 --val "nosuchkind:$T/data:val" --out "$T/x" >/dev/null 2>&1; check test $? -eq 2
"$CTCIR" train "${C[@]}" --max-steps 2 --val-every 2 --out "$T/x" >/dev/null 2>&1; check test $? -eq 2
check test ! -e "$T/x"
# an unknown metric key is reported at the first validation, naming it
"$CTCIR" train "${C[@]}" --max-steps 2 --val "$T/data/val.jsonl" --val-every 1 --val-metric recall@7 --out "$T/y" 2>"$T/y.log"
check test $? -eq 1
grep -q "recall@7" "$T/y.log" && ok || bad "unknown metric message"

harness_end
