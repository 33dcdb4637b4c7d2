#!/usr/bin/env bash
# Hostile files through the real binary (issue 10): FIFOs refused at once, a safetensors
# header that is not UTF-8, galleries with symlink loops / non-images / line breaks in
# names, evals with no usable query or an empty gallery, one FashionIQ predictions file.
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

"$CTCIR" synth-shapes --out "$T/d" --train 4 --val 4 --test 12 --seed 3 -q >/dev/null 2>&1 || bad "synth-shapes"
IMG=$(ls "$T"/d/images/test/*.png | head -1)

# D14: a FIFO is refused at once (before: open() waited for a writer forever).
mkfifo "$T/fifo"
timeout 20 "$CTCIR" inspect "$T/fifo" >/dev/null 2>"$T/f1.log"; rc=$?
check test $rc -eq 1
grep -q "not a regular file" "$T/f1.log" && ok || bad "inspect FIFO message"
timeout 20 "$CTCIR" index --model "$M" --list "$T/fifo" --out "$T/f.index" -t 1 >/dev/null 2>"$T/f2.log"; rc=$?
check test $rc -eq 1
timeout 20 "$CTCIR" query --model "$M" --index "$T/fifo" --image "$IMG" --text x -t 1 >/dev/null 2>&1; rc=$?
check test $rc -eq 1
# "-" still reads the list from standard input.
printf '%s\n' "$IMG" | "$CTCIR" index --model "$M" --list - --out "$T/stdin.index" -t 1 >/dev/null 2>&1
check test $? -eq 0

# D15: a tensor name that is not UTF-8 is refused (inspect --json printed invalid JSON).
H='{"\xff\xfe":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
n=$(printf "$H" | wc -c)
{ printf "\\x$(printf %02x $n)\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; printf "$H"; printf '\x00\x00\x80\x3f'; } > "$T/bad.safetensors"
"$CTCIR" inspect "$T/bad.safetensors" --json >/dev/null 2>"$T/u.log"; check test $? -eq 1
grep -q "UTF-8" "$T/u.log" && ok || bad "non-UTF-8 header message"

# D15: JSON on stdout stays valid JSON whatever bytes the input holds.
"$CTCIR" nps --text "$(printf 'the red \xff cube')" > "$T/nps.json" 2>/dev/null; check test $? -eq 0
python3 -c 'import json,sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$T/nps.json" 2>/dev/null && ok || bad "nps output is not valid JSON"

# D9: a symlink loop, a non-image with an image extension, a name with a line break.
mkdir -p "$T/g/sub"
cp "$T"/d/images/test/test-00000{0,1}-ref.png "$T/g/"
cp "$T/d/images/test/test-000002-ref.png" "$T/g/sub/"
ln -s .. "$T/g/sub/loop"
echo "not an image" > "$T/g/notimage.png"
cp "$T/d/images/test/test-000003-ref.png" "$T/g/two
lines.png"
"$CTCIR" index --model "$M" --images "$T/g" --out "$T/g.index" -t 1 >/dev/null 2>"$T/g.log"; check test $? -eq 0
"$CTCIR" inspect "$T/g.index" | grep -q '^embeddings .*\[3, ' && ok || bad "symlink loop: 3 rows expected"
grep -q "notimage.png is not an image" "$T/g.log" && ok || bad "non-image warning"
grep -q "line break" "$T/g.log" && ok || bad "line-break name warning"
grep -q "symlink loop" "$T/g.log" && ok || bad "loop warning"

# D8: no usable query, an empty gallery: errors, not exit 0 with no metrics.
mkdir -p "$T/e"
: > "$T/e/test.jsonl"
"$CTCIR" eval --model "$M" --dataset manifest --root "$T/e" --split test --json -t 1 >/dev/null 2>"$T/e1.log"
check test $? -eq 1
echo '[1,2,3]' > "$T/e/test.jsonl"
"$CTCIR" eval --model "$M" --dataset manifest --root "$T/e" --split test --json -t 1 >/dev/null 2>"$T/e2.log"
check test $? -eq 1
grep -q "gallery is empty" "$T/e2.log" && ok || bad "empty gallery message"
cp "$T/d/test.jsonl" "$T/d/bad.jsonl"
echo '[1,2,3]' > "$T/d/bad.jsonl"
echo "images/test/test-000000-ref.png" > "$T/d/bad_gallery.txt"
"$CTCIR" eval --model "$M" --dataset manifest --root "$T/d" --split bad --json -t 1 >/dev/null 2>"$T/e3.log"
check test $? -eq 1
grep -q "no usable queries" "$T/e3.log" && ok || bad "no usable queries message"

# D6 / contract: FashionIQ --predictions-out is one file keyed <category>/<index>.
F="$T/fiq"
mkdir -p "$F/images" "$F/captions" "$F/image_splits"
i=0
for p in "$T"/d/images/test/test-00000[0-5]-{ref,tgt}.png; do cp "$p" "$F/images/im$i.jpg"; i=$((i+1)); done
for c in dress shirt toptee; do
  echo '["im0", "im1", "im2", "im3", "im4", "im5", "im6", "im7"]' > "$F/image_splits/split.$c.val.json"
  echo '[{"candidate": "im0", "target": "im1", "captions": ["is red", "has a star"]},
         {"candidate": "im2", "target": "im3", "captions": ["is blue", "is bigger"]}]' > "$F/captions/cap.$c.val.json"
done
"$CTCIR" eval --model "$M" --dataset fashioniq --root "$F" --split val --json --predictions-out "$T/fiq.json" -t 1 \
  >"$T/fiq_metrics.json" 2>"$T/fiq.log"
check test $? -eq 0
check test -s "$T/fiq.json"
check test ! -e "$T/fiq.json.dress.json"
for k in dress/0 dress/1 shirt/0 toptee/1; do grep -q "\"$k\": \[" "$T/fiq.json" && ok || bad "fiq predictions key $k"; done
grep -q '"__ctcir__": {"commit": ' "$T/fiq.json" && ok || bad "predictions record the ctcir commit"
# An output path that cannot be written fails before the work (the dataset is not even read:
# its root does not exist, and the error is about the output).
"$CTCIR" eval --model "$M" --dataset fashioniq --root "$T/none" --split val --predictions-out "$T/no/such/p.json" -t 1 \
  >/dev/null 2>"$T/fiq2.log"
check test $? -eq 1
grep -q "no/such/p.json" "$T/fiq2.log" && ok || bad "predictions path checked only after the work"

# D16: --submission-out for a kind without server files is refused before the work.
"$CTCIR" eval --model "$M" --dataset fashioniq --root "$T/none" --split val --submission-out "$T/sub" -t 1 >/dev/null 2>"$T/sub.log"
check test $? -eq 1
grep -q "submission-out" "$T/sub.log" && ok || bad "submission kind checked only after the work"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
