#!/usr/bin/env bash
# Runs every test area and prints one closing line "N passed, M failed".
#
# Each area is a script tests/<area>/run.sh whose last line of output is
# "<area>: N passed, M failed" (tests/lib.sh). Areas run in name order, unit
# first. An area without that line, or that exits non-zero with no failure
# counted, counts one failure.
# --quick (used under the sanitizers) sets QUICK=1: areas skip what needs
# other toolchains (Go, Node) and long soaks.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
export UNIT_BIN="${UNIT_BIN:-$PWD/build/unit-tests}"
[ "${1:-}" = "--quick" ] && export QUICK=1

total_pass=0 total_fail=0
areas=(tests/unit/run.sh)
for s in tests/*/run.sh; do
    [ "$s" = tests/unit/run.sh ] || areas+=("$s")
done
out=$(mktemp)
failed=$(mktemp)
trap 'rm -f "$out" "$failed"' EXIT
for script in "${areas[@]}"; do
    area=$(basename "$(dirname "$script")")
    echo "=== $area"
    bash "$script" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    t_area "$area"
    add_counts "$(cat "$out")" "$rc"
    grep -qE "^$area: [0-9]+ passed, [0-9]+ failed\$" "$out" || echo "$area: no result line (exit $rc)" | tee -a "$failed"
    grep -E '^(FAIL |[^ ]+:[0-9]+:[EF]:)' "$out" | sed "s/^/$area: /" >>"$failed"
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
done
echo
# The failed checks again, so that the end of a long log names them.
[ -s "$failed" ] && { echo "failed checks:"; sed 's/^/  /' "$failed"; }
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
