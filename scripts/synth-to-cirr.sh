#!/usr/bin/env bash
# Lays out a `ctcir synth-shapes` split in CIRR's format (captions/cap.rc2.<split>.json,
# image_splits/split.rc2.<split>.json, images beside them), so the CIRR reader, metrics and
# server-file writers can be exercised on generated images:
#
#   scripts/synth-to-cirr.sh SYNTH_DIR SYNTH_SPLIT OUT_DIR [CIRR_SPLIT] [MAX_QUERIES]
#
# Each query's img_set.members are its reference, its target and its hard negatives (padded
# with other queries' references to CIRR's 6). Image names are the relative paths with '/'
# turned into '_' and no extension.
set -euo pipefail
SRC=$1 SPLIT=$2 OUT=$3 CSPLIT=${4:-val} MAXQ=${5:-1000000}
mkdir -p "$OUT/captions" "$OUT/image_splits"
[ -e "$OUT/images" ] || ln -s "$(cd "$SRC" && pwd)/images" "$OUT/images"
awk -v root="$SRC" -v maxq="$MAXQ" -v caps="$OUT/captions/cap.rc2.$CSPLIT.json" -v splitf="$OUT/image_splits/split.rc2.$CSPLIT.json" '
  function field(line, k,   m) { if (match(line, "\"" k "\":\"[^\"]*\"")) { m = substr(line, RSTART, RLENGTH); sub("^\"" k "\":\"", "", m); sub("\"$", "", m); return m } return "" }
  function stem(p) { sub(/\.[a-z]+$/, "", p); gsub("/", "_", p); return p }
  BEGIN { n = 0 }
  n < maxq {
    ref = field($0, "reference"); tgt = field($0, "target"); cap = field($0, "caption")
    r = stem(ref); t = stem(tgt); names[r] = ref; names[t] = tgt
    pre = tgt; sub(/-tgt\.[a-z]+$/, "", pre)
    mem = "\"" r "\", \"" t "\""; k = 2
    for (j = 0; j < 8 && k < 6; j++) for (e = 0; e < 2; e++) {
      neg = pre "-neg" j (e ? ".jpg" : ".png")
      if (system("test -f \"" root "/" neg "\"") == 0) { nn = stem(neg); names[nn] = neg; mem = mem ", \"" nn "\""; k++; break }
    }
    refs[n] = r; qcap[n] = cap; qref[n] = r; qtgt[n] = t; qmem[n] = mem; qk[n] = k; n++
  }
  END {
    printf "[" > caps
    for (i = 0; i < n; i++) {
      mem = qmem[i]
      for (j = 1; qk[i] < 6 && j < n; j++) { o = refs[(i + j) % n]; if (o != qref[i]) { mem = mem ", \"" o "\""; qk[i]++ } }
      printf "%s{\"pairid\": %d, \"reference\": \"%s\", \"target_hard\": \"%s\", \"target_soft\": {\"%s\": 1.0}, \"caption\": \"%s\", \"img_set\": {\"id\": %d, \"members\": [%s], \"reference_rank\": 0, \"target_rank\": 1}}", (i ? ", " : ""), 1000 + i, qref[i], qtgt[i], qtgt[i], qcap[i], i, mem > caps
    }
    print "]" > caps
    first = 1; printf "{" > splitf
    for (k in names) { printf "%s\"%s\": \"./%s\"", (first ? "" : ", "), k, names[k] > splitf; first = 0 }
    print "}" > splitf
  }' "$SRC/$SPLIT.jsonl"
echo "$OUT: $(grep -o '"pairid"' "$OUT/captions/cap.rc2.$CSPLIT.json" | wc -l) queries, $(grep -o '": "\./' "$OUT/image_splits/split.rc2.$CSPLIT.json" | wc -l) images" >&2
