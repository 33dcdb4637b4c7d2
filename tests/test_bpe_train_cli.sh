#!/usr/bin/env bash
# `ctcir bpe-train`: raw and JSON-string lines, the files it writes, tokenize with the result,
# and its error contract.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for i in 1 2 3 4 5 6 7 8; do
  echo "make the dress red and add long sleeves"
  echo "\"the dog\\tis sleeping on the sofa\""
  echo "replace the lamp with a wooden one"
done > "$tmp/caps.txt"
"$CTCIR" bpe-train --input "$tmp/caps.txt" --vocab-size 560 --out "$tmp/v" > "$tmp/out.json" 2>/dev/null && ok || bad "bpe-train failed"
grep -q '"texts": 24' "$tmp/out.json" && ok || bad "summary: $(cat "$tmp/out.json")"
[ "$(head -1 "$tmp/v/merges.txt")" = "#version: 0.2" ] && ok || bad "merges header"
grep -q '"<|endoftext|>":559}' "$tmp/v/vocab.json" && ok || bad "endoftext is not the last id 559"
# 'sleeping' and 'sleeves' were seen 8 times: whole-word tokens exist after enough merges
out=$(echo '"the dog is sleeping"' | "$CTCIR" tokenize --model "$tmp/v" --raw)
[ "$out" = "[558, $(grep -o '"the</w>":[0-9]*' "$tmp/v/vocab.json" | cut -d: -f2), $(grep -o '"dog</w>":[0-9]*' "$tmp/v/vocab.json" | cut -d: -f2), $(grep -o '"is</w>":[0-9]*' "$tmp/v/vocab.json" | cut -d: -f2), $(grep -o '"sleeping</w>":[0-9]*' "$tmp/v/vocab.json" | cut -d: -f2), 559]" ] && ok || bad "tokenize with trained vocab gave $out"

"$CTCIR" bpe-train --input "$tmp/caps.txt" --vocab-size 513 --out "$tmp/w" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "size 513: exit 2"
"$CTCIR" bpe-train --input "$tmp/none.txt" --vocab-size 600 --out "$tmp/w" >/dev/null 2>&1; [ $? -eq 1 ] && ok || bad "missing input: exit 1"
printf '"unterminated\n' > "$tmp/bad.txt"
"$CTCIR" bpe-train --input "$tmp/bad.txt" --vocab-size 600 --out "$tmp/w" >/dev/null 2> "$tmp/err.txt"; [ $? -eq 1 ] && ok || bad "bad JSON line: exit 1"
grep -q "line 1" "$tmp/err.txt" && ok || bad "bad JSON line: message"
"$CTCIR" bpe-train --input "$tmp/caps.txt" >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "missing options: exit 2"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
