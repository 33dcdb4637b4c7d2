#!/usr/bin/env bash
# ctcir train end to end on a tiny synthetic set with the parity kit's tiny-vit-b towers:
# checkpoints, exact resume, lambda 0, first-step gradient dump, Ctrl-C, NaN stop, errors.
set -u
. "$(dirname "$0")/train_harness.sh"
field() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1"; }  # one field of every line of a metrics log

"$CTCIR" synth-shapes --out "$T/data" --train 64 --val 8 --test 8 --seed 3 -q >/dev/null 2>&1 || bad "synth-shapes"
COMMON=(--init "$INIT" --data "$T/data/train.jsonl" --image-root "$T/data" --batch-size 8 --micro-batch 4
        --lr 1e-3 --lr-min 1e-4 --warmup 2 --set fusion_layers=1 --set fusion_heads=4 --set checkpoint_every=3
        --set keep_checkpoints=2 -t 1)

# 1. six steps straight
"$CTCIR" train "${COMMON[@]}" --max-steps 6 --out "$T/a" --dump-first-grads "$T/g.safetensors" 2>"$T/a.log"
check test $? -eq 0
check test "$(wc -l < "$T/a/metrics.jsonl")" -eq 6
check test -L "$T/a/last"
check test -f "$T/a/last/optimizer.safetensors"
check test -f "$T/a/last/trainer_state.json"
check test -f "$T/a/train_config.json"
# keep_checkpoints=2: steps 3 and 6 remain
check test "$(ls -d "$T"/a/checkpoint-* | wc -l)" -eq 2
grep -q '^step 6/6 | loss ' "$T/a.log" && ok || bad "progress line"
# the metrics log carries every required key with 9 significant digits
for k in step loss loss_cont loss_cc lr grad_norm; do
  [ "$(field "$T/a/metrics.jsonl" "$k" | wc -l)" -eq 6 ] && ok || bad "metrics key $k"
done
# CC is on by default and reported
awk '{ if ($1+0 <= 0) exit 1 }' <(field "$T/a/metrics.jsonl" loss_cc) && ok || bad "loss_cc should be > 0 with lambda_cc 0.08"
# the gradient dump
"$CTCIR" inspect "$T/g.safetensors" > "$T/g.txt" 2>&1; check test $? -eq 0
for n in loss.total loss.cont loss.cc grad.pool.seed grad.fusion.blocks.0.attn.q_proj.weight \
         grad.vision_model.embeddings.patch_embedding.weight grad.text_model.embeddings.token_embedding.weight; do
  grep -q "^$n " "$T/g.txt" && ok || bad "dump lacks $n"
done

# 2. three steps, then resume to six: identical losses and bit-identical weights and moments
"$CTCIR" train "${COMMON[@]}" --max-steps 3 --out "$T/b" 2>/dev/null; check test $? -eq 0
"$CTCIR" train "${COMMON[@]}" --max-steps 6 --out "$T/b" --resume "$T/b" 2>"$T/b.log"; check test $? -eq 0
grep -q "resume: .*checkpoint-3 at step 3" "$T/b.log" && ok || bad "resume message"
for k in loss loss_cont loss_cc lr grad_norm; do
  check diff <(field "$T/a/metrics.jsonl" "$k") <(field "$T/b/metrics.jsonl" "$k")
done
check cmp "$T/a/last/model.safetensors" "$T/b/last/model.safetensors"
check cmp "$T/a/last/optimizer.safetensors" "$T/b/last/optimizer.safetensors"

# 3. lambda 0: the CC term is absent (0) and the total equals the contrastive part
"$CTCIR" train "${COMMON[@]}" --max-steps 2 --set lambda_cc=0 --out "$T/c" 2>/dev/null; check test $? -eq 0
check test "$(field "$T/c/metrics.jsonl" loss_cc | sort -u)" = "0"
check diff <(field "$T/c/metrics.jsonl" loss) <(field "$T/c/metrics.jsonl" loss_cont)

# 4. a ctcir checkpoint feeds --init (options come from it) and encode
"$CTCIR" train --init "$T/a/last" --data "$T/data/train.jsonl" --image-root "$T/data" --batch-size 4 --max-steps 1 \
  -t 1 --out "$T/d" 2>"$T/d.log"; check test $? -eq 0
grep -q '"fusion_layers": 1,' "$T/d/train_config.json" && ok || bad "options from the ctcir init"
"$CTCIR" encode --model "$T/d/last" --image "$T/data/$(sed -n 's/.*"reference":"\([^"]*\)".*/\1/p' "$T/data/train.jsonl" | head -1)" \
  --text "add a red square" --out "$T/e.safetensors" 2>/dev/null; check test $? -eq 0
"$CTCIR" inspect "$T/e.safetensors" | grep -q "^query_embeds .*\[1, 32\]" && ok || bad "encode query_embeds"
"$CTCIR" inspect "$T/e.safetensors" | grep -q "^target_embeds .*\[1, 32\]" && ok || bad "encode target_embeds"

# 5. Ctrl-C: saves a checkpoint after the current step and exits 130
"$CTCIR" train "${COMMON[@]}" --max-steps 100000 --set checkpoint_every=0 --out "$T/f" 2>"$T/f.log" &
pid=$!
for _ in $(seq 1 300); do [ -s "$T/f/metrics.jsonl" ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
check test $rc -eq 130
check test -f "$T/f/last/trainer_state.json"
grep -q "interrupted after step" "$T/f.log" && ok || bad "interrupt message"

# 6. a NaN stops training with the step and tensor named, keeping the last good checkpoint
"$CTCIR" train "${COMMON[@]}" --max-steps 5 --lr 1e30 --lr-min 1e30 --warmup 0 --set max_grad_norm=0 \
  --set checkpoint_every=1 --out "$T/n" 2>"$T/n.log"; rc=$?
check test $rc -eq 1
grep -q "step [0-9]*: .*not finite\|step [0-9]*: .*loss is" "$T/n.log" && ok || { bad "NaN message"; tail -3 "$T/n.log" >&2; }
ls -d "$T"/n/checkpoint-* >/dev/null 2>&1 && ok || bad "a good checkpoint before the NaN"

# 7. bad input
"$CTCIR" train --max-steps 1 >/dev/null 2>&1; check test $? -eq 2           # no --out
"$CTCIR" train --out "$T/x" --data "$T/data/train.jsonl" >/dev/null 2>&1; check test $? -eq 2  # --data without --image-root
"$CTCIR" train --out "$T/x" --set no_such_key=1 >/dev/null 2>&1; check test $? -eq 2
printf '{"reference": "a.png", "target": \n' > "$T/broken.jsonl"
"$CTCIR" train --init "$INIT" --data "$T/broken.jsonl" --image-root "$T/data" --max-steps 1 --out "$T/x" 2>"$T/x.log"
check test $? -eq 1
grep -q "broken.jsonl" "$T/x.log" && ok || bad "malformed manifest message names the file"
"$CTCIR" train --init "$T/nonexistent" --data "$T/data/train.jsonl" --image-root "$T/data" --max-steps 1 --out "$T/x" >/dev/null 2>&1
check test $? -eq 1

# a record whose image is missing: skipped with a warning naming it, or an error with --strict
{ head -4 "$T/data/train.jsonl"; echo '{"reference": "images/none.png", "target": "images/none2.png", "caption": "add a cat"}'; } > "$T/one_bad.jsonl"
"$CTCIR" train --init "$INIT" --data "$T/one_bad.jsonl" --image-root "$T/data" --batch-size 2 --max-steps 1 -t 1 \
  --set fusion_layers=1 --set fusion_heads=4 --out "$T/sk" 2>"$T/sk.log"; check test $? -eq 0
grep -q "one_bad.jsonl.*4\|record 4" "$T/sk.log" && ok || { bad "skip warning names file and record"; grep -i "skip\|warn" "$T/sk.log" >&2; }
"$CTCIR" train --init "$INIT" --data "$T/one_bad.jsonl" --image-root "$T/data" --batch-size 2 --max-steps 1 -t 1 --strict \
  --set fusion_layers=1 --set fusion_heads=4 --out "$T/sk2" 2>"$T/sk2.log"; check test $? -eq 1
grep -q "none.png" "$T/sk2.log" && ok || bad "strict error names the image"

# --recompute: saved in train_config.json, logged; a bad value is a usage error
"$CTCIR" train --init "$INIT" --data "$T/data/train.jsonl" --image-root "$T/data" --batch-size 2 --max-steps 1 -t 1 \
  --set fusion_layers=1 --set fusion_heads=4 --recompute on --out "$T/rc" 2>"$T/rc.log"; check test $? -eq 0
grep -q '"recompute":.*"on"' "$T/rc/train_config.json" && ok || bad "recompute saved in train_config.json"
grep -q "recomputation on" "$T/rc.log" && ok || bad "recompute logged"
"$CTCIR" train --out "$T/x" --recompute sometimes >/dev/null 2>"$T/rc2.log"; check test $? -eq 2
grep -q "sometimes" "$T/rc2.log" && ok || bad "bad recompute value named"

harness_end
