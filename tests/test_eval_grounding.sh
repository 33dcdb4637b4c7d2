#!/usr/bin/env bash
# ctest: slow (left out of the sanitizer pass)
# ctcir eval --grounding on a hard synth split with an untrained tiny model: the pointing
# accuracy per phrase type must equal the one recomputed here from `ctcir explain`'s peak
# patches and the records' phrase cells, the chance levels the share of the grid the cells
# cover, the masses lie in [0, 100]; bad uses are clear errors.
set -u
CTCIR=${CTCIR:-build/ctcir}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }

"$CTCIR" synth-shapes --variant hard --out "$T/d" --size 48 --train 64 --val 0 --test 6 --seed 4 -q >/dev/null || bad "synth-shapes"
"$CTCIR" synth-shapes --out "$T/plain" --size 48 --train 0 --val 0 --test 3 --seed 4 -q >/dev/null || bad "synth-shapes default"
sed -n 's/.*"caption":"\([^"]*\)".*/\1/p' "$T/d/train.jsonl" "$T/d/test.jsonl" > "$T/captions.txt"
"$CTCIR" bpe-train --input "$T/captions.txt" --vocab-size 600 --out "$T/vocab" >/dev/null 2>&1 || bad "bpe-train"
"$CTCIR" init --config configs/synthetic-tiny-model.json --vocab "$T/vocab" --out "$T/m" --seed 2 >/dev/null 2>&1 || bad "init"

"$CTCIR" eval --model "$T/m" --dataset manifest --root "$T/d" --split test --grounding --json -t 1 > "$T/eval.json" 2> "$T/eval.err" \
  && ok || { bad "eval --grounding"; cat "$T/eval.err" >&2; }
# without --json the grounding table joins the results on stdout
"$CTCIR" eval --model "$T/m" --dataset manifest --root "$T/d" --split test --grounding -t 1 > "$T/eval.txt" 2>/dev/null
grep -q 'pointing' "$T/eval.txt" && ok || bad "no grounding table on stdout"
# one explain per record, its phrases given explicitly
i=0
while IFS= read -r line; do
  i=$((i+1))
  args=$(python3 -c 'import json,sys,shlex; r=json.loads(sys.argv[1]); print(" ".join("--phrase " + shlex.quote(p) for p in r["noun_phrases"]))' "$line")
  ref=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["reference"])' "$line")
  cap=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["caption"])' "$line")
  eval "\"$CTCIR\" explain --model \"$T/m\" --image \"$T/d/$ref\" --text \"\$cap\" $args --out \"$T/x$i.png\" -t 1" > "$T/x$i.json" 2>/dev/null \
    || bad "explain record $i"
done < "$T/d/test.jsonl"
python3 - "$T" <<'PY' && ok || bad "grounding metrics differ from the recomputation"
import json, sys
T = sys.argv[1]
m = json.load(open(f"{T}/eval.json"))["metrics"]
hits, chance, n = {}, {}, {}
for i, line in enumerate(open(f"{T}/d/test.jsonl"), 1):
    r = json.loads(line)
    x = json.load(open(f"{T}/x{i}.json"))
    assert x["grid"] == 3
    peaks = {p["phrase"]: p["peak_patch"] for p in x["phrases"]}
    for p, cells, t in zip(r["noun_phrases"], r["phrase_cells"], r["phrase_types"]):
        if not cells:
            continue
        row, col = peaks[p]
        for key in (t, "all"):
            n[key] = n.get(key, 0) + 1
            hits[key] = hits.get(key, 0) + (row * 3 + col in cells)
            chance[key] = chance.get(key, 0) + len(cells) / 9
bad = 0
for key in n:
    pre = "" if key == "all" else key + "/"
    want_p, want_c = 100 * hits[key] / n[key], 100 * chance[key] / n[key]
    got_p, got_c = m[f"grounding/{pre}pointing"], m[f"grounding/chance/{pre}pointing"]
    mass = m[f"grounding/{pre}mass"]
    if abs(got_p - want_p) > 1e-6 or abs(got_c - want_c) > 1e-6 or not 0 <= mass <= 100 or m[f"grounding/{pre}phrases"] != n[key]:
        print(f"{key}: pointing {got_p} vs {want_p}, chance {got_c} vs {want_c}, mass {mass}", file=sys.stderr)
        bad += 1
assert n.get("all", 0) > 10, n
sys.exit(1 if bad else 0)
PY
# --grounding-isolated on the first 2 records: isolated pointing equals the peaks of explain
# run with each phrase alone as the text; mean |a_ctx - a_iso| >= |mean a_ctx - mean a_iso|
"$CTCIR" eval --model "$T/m" --dataset manifest --root "$T/d" --split test --grounding-isolated --grounding-queries 2 \
  --json -t 1 > "$T/iso.json" 2> "$T/iso.err" && ok || { bad "eval --grounding-isolated"; cat "$T/iso.err" >&2; }
head -2 "$T/d/test.jsonl" > "$T/two.jsonl"
python3 - "$T" "$CTCIR" <<'PY' && ok || bad "isolated grounding differs from the recomputation"
import json, subprocess, sys
T, ctcir = sys.argv[1], sys.argv[2]
m = json.load(open(f"{T}/iso.json"))["metrics"]
hits = n = 0
for line in open(f"{T}/two.jsonl"):
    r = json.loads(line)
    for p, cells in zip(r["noun_phrases"], r["phrase_cells"]):
        if not cells:
            continue
        out = subprocess.run([ctcir, "explain", "--model", f"{T}/m", "--image", f"{T}/d/" + r["reference"], "--text", p,
                              "--phrase", p, "--out", f"{T}/iso.png", "-t", "1"], capture_output=True, text=True, check=True)
        row, col = json.loads(out.stdout)["phrases"][0]["peak_patch"]
        hits += row * 3 + col in cells
        n += 1
assert m["grounding/phrases"] == n, (m["grounding/phrases"], n)
assert abs(m["grounding/isolated/pointing"] - 100 * hits / n) < 1e-6, (m["grounding/isolated/pointing"], hits, n)
c, i, d = m["grounding/cc/ctx_level"], m["grounding/cc/iso_level"], m["grounding/cc/abs"]
assert 0 < c < 1 and 0 < i < 1 and d >= abs(c - i) - 1e-9 and 0 <= m["grounding/cc/abs_patches"] <= 2 / 9 + 1e-9, m
PY
# errors: a split without phrase cells (exit 1, names the file), a non-manifest dataset (usage)
"$CTCIR" eval --model "$T/m" --dataset manifest --root "$T/plain" --split test --grounding -t 1 > /dev/null 2> "$T/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'test.jsonl:1.*phrase_cells' "$T/err" && ok || { bad "default split: rc $rc"; cat "$T/err" >&2; }
"$CTCIR" eval --model "$T/m" --dataset cirr --root "$T/d" --split test --grounding > /dev/null 2>&1
[ $? -eq 2 ] && ok || bad "--grounding with cirr is not a usage error"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
