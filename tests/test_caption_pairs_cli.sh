#!/usr/bin/env bash
# ctcir caption-pairs end to end against tests/mock_llm_server.c (127.0.0.1, ephemeral port):
# answers and post-filtering, concurrency, retries (429 + Retry-After, 500, bad JSON, bad
# answers, cut and dropped connections, timeouts), failures recorded and retried, kill -9 and
# resume, --dataset, --prompts, 401, usage errors, the output read by `ctcir train`, and the
# API key never printed or written.
set -u
CTCIR=${CTCIR:-build/ctcir}
MOCK=${MOCK_LLM:-$(dirname "$CTCIR")/tests/mock_llm_server}
SHARED=${CTCIR_SHARED:-../shared}
T=$(mktemp -d)
MOCK_PIDS=()
cleanup() {
  for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
check() { if "$@"; then ok; else bad "$*"; fi; }
jnum() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }        # a number of a one-line JSON summary
pairs_of() { sed 's/^{"reference":"\([^"]*\)","target":"\([^"]*\)".*/\1 \2/' "$1"; }
[ -x "$MOCK" ] || { echo "no mock server at $MOCK" >&2; exit 1; }

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY  # the mock is on 127.0.0.1
KEY="sk-test-$$-do-not-print-this-key"
export OPENAI_API_KEY="$KEY" MOCK_EXPECT_KEY="$KEY"

# start_mock NAME ARGS...: starts the mock; sets PORT and EP (endpoint); its log is $T/NAME.mock
start_mock() {
  local name=$1; shift
  "$MOCK" --lifetime 60 "$@" >"$T/$name.port" 2>"$T/$name.mock" &
  MOCK_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
  PORT=$(head -1 "$T/$name.port")
  EP="http://127.0.0.1:$PORT/v1"
}
stop_mocks() { for p in "${MOCK_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; MOCK_PIDS=(); }

"$CTCIR" synth-shapes --out "$T/data" --train 16 --val 0 --test 0 --size 32 --seed 5 -q -t 1 >/dev/null 2>&1 || bad "synth-shapes"
head -12 "$T/data/train.jsonl" > "$T/p12.jsonl"
# the captions the mock's stage 3 answer must become (hand-written from its text)
printf '%s\n' '["Add a medium blue square on the right.","Remove the large green triangle.","Keep the red circle where it is."]' > "$T/want_caps"

# 1. twelve pairs, four in flight, slow answers: exact captions, counts, tokens, headers
start_mock one --pattern slow --slow-ms 150
"$CTCIR" caption-pairs --pairs "$T/p12.jsonl" --image-root "$T/data" --endpoint "$EP" --model mock-vl \
  --out "$T/one.jsonl" --concurrency 4 >"$T/one.sum" 2>"$T/one.err"
check test $? -eq 0
check test "$(wc -l < "$T/one.jsonl")" -eq 12
check diff <(pairs_of "$T/p12.jsonl" | sort) <(pairs_of "$T/one.jsonl" | sort)
check test "$(sed 's/.*"difference_captions":\(\[[^]]*\]\).*/\1/' "$T/one.jsonl" | sort -u)" = "$(cat "$T/want_caps")"
grep -q '"id":"train-000000"' "$T/one.jsonl" && ok || bad "ids are carried over"
check test "$(jnum "$T/one.sum" done)" = 12
check test "$(jnum "$T/one.sum" failed)" = 0
check test "$(jnum "$T/one.sum" captions)" = 36
check test "$(jnum "$T/one.sum" requests)" = 36
check test "$(jnum "$T/one.sum" total)" = 4320     # 36 answers x 120 tokens
check test "$(grep -c 'check=ok' "$T/one.mock")" -eq 36
check test "$(grep -c 'auth=ok' "$T/one.mock")" -eq 36
check test "$(grep -c 'stage=1' "$T/one.mock")" -eq 12
check test "$(grep -c 'stage=3' "$T/one.mock")" -eq 12
maxin=$(sed -n 's/.*inflight=\([0-9]*\).*/\1/p' "$T/one.mock" | sort -n | tail -1)
check test "$maxin" -ge 2
check test "$maxin" -le 4
grep -q 'caption-pairs: 12/12 pairs (0 failed) | .* pairs/s | .* ETA' "$T/one.err" && ok || bad "progress line"

# 2. a re-run has nothing to do and changes nothing
cp "$T/one.jsonl" "$T/one.before"
"$CTCIR" caption-pairs --pairs "$T/p12.jsonl" --image-root "$T/data" --endpoint "$EP" --model mock-vl \
  --out "$T/one.jsonl" >"$T/two.sum" 2>/dev/null
check test $? -eq 0
check test "$(jnum "$T/two.sum" skipped)" = 12
check test "$(jnum "$T/two.sum" requests)" = 0
check cmp "$T/one.jsonl" "$T/one.before"

# 3. ctcir train reads the output: 12 pairs x 3 captions = 36 triplets
if [ -d "$SHARED/parity/models/tiny-vit-b" ]; then
  "$CTCIR" train --init "$SHARED/parity/models/tiny-vit-b" --data "$T/one.jsonl" --image-root "$T/data" \
    --batch-size 4 --max-steps 1 --set fusion_layers=1 --set fusion_heads=4 -t 1 --out "$T/train" >/dev/null 2>"$T/train.err"
  check test $? -eq 0
  grep -q "one.jsonl: 36 triplets" "$T/train.err" && ok || bad "train reads 36 triplets: $(grep triplets "$T/train.err")"
else
  echo "skipping the train check: no $SHARED/parity/models/tiny-vit-b" >&2
fi

# 4. every kind of trouble, then success: 429 (Retry-After 1), 500, bad JSON, cut connection,
#    malformed answer, timeout (slow 3 s against --timeout 1), dropped connection
head -4 "$T/p12.jsonl" > "$T/p4.jsonl"
start_mock four --pattern 429,500,bad,cut,badanswer,slow,drop,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok \
  --slow-ms 3000 --retry-after 1
"$CTCIR" caption-pairs --pairs "$T/p4.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/four.jsonl" \
  --concurrency 2 --retries 8 --timeout 1 --backoff 0.05 -q >"$T/four.sum" 2>"$T/four.err"
check test $? -eq 0
check test "$(wc -l < "$T/four.jsonl")" -eq 4
check test "$(jnum "$T/four.sum" failed)" = 0
check test "$(jnum "$T/four.sum" retries)" -ge 6   # curl itself may resend after the dropped connection
check test ! -s "$T/four.jsonl.failed"
for a in 429 500 bad cut badanswer slow drop; do grep -q "action=$a " "$T/four.mock" && ok || bad "mock did not serve $a"; done
check test "$(sed 's/.*"difference_captions":\(\[[^]]*\]\).*/\1/' "$T/four.jsonl" | sort -u)" = "$(cat "$T/want_caps")"

# 5. Retry-After is honoured: one pair, one request at a time, 429 then answers
head -1 "$T/p12.jsonl" > "$T/p1.jsonl"
start_mock five --pattern 429,ok,ok,ok --retry-after 1 --no-usage
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/five.jsonl" \
  --concurrency 1 --backoff 0.01 -q >"$T/five.sum" 2>/dev/null
check test $? -eq 0
t1=$(sed -n 's/.*req=1 t_ms=\([0-9]*\).*/\1/p' "$T/five.mock"); t2=$(sed -n 's/.*req=2 t_ms=\([0-9]*\).*/\1/p' "$T/five.mock")
check test $((t2 - t1)) -ge 1000
grep -q '"tokens":null' "$T/five.sum" && ok || bad "tokens should be null without usage"

# 6. failures: malformed answers every time -> recorded, never written; a missing image fails
#    at once; a re-run retries them; the failed file is rewritten
head -2 "$T/p12.jsonl" > "$T/pf.jsonl"
echo '{"reference":"images/train/no-such-image.png","target":"images/train/train-000000-tgt.png"}' >> "$T/pf.jsonl"
start_mock six --pattern badanswer
"$CTCIR" caption-pairs --pairs "$T/pf.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/six.jsonl" \
  --retries 1 --backoff 0.01 -q >"$T/six.sum" 2>"$T/six.err"
check test $? -eq 1
check test "$(jnum "$T/six.sum" failed)" = 3
check test "$(jnum "$T/six.sum" done)" = 0
check test ! -s "$T/six.jsonl"
check test "$(wc -l < "$T/six.jsonl.failed")" -eq 3
check test "$(grep -c '"stage":1,"attempts":2,"error":"malformed stage 1 answer' "$T/six.jsonl.failed")" -eq 2
grep -q 'no-such-image.png.*"error":".*no-such-image.png: cannot open' "$T/six.jsonl.failed" && ok || bad "missing image recorded"
grep -q '3 of 3 pairs failed' "$T/six.err" && ok || bad "failure message"
start_mock six2
"$CTCIR" caption-pairs --pairs "$T/pf.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/six.jsonl" \
  -q >"$T/six2.sum" 2>/dev/null
check test $? -eq 1
check test "$(jnum "$T/six2.sum" done)" = 2
check test "$(wc -l < "$T/six.jsonl")" -eq 2
check test "$(wc -l < "$T/six.jsonl.failed")" -eq 1

# 7. kill -9 mid-run, a torn last line, resume: no duplicates, nothing finished lost
start_mock seven --pattern slow --slow-ms 150
"$CTCIR" caption-pairs --pairs "$T/data/train.jsonl" --image-root "$T/data" --endpoint "$EP" --model m \
  --out "$T/seven.jsonl" --concurrency 2 -q >/dev/null 2>"$T/seven.err" &
cpid=$!
for _ in $(seq 200); do [ -f "$T/seven.jsonl" ] && [ "$(wc -l < "$T/seven.jsonl")" -ge 3 ] && break; sleep 0.05; done
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
cp "$T/seven.jsonl" "$T/seven.before"
nb=$(wc -l < "$T/seven.before")
check test "$nb" -ge 3
check test "$nb" -lt 16
# Ctrl-C (SIGINT) on the same slow server: exit 130, the finished pairs are kept
"$CTCIR" caption-pairs --pairs "$T/data/train.jsonl" --image-root "$T/data" --endpoint "$EP" --model m \
  --out "$T/int.jsonl" --concurrency 2 -q >"$T/int.sum" 2>"$T/int.err" &
cpid=$!
for _ in $(seq 200); do [ -f "$T/int.jsonl" ] && [ "$(wc -l < "$T/int.jsonl")" -ge 1 ] && break; sleep 0.05; done
kill -INT "$cpid"; wait "$cpid"
check test $? -eq 130
grep -q 'interrupted' "$T/int.err" && ok || bad "interrupt message"
check test "$(jnum "$T/int.sum" done)" = "$(wc -l < "$T/int.jsonl")"
printf '{"reference":"images/train/train-0000' >> "$T/seven.jsonl"   # a write cut by the kill
start_mock seven2
"$CTCIR" caption-pairs --pairs "$T/data/train.jsonl" --image-root "$T/data" --endpoint "$EP" --model m \
  --out "$T/seven.jsonl" --concurrency 3 >"$T/seven2.sum" 2>"$T/seven2.err"
check test $? -eq 0
grep -q 'cutting an incomplete last line' "$T/seven2.err" && ok || bad "torn line message"
check test "$(jnum "$T/seven2.sum" skipped)" = "$nb"
check test "$(jnum "$T/seven2.sum" done)" = $((16 - nb))
check test "$(wc -l < "$T/seven.jsonl")" -eq 16
check test -z "$(pairs_of "$T/seven.jsonl" | sort | uniq -d)"
check diff <(pairs_of "$T/data/train.jsonl" | sort) <(pairs_of "$T/seven.jsonl" | sort)
check cmp "$T/seven.before" <(head -c "$(wc -c < "$T/seven.before")" "$T/seven.jsonl")
check test "$(grep -c '"difference_captions":\["' "$T/seven.jsonl")" -eq 16

# 8. --dataset: a CIRR layout over the synthetic images; paths relative to --root
mkdir -p "$T/data/image_splits" "$T/data/captions"
{
  printf '{'
  for i in 0 1 2; do printf '"r%d": "./images/train/train-00000%d-ref.png", "t%d": "./images/train/train-00000%d-tgt.png"%s' \
    $i $i $i $i "$([ $i -lt 2 ] && echo ,)"; done
  printf '}\n'
} > "$T/data/image_splits/split.rc2.val.json"
# pairid 3 repeats pair 0: captioned once
echo '[{"pairid":1,"reference":"r0","target_hard":"t0","caption":"x","img_set":{"members":["r0","t0"]}},
       {"pairid":2,"reference":"r1","target_hard":"t1","caption":"x","img_set":{"members":["r1","t1"]}},
       {"pairid":3,"reference":"r0","target_hard":"t0","caption":"y","img_set":{"members":["r0","t0"]}},
       {"pairid":4,"reference":"r2","target_hard":"t2","caption":"z","img_set":{"members":["r2","t2"]}}]' \
  > "$T/data/captions/cap.rc2.val.json"
# the PNG/JPEG mix of synth-shapes: fix the split file to the real extensions
for f in "$T"/data/images/train/train-00000[012]-*.jpg; do
  [ -e "$f" ] || continue
  b=$(basename "$f" .jpg); sed -i "s|$b.png|$b.jpg|" "$T/data/image_splits/split.rc2.val.json"
done
start_mock eight
"$CTCIR" caption-pairs --dataset cirr --root "$T/data" --split val --endpoint "$EP" --model m --out "$T/eight.jsonl" \
  -q >"$T/eight.sum" 2>"$T/eight.err"
check test $? -eq 0
check test "$(jnum "$T/eight.sum" pairs)" = 3
check test "$(wc -l < "$T/eight.jsonl")" -eq 3
while read -r r t; do check test -f "$T/data/$r"; check test -f "$T/data/$t"; done < <(pairs_of "$T/eight.jsonl")
grep -q '"reference":"images/train/train-000000-ref' "$T/eight.jsonl" && ok || bad "dataset paths relative to root"

# 9. --prompts: a folder whose stage 3 prompt drops the target list -> HTTP 400 -> the pair fails
mkdir -p "$T/prompts"
cp configs/good4cir/stage1.txt configs/good4cir/stage2.txt "$T/prompts/"
echo 'Write captions for {reference_objects} as {"captions": [...]}' > "$T/prompts/stage3.txt"
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/nine.jsonl" \
  --prompts "$T/prompts" -q >"$T/nine.sum" 2>/dev/null
check test $? -eq 1
grep -q '"stage":3,"attempts":1,"error":"HTTP 400: .*prompt lacks the target objects' "$T/nine.jsonl.failed" && ok || bad "400 recorded"
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/nine.jsonl" \
  --prompts "$T/nowhere" -q >/dev/null 2>"$T/nine.err"
check test $? -eq 1
grep -q 'nowhere/stage1.txt' "$T/nine.err" && ok || bad "missing prompt file named"

# 10. a wrong key stops the run (401) without printing either key
OPENAI_API_KEY="sk-wrong-$$-also-secret" "$CTCIR" caption-pairs --pairs "$T/p4.jsonl" --image-root "$T/data" \
  --endpoint "$EP" --model m --out "$T/ten.jsonl" >"$T/ten.sum" 2>"$T/ten.err"
check test $? -eq 1
grep -q 'HTTP 401 (check OPENAI_API_KEY)' "$T/ten.err" && ok || bad "401 message"
grep -q "sk-wrong-$$" "$T/ten.err" "$T/ten.sum" && bad "wrong key printed" || ok
# nothing listening: connection errors are retried, then the pairs fail
stop_mocks
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "http://127.0.0.1:$PORT/v1" --model m \
  --out "$T/eleven.jsonl" --retries 1 --backoff 0.01 -q >/dev/null 2>&1
check test $? -eq 1
grep -q '"error":"connection: ' "$T/eleven.jsonl.failed" && ok || bad "connection failure recorded"
# ... and when nothing ever answers, the run stops after three such pairs instead of failing all
"$CTCIR" caption-pairs --pairs "$T/p12.jsonl" --image-root "$T/data" --endpoint "http://127.0.0.1:$PORT/v1" --model m \
  --out "$T/twelve.jsonl" --retries 1 --backoff 0.01 --concurrency 2 -q >"$T/twelve.sum" 2>"$T/twelve.err"
check test $? -eq 1
grep -q 'no answer from http://127.0.0.1:.*3 pairs failed.*is the server running' "$T/twelve.err" && ok || bad "unreachable: $(cat "$T/twelve.err")"
check test "$(wc -l < "$T/twelve.jsonl.failed")" -eq 3

# 11. usage errors and help
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --model m --out "$T/x.jsonl" 2>/dev/null; check test $? -eq 2
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --dataset cirr --root "$T/data" --split val \
  --endpoint "$EP" --model m --out "$T/x.jsonl" 2>/dev/null; check test $? -eq 2
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --endpoint "$EP" --model m --out "$T/x.jsonl" 2>/dev/null; check test $? -eq 2
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/x.jsonl" \
  --concurrency 0 2>/dev/null; check test $? -eq 2
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m --out "$T/x.jsonl" \
  --timeout abc 2>/dev/null; check test $? -eq 2
printf '{"reference":"a.png","target":"b.png"}\n{"reference":"a.png"\n' > "$T/badpairs.jsonl"
"$CTCIR" caption-pairs --pairs "$T/badpairs.jsonl" --image-root "$T/data" --endpoint "$EP" --model m \
  --out "$T/x.jsonl" >/dev/null 2>"$T/bp.err"; check test $? -eq 1
grep -q 'badpairs.jsonl: malformed JSON at line 2, column' "$T/bp.err" && ok || bad "bad pairs file message: $(cat "$T/bp.err")"
echo 'not json' > "$T/notout.jsonl"
"$CTCIR" caption-pairs --pairs "$T/p1.jsonl" --image-root "$T/data" --endpoint "$EP" --model m \
  --out "$T/notout.jsonl" >/dev/null 2>"$T/no.err"; check test $? -eq 1
grep -q 'notout.jsonl: malformed JSON at line 1' "$T/no.err" && ok || bad "foreign --out file refused"
"$CTCIR" help caption-pairs > "$T/help.txt"; check test $? -eq 0
for w in --pairs --image-root --dataset --root --split --endpoint --model --out --failed --prompts --concurrency \
         --max-objects --retries --timeout --backoff --min-words OPENAI_API_KEY response_format difference_captions; do
  grep -q -- "$w" "$T/help.txt" && ok || bad "help lacks $w"
done

# 12. the key is nowhere: not in any output, summary, log or failure file
if grep -rq -- "$KEY" "$T"; then bad "the API key appears in $(grep -rl -- "$KEY" "$T")"; else ok; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
