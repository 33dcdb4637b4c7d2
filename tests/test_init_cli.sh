#!/usr/bin/env bash
# `ctcir init`: bpe-train on a few captions -> init (the shipped tiny config and a smaller
# one) -> `ctcir encode` on the result; seeds, --force and the error contract.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for i in 1 2 3 4 5 6; do
  echo "change the red circle into a blue square"
  echo "add a small green triangle in the top left corner"
  echo "remove the yellow star and make the background striped"
done > "$tmp/caps.txt"
"$CTCIR" bpe-train --input "$tmp/caps.txt" --vocab-size 600 --out "$tmp/vocab" > /dev/null 2>&1 && ok || bad "bpe-train failed"
nv=$(grep -o '"<|endoftext|>":[0-9]*' "$tmp/vocab/vocab.json" | cut -d: -f2)
nv=$((nv + 1))

# the shipped config: vocab_size "auto" becomes the vocabulary's size
"$CTCIR" init --config configs/synthetic-tiny-model.json --vocab "$tmp/vocab" --out "$tmp/tiny" --seed 3 \
  > "$tmp/init.json" 2> "$tmp/err.txt" && ok || bad "init with the shipped config: $(cat "$tmp/err.txt")"
grep -q "\"vocab_size\":$nv" "$tmp/init.json" && ok || bad "init summary: $(cat "$tmp/init.json"), expected vocab_size $nv"
for f in config.json model.safetensors vocab.json merges.txt preprocessor_config.json; do
  [ -s "$tmp/tiny/$f" ] && ok || bad "missing $f"
done
cmp -s "$tmp/vocab/merges.txt" "$tmp/tiny/merges.txt" && ok || bad "merges.txt not copied"
"$CTCIR" inspect "$tmp/tiny/model.safetensors" > "$tmp/inspect.txt" 2>&1 && ok || bad "inspect failed"
grep -q "text_model.embeddings.token_embedding.weight *F32 *\[$nv, 128\]" "$tmp/inspect.txt" && ok || bad "token embedding shape"
grep -q "vision_model.embeddings.position_embedding.weight *F32 *\[10, 128\]" "$tmp/inspect.txt" && ok || bad "10 vision tokens (48 px, patch 16)"
grep -q "^logit_scale " "$tmp/inspect.txt" && ok || bad "logit_scale missing"
grep -q "position_ids" "$tmp/inspect.txt" && bad "legacy position_ids written" || ok

# encode an image and two texts with it
"$CTCIR" synth-shapes --out "$tmp/s" --train 1 --val 1 --test 1 --size 48 -q -t 1 > /dev/null 2>&1 && ok || bad "synth-shapes"
img=$(ls "$tmp"/s/images/train/*-ref.* | head -1)
"$CTCIR" encode --model "$tmp/tiny" --image "$img" --text "add a red circle" --text "remove the star" \
  --out "$tmp/e.safetensors" -t 1 > /dev/null 2> "$tmp/err.txt" && ok || bad "encode: $(cat "$tmp/err.txt")"
"$CTCIR" inspect "$tmp/e.safetensors" > "$tmp/e.txt" 2>&1
grep -q "image_embeds *F32 *\[1, 128\]" "$tmp/e.txt" && ok || bad "image_embeds shape: $(cat "$tmp/e.txt")"
grep -q "text_embeds *F32 *\[2, 128\]" "$tmp/e.txt" && ok || bad "text_embeds shape"

# seeds: same seed same bytes, another seed other bytes
"$CTCIR" init -c configs/synthetic-tiny-model.json --vocab "$tmp/vocab" -o "$tmp/same" -s 3 > /dev/null 2>&1 && ok || bad "init again"
cmp -s "$tmp/tiny/model.safetensors" "$tmp/same/model.safetensors" && ok || bad "same seed, different weights"
cmp -s "$tmp/tiny/config.json" "$tmp/same/config.json" && ok || bad "same seed, different config"
"$CTCIR" init -c configs/synthetic-tiny-model.json --vocab "$tmp/vocab" -o "$tmp/other" -s 4 > /dev/null 2>&1 && ok || bad "init seed 4"
cmp -s "$tmp/tiny/model.safetensors" "$tmp/other/model.safetensors" && bad "seeds 3 and 4 gave the same weights" || ok

# errors: existing folder (1, unless --force), usage (2), missing vocabulary (1)
"$CTCIR" init -c configs/synthetic-tiny-model.json --vocab "$tmp/vocab" -o "$tmp/tiny" > /dev/null 2>&1; [ $? -eq 1 ] && ok || bad "existing --out: exit 1"
"$CTCIR" init -c configs/synthetic-tiny-model.json --vocab "$tmp/vocab" -o "$tmp/tiny" --force -s 4 > /dev/null 2>&1 && ok || bad "--force"
cmp -s "$tmp/tiny/model.safetensors" "$tmp/other/model.safetensors" && ok || bad "--force did not replace the weights"
"$CTCIR" init --config configs/synthetic-tiny-model.json > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "no --out: exit 2"
"$CTCIR" init -c configs/synthetic-tiny-model.json -o "$tmp/x" --seed -1 > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "bad seed: exit 2"
"$CTCIR" init -c configs/synthetic-tiny-model.json -o "$tmp/x" --bogus > /dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown option: exit 2"
"$CTCIR" init -c configs/synthetic-tiny-model.json -o "$tmp/x" > /dev/null 2> "$tmp/err.txt"; [ $? -eq 1 ] && ok || bad "no vocabulary: exit 1"
grep -q -- "--vocab" "$tmp/err.txt" && ok || bad "no vocabulary: message $(cat "$tmp/err.txt")"
"$CTCIR" init -c "$tmp/none.json" --vocab "$tmp/vocab" -o "$tmp/x" > /dev/null 2>&1; [ $? -eq 1 ] && ok || bad "missing config: exit 1"
[ ! -e "$tmp/x" ] && ok || bad "a failed init left $tmp/x"
"$CTCIR" init --help | grep -q "usage: ctcir init" && ok || bad "--help"

# a config.json whose sizes the weights cannot hold fails before allocating, naming both files
mkdir -p "$tmp/big"
cp "$tmp/tiny/model.safetensors" "$tmp/tiny/vocab.json" "$tmp/tiny/merges.txt" "$tmp/big/"
sed 's/"vocab_size":[[:space:]]*[0-9]*/"vocab_size": 9000000/' "$tmp/tiny/config.json" > "$tmp/big/config.json"
for cmd in "encode --image $img --text x --out $tmp/big.st" "explain --image $img --text x --out $tmp/big.png"; do
  timeout 60 "$CTCIR" $cmd --model "$tmp/big" -t 1 > /dev/null 2> "$tmp/err.txt"; rc=$?
  [ $rc -eq 1 ] && ok || bad "${cmd%% *} with an oversized config.json: exit $rc"
  grep -q "big/model.safetensors.*bytes cannot hold" "$tmp/err.txt" && ok || bad "${cmd%% *} oversized config: $(cat "$tmp/err.txt")"
done
sed 's/"num_hidden_layers":[[:space:]]*[0-9]*/"num_hidden_layers": 5000000/' "$tmp/tiny/config.json" > "$tmp/big/config.json"
timeout 60 "$CTCIR" encode --model "$tmp/big" --image "$img" --out "$tmp/big.st" -t 1 > /dev/null 2> "$tmp/err.txt"; rc=$?
[ $rc -eq 1 ] && grep -q "big/config.json.*num_hidden_layers 5000000 exceeds" "$tmp/err.txt" && ok ||
  bad "huge num_hidden_layers: exit $rc, $(cat "$tmp/err.txt")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
