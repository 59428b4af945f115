#!/usr/bin/env bash
# bench/run.sh: the `make bench` run. Loads `imagebuilder-webhook serve` and
# the bare TLS responder (bench/floor.c) side by side with h2load, runs the
# decision-core micro-benchmark, prints the tables and rewrites the generated
# part of bench/results.md (text outside its markers is kept).
#
# It measures; it never fails on a figure. It fails only when the harness
# cannot run (a server does not start, a body does not get its outcome).
#
# Environment (the Makefile passes them):
#   BENCH_REPEAT   measured runs per setting, reported as medians (default 3)
#   BENCH_SECONDS  length of one measured run (default 10)
#   BENCH_WARMUP   warm-up before each setting, per server (default 2)
#   BENCH_QUICK=1  smoke run: 2 s runs, one repetition, 1 s warm-up
#   WEBHOOK_BIN, BENCH_BIN_DIR (floor, core-bench, bodies), BENCH_RESULTS
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh # free_port

REPEAT=${BENCH_REPEAT:-3}
DUR=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP:-2}
CORE_SECONDS=3
QUICK=0
if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
    QUICK=1 REPEAT=1 DUR=2 WARM=1 CORE_SECONDS=0.5
fi
WEBHOOK_BIN=${WEBHOOK_BIN:-bin/imagebuilder-webhook}
BIN_DIR=${BENCH_BIN_DIR:-build/bench}
RESULTS=${BENCH_RESULTS:-bench/results.md}
GOLDEN=tests/golden/mutate-gar-path-layout
CLK_TCK=$(getconf CLK_TCK)

for f in "$WEBHOOK_BIN" "$BIN_DIR/floor" "$BIN_DIR/core-bench" "$BIN_DIR/bodies"; do
    [ -x "$f" ] || { echo "bench: $f is missing (run make bench-build)" >&2; exit 1; }
done
command -v h2load >/dev/null || { echo "bench: h2load missing (hack/install-deps.sh bench)" >&2; exit 1; }

# One core for the servers, the other for the load generator.
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
    SERVER_PIN=(taskset -c 0) LOAD_PIN=(taskset -c 1) PINNING="server on CPU 0, load generator on CPU 1"
else
    SERVER_PIN=() LOAD_PIN=() PINNING="one CPU: no pinning, server and load generator share it"
fi

WORK=$(mktemp -d /tmp/imagebuilder-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# The whole run uses one build, even if the tree is rebuilt meanwhile.
mkdir -p "$WORK/bin"
cp "$WEBHOOK_BIN" "$WORK/bin/imagebuilder-webhook"
cp "$BIN_DIR/floor" "$BIN_DIR/core-bench" "$BIN_DIR/bodies" "$WORK/bin/"
WEBHOOK_BIN=$WORK/bin/imagebuilder-webhook BIN_DIR=$WORK/bin

say() { printf '%s\n' "$*" >&2; }

# ---- inputs -----------------------------------------------------------------
say "bench: certificates, configuration and bodies in $WORK"
certs/gen-certs.sh --out "$WORK/certs" --extra-san DNS:localhost --extra-san IP:127.0.0.1 \
    >/dev/null 2>"$WORK/gen-certs.log" || { cat "$WORK/gen-certs.log" >&2; exit 1; }
CERT=$WORK/certs/tls.crt KEY=$WORK/certs/tls.key

# The golden case's configuration, one worker thread, production log level,
# HTTP/2 on for the h2 settings (it is off by default).
# (The golden configuration has an imageBuilder block only.)
write_config() { # FILE LOGLEVEL
    { cat "$GOLDEN/config.yaml"; printf 'webhook:\n  threads: 1\n  logLevel: %s\n  http2: {enabled: true}\n' "$2"; } >"$1"
}
write_config "$WORK/webhook.yaml" info
write_config "$WORK/webhook-warn.yaml" warn

mkdir -p "$WORK/bodies"
"$BIN_DIR/bodies" --golden "$GOLDEN/review.json" --out "$WORK/bodies" >"$WORK/bodies.txt"
B=$WORK/bodies
size_of() { stat -c %s "$1"; }

# ---- decision core ------------------------------------------------------------
say "bench: decision core micro-benchmark"
"${LOAD_PIN[@]}" "$BIN_DIR/core-bench" --config "$WORK/webhook.yaml" --seconds "$CORE_SECONDS" \
    "mutated 7K=$B/mutated.json:mutated" "mutated 64K=$B/mutated-64k.json:mutated" \
    "mutated 256K=$B/mutated-256k.json:mutated" "large 1M=$B/large.json:mutated" \
    "passthrough 7K=$B/passthrough.json:allowed" "denied 7K=$B/denied.json:denied" \
    >"$WORK/core.md"
cat "$WORK/core.md"

# ---- servers ------------------------------------------------------------------

# start NAME LOGFILE CMD... : sets STARTED_PID and STARTED_PORT
start() {
    local name=$1 log=$2 port
    shift 2
    port=$(free_port)
    "${SERVER_PIN[@]}" "$@" --listen "127.0.0.1:$port" --tls-cert "$CERT" --tls-key "$KEY" \
        2>>"$log" &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "bench: $name exited at start:"
            tail -n 20 "$log" >&2
            exit 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            STARTED_PID=$pid STARTED_PORT=$port
            return 0
        fi
        sleep 0.1
    done
    say "bench: $name does not listen on $port"
    exit 1
}

stop() { # PID
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

cpu_ticks() { # utime + stime of every thread of PID, in clock ticks
    local s
    s=$(<"/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# ---- load ---------------------------------------------------------------------
SETTINGS=("h1 c16|--h1 -c 16" "h2 c1 m16|-c 1 -m 16" "h2 c1 m1|-c 1 -m 1")
H2LOAD_COMMON=(-t 1 -H "content-type: application/json")
RAW=$WORK/raw.tsv
: >"$RAW"

# run SERVERNAME PID PORT BODYNAME BODYFILE SETTINGNAME DURATION ARGS... (DURATION 0: warm-up)
run() {
    local srv=$1 pid=$2 port=$3 bname=$4 bfile=$5 sname=$6 dur=$7
    shift 7
    local out=$WORK/h2load.out log=$WORK/h2load.log
    if [ "$dur" = 0 ]; then
        timeout $((WARM + 60)) "${LOAD_PIN[@]}" h2load "$@" "${H2LOAD_COMMON[@]}" -D "$WARM" \
            -d "$bfile" "https://127.0.0.1:$port/mutate" >/dev/null 2>&1 || true
        return 0
    fi
    local t0 t1
    t0=$(cpu_ticks "$pid")
    timeout $((dur + 60)) "${LOAD_PIN[@]}" h2load "$@" "${H2LOAD_COMMON[@]}" -D "$dur" \
        -d "$bfile" --log-file "$log" "https://127.0.0.1:$port/mutate" >"$out" 2>&1 || true
    t1=$(cpu_ticks "$pid")
    local ok bad secs
    # h2load's "succeeded" counts every answered request, 503s too: rates
    # and CPU per request count the 2xx answers only.
    ok=$(awk '/^status codes:/ {print $3 + 0}' "$out")
    bad=$(awk '/^status codes:/ {print $5 + $7 + $9}' "$out")
    secs=$(awk '/^finished in/ {sub(/s,$/, "", $3); print $3 + 0}' "$out")
    ok=${ok:-0} bad=${bad:-0} secs=${secs:-0}
    if [ "$ok" -eq 0 ]; then
        say "bench: no successful request ($srv, $bname, $sname):"
        tail -n 5 "$out" >&2
    fi
    local lat
    lat=$(cut -f3 "$log" 2>/dev/null | sort -n | awk '{v[NR] = $1}
        function q(p,   i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] / 1000 }
        END { if (NR == 0) print "0 0 0"; else printf "%.3f %.3f %.3f\n", q(0.5), q(0.99), q(0.999) }')
    local cpu_us rps
    cpu_us=$(awk -v d=$((t1 - t0)) -v n="$ok" -v hz="$CLK_TCK" \
        'BEGIN { if (n > 0) printf "%.2f", d * 1e6 / hz / n; else print 0 }')
    rps=$(awk -v n="$ok" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }')
    # body setting server rps cpu_us p50 p99 p999 hwm_kib rss_kib non2xx
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bname" "$sname" "$srv" "$rps" "$cpu_us" \
        $lat "$(status_kib "$pid" VmHWM)" "$(status_kib "$pid" VmRSS)" "$bad" >>"$RAW"
    say "  $(printf '%-12s %-10s %-12s %7s req/s %8s µs CPU/req  p50/p99/p99.9 %s ms' \
        "$bname" "$sname" "$srv" "$rps" "$cpu_us" "$(tr ' ' / <<<"$lat")")"
    rm -f "$log"
}

BODIES=("mutated|$B/mutated.json" "passthrough|$B/passthrough.json" "denied|$B/denied.json"
        "large|$B/large.json")
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
say "bench: load runs: ${#BODIES[@]} bodies x ${#SETTINGS[@]} settings x $REPEAT x ${DUR}s" \
    "per server ($PINNING)"
RSS_NOTES=$WORK/rss.tsv
: >"$RSS_NOTES"
for b in "${BODIES[@]}"; do
    bname=${b%%|*} bfile=${b#*|}
    servers=()
    start webhook "$WORK/webhook.log" "$WEBHOOK_BIN" serve --config "$WORK/webhook.yaml"
    servers+=("webhook|$STARTED_PID|$STARTED_PORT")
    start floor "$WORK/floor.log" "$BIN_DIR/floor"
    servers+=("floor|$STARTED_PID|$STARTED_PORT")
    if [ "$bname" = mutated ]; then
        start webhook-warn "$WORK/webhook-warn.log" "$WEBHOOK_BIN" serve \
            --config "$WORK/webhook-warn.yaml"
        servers+=("webhook-warn|$STARTED_PID|$STARTED_PORT")
    fi
    whpid=${servers[0]#*|} whpid=${whpid%%|*}
    rss_first=""
    for s in "${SETTINGS[@]}"; do
        sname=${s%%|*}
        read -r -a sargs <<<"${s#*|}"
        for phase in warm $(seq 1 "$REPEAT"); do
            for sv in "${servers[@]}"; do
                IFS='|' read -r srv pid port <<<"$sv"
                # the log-level comparison runs at the HTTP/1.1 setting only
                [ "$srv" = webhook-warn ] && [ "$sname" != "h1 c16" ] && continue
                if [ "$phase" = warm ]; then
                    run "$srv" "$pid" "$port" "$bname" "$bfile" "$sname" 0 "${sargs[@]}"
                else
                    run "$srv" "$pid" "$port" "$bname" "$bfile" "$sname" "$DUR" "${sargs[@]}"
                fi
                # keep the server's log from filling the disk (it is opened for
                # appending), but keep its error lines
                grep -m 5 '"level":"error"' "$WORK/$srv.log" >>"$WORK/errors.log" || true
                : >"$WORK/$srv.log"
            done
            [ -z "$rss_first" ] && [ "$phase" != warm ] && rss_first=$(status_kib "$whpid" VmRSS)
        done
    done
    printf '%s\t%s\t%s\t%s\n' "$bname" "$rss_first" "$(status_kib "$whpid" VmRSS)" \
        "$(status_kib "$whpid" VmHWM)" >>"$RSS_NOTES"
    for sv in "${servers[@]}"; do
        IFS='|' read -r _ pid _ <<<"$sv"
        stop "$pid"
    done
done
T_END=$(date +%s)
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- tables -------------------------------------------------------------------
# Medians per (body, setting, server) of every column.
MED=$WORK/medians.tsv
awk -F'\t' '
    function med(s,   a, n, i, j, t) {
        n = split(s, a, " ")
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { k = $1 "\t" $2 "\t" $3; if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
      for (c = 4; c <= 11; c++) col[k, c] = col[k, c] " " $c }
    END { for (i = 1; i <= nk; i++) { k = order[i]; line = k
            for (c = 4; c <= 11; c++) line = line "\t" med(col[k, c])
            print line } }' "$RAW" >"$MED"

get() { # BODY SETTING SERVER COLUMN(4..11)
    awk -F'\t' -v b="$1" -v s="$2" -v v="$3" -v c="$4" \
        '$1 == b && $2 == s && $3 == v {print $c; f = 1} END {if (!f) print "n/a"}' "$MED"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "n/a") printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "n/a" || k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }

LOADTABLE=$WORK/load.md
{
    echo "| body | load | webhook req/s | floor req/s | webhook CPU µs/req | floor CPU µs/req" \
        "| CPU ratio | webhook p50 / p99 / p99.9 ms | floor p50 / p99 / p99.9 ms | webhook peak RSS MiB | non-2xx |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    for b in "${BODIES[@]}"; do
        bname=${b%%|*}
        for s in "${SETTINGS[@]}"; do
            sname=${s%%|*}
            wc=$(get "$bname" "$sname" webhook 5) fc=$(get "$bname" "$sname" floor 5)
            printf '| %s | %s | %s | %s | %s | %s | **%s** | %s / %s / %s | %s / %s / %s | %s | %s |\n' \
                "$bname" "$sname" "$(get "$bname" "$sname" webhook 4)" \
                "$(get "$bname" "$sname" floor 4)" "$wc" "$fc" "$(ratio "$wc" "$fc")" \
                "$(get "$bname" "$sname" webhook 6)" "$(get "$bname" "$sname" webhook 7)" \
                "$(get "$bname" "$sname" webhook 8)" "$(get "$bname" "$sname" floor 6)" \
                "$(get "$bname" "$sname" floor 7)" "$(get "$bname" "$sname" floor 8)" \
                "$(mib "$(get "$bname" "$sname" webhook 9)")" \
                "$(get "$bname" "$sname" webhook 11)"
        done
    done
} >"$LOADTABLE"

# ---- targets (7 KB mutated pod) ----------------------------------------------------
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else if (v + 0 <= lim + 0) print "met"; else print "**missed**" }'; }
r_h1=$(ratio "$(get mutated "h1 c16" webhook 5)" "$(get mutated "h1 c16" floor 5)")
r_h2=$(ratio "$(get mutated "h2 c1 m16" webhook 5)" "$(get mutated "h2 c1 m16" floor 5)")
p99_h1=$(get mutated "h1 c16" webhook 7)
core_us=$(awk -F'|' '$2 ~ /^ mutated 7K / {gsub(/ /, "", $5); print $5}' "$WORK/core.md" | head -n 1)
core_ratio=$(awk -F'|' '$2 ~ /^ large 1M / && NF == 7 {gsub(/ /, "", $4); print $4}' "$WORK/core.md" | tail -n 1)
peak_mut=$(mib "$(awk -F'\t' '$1 == "mutated" {print $4}' "$RSS_NOTES")")
peak_all=$(mib "$(awk -F'\t' '$4 > m {m = $4} END {print m}' "$RSS_NOTES")")
rss_growth=$(awk -F'\t' '$1 == "mutated" {printf "%+d KiB (%s → %s KiB)", $3 - $2, $2, $3}' "$RSS_NOTES")
info_us=$(get mutated "h1 c16" webhook 5) warn_us=$(get mutated "h1 c16" webhook-warn 5)
TARGETS=$WORK/targets.md
{
    echo "| target | measured | verdict |"
    echo "|---|--:|---|"
    echo "| server CPU/request ≤ 3× floor at \`--h1 -c 16\` | ${r_h1}× | $(verdict "$r_h1" 3) |"
    echo "| server CPU/request ≤ 3× floor at \`-c 1 -m 16\` | ${r_h2}× | $(verdict "$r_h2" 3) |"
    echo "| p99 < 1 ms at \`--h1 -c 16\` | ${p99_h1} ms | $(verdict "$p99_h1" 0.999999) |"
    echo "| decision core ≤ 15 µs per 7 KB review | ${core_us:-n/a} µs | $(verdict "${core_us:-n/a}" 15) |"
    echo "| linear in size: µs/KiB at 1 MB ÷ µs/KiB at 7 KB | ${core_ratio:-n/a} | $(verdict "${core_ratio:-n/a}" 1.5) (≤ 1.5 read as linear) |"
    echo "| peak RSS < 16 MiB (7 KB pods; largest over all bodies: ${peak_all} MiB) | ${peak_mut} MiB | $(verdict "$peak_mut" 15.999) |"
    echo "| RSS flat after the run (7 KB mutated: first measured run → last) | ${rss_growth} | see figure |"
    echo
    echo "Per-decision log line (\`logLevel: info\`, the default, vs \`warn\`), 7 KB mutated pod at" \
        "\`--h1 -c 16\`: ${info_us} vs ${warn_us} µs CPU per request."
} >"$TARGETS"

# ---- report --------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
GEN=$WORK/generated.md
{
    echo "<!-- bench:begin (generated by bench/run.sh; edit outside the markers) -->"
    echo "## Latest run"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(( (T_END - T_START) / 60 )) min of load runs" \
        "(mode: $([ "$QUICK" = 1 ] && echo "quick smoke run, figures indicative only" || echo full))."
    echo "- Machine: ${cpu_model:-unknown CPU}, $NCPU CPUs, ${mem_gib} GiB, $(uname -sr);" \
        "load average at start ${LOAD_AT_START}, at end ${LOAD_AT_END}."
    echo "- Software: $(h2load --version | head -n 1), OpenSSL $(pkgver libssl3)," \
        "libh2o-evloop $(pkgver libh2o-evloop-dev), cJSON $(pkgver libcjson-dev), webhook $(cat VERSION 2>/dev/null)."
    echo "- Layout: $PINNING; \`webhook.threads: 1\`, \`logLevel: info\` (log to a file)."
    echo "- Each setting: ${WARM} s warm-up per server, then ${REPEAT} × ${DUR} s per server," \
        "webhook and floor alternating; medians. CPU/request = utime+stime of the server" \
        "process (/proc/PID/stat) over the run ÷ successful requests. Latency percentiles from" \
        "\`h2load --log-file\`."
    echo "- Commands: \`h2load <setting> -t 1 -H 'content-type: application/json' -D ${DUR} -d BODY" \
        "--log-file LOG https://127.0.0.1:PORT/mutate\`, settings \`--h1 -c 16\`, \`-c 1 -m 16\`," \
        "\`-c 1 -m 1\`; \`core-bench --config webhook.yaml --seconds ${CORE_SECONDS} ...\`."
    echo "- Bodies (from \`$GOLDEN\`, config from the same case):" \
        "$(awk '{printf "%s%s %s B", (NR > 1 ? ", " : ""), $1, $2}' "$WORK/bodies.txt")."
    if awk -v a="$LOAD_AT_START" 'BEGIN { split(a, x, " "); exit !(x[1] > 0.5) }'; then
        echo "- **The machine was not quiet** (load average ${LOAD_AT_START} at start): absolute" \
            "figures are disturbed; ratios measured side by side hold better. A re-run on a quiet" \
            "machine is due."
    fi
    echo
    echo "### Targets (7 KB mutated pod)"
    echo
    cat "$TARGETS"
    echo
    echo "### Load (medians)"
    echo
    cat "$LOADTABLE"
    echo
    echo "### Decision core (admission_parse + admission_respond + free, one thread)"
    echo
    cat "$WORK/core.md"
    echo "<!-- bench:end -->"
} >"$GEN"

bench/splice.sh "$RESULTS" bench "$GEN"
echo
cat "$GEN"
if [ -s "$WORK/errors.log" ]; then
    say "bench: the servers logged errors during the runs (first lines):"
    head -n 10 "$WORK/errors.log" >&2
fi
say "bench: results written to $RESULTS"
