#!/usr/bin/env bash
# `ctcir tokenize` against the reference ids of parity/tokenizer/tokens.jsonl (every string that
# does not depend on ftfy), from --model and from --vocab FILE.gz, and its error contract.
set -u
CTCIR=${CTCIR:-build/ctcir}
SHARED=${CTCIR_SHARED:-../shared}
TOK=$SHARED/parity/tokenizer
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -v ids_if_fix_text_is_identity "$TOK/tokens.jsonl" > "$tmp/ref.jsonl"
# the "text" field is itself a JSON string literal: feed it as it is
sed -E 's/^\{"i": [0-9]+, "text": ("([^"\\]|\\.)*"), .*/\1/' "$tmp/ref.jsonl" > "$tmp/texts.txt"
sed -E 's/.*"ids": (\[[^]]*\]).*/\1/' "$tmp/ref.jsonl" > "$tmp/ids.txt"
sed -E 's/.*"ids_77": (\[[^]]*\]).*/\1/' "$tmp/ref.jsonl" > "$tmp/ids77.txt"
n=$(wc -l < "$tmp/texts.txt")
[ "$n" -ge 190 ] && ok || bad "only $n reference lines"

"$CTCIR" tokenize --model "$TOK" --raw < "$tmp/texts.txt" > "$tmp/out_raw.txt" && ok || bad "tokenize --raw failed"
cmp -s "$tmp/out_raw.txt" "$tmp/ids.txt" && ok || { bad "--raw ids differ"; diff "$tmp/out_raw.txt" "$tmp/ids.txt" | head -5 >&2; }
"$CTCIR" tokenize --model "$TOK" --input "$tmp/texts.txt" > "$tmp/out77.txt" && ok || bad "tokenize failed"
cmp -s "$tmp/out77.txt" "$tmp/ids77.txt" && ok || { bad "context-77 ids differ"; diff "$tmp/out77.txt" "$tmp/ids77.txt" | head -5 >&2; }
"$CTCIR" tokenize --vocab "$TOK/bpe_simple_vocab_16e6.txt.gz" --context 77 < "$tmp/texts.txt" > "$tmp/out_gz.txt" && ok || bad "--vocab failed"
cmp -s "$tmp/out_gz.txt" "$tmp/ids77.txt" && ok || bad "--vocab ids differ"

# a short context: truncated with EOT last
out=$(printf '"a photo of a cat"\n' | "$CTCIR" tokenize --model "$TOK" --context 4)
[ "$out" = "[49406, 320, 1125, 49407]" ] && ok || bad "--context 4 gave $out"
# escapes survive: a tab between words is whitespace
out=$(printf '"a\\tphoto"\n' | "$CTCIR" tokenize --model "$TOK" --raw)
[ "$out" = "[49406, 320, 1125, 49407]" ] && ok || bad "tab escape gave $out"

# errors: a malformed line names its number (exit 1); usage errors exit 2
printf '"fine"\n"also fine"\nnot json\n' | "$CTCIR" tokenize --model "$TOK" > "$tmp/o.txt" 2> "$tmp/e.txt"
[ $? -eq 1 ] && ok || bad "malformed line: exit code"
grep -q "line 3" "$tmp/e.txt" && ok || bad "malformed line: message '$(cat "$tmp/e.txt")'"
printf '"unterminated\n' | "$CTCIR" tokenize --model "$TOK" >/dev/null 2>&1; [ $? -eq 1 ] && ok || bad "unterminated"
"$CTCIR" tokenize --model "$tmp/none" < /dev/null >/dev/null 2>&1; [ $? -eq 1 ] && ok || bad "missing model: exit 1"
"$CTCIR" tokenize < /dev/null >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "no model: exit 2"
"$CTCIR" tokenize --model "$TOK" --raw --context 5 < /dev/null >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--raw --context: exit 2"
"$CTCIR" tokenize --model "$TOK" --context 0 < /dev/null >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "--context 0: exit 2"
"$CTCIR" tokenize --help | grep -q -- "--context N" && ok || bad "--help"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
