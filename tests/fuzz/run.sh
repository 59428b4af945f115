#!/usr/bin/env bash
# fuzz area: a short smoke of every libFuzzer target. Each target first
# replays every committed seed (past findings live there as regression
# inputs), then fuzzes for a bounded number of runs from a scratch copy.
# The long runs are `make fuzz` (FUZZ_SECONDS per target).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area fuzz
build="${FUZZ_BUILD:-build-fuzz}"
runs="${FUZZ_SMOKE_RUNS:-20000}"
secs="${FUZZ_SMOKE_SECONDS:-4}"
t_work
scratch=$work
if ! make -s fuzz-build >"$work/fuzz-build.log" 2>&1; then
    ko "build the fuzz targets (make fuzz-build)" "$(tail -n 20 "$work/fuzz-build.log")"
    finish
fi
targets=$(make -s --no-print-directory -f Makefile -f - <<<'print-fuzz-targets: ; @echo $(FUZZ_ALL_TARGETS)' print-fuzz-targets)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in $targets; do
    bin="$build/fuzz_$t"
    seeds=(tests/fuzz/corpus/"$t"/*)
    if [ ! -e "${seeds[0]}" ]; then
        ko "$t: no seed corpus in tests/fuzz/corpus/$t"
        continue
    fi
    if "$bin" -timeout=10 "${seeds[@]}" >"$scratch/$t.replay" 2>&1; then
        ok "$t: ${#seeds[@]} seeds replayed"
    else
        ko "$t: a seed fails"
        grep -E 'Running:|ERROR|property failed|SUMMARY' "$scratch/$t.replay" | tail -n 6
    fi
    mkdir -p "$scratch/$t"
    if "$bin" -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$scratch/" "$scratch/$t" tests/fuzz/corpus/"$t" \
        >"$scratch/$t.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
        ok "$t: fuzzed ${execs:-?} inputs"
    else
        ko "$t: fuzzing found a problem"
        grep -E 'ERROR|property failed|SUMMARY|#0 |#1 |#2 ' "$scratch/$t.log" | head -n 8
        for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*; do
            [ -e "$a" ] && echo "     input: $(base64 -w0 <"$a" | head -c 400)"
        done
        rm -f "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*
    fi
done
finish
