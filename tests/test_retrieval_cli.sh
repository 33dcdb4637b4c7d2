#!/usr/bin/env bash
# ctcir index / query / eval end to end with the parity kit's tiny-vit-b (a plain CLIP folder:
# the head is seeded) on synthetic images: resume after Ctrl-C, shards + merge, identity
# check, eval with and without an index, a CIRR-format folder with server files.
set -u
CTCIR=${CTCIR:-build/ctcir}
SHARED=${CTCIR_SHARED:-../shared}
M=$SHARED/parity/models/tiny-vit-b
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
check() { if "$@"; then ok; else bad "$*"; fi; }

"$CTCIR" synth-shapes --out "$T/d" --train 8 --val 8 --test 200 --seed 5 -q >/dev/null 2>&1 || bad "synth-shapes"
G=$(wc -l < "$T/d/test_gallery.txt")

# 1. index, interrupted with Ctrl-C, then resumed
"$CTCIR" index --model "$M" --list "$T/d/test_gallery.txt" --out "$T/ix.st" --batch 4 -t 1 2>"$T/ix1.log" &
pid=$!
for _ in $(seq 1 300); do grep -q "^index: " "$T/ix1.log" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 130 ]; then
  ok
  "$CTCIR" inspect "$T/ix.st" | grep -q "complete = 0" && ok || bad "partial index marked incomplete"
  "$CTCIR" query --model "$M" --index "$T/ix.st" --image "$T/d/$(head -1 "$T/d/test_gallery.txt")" --text x >/dev/null 2>&1
  check test $? -eq 1   # a partial index is not searchable
else
  echo "note: index finished before the interrupt (rc $rc)" >&2; ok; ok; ok
fi
"$CTCIR" index --model "$M" --list "$T/d/test_gallery.txt" --out "$T/ix.st" --batch 4 -t 1 2>"$T/ix2.log"; check test $? -eq 0
[ $rc -ne 130 ] || grep -q "resuming" "$T/ix2.log" && ok || bad "resume message"
"$CTCIR" inspect "$T/ix.st" | grep -q "complete = 1" && ok || bad "complete index"
"$CTCIR" inspect "$T/ix.st" | grep -q "^embeddings .*\[$G, 32\]" && ok || bad "embeddings shape"

# 2. shards + merge give the same retrieval
"$CTCIR" index --model "$M" --list "$T/d/test_gallery.txt" --out "$T/s0.st" --shard 0/2 -t 1 2>/dev/null; check test $? -eq 0
"$CTCIR" index --model "$M" --list "$T/d/test_gallery.txt" --out "$T/s1.st" --shard 1/2 --dtype f16 -t 1 2>/dev/null
check test $? -eq 0
"$CTCIR" index merge "$T/s1.st" "$T/s0.st" --out "$T/m.st" 2>/dev/null; check test $? -eq 1   # mixed dtypes refused
"$CTCIR" index --model "$M" --list "$T/d/test_gallery.txt" --out "$T/s1b.st" --shard 1/2 -t 1 2>/dev/null
"$CTCIR" index merge "$T/s1b.st" "$T/s0.st" --out "$T/m.st" 2>/dev/null; check test $? -eq 0
"$CTCIR" index merge "$T/s0.st" --out "$T/m2.st" >/dev/null 2>&1; check test $? -eq 1      # a shard missing

# 3. query: top-k names with scores, JSON, grid; identity mismatch refused
REF=$(sed -n '1s/.*"reference":"\([^"]*\)".*/\1/p' "$T/d/test.jsonl")
CAP=$(sed -n '1s/.*"caption":"\([^"]*\)".*/\1/p' "$T/d/test.jsonl")
"$CTCIR" query --model "$M" --index "$T/ix.st" --image "$T/d/$REF" --text "$CAP" -k 7 -t 1 >"$T/q.txt" 2>/dev/null
check test $? -eq 0
check test "$(wc -l < "$T/q.txt")" -eq 7
"$CTCIR" query --model "$M" --index "$T/m.st" --image "$T/d/$REF" --text "$CAP" -k 7 -t 1 >"$T/qm.txt" 2>/dev/null
check test "$(cut -f2 "$T/q.txt")" = "$(cut -f2 "$T/qm.txt")"
"$CTCIR" query --model "$M" --index "$T/ix.st" --image "$T/d/$REF" --text "$CAP" -k 3 --json -t 1 2>/dev/null \
  | grep -q '^{"results": \[{"rank": 1, "name": "' && ok || bad "query --json"
"$CTCIR" query --model "$M" --index "$T/ix.st" --image "$T/d/$REF" --text "$CAP" -k 3 --grid "$T/g.png" --images "$T/d" -t 1 >/dev/null 2>&1
check test -s "$T/g.png"
"$CTCIR" train --init "$M" --data "$T/d/train.jsonl" --image-root "$T/d" --batch-size 4 --max-steps 1 -t 1 --out "$T/other" >/dev/null 2>&1
"$CTCIR" query --model "$T/other/last" --index "$T/ix.st" --image "$T/d/$REF" --text "$CAP" 2>"$T/mm.log" >/dev/null
check test $? -eq 1
grep -q "model" "$T/mm.log" && ok || bad "identity mismatch message"
"$CTCIR" query --model "$M" --index "$T/ix.st" --image "$T/nope.png" --text x >/dev/null 2>&1; check test $? -eq 1
"$CTCIR" query --model "$M" --index "$T/ix.st" >/dev/null 2>&1; check test $? -eq 2

# 4. eval on the manifest split: the same numbers with and without the index
"$CTCIR" eval --model "$M" --dataset manifest --root "$T/d" --split test --json -t 1 >"$T/e1.json" 2>/dev/null; check test $? -eq 0
"$CTCIR" eval --model "$M" --dataset manifest --root "$T/d" --split test --index "$T/ix.st" --json -t 1 >"$T/e2.json" 2>/dev/null
check test $? -eq 0
m1=$(sed 's/.*"metrics":\({[^}]*}\).*/\1/' "$T/e1.json"); m2=$(sed 's/.*"metrics":\({[^}]*}\).*/\1/' "$T/e2.json")
check test "$m1" = "$m2"
for k in recall@1 recall@5 recall@10 recall@50; do grep -q "\"$k\":" "$T/e1.json" && ok || bad "manifest key $k"; done

# 5. a CIRR-format folder made from the synthetic test split
bash scripts/synth-to-cirr.sh "$T/d" test "$T/c" val 40 2>/dev/null || bad "synth-to-cirr"
"$CTCIR" eval --model "$M" --dataset cirr --root "$T/c" --split val --json --predictions-out "$T/pred.json" \
  --submission-out "$T/sub" -t 1 >"$T/cirr.json" 2>"$T/cirr.log"
check test $? -eq 0 || tail -3 "$T/cirr.log" >&2
for k in recall@1 recall@5 recall@10 recall@50 recall_subset@1 recall_subset@2 recall_subset@3; do
  grep -q "\"$k\":" "$T/cirr.json" && ok || bad "cirr key $k"
done
grep -q '"avg":' "$T/cirr.json" && ok || bad "cirr avg"
grep -q '"1000": \["' "$T/pred.json" && ok || bad "predictions keyed by pairid"
grep -q '"metric": "recall"' "$T/sub/val_recall.json" && ok || bad "recall server file"
grep -q '"metric": "recall_subset"' "$T/sub/val_recall_subset.json" && ok || bad "recall_subset server file"
grep -q '"version": "rc2"' "$T/sub/val_recall.json" && ok || bad "version rc2"
# the reference never appears in its own predictions
ref0=$(sed -n 's/.*"pairid": 1000, "reference": "\([^"]*\)".*/\1/p' "$T/c/captions/cap.rc2.val.json")
sed -n 's/.*"1000": \[\([^]]*\)\].*/\1/p' "$T/pred.json" | grep -q "\"$ref0\"" && bad "reference in predictions" || ok

# 5b. a gallery name that is not UTF-8 still gives valid JSON (U+FFFD in its place)
mkdir -p "$T/u"
cp "$T/d/$REF" "$T/u/$(printf 'bad\377name').png"
"$CTCIR" index --model "$M" --images "$T/u" --out "$T/u.st" -t 1 >/dev/null 2>&1; check test $? -eq 0
"$CTCIR" query --model "$M" --index "$T/u.st" --image "$T/d/$REF" --text "$CAP" -k 1 --json -t 1 2>/dev/null \
  | grep -q '"name": "bad\\ufffdname"' && ok || bad "invalid UTF-8 name escaped as U+FFFD"

# 6. bad input
"$CTCIR" eval --model "$M" --dataset nosuch --root "$T/c" --split val >/dev/null 2>&1; check test $? -eq 2
"$CTCIR" eval --model "$M" --dataset cirr --root "$T/nope" --split val >/dev/null 2>&1; check test $? -eq 1
"$CTCIR" index --model "$M" --images "$T/d/images/test" --list x --out "$T/z.st" >/dev/null 2>&1; check test $? -eq 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
