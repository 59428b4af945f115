#!/usr/bin/env bash
# Runs every test area and prints one closing line "N passed, M failed".
#
# Each area is a script tests/<area>/run.sh whose last line of output is
# "<area>: N passed, M failed". Areas run in name order, unit first.
# --quick (used under the sanitizers) sets QUICK=1: areas skip what needs
# other toolchains (Go, Node) and long soaks.
set -uo pipefail
cd "$(dirname "$0")/.."
export WEBHOOK_BIN="${WEBHOOK_BIN:-$PWD/bin/imagebuilder-webhook}"
export UNIT_BIN="${UNIT_BIN:-$PWD/build/unit-tests}"
[ "${1:-}" = "--quick" ] && export QUICK=1

total_pass=0 total_fail=0
areas=(tests/unit/run.sh)
for s in tests/*/run.sh; do
    [ "$s" = tests/unit/run.sh ] || areas+=("$s")
done
for script in "${areas[@]}"; do
    area=$(basename "$(dirname "$script")")
    echo "=== $area"
    out=$(mktemp)
    bash "$script" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$line" ]; then
        echo "$area: no result line (exit $rc)"
        total_fail=$((total_fail + 1))
        continue
    fi
    p=$(sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
    f=$(sed -E 's/^[a-z-]+: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
