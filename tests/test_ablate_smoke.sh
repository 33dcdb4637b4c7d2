#!/usr/bin/env bash
# ctest: slow (left out of the sanitizer pass)
# scripts/ablate.sh end to end at toy size: 2 settings x 2 seeds x 3 steps on a tiny hard
# split; the results table has every setting with its seeds, mean and standard deviation
# agreeing with the per-run metrics, and a paired comparison against the baseline.
set -u
export CTCIR=${CTCIR:-build/ctcir}
case "$CTCIR" in /*) ;; *) CTCIR=$PWD/$CTCIR ;; esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }

SETTINGS="base:;nocc:lambda_cc=0" SEEDS="3 4" STEPS=3 TEST=12 TRAIN=48 VARIANT=hard THREADS=1 GROUNDING=1 \
  COMMON="batch_size=8,micro_batch=8,warmup=1" bash scripts/ablate.sh "$T/a" > "$T/out" 2> "$T/err" \
  && ok || { bad "ablate.sh"; tail -20 "$T/err" >&2; }
test -s "$T/a/results.md" && test -s "$T/a/results.json" && ok || bad "no results files"
grep -q '^| nocc ' "$T/a/results.md" && ok || bad "no row for the second setting"
python3 - "$T/a" <<'PY' && ok || bad "results.json"
import json, math, sys
d = sys.argv[1]
r = json.load(open(f"{d}/results.json"))
assert r["baseline"] == "base" and [s["name"] for s in r["settings"]] == ["base", "nocc"]
runs = {}
for s in r["settings"]:
    assert s["seeds"] == [3, 4], s["seeds"]
    vals = [json.load(open(f"{d}/runs/{s['name']}/seed-{k}/metrics.json"))["metrics"]["recall@1"] for k in (3, 4)]
    runs[s["name"]] = vals
    m = s["metrics"]["recall@1"]
    assert abs(m["mean"] - sum(vals) / 2) < 1e-9
    assert abs(m["sd"] - abs(vals[0] - vals[1]) / math.sqrt(2)) < 1e-9
    assert "grounding/pointing" in s["metrics"], s["metrics"].keys()
    # the bootstrap's per-query hits reproduce eval's Recall@1
    assert all(abs(a - b) < 1e-9 for a, b in zip(s["recall@1_from_predictions"], vals)), (s["recall@1_from_predictions"], vals)
v = r["settings"][1]["vs_baseline"]["recall@1"]
diffs = [a - b for a, b in zip(runs["nocc"], runs["base"])]
assert v["n"] == 2 and abs(v["mean_diff"] - sum(diffs) / 2) < 1e-9
assert "p" in v and 0 <= v["p"] <= 1
b = r["settings"][1]["vs_baseline"]["bootstrap_recall@1"]
assert b["pairs"] == 24 and b["ci95"][0] <= b["diff"] <= b["ci95"][1]
PY
# the baseline's CC term is logged; the lambda_cc=0 run's data and initial weights are shared
grep -q '"loss_cc"' "$T/a/runs/base/seed-3/train_metrics.jsonl" && ok || bad "no loss_cc log"
[ "$(ls "$T/a" | grep -c '^seed-')" -eq 2 ] && ok || bad "data folders per seed"
# a bad grid is a usage error
GRID=nonsense bash scripts/ablate.sh "$T/b" > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown GRID accepted"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
