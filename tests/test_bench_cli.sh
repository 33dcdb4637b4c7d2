#!/usr/bin/env bash
# ctcir bench: every part runs on a tiny config written here (no other files) and --json
# prints one object with the documented keys and sane values; bf16 runs where the CPU has
# AVX512_BF16 and is refused with a clear message where it does not; bad flags are usage errors.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*" >&2; fi; }
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; local rc=$?; [ "$rc" -eq "$want" ] || { echo "rc $rc != $want: $*" >&2; return 1; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/tiny.json" <<'JSON'
{"model_type": "clip", "projection_dim": 16,
 "text_config": {"vocab_size": 300, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                 "num_attention_heads": 2, "max_position_embeddings": 77, "hidden_act": "quick_gelu"},
 "vision_config": {"image_size": 32, "patch_size": 16, "hidden_size": 32, "intermediate_size": 64,
                   "num_hidden_layers": 2, "num_attention_heads": 2, "hidden_act": "gelu"}}
JSON
# keys and values of one --json object: numbers > 0, names as asked
json_ok() { # file what precision batch
    /usr/bin/env python3 - "$@" <<'PY'
import json, sys
path, what, prec, batch = sys.argv[1:5]
lines = [l for l in open(path) if l.strip()]
assert len(lines) == 1, lines
o = json.loads(lines[0])
for k in ("items_per_s", "peak_rss_mb", "gflops", "what", "precision", "batch"):
    assert k in o, k
assert o["what"] == what and o["precision"] == prec and o["batch"] == int(batch), o
assert o["items_per_s"] > 0 and o["peak_rss_mb"] > 1 and o["gflops"] > 0, o
PY
}
check expect_rc 0 "$CTCIR" bench --config "$tmp/tiny.json" --what image --json
"$CTCIR" bench --config "$tmp/tiny.json" --what image --json > "$tmp/image.json" 2>/dev/null
check json_ok "$tmp/image.json" image fp32 32
for w in text index topk; do
    "$CTCIR" bench --config "$tmp/tiny.json" --what $w --batch 4 --steps 1 --json > "$tmp/$w.json" 2>/dev/null
    check json_ok "$tmp/$w.json" $w fp32 4
done
"$CTCIR" bench --config "$tmp/tiny.json" --what step --batch 4 --micro-batch 2 --phrases 2 --steps 1 --json > "$tmp/step.json" 2>/dev/null
check json_ok "$tmp/step.json" step fp32 4
# human-readable line names the unit
check grep -q "images/s" <<<"$("$CTCIR" bench --config "$tmp/tiny.json" --what image --batch 2 --steps 1 2>/dev/null)"
# bf16: runs on AVX512_BF16, refused otherwise (exit 1, message names the instruction set)
if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
    "$CTCIR" bench --config "$tmp/tiny.json" --what step --batch 4 --steps 1 --precision bf16 --json > "$tmp/bf16.json" 2>/dev/null
    check json_ok "$tmp/bf16.json" step bf16 4
else
    check expect_rc 1 "$CTCIR" bench --config "$tmp/tiny.json" --what image --precision bf16
    check grep -q AVX512_BF16 <<<"$("$CTCIR" bench --config "$tmp/tiny.json" --what image --precision bf16 2>&1)"
fi
# usage errors and a bad config
check expect_rc 2 "$CTCIR" bench --config "$tmp/tiny.json" --what video
check expect_rc 2 "$CTCIR" bench --config "$tmp/tiny.json" --what image --precision fp16
check expect_rc 2 "$CTCIR" bench --what image
check expect_rc 2 "$CTCIR" bench --config "$tmp/tiny.json"
echo '{"model_type": "clip",' > "$tmp/bad.json"
check expect_rc 1 "$CTCIR" bench --config "$tmp/bad.json" --what image
check grep -q "bad.json" <<<"$("$CTCIR" bench --config "$tmp/bad.json" --what image 2>&1)"
check expect_rc 1 "$CTCIR" bench --config "$tmp/missing.json" --what image
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
