# Sourced by CLI tests: make_tiny DIR builds, in a few seconds, a synthetic test split
# (DIR/d), a BPE vocabulary, a tiny random CLIP folder (DIR/m: 32 px, patch 8, width 32, one
# layer) and a complete index of the test gallery (DIR/ix.st). Needs $CTCIR.
make_tiny() {
  local T=$1
  "$CTCIR" synth-shapes --out "$T/d" --train 6 --val 1 --test 6 --size 32 --seed 11 -q -t 1 >/dev/null || return 1
  sed -n 's/.*"caption":"\([^"]*\)".*/\1/p' "$T/d/train.jsonl" "$T/d/test.jsonl" > "$T/caps.txt"
  "$CTCIR" bpe-train --input "$T/caps.txt" --vocab-size 600 --out "$T/vocab" -q >/dev/null || return 1
  cat > "$T/model.json" <<'JSON'
{"projection_dim": 16,
 "text_config": {"vocab_size": "auto", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                 "num_attention_heads": 4},
 "vision_config": {"image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
                   "num_hidden_layers": 1, "num_attention_heads": 4}}
JSON
  "$CTCIR" init --config "$T/model.json" --vocab "$T/vocab" --out "$T/m" --seed 2 >/dev/null || return 1
  "$CTCIR" index --model "$T/m" --list "$T/d/test_gallery.txt" --out "$T/ix.st" -t 1 -q || return 1
}
