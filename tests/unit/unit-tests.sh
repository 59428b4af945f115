#!/usr/bin/env bash
# The unit tests as one program (make installs this as build/unit-tests):
# runs the two Check programs built next to it, unit-core (the core's
# tests, linked with the core library only) and unit-shell (the shell's),
# shows their output, and ends with one line "unit: N passed, M failed".
# Exits non-zero when a test fails or a program ends without its result.
set -uo pipefail
dir=$(dirname "$0")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0 fail=0
for prog in unit-core unit-shell; do
    "$dir/$prog" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -E "^$prog: [0-9]+ passed, [0-9]+ failed\$" "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$prog: no result line (exit $rc)"
        fail=$((fail + 1))
        continue
    fi
    p=$(sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line")
    f=$(sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
