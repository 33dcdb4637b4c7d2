#!/usr/bin/env bash
# The CLI is a client of the public API: src/cli/*.{c,h} include only "ctcir/..." (the public
# headers), "cli/..." (its own) and <system> headers. Library work needs a public header.
set -u
allowed=" "
bad=0 n=0
for f in src/cli/*.c src/cli/*.h; do
  n=$((n+1))
  while IFS= read -r line; do
    inc=$(printf '%s' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
    [ -z "$inc" ] && continue
    case "$allowed" in *" $f:$inc "*) continue ;; esac
    case "$inc" in
      ctcir/*|cli/*) ;;
      *) echo "FAILED: $f includes \"$inc\" (only ctcir/*.h, cli/*.h and <system> headers)" >&2; bad=$((bad+1)) ;;
    esac
  done < "$f"
done
[ "$n" -gt 5 ] || { echo "FAILED: found only $n files under src/cli" >&2; exit 1; }
echo "$n files checked, $bad bad includes"
[ "$bad" -eq 0 ]
