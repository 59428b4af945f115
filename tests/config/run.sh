#!/usr/bin/env bash
# Configuration files through the command line: `check-config --config FILE`
# accepts every tests/config/good-*.yaml (exit 0) and refuses every
# bad-*.yaml (exit 1) with exactly the "FILE:LINE:COL: error: ..." lines that
# the file's "# expect: LINE:COL: text" comments list.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area config
bin=$WEBHOOK_BIN
[ -x "$bin" ] || { ko "no webhook binary at $bin (run make)"; finish; }
t_work
out=$work/out

for f in tests/config/good-*.yaml; do
    if "$bin" check-config --config "$f" >"$out" 2>&1; then ok "$f accepted"; else ko "$f refused" "$(cat "$out")"; fi
done

for f in tests/config/bad-*.yaml; do
    "$bin" check-config --config "$f" >"$out" 2>&1
    rc=$?
    if [ "$rc" -ne 1 ]; then
        ko "$f: exit $rc, expected 1"
        continue
    fi
    want=0 bad=0
    while IFS= read -r line; do
        pos=${line%%: *}
        text=${line#*: }
        want=$((want + 1))
        if ! grep -qF -- "$f:$pos: error: " "$out" ||
            ! grep -F -- "$f:$pos: error: " "$out" | grep -qF -- "$text"; then
            ko "$f: missing '$f:$pos: error: ...$text'"
            bad=1
        fi
    done < <(sed -n 's/^# expect: //p' "$f")
    got=$(grep -c ": error: " "$out")
    if [ "$want" -eq 0 ]; then
        ko "$f has no '# expect:' line"
    elif [ "$got" -ne "$want" ]; then
        ko "$f: $got errors printed, $want expected" "$(cat "$out")"
    elif [ "$bad" -eq 0 ]; then
        ok "$f refused with its $want expected errors"
    fi
done

# files that cannot be read at all
tmpd=$work/dir
mkdir "$tmpd"
"$bin" check-config --config "$tmpd" >"$out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$tmpd: error: is a directory" "$out"; then ok "a directory is refused"; else ko "directory: exit $rc" "$(cat "$out")"; fi
"$bin" check-config --config "$tmpd/missing.yaml" >"$out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$tmpd/missing.yaml: error: cannot open the file: No such file or directory" "$out"; then
    ok "a missing file is refused"
else
    ko "missing file: exit $rc" "$(cat "$out")"
fi
finish
