#!/usr/bin/env bash
# Runs libFuzzer targets one after the other (never two at once).
# Usage: tests/fuzz/fuzz.sh SECONDS TARGET...   (0 seconds: no time bound;
# FUZZ_RUNS=N: stop after N executions, whichever comes first). New inputs go to $FUZZ_BUILD/corpus/<target>,
# crashes to $FUZZ_BUILD/artifacts/<target>/; the committed seeds are read
# only. Prints one "<target>: N executions, ..." line per target and exits
# non-zero when any target found a problem.
set -uo pipefail
cd "$(dirname "$0")/../.."
build="${FUZZ_BUILD:-build-fuzz}"
secs="${1:-60}"
shift
status=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for t in "$@"; do
    bin="$build/fuzz_$t"
    [ -x "$bin" ] || { echo "$t: $bin missing (make fuzz-build)"; status=1; continue; }
    mkdir -p "$build/corpus/$t" "$build/artifacts/$t" tests/fuzz/corpus/"$t"
    limit=(-max_total_time="$secs")
    [ -n "${FUZZ_RUNS:-}" ] && limit+=(-runs="$FUZZ_RUNS")
    log="$build/fuzz_$t.log"
    "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" tests/fuzz/corpus/"$t" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
    echo "$t: ${execs:-?} executions, ${cov:-cov: ?}, exit $rc (log $log)"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E 'ERROR|property failed|SUMMARY|Test unit written' "$log" | head -n 5
    fi
done
exit $status
