#!/usr/bin/env bash
# Configuration files through the command line: `check-config --config FILE`
# accepts every tests/config/good-*.yaml (exit 0) and refuses every
# bad-*.yaml (exit 1) with exactly the "FILE:LINE:COL: error: ..." lines that
# the file's "# expect: LINE:COL: text" comments list.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="${WEBHOOK_BIN:-bin/imagebuilder-webhook}"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

if [ ! -x "$bin" ]; then
    ko "no webhook binary at $bin (run make)"
    echo "config: $pass passed, $fail failed"
    exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"; rm -rf "${tmpd:-}"' EXIT

for f in tests/config/good-*.yaml; do
    if "$bin" check-config --config "$f" >"$out" 2>&1; then ok; else ko "$f refused: $(cat "$out")"; fi
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
        ko "$f: $got errors printed, $want expected: $(cat "$out")"
    elif [ "$bad" -eq 0 ]; then
        ok
    fi
done

# files that cannot be read at all
tmpd=$(mktemp -d)
"$bin" check-config --config "$tmpd" >"$out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$tmpd: error: is a directory" "$out"; then ok; else ko "directory: exit $rc: $(cat "$out")"; fi
"$bin" check-config --config "$tmpd/missing.yaml" >"$out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$tmpd/missing.yaml: error: cannot open the file: No such file or directory" "$out"; then
    ok
else
    ko "missing file: exit $rc: $(cat "$out")"
fi

echo "config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
