#!/usr/bin/env bash
# ctcir train keeps runs safe (docs/formats.md section 1; review defects D1-D5, D10-D13, D16,
# D17): resume survives pruning, a used --out is refused, one trainer per --out, only this
# run's checkpoints are pruned, stale temporaries go, the saved config is the resume default,
# non-finite weights are never saved, bad settings are usage errors, an unusable caption is
# skipped, a failure saves a checkpoint, hostile trainer_state numbers are refused, and
# checkpoints are Hugging Face folders (names, JSON, preprocessor_config.json honoured).
set -u
. "$(dirname "$0")/train_harness.sh"
field() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1"; }
ckpts() { (cd "$1" && ls -d checkpoint-* 2>/dev/null | sort -t- -k2 -n | tr '\n' ' '); }

"$CTCIR" synth-shapes --out "$T/data" --train 48 --val 8 --test 8 --seed 5 -q >/dev/null 2>&1 || bad "synth-shapes"
D=(--init "$INIT" --data "$T/data/train.jsonl" --image-root "$T/data")
B=(--init "$INIT" --image-root "$T/data" --batch-size 4 --lr 1e-3 --lr-min 1e-4 --warmup 1 --set fusion_layers=1
   --set fusion_heads=4 -t 1)
C=("${B[@]}" --data "$T/data/train.jsonl")

# D1: resume, then write keep + 1 checkpoints: the folder resumed from is pruned on the way
"$CTCIR" train "${C[@]}" --set checkpoint_every=1 --set keep_checkpoints=2 --max-steps 2 --out "$T/r" 2>/dev/null
check test $? -eq 0
"$CTCIR" train "${C[@]}" --set checkpoint_every=1 --set keep_checkpoints=2 --max-steps 6 --out "$T/r" --resume "$T/r" 2>"$T/r.log"
rc=$?; check test $rc -eq 0
[ $rc -eq 0 ] || tail -2 "$T/r.log" >&2
check test "$(ckpts "$T/r")" = "checkpoint-5 checkpoint-6 "
check test "$(readlink "$T/r/last")" = "checkpoint-6"
check test "$(wc -l < "$T/r/metrics.jsonl")" -eq 6

# D2: a fresh run into a used --out is refused (nothing touched); --force starts over
cp "$T/r/metrics.jsonl" "$T/metrics.before"
"$CTCIR" train "${C[@]}" --max-steps 2 --lr 5e-4 --out "$T/r" 2>"$T/used.log"; rc=$?
check test $rc -ne 0
grep -q "already holds a training run" "$T/used.log" && ok || bad "used --out message: $(cat "$T/used.log")"
check cmp "$T/metrics.before" "$T/r/metrics.jsonl"
check test "$(ckpts "$T/r")" = "checkpoint-5 checkpoint-6 "
"$CTCIR" train "${C[@]}" --max-steps 1 --out "$T/r" --force 2>/dev/null; check test $? -eq 0
check test "$(ckpts "$T/r")" = "checkpoint-1 "
check test "$(wc -l < "$T/r/metrics.jsonl")" -eq 1

# a start that failed before its first step leaves nothing that blocks the next one
printf '{"reference": "a.png", "target": \n' > "$T/broken.jsonl"
"$CTCIR" train "${B[@]}" --data "$T/broken.jsonl" --max-steps 1 --out "$T/fs" >/dev/null 2>&1; check test $? -eq 1
"$CTCIR" train "${C[@]}" --max-steps 1 --out "$T/fs" 2>/dev/null; check test $? -eq 0

# D2: one trainer per --out (a lock held by another process is refused, naming it)
"$CTCIR" train "${C[@]}" --max-steps 2 --out "$T/l" 2>/dev/null; check test $? -eq 0
( flock -n 9 || exit 1; touch "$T/locked"; sleep 3 ) 9>"$T/l/.lock" &
lockpid=$!
for _ in $(seq 1 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
"$CTCIR" train "${C[@]}" --max-steps 3 --out "$T/l" --resume "$T/l" 2>"$T/l.log"; rc=$?
wait $lockpid
check test $rc -ne 0
grep -q "in use by another trainer" "$T/l.log" && ok || bad "lock message: $(cat "$T/l.log")"
check test "$(wc -l < "$T/l/metrics.jsonl")" -eq 2

# D2: pruning leaves other runs' checkpoints alone; D10: stale temporaries of dead processes go
"$CTCIR" train "${C[@]}" --max-steps 1 --out "$T/other" 2>/dev/null; check test $? -eq 0
cp -r "$T/other/checkpoint-1" "$T/l/checkpoint-1"
dead=$(sh -c 'echo $$')
mkdir "$T/l/checkpoint-9.tmp-$dead" && echo x > "$T/l/checkpoint-9.tmp-$dead/model.safetensors"
ln -s checkpoint-2 "$T/l/.last.tmp-$dead"
"$CTCIR" train "${C[@]}" --set checkpoint_every=1 --set keep_checkpoints=1 --max-steps 4 --out "$T/l" --resume "$T/l" 2>/dev/null
check test $? -eq 0
check test "$(ckpts "$T/l")" = "checkpoint-1 checkpoint-4 "
check test ! -e "$T/l/checkpoint-9.tmp-$dead"
check test ! -L "$T/l/.last.tmp-$dead"

# D11: the saved config is the default on resume; a changed one is refused unless --override
printf '{"batch_size": 4, "lr": 0.002, "lr_min": 0.0002, "warmup": 1, "fusion_layers": 1, "fusion_heads": 4,\n "checkpoint_every": 1}\n' > "$T/cfg.json"
"$CTCIR" train --config "$T/cfg.json" "${D[@]}" --max-steps 2 -t 1 --out "$T/s" 2>/dev/null; check test $? -eq 0
"$CTCIR" train --max-steps 3 -t 1 --out "$T/s" --resume "$T/s" 2>"$T/s.log"; rc=$?   # no --config, --data, --init
check test $rc -eq 0
[ $rc -eq 0 ] || tail -2 "$T/s.log" >&2
grep -q '"lr": 0.002,' "$T/s/train_config.json" && ok || bad "resume without --config keeps the saved lr"
grep -q '"batch_size": 4,' "$T/s/train_config.json" && ok || bad "resume without --config keeps the saved batch size"
"$CTCIR" train --max-steps 4 --batch-size 2 --lr 0.5 -t 1 --out "$T/s" --resume "$T/s" 2>"$T/s2.log"; rc=$?
check test $rc -ne 0
grep -q "batch_size (saved 4, now 2)" "$T/s2.log" && grep -q "override" "$T/s2.log" && ok || bad "config change message: $(cat "$T/s2.log")"
check test "$(readlink "$T/s/last")" = "checkpoint-3"
"$CTCIR" train --max-steps 4 --batch-size 2 -t 1 --out "$T/s" --resume "$T/s" --override 2>"$T/s3.log"; rc=$?
check test $rc -eq 0
grep -q "warning: resume: --override" "$T/s3.log" && ok || bad "override warning"

# D3 + D12: settings that cannot train are usage errors, before anything is created
for bad_set in "--set beta1=1" "--set beta2=1" "--set beta2=2" "--set adam_eps=0" "--set lambda_cc=-1" "--set tau=1e-30" \
               "--set tau=1e30" "--set cc_eps=-1e30" "--lr 1e-3 --lr-min 1e-2" "--max-steps 0" "-t 1000000" \
               "--set fusion_layers=100000" "--set loader_threads=100000"; do
  # shellcheck disable=SC2086
  timeout 20 "$CTCIR" train "${D[@]}" --max-steps 2 $bad_set --out "$T/u" >/dev/null 2>"$T/u.log"; rc=$?
  [ $rc -eq 2 ] && ok || bad "$bad_set: exit $rc, expected 2 ($(tail -1 "$T/u.log"))"
  [ ! -e "$T/u" ] && ok || { bad "$bad_set created the out folder"; rm -rf "$T/u"; }
done

# no model to start from is a usage error that creates nothing
"$CTCIR" train --data "$T/data/train.jsonl" --image-root "$T/data" --out "$T/nomodel" >/dev/null 2>&1; check test $? -eq 2
check test ! -e "$T/nomodel"

# D3: a step that makes the weights non-finite is neither saved nor linked
"$CTCIR" train "${C[@]}" --max-steps 3 --warmup 0 --lr 1e39 --lr-min 1e39 --set checkpoint_every=1 --out "$T/nan" 2>"$T/nan.log"
check test $? -eq 1
grep -q "not finite" "$T/nan.log" && ok || bad "non-finite message: $(tail -1 "$T/nan.log")"
check test ! -e "$T/nan/last"
check test "$(ckpts "$T/nan")" = ""

# D4: an over-long caption without gold phrases is skipped with a warning
big=$(printf 'add the big red circle %.0s' $(seq 1 3500))
{ head -12 "$T/data/train.jsonl" | sed 's/,"noun_phrases":\[[^]]*\]//'
  sed -n 13p "$T/data/train.jsonl" | sed 's/,"noun_phrases":\[[^]]*\]//; s/"caption":"[^"]*"/"caption":"'"$big"'"/'
  sed -n '14,24p' "$T/data/train.jsonl"; } > "$T/long.jsonl"
grep -c "$big" "$T/long.jsonl" | grep -q '^1$' && ok || bad "long-caption fixture"
"$CTCIR" train "${B[@]}" --data "$T/long.jsonl" --no-shuffle --max-steps 6 --set checkpoint_every=0 --out "$T/lc" 2>"$T/lc.log"
rc=$?; check test $rc -eq 0
[ $rc -eq 0 ] || tail -2 "$T/lc.log" >&2
grep -q "record 12.*skipped" "$T/lc.log" && ok || bad "long caption warning: $(grep -i 'record 12' "$T/lc.log" | head -2)"

# D4: any failure after step 1 saves a checkpoint first (here: --strict meets an undecodable image)
head -c 300 /dev/urandom > "$T/data/none.png"
{ head -8 "$T/data/train.jsonl"; echo '{"reference": "none.png", "target": "none.png", "caption": "add a cat"}'
  sed -n '9,12p' "$T/data/train.jsonl"; } > "$T/strict.jsonl"
"$CTCIR" train "${B[@]}" --data "$T/strict.jsonl" --no-shuffle --strict --max-steps 5 --set checkpoint_every=0 \
  --out "$T/em" 2>"$T/em.log"; rc=$?
check test $rc -eq 1
grep -q "none.png" "$T/em.log" && ok || bad "strict error names the image"
check test "$(ckpts "$T/em")" = "checkpoint-2 "
check test "$(readlink "$T/em/last")" = "checkpoint-2"

# D13: hostile numbers in trainer_state.json are refused with the file named
for edit in 's/"step": 2,/"step": 1e300,/' 's/"step": 2,/"step": -5,/' 's/"step": 2,/"step": 2.5,/' \
            's/"pos": \[/"pos": [1e300, /' 's/"epoch": \[/"epoch": [-1, /'; do
  rm -rf "$T/h" && mkdir "$T/h" && cp -r "$T/em/checkpoint-2" "$T/h/checkpoint-2"
  sed -i "$edit" "$T/h/checkpoint-2/trainer_state.json"
  sed -i 's/"pos": \[1e300, \([0-9]*\),*/"pos": [1e300/; s/"epoch": \[-1, \([0-9]*\),*/"epoch": [-1/' "$T/h/checkpoint-2/trainer_state.json"
  timeout 20 "$CTCIR" train "${B[@]}" --data "$T/strict.jsonl" --max-steps 5 --out "$T/h" --resume "$T/h" --override \
    2>"$T/h.log"; rc=$?
  [ $rc -eq 1 ] && grep -q "trainer_state.json" "$T/h.log" && ok || bad "$edit: exit $rc: $(tail -1 "$T/h.log")"
done
"$CTCIR" train "${B[@]}" --data "$T/strict.jsonl" --max-steps 1 --out "$T/em" --resume "$T/em" 2>"$T/b.log"
rc=$?; check test $rc -ne 0
grep -q "beyond max_steps" "$T/b.log" && ok || bad "step beyond --max-steps: $(tail -1 "$T/b.log")"

# D16: SIGTERM that lands after the last step: exit 0, "done" (skipped if the run ends first)
"$CTCIR" train "${C[@]}" --max-steps 1 --out "$T/term" 2>"$T/term.log" &
pid=$!
for _ in $(seq 1 600); do [ -s "$T/term/metrics.jsonl" ] && break; sleep 0.02; done
if kill -TERM $pid 2>/dev/null; then
  wait $pid; rc=$?
  check test $rc -eq 0
  grep -q "^done: 1 steps" "$T/term.log" && ok || bad "done message after SIGTERM"
else
  wait $pid
fi

# D17: a config error while reading "data" frees what it read (LeakSanitizer in the ASan pass)
echo '{"data": [{"path": "'"$T"'/data/train.jsonl", "image_root": "'"$T"'/data", "weight": -1}]}' > "$T/w.json"
"$CTCIR" train --config "$T/w.json" --init "$INIT" --out "$T/w" 2>"$T/w.log"; rc=$?
[ $rc -eq 1 ] && grep -q "weight must be > 0" "$T/w.log" && ok || bad "data weight -1: exit $rc $(cat "$T/w.log")"

# D5: a head larger than the weights file is refused before it is allocated
cp -r "$T/r/checkpoint-1" "$T/big"
sed -i 's/"fusion_layers": 1,/"fusion_layers": 64,/' "$T/big/config.json"
timeout 20 "$CTCIR" encode --model "$T/big" --text "a red square" --out "$T/big.st" 2>"$T/big.log"; rc=$?
[ $rc -eq 1 ] && grep -q "head weights" "$T/big.log" && ok || bad "oversized head: exit $rc $(tail -1 "$T/big.log")"

# checkpoints are Hugging Face folders: checkpoint-<step>, 2-space JSON with a final newline,
# preprocessor_config.json, the ctcir version in trainer_state.json
ck=$T/r/checkpoint-1
for f in config.json trainer_state.json preprocessor_config.json; do
  check test -f "$ck/$f"
  [ "$(tail -c 1 "$ck/$f" | od -An -c | tr -d ' ')" = '\n' ] && ok || bad "$f ends with a newline"
  ! grep -q "$(printf '\t')" "$ck/$f" && grep -q '^  "' "$ck/$f" && ok || bad "$f is 2-space indented"
done
[ "$(tail -c 1 "$T/r/train_config.json" | od -An -c | tr -d ' ')" = '\n' ] && ok || bad "train_config.json newline"
grep -q '"ctcir_version": "[0-9]' "$ck/trainer_state.json" && grep -q '"ctcir_commit": "' "$ck/trainer_state.json" && ok \
  || bad "trainer_state.json records the version"
# the old zero-padded names still resume
mkdir "$T/old" && cp -r "$ck" "$T/old/checkpoint-00000001"
"$CTCIR" train "${C[@]}" --max-steps 2 --out "$T/old" --resume "$T/old" 2>"$T/old.log"; rc=$?
check test $rc -eq 0
grep -q "resume: .*checkpoint-00000001 at step 1" "$T/old.log" && ok || bad "old checkpoint name"

# preprocessor_config.json is honoured: another mean changes the embeddings, the same does not
ls "$T"/data/images/test/*.png | head -3 > "$T/gal.txt"
cp -r "$ck" "$T/p1" && cp -r "$ck" "$T/p2"
sed -i 's/0.48145466/0.2/' "$T/p2/preprocessor_config.json"
for p in p1 p2; do
  "$CTCIR" index --model "$T/$p" --list "$T/gal.txt" --out "$T/$p.index" -t 1 >/dev/null 2>&1 || bad "index $p"
done
"$CTCIR" index --model "$ck" --list "$T/gal.txt" --out "$T/p0.index" -t 1 >/dev/null 2>&1
check cmp "$T/p0.index" "$T/p1.index"
! cmp -s "$T/p1.index" "$T/p2.index" && ok || bad "a changed image_mean must change the embeddings"

# a model key in the config file applies over a ctcir --init folder, with a notice (like --set)
echo '{"lambda_cc": 0.3}' > "$T/lcc.json"
"$CTCIR" train --config "$T/lcc.json" --init "$ck" --data "$T/data/train.jsonl" --image-root "$T/data" --batch-size 4 \
  --max-steps 1 -t 1 --out "$T/prec" 2>"$T/prec.log"; check test $? -eq 0
grep -q '"lambda_cc": 0.3,' "$T/prec/train_config.json" && ok || bad "config-file lambda_cc over a ctcir init"
grep -q "lambda_cc=0.3.* replaces the folder's 0.08" "$T/prec.log" && ok || bad "precedence notice"

harness_end
