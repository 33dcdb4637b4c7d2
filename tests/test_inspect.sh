#!/usr/bin/env bash
# ctcir inspect: lists a valid file (text and JSON), rejects damaged ones naming the file.
set -u
CTCIR=${CTCIR:-build/ctcir}
SHARED=${CTCIR_SHARED:-../shared}
MODEL="$SHARED/parity/models/tiny-vit-b/model.safetensors"
pass=0 fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAILED: $*" >&2; fi; }
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; local rc=$?; [ "$rc" -eq "$want" ] || { echo "rc $rc != $want: $*" >&2; return 1; }; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# valid file: exit 0, the 0-d logit_scale listed with its dtype and empty shape
check expect_rc 0 "$CTCIR" inspect "$MODEL"
out=$("$CTCIR" inspect "$MODEL" 2>/dev/null)
check grep -Eq '^logit_scale +F32 +\[\]' <<<"$out"
check grep -Eq 'position_ids +I64 +\[1, 77\]' <<<"$out"
check grep -q 'format = pt' <<<"$out"
json=$("$CTCIR" inspect --json "$MODEL" 2>/dev/null)
check grep -q '"name":[[:space:]]*"logit_scale"' <<<"$json"
check grep -q '"valid":[[:space:]]*true' <<<"$json"
if command -v python3 >/dev/null; then
  check python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["count"] == len(d["tensors"]) > 0' <<<"$json"
fi
check expect_rc 0 "$CTCIR" inspect "$SHARED/parity/images/decoded_rgb.safetensors" --json

# a truncated copy: exit 1 and an error naming the file
size=$(stat -c %s "$MODEL")
head -c $((size - 100)) "$MODEL" > "$tmp/cut.safetensors"
check expect_rc 1 "$CTCIR" inspect "$tmp/cut.safetensors"
err=$("$CTCIR" inspect "$tmp/cut.safetensors" 2>&1 >/dev/null)
check grep -q "$tmp/cut.safetensors" <<<"$err"
# junk and missing files
printf 'not a safetensors file at all' > "$tmp/junk.safetensors"
check expect_rc 1 "$CTCIR" inspect "$tmp/junk.safetensors"
check expect_rc 1 "$CTCIR" inspect "$tmp/missing.safetensors"
# usage errors
check expect_rc 2 "$CTCIR" inspect
check expect_rc 2 "$CTCIR" inspect a b
check expect_rc 2 "$CTCIR" inspect --bogus "$MODEL"
check expect_rc 0 "$CTCIR" inspect --help
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
