#!/usr/bin/env bash
# bench/splice.sh FILE TAG GENERATED: puts GENERATED (which starts with the
# line "<!-- TAG:begin ... -->" and ends with "<!-- TAG:end -->") in place
# of FILE's part between those markers, keeping the rest of FILE. Without
# the markers in FILE, GENERATED goes at its end (FILE is created when
# missing). Used by bench/run.sh and bench/instructions.sh, which each own
# one part of bench/results.md.
set -euo pipefail
file=$1 tag=$2 gen=$3
tmp=$(mktemp "$file.XXXXXX")
if [ -f "$file" ] && grep -q "^<!-- $tag:begin" "$file" && grep -q "^<!-- $tag:end" "$file"; then
    awk -v gen="$gen" -v b="^<!-- $tag:begin" -v e="^<!-- $tag:end" '
        $0 ~ b { while ((getline l < gen) > 0) print l; skip = 1; next }
        $0 ~ e { skip = 0; next }
        !skip { print }' "$file" >"$tmp"
else
    { [ -f "$file" ] && cat "$file" && echo; cat "$gen"; } >"$tmp"
fi
mv "$tmp" "$file"
