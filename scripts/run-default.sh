#!/usr/bin/env bash
# The built-in default (README command 1, after install + build): generate the synthetic
# compositional CIR benchmark, learn its BPE vocabulary, initialise a tiny CLIP-style model,
# train ConText-CIR from scratch, index the 1,000-image test gallery, evaluate, and draw an
# explanation and a results grid for a few test queries.
#
#   scripts/run-default.sh [OUT_DIR]          (default runs/default)
#
# Running it again on the same OUT_DIR continues: finished steps are skipped (OUT_DIR/.done-*),
# an interrupted training (Ctrl-C) resumes from its last checkpoint, an interrupted index
# continues from the rows it had. Delete OUT_DIR to start over.
#   env: SEED (0), LAMBDA_CC (model default 0.08), STEPS (from the config; the cosine cycle
#        follows it), THREADS (all cores), TRAIN_TRIPLETS (synth-shapes --train), SIZE (48: the
#        image side of configs/synthetic-tiny-model.json, one 16 px patch per scene-grid cell)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/default}
CTCIR=${CTCIR:-build/ctcir}
SEED=${SEED:-0}
SIZE=${SIZE:-48}
TRAIN_TRIPLETS=${TRAIN_TRIPLETS:-10000}
# Idle OpenMP/OpenBLAS threads sleep instead of spinning: on a CPU shared with other work,
# spinning threads made 2-thread training 4-5x slower than 1 thread.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$OUT"
t() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "== $*" >&2; }
EXTRA=()
[ -n "${LAMBDA_CC:-}" ] && EXTRA+=(--set "lambda_cc=$LAMBDA_CC")
[ -n "${STEPS:-}" ] && EXTRA+=(--max-steps "$STEPS" --set "cycle_steps=$STEPS")
THREADS_ARG=()
[ -n "${THREADS:-}" ] && THREADS_ARG=(-t "$THREADS")

# done NAME: the step finished in an earlier run of this script on OUT; finish NAME records it
done_before() { [ -e "$OUT/.done-$1" ]; }
finish() { touch "$OUT/.done-$1"; }

t0=$(t)
if done_before data; then
  log "1/6 the synthetic benchmark in $OUT/data is there"
else
  log "1/6 generating the synthetic benchmark in $OUT/data"
  "$CTCIR" synth-shapes --out "$OUT/data" --size "$SIZE" --train "$TRAIN_TRIPLETS" --seed "$SEED" -q "${THREADS_ARG[@]}" >/dev/null
  finish data
fi
t1=$(t)
if done_before init; then
  log "2/6, 3/6 vocabulary and initial model are there"
else
  log "2/6 learning a BPE vocabulary from the training captions"
  sed -n 's/.*"caption":"\([^"]*\)".*/\1/p' "$OUT/data/train.jsonl" > "$OUT/captions.txt"
  "$CTCIR" bpe-train --input "$OUT/captions.txt" --vocab-size 2048 --out "$OUT/vocab" --force >/dev/null
  log "3/6 initialising a tiny CLIP-style model (configs/synthetic-tiny-model.json)"
  "$CTCIR" init --config configs/synthetic-tiny-model.json --vocab "$OUT/vocab" --seed "$SEED" --out "$OUT/init" --force >/dev/null
  finish init
fi
t2=$(t)
if done_before train; then
  log "4/6 training is done ($OUT/train/last)"
else
  AGAIN=()
  if [ -e "$OUT/train/last" ] || ls -d "$OUT"/train/checkpoint-* >/dev/null 2>&1; then
    AGAIN=(--resume "$OUT/train")   # interrupted before: continue from its last checkpoint
    log "4/6 resuming the interrupted training in $OUT/train"
  else
    [ -d "$OUT/train" ] && AGAIN=(--force)   # stopped before its first checkpoint: start again
    log "4/6 training ConText-CIR from scratch (configs/synthetic-tiny.json)"
  fi
  "$CTCIR" train --config configs/synthetic-tiny.json --init "$OUT/init" --data "$OUT/data/train.jsonl" \
    --image-root "$OUT/data" --seed "$SEED" --out "$OUT/train" "${EXTRA[@]}" "${THREADS_ARG[@]}" "${AGAIN[@]}" \
    2>> "$OUT/train.log" &
  pid=$!
  trap 'kill -INT $pid 2>/dev/null' INT
  while kill -0 $pid 2>/dev/null; do
    sleep 5 || true   # Ctrl-C reaches sleep too
    tail -n 1 "$OUT/train.log" | grep '^step' >&2 || true
  done
  rc=0
  wait $pid || rc=$?
  # a Ctrl-C ends `wait` at once; the trainer is still saving its checkpoint: wait for it
  while kill -0 $pid 2>/dev/null; do wait $pid || rc=$?; done
  trap - INT
  if [ $rc -ne 0 ]; then
    log "training stopped (exit $rc; see $OUT/train.log); run this script again to resume it"
    exit $rc
  fi
  finish train
fi
t3=$(t)
log "5/6 indexing the test gallery and evaluating"
"$CTCIR" index --model "$OUT/train/last" --list "$OUT/data/test_gallery.txt" --out "$OUT/test.index" "${THREADS_ARG[@]}" 2>/dev/null
"$CTCIR" eval --model "$OUT/train/last" --dataset manifest --root "$OUT/data" --split test --index "$OUT/test.index" \
  --predictions-out "$OUT/test_predictions.json" --json "${THREADS_ARG[@]}" > "$OUT/test_metrics.json" 2>/dev/null
t4=$(t)
log "6/6 pictures: attention maps per noun phrase and results grids for 3 test queries"
mkdir -p "$OUT/pictures"
for i in 1 2 3; do
  line=$(sed -n "${i}p" "$OUT/data/test.jsonl")
  ref=$(echo "$line" | sed 's/.*"reference":"\([^"]*\)".*/\1/')
  cap=$(echo "$line" | sed 's/.*"caption":"\([^"]*\)".*/\1/')
  tgt=$(echo "$line" | sed 's/.*"target":"\([^"]*\)\.[a-z]*".*/\1/')
  "$CTCIR" explain --model "$OUT/train/last" --image "$OUT/data/$ref" --text "$cap" --out "$OUT/pictures/explain-$i.png" >/dev/null 2>&1
  "$CTCIR" query --model "$OUT/train/last" --index "$OUT/test.index" --image "$OUT/data/$ref" --text "$cap" -k 5 \
    --grid "$OUT/pictures/results-$i.png" --images "$OUT/data" --target "$tgt" >/dev/null 2>&1
done
t5=$(t)

metrics=$(sed 's/.*"metrics":{\([^}]*\)}.*/\1/' "$OUT/test_metrics.json")
r() { echo "$metrics" | tr ',' '\n' | sed -n "s/\"recall@$1\":\(.*\)/\1/p"; }
cat <<REPORT

ConText-CIR on the synthetic benchmark (test split: $(wc -l < "$OUT/data/test.jsonl") queries, $(wc -l < "$OUT/data/test_gallery.txt")-image gallery, each query's own reference excluded)
  Recall@1  $(r 1)
  Recall@5  $(r 5)
  Recall@10 $(r 10)
  Recall@50 $(r 50)
time: generate $(secs "$t0" "$t1") s, vocabulary + init $(secs "$t1" "$t2") s, train $(secs "$t2" "$t3") s, index + eval $(secs "$t3" "$t4") s, pictures $(secs "$t4" "$t5") s
model:       $OUT/train/last   (metrics log: $OUT/train/metrics.jsonl; plot: python3 scripts/plot_training.py $OUT/train)
metrics:     $OUT/test_metrics.json
pictures:    $(ls "$OUT"/pictures/*.png | tr '\n' ' ')
REPORT
