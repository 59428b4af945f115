#!/usr/bin/env bash
# bench/instructions.sh: `make bench-instructions`, the instruction-count
# mode of the benchmark. Instructions do not depend on the machine's load,
# so this mode is repeatable on a busy machine where timed runs are not.
#
# For `serve` and for the bare libh2o responder (bench/floor.c), each under
# callgrind: answer N1 then, in a second run, N2 requests of the 7.4 KB
# mutated Flyte pod (h2load --h1 -c 16, logging at info); the difference
# divided by N2 - N1 is the user-space instructions per request, start-up
# and TLS handshakes cancelled out. The decision core alone (core-bench
# --count) is measured the same way. Prints instructions per request, the
# model's ratio to the floor and the breakdown by module, and writes them
# into their part of $BENCH_RESULTS (default bench/results.md), next to the
# timed runs of bench/run.sh.
#
# The model: the kernel and the rest of the request's cost outside user
# space is about MODEL_K instruction-equivalents whatever the server, so
# the CPU ratio to the floor is about (MODEL_K + webhook) / (MODEL_K + floor).
# MODEL_K = 139000 was fitted to side-by-side timed runs on this machine
# kind (the floor's 49.9 k user instructions plus 139 k make its 189 k).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh # free_port

N1=${BENCH_N1:-1000}
N2=${BENCH_N2:-3000}
MODEL_K=${MODEL_K:-139000}
WEBHOOK_BIN=${WEBHOOK_BIN:-bin/imagebuilder-webhook}
BIN_DIR=${BENCH_BIN_DIR:-build/bench}
RESULTS=${BENCH_RESULTS:-bench/results.md}
GOLDEN=tests/golden/mutate-gar-path-layout
for t in valgrind callgrind_annotate h2load python3; do
    command -v "$t" >/dev/null || { echo "bench: $t is missing (hack/install-deps.sh test bench)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/imagebuilder-insn.XXXXXX)
PID=""
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '%s\n' "$*" >&2; }

certs/gen-certs.sh --out "$WORK/certs" --extra-san IP:127.0.0.1 >/dev/null 2>&1
{ cat "$GOLDEN/config.yaml"; printf 'webhook:\n  threads: 1\n  logLevel: info\n'; } >"$WORK/webhook.yaml"
mkdir -p "$WORK/bodies"
"$BIN_DIR/bodies" --golden "$GOLDEN/review.json" --out "$WORK/bodies" >/dev/null
BODY=$WORK/bodies/mutated.json


# callgrind's total instruction count of a finished run's output file.
total() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# serve_run NAME N CMD...: CMD (a server) under callgrind answers N requests, then SIGTERM.
serve_run() {
    local name=$1 n=$2 port
    shift 2
    port=$(free_port)
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.$n.out" "$@" \
        --listen "127.0.0.1:$port" --tls-cert "$WORK/certs/tls.crt" --tls-key "$WORK/certs/tls.key" \
        >"$WORK/$name.$n.log" 2>&1 &
    PID=$!
    local i
    for i in $(seq 1 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$PID" 2>/dev/null || { say "bench: $name exited:"; tail -n 20 "$WORK/$name.$n.log" >&2; exit 1; }
        sleep 0.1
    done
    h2load --h1 -c 16 -t 1 -n "$n" -H "content-type: application/json" -d "$BODY" \
        "https://127.0.0.1:$port/mutate" >"$WORK/h2load.$name.$n" 2>&1
    grep -q "succeeded, 0 failed, 0 errored" <<<"$(grep '^requests:' "$WORK/h2load.$name.$n")" ||
        { say "bench: not every request to $name succeeded:"; cat "$WORK/h2load.$name.$n" >&2; exit 1; }
    kill -TERM "$PID"
    wait "$PID" || true
    PID=""
}

per_request() { awk -v a="$1" -v b="$2" -v n=$((N2 - N1)) 'BEGIN { printf "%.0f", (b - a) / n }'; }

say "bench: webhook under callgrind ($N1 and $N2 requests)"
serve_run webhook "$N1" "$WEBHOOK_BIN" serve --config "$WORK/webhook.yaml"
serve_run webhook "$N2" "$WEBHOOK_BIN" serve --config "$WORK/webhook.yaml"
say "bench: floor under callgrind"
serve_run floor "$N1" "$BIN_DIR/floor"
serve_run floor "$N2" "$BIN_DIR/floor"
say "bench: decision core under callgrind"
C1=$((N1 / 10)) C2=$((N2 / 10))
for c in "$C1" "$C2"; do
    valgrind --tool=callgrind --callgrind-out-file="$WORK/core.$c.out" "$BIN_DIR/core-bench" \
        --config "$WORK/webhook.yaml" --count "$c" "mutated=$BODY:mutated" >/dev/null 2>"$WORK/core.$c.log"
done

W=$(per_request "$(total "$WORK/webhook.$N1.out")" "$(total "$WORK/webhook.$N2.out")")
F=$(per_request "$(total "$WORK/floor.$N1.out")" "$(total "$WORK/floor.$N2.out")")
C=$(awk -v a="$(total "$WORK/core.$C1.out")" -v b="$(total "$WORK/core.$C2.out")" \
    -v n=$((C2 - C1)) 'BEGIN { printf "%.0f", (b - a) / n }')
RATIO=$(awk -v w="$W" -v f="$F" -v k="$MODEL_K" 'BEGIN { printf "%.2f", (k + w) / (k + f) }')

# Breakdown of the webhook's per-request instructions by module: the
# project's source files by name, everything else by shared object.
for n in "$N1" "$N2"; do
    callgrind_annotate --inclusive=no --threshold=100 "$WORK/webhook.$n.out" >"$WORK/annot.$n" 2>/dev/null
done
python3 - "$WORK/annot.$N1" "$WORK/annot.$N2" $((N2 - N1)) >"$WORK/modules.md" <<'PY'
import re, sys, os
def groups(path):
    g = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S+?):(\S+)\s+\[([^\]]+)\]", line)
        if not m:
            continue
        n = int(m.group(1).replace(",", ""))
        src, obj = m.group(2), os.path.basename(m.group(4))
        key = "webhook/" + os.path.basename(src) if "webhook/" in src else obj
        key = re.sub(r"\.so(\.\d+)*$", "", key)
        g[key] = g.get(key, 0) + n
    return g
a, b, n = groups(sys.argv[1]), groups(sys.argv[2]), int(sys.argv[3])
rows = sorted(((b.get(k, 0) - a.get(k, 0)) / n, k) for k in set(a) | set(b))
print("| module | instructions/request |\n|---|--:|")
for v, k in reversed(rows):
    if v >= 100:
        print("| %s | %.0f |" % (k, v))
PY

{
    echo "<!-- instructions:begin (generated by bench/instructions.sh; edit outside the markers) -->"
    echo "## Instructions per request (callgrind, \`make bench-instructions\`)"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); 7.4 KB mutated Flyte pod, h2load --h1 -c 16," \
        "runs of $N1 and $N2 requests (the difference over $((N2 - N1)) requests)."
    echo
    echo "| measure | instructions/request |"
    echo "|---|--:|"
    echo "| webhook \`serve\` (user space) | $W |"
    echo "| floor (bare libh2o responder) | $F |"
    echo "| decision core alone (core-bench) | $C |"
    echo "| model ratio to the floor, (${MODEL_K} + webhook) / (${MODEL_K} + floor) | ${RATIO}× |"
    echo
    echo "Where the webhook's instructions go:"
    echo
    cat "$WORK/modules.md"
    echo "<!-- instructions:end -->"
} >"$WORK/report.md"
grep -v '^<!-- instructions:' "$WORK/report.md"
bench/splice.sh "$RESULTS" instructions "$WORK/report.md"
say "bench: written to $RESULTS"
