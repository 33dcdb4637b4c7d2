#!/usr/bin/env bash
# ctcir synth-shapes --variant: the default benchmark is byte-identical to what the generator
# wrote before the hard variant existed, and the hard variant writes aligned phrase cells and
# types, deterministically, with usage errors for bad values.
set -u
CTCIR=${CTCIR:-build/ctcir}
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; local rc=$?; [ "$rc" -eq "$want" ] && ok || bad "rc $rc != $want: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree_hash() { (cd "$1" && find . -type f "${@:2}" | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1); }

# 1. Golden hashes recorded from the generator on main before the hard variant was added
#    (commit e8b79e9, same command). Text files (manifests, galleries, synth.json) depend on
#    the generator only; the second hash covers the PNG/JPEG bytes too, which also depend on
#    the libpng/zlib/libjpeg-turbo versions (recorded with Debian bookworm's).
"$CTCIR" synth-shapes --out "$tmp/d" --train 40 --val 6 --test 12 --size 48 --seed 11 --jpeg-fraction 0.25 -q -t 2 >/dev/null
"$CTCIR" synth-shapes --variant default --out "$tmp/e" --train 40 --val 6 --test 12 --size 48 --seed 11 --jpeg-fraction 0.25 -q -t 1 >/dev/null
h=$(tree_hash "$tmp/d" ! -name '*.png' ! -name '*.jpg')
[ "$h" = 2cf03147aa468675dd17a7fad8b3a4fd1617613941578a762ac20a2cede2eebb ] && ok || bad "default variant text files changed: $h"
h=$(tree_hash "$tmp/d")
[ "$h" = 6fd74123874caa7e87c347f10e08970e6363ad9501c244dc362e872ef34c349e ] && ok || bad "default variant files changed (images too; library versions?): $h"
diff -r "$tmp/d" "$tmp/e" >/dev/null && ok || bad "--variant default differs from no --variant"
"$CTCIR" synth-shapes --out "$tmp/f" --train 30 --val 0 --test 20 --size 64 --seed 3 --negatives 5 -q >/dev/null
h=$(tree_hash "$tmp/f" ! -name '*.png' ! -name '*.jpg')
[ "$h" = 92557cdec902b637906a2c8002d646f693027911d8b0c7375ecf91c9c3060a0c ] && ok || bad "default variant (64 px, 5 negatives) text files changed: $h"

# 2. usage errors
expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --variant medium
expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --variant hard --train-negatives 99
expect_rc 2 "$CTCIR" synth-shapes --out "$tmp/x" --train-negatives 2 --train 1 --val 0 --test 0 -q
"$CTCIR" synth-shapes --help | grep -q -- '--variant' && ok || bad "--variant not in the help"

# 3. the hard variant: deterministic whatever the threads, aligned per-phrase keys
gen() { "$CTCIR" synth-shapes --variant hard --out "$1" --train 30 --val 4 --test 20 --size 48 --seed 5 --train-negatives 2 -q "${@:2}" >/dev/null; }
gen "$tmp/h1" -t 1 && ok || bad "hard variant generation"
gen "$tmp/h2" -t 2
diff -r "$tmp/h1" "$tmp/h2" >/dev/null && ok || bad "hard variant differs between 1 and 2 threads"
[ "$(wc -l < "$tmp/h1/test_gallery.txt")" -eq 100 ] && ok || bad "hard test gallery: $(wc -l < "$tmp/h1/test_gallery.txt") lines, expected 20 x 5"
grep -q '"variant":[[:space:]]*"hard"' "$tmp/h1/synth.json" && ok || bad "synth.json names no variant"
python3 - "$tmp/h1" <<'PY' && ok || bad "hard records"
import json, os, sys
root = sys.argv[1]
types = {"object", "attribute+object", "relation", "background"}
for split, negkey in (("train", "train_negatives"), ("test", "hard_negatives")):
    for line in open(os.path.join(root, split + ".jsonl")):
        r = json.loads(line)
        nps, cells, ts = r["noun_phrases"], r["phrase_cells"], r["phrase_types"]
        assert len(nps) == len(cells) == len(ts) > 0, r["id"]
        assert r["grid"] == 3
        assert 2 <= len(r["edits"]) <= 4, r["edits"]
        for p, c, t in zip(nps, cells, ts):
            assert p in r["caption"], (p, r["caption"])
            assert t in types, t
            assert all(0 <= x < 9 for x in c) and len(set(c)) == len(c), c
            if t == "relation":
                assert len(c) == 1 and any(w in p for w in (" left of ", " right of ", " above ", " over ", " below ", " under ")), p
            if t == "background":
                assert p == "the background", p
        assert len(r[negkey]) == (2 if split == "train" else 3), r["id"]
        for n in r[negkey]:
            assert os.path.getsize(os.path.join(root, n)) > 0, n
PY
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
