#!/usr/bin/env bash
# The CLI contract every command keeps (cli/opts.h): one error style naming the flag, with a
# suggestion; usage errors exit 2 before anything is created; the same short flags; -t bounded;
# -q/-v; results on stdout and a failed stdout write is exit 1; `help index merge`; query's
# eval-like protocol (--exclude, --exclude-reference, --target rank, --queries); "-" is stdin.
set -u
CTCIR=${CTCIR:-build/ctcir}
CTCIR=$(cd "$(dirname "$CTCIR")" && pwd)/$(basename "$CTCIR")   # the test cd-s
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAILED: $*" >&2; }
# rc WANT CMD...: exit status; stderr kept in $T/err, stdout in $T/out
rc() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local got=$?; [ "$got" -eq "$want" ] && ok || bad "exit $got != $want: $* ($(head -c 300 "$T/err"))"; }
has() { grep -q -- "$2" "$1" && ok || bad "$1 lacks '$2': $(head -c 300 "$1")"; }

. tests/tiny_model.sh
make_tiny "$T" || { echo "FAILED: fixture" >&2; exit 1; }
M=$T/m IX=$T/ix.st D=$T/d
REF=$D/images/test/test-000001-ref.png
Q=(--model "$M" --index "$IX" --image "$REF" -t 1)

# ---- one error style, with suggestions ----
rc 2 "$CTCIR" index --hlep;                has "$T/err" "ctcir index: unknown option --hlep; did you mean --help?"
rc 2 "$CTCIR" query --modle "$M";          has "$T/err" "did you mean --model?"
rc 2 "$CTCIR" index --model "$M" --out;    has "$T/err" "ctcir index: --out needs a value"
rc 2 "$CTCIR" train --out;                 has "$T/err" "out"
rc 2 "$CTCIR" trian;                       has "$T/err" "did you mean 'train'?"
rc 2 "$CTCIR" help idnex;                  has "$T/err" "did you mean 'index'?"
rc 2 "$CTCIR" index mrege a.st -o b.st;    has "$T/err" "did you mean 'merge'?"
rc 2 "$CTCIR" query "${Q[@]}" --text x -k 0;   has "$T/err" "ctcir query: --top-k: expected an integer in 1..100000, got '0'"
rc 2 "$CTCIR" nps --max=abc --text x;      has "$T/err" "--max: expected an integer"
rc 2 "$CTCIR" eval --json=1 --model "$M";  has "$T/err" "--json takes no value"
[ "$(grep -c . "$T/err")" -le 2 ] && ok || bad "one message (plus the help hint), got: $(cat "$T/err")"
# unambiguous abbreviations work as with getopt_long; ambiguous ones name the candidates
rc 0 "$CTCIR" query --mod "$M" --ind "$IX" --image "$REF" --tex x -k 1 -t 1
rc 2 "$CTCIR" query "${Q[@]}" --text x --ima x; has "$T/err" "ambiguous option --ima: --image, --images"

# ---- -t means threads everywhere, bounded; nps -t is no longer its text ----
for c in index query eval encode explain tokenize synth-shapes; do
  rc 2 "$CTCIR" "$c" -t 1000000;  has "$T/err" "--threads: expected an integer in 1..1024, got '1000000'"
  rc 2 "$CTCIR" "$c" --threads 0; has "$T/err" "--threads"
done
rc 2 "$CTCIR" nps -t 4
rc 0 "$CTCIR" nps --text "a red car"; has "$T/out" '\["a red car"\]'
# -m is the model, -o the output where a command has them
rc 0 "$CTCIR" query -m "$M" --index "$IX" --image "$REF" --text x -k 1 -t 1

# ---- usage errors exit 2 before anything is created ----
rc 2 "$CTCIR" index -m "$M" --images "$D/images" -o "$T/new1/x.st" --dtype f64
[ ! -e "$T/new1" ] && [ ! -e "$T/new1/x.st" ] && ok || bad "index usage error created output"
rc 2 "$CTCIR" synth-shapes -o "$T/new2" --size 5
[ ! -e "$T/new2" ] && ok || bad "synth-shapes usage error created --out"
rc 2 "$CTCIR" init --config "$T/model.json" --vocab "$T/vocab" -o "$T/new3" --bogus
[ ! -e "$T/new3" ] && ok || bad "init usage error created --out"
rc 2 "$CTCIR" bpe-train -i "$T/caps.txt" --vocab-size 10 -o "$T/new4"
[ ! -e "$T/new4" ] && ok || bad "bpe-train usage error created --out"
rc 2 "$CTCIR" explain -m "$M" --image "$REF" --text x -o "$T/new5.png" --alpha 3
[ ! -e "$T/new5.png" ] && ok || bad "explain usage error wrote --out"

# ---- help ----
rc 0 "$CTCIR" help index merge; has "$T/out" "usage: ctcir index merge"
rc 0 "$CTCIR" index merge --help; has "$T/out" "usage: ctcir index merge"
rc 0 "$CTCIR" help index; has "$T/out" "usage: ctcir index --model"
rc 0 "$CTCIR" eval --help; has "$T/out" "loader-threads N .*(default 1)"
rc 0 "$CTCIR" synth-shapes --help; has "$T/out" "--negatives K .*(default [0-9])"
rc 0 "$CTCIR" --version; has "$T/out" "^commit: "; has "$T/out" "^compiler: "

# ---- stdout that cannot be written: exit 1 with a message ----
if [ -w /dev/full ]; then
  for args in "--version" "help index" "nps --text a-car" "inspect $IX"; do
    # shellcheck disable=SC2086
    "$CTCIR" $args > /dev/full 2>"$T/err"; r=$?
    [ $r -eq 1 ] && grep -q "writing stdout" "$T/err" && ok || bad "'$args' > /dev/full: exit $r, $(cat "$T/err")"
  done
  "$CTCIR" query "${Q[@]}" --text x --json > /dev/full 2>/dev/null; [ $? -eq 1 ] && ok || bad "query > /dev/full"
  "$CTCIR" eval -m "$M" --dataset manifest --root "$D" --split test --index "$IX" -t 1 --json > /dev/full 2>/dev/null
  [ $? -eq 1 ] && ok || bad "eval --json > /dev/full"
else
  echo "no writable /dev/full: stdout-error checks skipped" >&2
fi

# ---- results on stdout, logs on stderr; -q and -v ----
rc 0 "$CTCIR" eval -m "$M" --dataset manifest --root "$D" --split test --index "$IX" -t 1
has "$T/out" "R@1 "; grep -q "R@1" "$T/err" && bad "eval table on stderr" || ok
rc 0 "$CTCIR" eval -m "$M" --dataset manifest --root "$D" --split test --index "$IX" -t 1 --json
for k in '"model_id":"ctcir:' '"ctcir_version":' '"model_path":"/' '"recall@1":'; do has "$T/out" "$k"; done
rc 0 "$CTCIR" query "${Q[@]}" --text x -q; [ ! -s "$T/err" ] && ok || bad "-q left: $(cat "$T/err")"
rc 0 "$CTCIR" query "${Q[@]}" --text x;    has "$T/err" "query: top-"
grep -q "activations" "$T/err" && bad "debug lines without -v" || ok
rc 0 "$CTCIR" query "${Q[@]}" --text x -v; has "$T/err" "activations"
rc 2 "$CTCIR" query "${Q[@]}" --text x -q -v

# ---- query: eval's protocol ----
G=$(grep -c . "$D/test_gallery.txt")
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k "$G"; cp "$T/out" "$T/full.tsv"
[ "$(grep -c . "$T/full.tsv")" -eq "$G" ] && ok || bad "-k G lists the whole gallery"
self=images/test/test-000001-ref
grep -q "$self" "$T/full.tsv" && ok || bad "the reference is in the full ranking"
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k "$G" --exclude-reference
grep -q "$self" "$T/out" && bad "--exclude-reference kept $self" || ok
[ "$(grep -c . "$T/out")" -eq $((G - 1)) ] && ok || bad "--exclude-reference: $G - 1 results"
# the order of the others is the full ranking without that line
grep -v "$self" "$T/full.tsv" | cut -f2 > "$T/a"; cut -f2 "$T/out" > "$T/b"
cmp -s "$T/a" "$T/b" && ok || bad "excluding one entry changed the order of the rest"
first=$(sed -n 2p "$T/full.tsv" | cut -f2) second=$(sed -n 3p "$T/full.tsv" | cut -f2)
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k 2 --exclude "$self" --exclude "$first"
[ "$(cut -f2 "$T/out" | head -1)" = "$second" ] && ok || bad "--exclude twice: got $(head -1 "$T/out")"
rc 0 "$CTCIR" query "${Q[@]}" --text "" --exclude no/such/name -k 1; has "$T/err" "--exclude 'no/such/name' is not in the index"
# --target: unknown is a warning (exit 0) with a suggestion; outside the top-k its rank is printed
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k 1 --target test-000001-tgt
has "$T/err" "is not in the index; did you mean 'images/test/test-000001-tgt'?"
last=$(tail -1 "$T/full.tsv" | cut -f2)
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k 2 --target "$last"
has "$T/out" "^# target $last: rank $G,"
rc 0 "$CTCIR" query "${Q[@]}" --text "" -k 2 --target "$last" --exclude-reference --json
has "$T/out" "\"target_rank\": $((G - 1)),"
# --queries: one JSON line per query, the same answers and keys as one query at a time
{
  printf '{"id": "q1", "image": "d/images/test/test-000001-ref.png", "text": ""}\n\n'
  printf '{"id": 7, "image": "d/images/test/test-000002-ref.png", "text": "make it red", "target": "%s", "exclude": ["%s"]}\n' "$last" "$first"
} > "$T/q.jsonl"
rc 0 "$CTCIR" query -m "$M" --index "$IX" --queries "$T/q.jsonl" -k 3 -t 1
[ "$(grep -c . "$T/out")" -eq 2 ] && ok || bad "--queries: 2 lines out"
sed -n 1p "$T/out" > "$T/l1"; sed -n 2p "$T/out" > "$T/l2"
has "$T/l1" '^{"id": "q1", "results": '; has "$T/l2" '^{"id": 7, '
"$CTCIR" query "${Q[@]}" --text "" -k 3 --json 2>/dev/null > "$T/one1"
norm() { sed -e 's/"id": [^,]*, //' -e 's/, "search_seconds".*//' "$1"; }
[ "$(norm "$T/l1")" = "$(norm "$T/one1")" ] && ok || bad "--queries line 1 differs from the single query: $(norm "$T/l1") vs $(norm "$T/one1")"
"$CTCIR" query -m "$M" --index "$IX" --image "$D/images/test/test-000002-ref.png" --text "make it red" -k 3 \
  --target "$last" --exclude "$first" --json -t 1 2>/dev/null > "$T/one2"
[ "$(norm "$T/l2")" = "$(norm "$T/one2")" ] && ok || bad "--queries line 2 differs from the single query"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out" && ok || bad "--queries output is not JSON lines"
fi
(cd "$T" && "$CTCIR" query -m m --index ix.st --queries - -k 3 -t 1 < q.jsonl > out2 2>/dev/null) && cmp -s <(norm "$T/l1") <(sed -n 1p "$T/out2" | sed -e 's/"id": [^,]*, //' -e 's/, "search_seconds".*//') && ok || bad "--queries - (stdin)"
printf '{"image": 3}\n' > "$T/badq.jsonl"
rc 1 "$CTCIR" query -m "$M" --index "$IX" --queries "$T/badq.jsonl" -t 1; has "$T/err" "badq.jsonl:1:"
rc 2 "$CTCIR" query -m "$M" --index "$IX" --queries "$T/q.jsonl" --image "$REF" -t 1

# ---- "-" reads stdin ----
(cd "$D" && "$CTCIR" index -m ../m --list - -o ../ix2.st -t 1 -q < test_gallery.txt) && ok || bad "index --list -"
"$CTCIR" query -m "$M" --index "$T/ix2.st" --image "$REF" --text "" -k "$G" -t 1 2>/dev/null > "$T/full2.tsv"
cmp -s "$T/full.tsv" "$T/full2.tsv" && ok || bad "index --list - ranks differently from --list FILE"
printf '"a red cube"\n' > "$T/t.txt"
"$CTCIR" tokenize -m "$M" -i - < "$T/t.txt" > "$T/tok1" 2>/dev/null && "$CTCIR" tokenize -m "$M" -i "$T/t.txt" > "$T/tok2" 2>/dev/null \
  && cmp -s "$T/tok1" "$T/tok2" && [ -s "$T/tok1" ] && ok || bad "tokenize -i -"

# ---- bpe-train keeps an existing vocabulary unless --force ----
cp "$T/vocab/vocab.json" "$T/v.before"
rc 1 "$CTCIR" bpe-train -i "$T/caps.txt" --vocab-size 520 -o "$T/vocab"; has "$T/err" "--force"
cmp -s "$T/vocab/vocab.json" "$T/v.before" && ok || bad "bpe-train overwrote without --force"
rc 0 "$CTCIR" bpe-train -i "$T/caps.txt" --vocab-size 520 -o "$T/vocab" --force
cmp -s "$T/vocab/vocab.json" "$T/v.before" && bad "--force did not replace the vocabulary" || ok

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
