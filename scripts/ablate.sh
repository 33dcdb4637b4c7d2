#!/usr/bin/env bash
# Ablation over a named grid of model/loss settings, several seeds each, on the synthetic
# benchmark; writes a results table (Markdown + JSON) with mean and standard deviation per
# setting and a paired comparison of every setting against the grid's first one (the baseline).
#
#   scripts/ablate.sh [OUT_DIR]                           (default runs/ablate)
#
# Pairing: for each seed, the data (synth-shapes --seed S), the vocabulary and the initial
# weights (ctcir init --seed S) are made once and shared by every setting; training uses
# --seed S as well. Settings differ only in their --set overrides. The test is a paired
# t-test over seeds on the per-seed differences (setting - baseline) of each metric
# (two-sided, n-1 degrees of freedom), beside a paired bootstrap over all (seed, query)
# pairs of Recall@1 (scripts/ablate_summary.py documents both).
#
# env:
#   GRID      lambda | cc_abs | cc_normalize | cc_detach | target_mode | query_negatives |
#             full (the baseline plus every one-factor change of the grids above) | smoke
#             (default full)
#   SETTINGS  an explicit grid instead of GRID: "name:key=v,key=v;name2:key=v;..." (the
#             first is the baseline; "base:" with no keys is the recipe as it is)
#   SEEDS     (default "0 1 2 3 4")      STEPS  training steps (default: 800, the recipe's)
#   TEST      test queries (default 2000; gallery = TEST x (2 + NEGATIVES))
#   TRAIN     training triplets (default 10000)      NEGATIVES  hard negatives (default 3)
#   VARIANT   synth-shapes --variant: default | hard (default default)
#   SIZE      image side (default 48)    THREADS  threads per command (default: all cores)
#   CONFIG    training recipe (configs/synthetic-tiny.json)
#   MODEL_CONFIG  model (configs/synthetic-tiny-model.json)
#   GROUNDING 1: also eval --grounding (hard synth splits only); iso: --grounding-isolated
#   GROUNDING_QUERIES  score grounding on the first N test queries only (default: all)
#   JOBS      settings trained at the same time for one seed (default 1)
#   ONLY_FINISHED  1: train nothing; only summarise (and, with GROUNDING=1, add grounding to)
#             the runs already finished
#   COMMON    --set overrides for every setting, "key=v,key=v" (e.g. batch_size=16,micro_batch=16)
#
# Finished runs (metrics.json present) are skipped, so a killed ablation resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/ablate}
CTCIR=${CTCIR:-build/ctcir}
GRID=${GRID:-full}
SEEDS=${SEEDS:-0 1 2 3 4}
TEST=${TEST:-2000}
TRAIN=${TRAIN:-10000}
NEGATIVES=${NEGATIVES:-3}
VARIANT=${VARIANT:-default}
SIZE=${SIZE:-48}
CONFIG=${CONFIG:-configs/synthetic-tiny.json}
MODEL_CONFIG=${MODEL_CONFIG:-configs/synthetic-tiny-model.json}
GROUNDING=${GROUNDING:-0}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

die() { echo "ablate: $*" >&2; exit 2; }
log() { echo "== $(date +%H:%M:%S) $*" >&2; }

grid_settings() {
  local lam="lambda_cc_0:lambda_cc=0;lambda_cc_0.04:lambda_cc=0.04;lambda_cc_0.2:lambda_cc=0.2;lambda_cc_0.5:lambda_cc=0.5"
  local abs="cc_abs_off:cc_abs=false"
  local norm="cc_normalize_patches:cc_normalize=patches"
  local det="cc_detach_off:cc_detach_isolated=false"
  local tgt="target_clip:target_mode=clip"
  local qn="query_negatives_none:query_negatives=none"
  case "$1" in
    lambda) echo "base:;$lam" ;;
    cc_abs) echo "base:;$abs" ;;
    cc_normalize) echo "base:;$norm" ;;
    cc_detach) echo "base:;$det" ;;
    target_mode) echo "base:;$tgt" ;;
    query_negatives) echo "base:;$qn" ;;
    full) echo "base:;$lam;$abs;$norm;$det;$tgt;$qn" ;;
    smoke) echo "base:;lambda_cc_0:lambda_cc=0" ;;
    *) die "unknown GRID '$1' (lambda, cc_abs, cc_normalize, cc_detach, target_mode, query_negatives, full, smoke)" ;;
  esac
}
SPEC=${SETTINGS:-$(grid_settings "$GRID")}
IFS=';' read -r -a SET_LIST <<< "$SPEC"
[ "${#SET_LIST[@]}" -ge 1 ] || die "empty grid"
for s in "${SET_LIST[@]}"; do
  case "$s" in *:*) ;; *) die "setting '$s' is not name:key=v,..." ;; esac
  name=${s%%:*}
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "setting name '$name' (letters, digits, . _ -)"
done
for v in TEST TRAIN NEGATIVES SIZE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v='${!v}' is not a non-negative integer"
done
[ -z "${STEPS:-}" ] || [[ "$STEPS" =~ ^[1-9][0-9]*$ ]] || die "STEPS='$STEPS' is not a positive integer"
read -r -a SEED_LIST <<< "$SEEDS"
[ "${#SEED_LIST[@]}" -ge 1 ] || die "no SEEDS"
for s in "${SEED_LIST[@]}"; do [[ "$s" =~ ^[0-9]+$ ]] || die "seed '$s' is not a non-negative integer"; done
THREADS_ARG=()
[ -n "${THREADS:-}" ] && THREADS_ARG=(-t "$THREADS")
STEP_ARG=()
[ -n "${STEPS:-}" ] && STEP_ARG=(--max-steps "$STEPS" --set "cycle_steps=$STEPS")
GROUND_ARG=()
[ "$GROUNDING" = 1 ] && GROUND_ARG=(--grounding)
[ "$GROUNDING" = iso ] && GROUND_ARG=(--grounding-isolated)
[ -n "${GROUNDING_QUERIES:-}" ] && [ "$GROUNDING" != 0 ] && GROUND_ARG+=(--grounding-queries "$GROUNDING_QUERIES")

GRID_NAME=${SETTINGS:+custom}
GRID_NAME=${GRID_NAME:-$GRID}
mkdir -p "$OUT"
printf '%s\n' "$SPEC" > "$OUT/grid.txt"
cat > "$OUT/ablate.json" <<JSON
{"grid": "$GRID_NAME", "settings": "$SPEC", "seeds": "$SEEDS", "steps": "${STEPS:-recipe}", "test": $TEST, "train": $TRAIN,
 "negatives": $NEGATIVES, "variant": "$VARIANT", "size": $SIZE, "config": "$CONFIG", "model_config": "$MODEL_CONFIG",
 "common": "${COMMON:-}"}
JSON

# one setting for one seed: train, index, eval (writes $run/metrics.json)
run_one() {
  local seed=$1 setting=$2 d="$OUT/seed-$1"
  local name=${setting%%:*} keys=${setting#*:}
  local run="$OUT/runs/$name/seed-$seed"
  if [ -s "$run/metrics.json" ]; then
    # finished; with GROUNDING set, a run evaluated without it gets the grounding keys added
    if [ "$GROUNDING" != 0 ] && ! grep -q '"grounding/pointing"' "$run/metrics.json"; then
      "$CTCIR" eval --model "$run/train/last" --dataset manifest --root "$d/data" --split test --json "${GROUND_ARG[@]}" \
        "${THREADS_ARG[@]}" > "$run/metrics.tmp" 2> "$run/eval.log" \
        || { echo "ablate: eval --grounding $name seed $seed failed (see $run/eval.log)" >&2; return 1; }
      mv "$run/metrics.tmp" "$run/metrics.json"
      log "grounding added: $name seed $seed"
    fi
    return 0
  fi
  [ "${ONLY_FINISHED:-0}" = 1 ] && return 0
  rm -rf "$run/train"
  mkdir -p "$run"
  local sets=() all="${COMMON:-}${COMMON:+,}$keys"
  all=${all%,}
  if [ -n "$all" ]; then
    IFS=',' read -r -a kv <<< "$all"
    for x in "${kv[@]}"; do sets+=(--set "$x"); done
  fi
  "$CTCIR" train --config "$CONFIG" --init "$d/init" --data "$d/data/train.jsonl" --image-root "$d/data" \
    --seed "$seed" --out "$run/train" "${STEP_ARG[@]}" "${sets[@]}" "${THREADS_ARG[@]}" 2> "$run/train.log" \
    || { echo "ablate: training $name seed $seed failed (see $run/train.log)" >&2; return 1; }
  "$CTCIR" index --model "$run/train/last" --list "$d/data/test_gallery.txt" --out "$run/test.index" \
    "${THREADS_ARG[@]}" 2> "$run/index.log" || { echo "ablate: index $name seed $seed failed" >&2; return 1; }
  "$CTCIR" eval --model "$run/train/last" --dataset manifest --root "$d/data" --split test --index "$run/test.index" \
    --predictions-out "$run/predictions.json" --json "${GROUND_ARG[@]}" "${THREADS_ARG[@]}" > "$run/metrics.tmp" 2> "$run/eval.log" \
    || { echo "ablate: eval $name seed $seed failed (see $run/eval.log)" >&2; return 1; }
  cp "$run/train/metrics.jsonl" "$run/train_metrics.jsonl"
  rm -rf "$run/test.index" "$run/train"/step-* 2>/dev/null || true
  mv "$run/metrics.tmp" "$run/metrics.json"
  log "done $name seed $seed"
}

for seed in "${SEED_LIST[@]}"; do
  d="$OUT/seed-$seed"
  if [ "${ONLY_FINISHED:-0}" = 1 ] && [ ! -s "$d/init/config.json" ]; then continue; fi
  if [ ! -s "$d/init/config.json" ]; then
    log "seed $seed: data ($VARIANT, $TRAIN train / $TEST test), vocabulary, initial weights"
    rm -rf "$d"
    mkdir -p "$d"
    "$CTCIR" synth-shapes --out "$d/data" --variant "$VARIANT" --size "$SIZE" --train "$TRAIN" --val 0 \
      --test "$TEST" --negatives "$NEGATIVES" --seed "$seed" -q "${THREADS_ARG[@]}" > /dev/null
    sed -n 's/.*"caption":"\([^"]*\)".*/\1/p' "$d/data/train.jsonl" > "$d/captions.txt"
    "$CTCIR" bpe-train --input "$d/captions.txt" --vocab-size 2048 --out "$d/vocab" > /dev/null
    "$CTCIR" init --config "$MODEL_CONFIG" --vocab "$d/vocab" --seed "$seed" --out "$d/init" > /dev/null
  fi
  pids=()
  for setting in "${SET_LIST[@]}"; do
    log "seed $seed: ${setting%%:*}"
    run_one "$seed" "$setting" &
    pids+=($!)
    if [ "${#pids[@]}" -ge "${JOBS:-1}" ]; then wait "${pids[0]}" || exit 1; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p" || exit 1; done
done

python3 scripts/ablate_summary.py "$OUT"
