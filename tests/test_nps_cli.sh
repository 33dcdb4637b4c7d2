#!/usr/bin/env bash
# ctcir nps: input forms, output format, --max, and errors with line numbers.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
same() { if [ "$1" == "$2" ]; then ok; else bad "$3: got '$1' want '$2'"; fi; }

out=$("$CTCIR" nps --text "a wooden table with three drawers")
same "$out" '["a wooden table with three drawers","a wooden table","three drawers"]' "--text"

out=$("$CTCIR" nps --max 1 --text "the small red circle and the blue square" --text "make it bigger")
same "$out" $'["the small red circle and the blue square"]\n[]' "--max and two --text"

printf '"remove the two pillows and add a green lamp"\n\n"show three bottles of soft drink"\r\n' > "$tmp/in.jsonl"
out=$("$CTCIR" nps --input "$tmp/in.jsonl")
same "$out" $'["the two pillows","a green lamp"]\n["three bottles of soft drink","three bottles","soft drink"]' "--input (blank line, CRLF)"
out=$("$CTCIR" nps < "$tmp/in.jsonl")
same "$(echo "$out" | wc -l | tr -d ' ')" "2" "stdin"

# escapes and non-ASCII pass through as the caption's own substrings
out=$(printf '"the dog\\u2019s \\"red\\" ball"\n' | "$CTCIR" nps --max 1)
same "$out" '["the dog’s"]' "JSON escapes"

# malformed line: error names the line, exit 1
printf '"a red car"\n"unterminated\n' > "$tmp/bad.jsonl"
"$CTCIR" nps --input "$tmp/bad.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
same "$rc" "1" "malformed exit code"
grep -q "line 2" "$tmp/err" && ok || bad "error names line 2: $(cat "$tmp/err")"
same "$(cat "$tmp/out")" '["a red car"]' "lines before the error are printed"
printf '{"text": "a car"}\n' | "$CTCIR" nps > /dev/null 2>&1; same "$?" "1" "non-string JSON"
"$CTCIR" nps --input "$tmp/missing.jsonl" > /dev/null 2>&1; same "$?" "1" "missing file"

# usage errors: exit 2
"$CTCIR" nps --max -3 --text x > /dev/null 2>&1; same "$?" "2" "--max negative"
"$CTCIR" nps --max abc --text x > /dev/null 2>&1; same "$?" "2" "--max junk"
"$CTCIR" nps --bogus > /dev/null 2>&1; same "$?" "2" "unknown option"
"$CTCIR" nps --text x --input y > /dev/null 2>&1; same "$?" "2" "--text with --input"
"$CTCIR" nps --help | grep -q "default 10" && ok || bad "--help shows the default"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
