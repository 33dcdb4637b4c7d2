#!/usr/bin/env bash
# ctest: slow
# scripts/run-default.sh can be run again after Ctrl-C: the training resumes from its last
# checkpoint, finished steps are skipped, and the run ends as an uninterrupted one would.
set -u
. "$(dirname "$0")/train_harness.sh"
export CTCIR TRAIN_TRIPLETS=64 STEPS=12 THREADS=1
OUT=$T/rd
set -m   # the script runs in its own process group, so Ctrl-C can be sent to the group
scripts/run-default.sh "$OUT" >"$T/1.out" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do [ -s "$OUT/train/metrics.jsonl" ] && break; sleep 0.1; done
kill -INT -- -$pid
wait $pid; rc=$?
set +m
check test $rc -eq 130
check test -L "$OUT/train/last"
check test ! -e "$OUT/.done-train"
stopped=$(wc -l < "$OUT/train/metrics.jsonl")
[ "$stopped" -lt 12 ] && ok || bad "Ctrl-C came too late ($stopped steps)"
# again: data, vocabulary and init are skipped, training resumes, the pipeline finishes
scripts/run-default.sh "$OUT" >"$T/2.out" 2>&1; rc=$?
check test $rc -eq 0
[ $rc -eq 0 ] || tail -5 "$T/2.out" >&2
grep -q "resuming the interrupted training" "$T/2.out" && ok || bad "resume message"
grep -q "benchmark in .* is there" "$T/2.out" && ok || bad "data step skipped"
check test "$(sed -n 's/^{"step": \([0-9]*\),.*/\1/p' "$OUT/train/metrics.jsonl" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 "
check test "$(readlink "$OUT/train/last")" = "checkpoint-12"
grep -q "Recall@1 " "$T/2.out" && ok || bad "report"
# once more: everything is skipped but index/eval/pictures, and it still succeeds
scripts/run-default.sh "$OUT" >"$T/3.out" 2>&1; check test $? -eq 0
grep -q "training is done" "$T/3.out" && ok || bad "training skipped"
check test "$(wc -l < "$OUT/train/metrics.jsonl")" -eq 12
harness_end
