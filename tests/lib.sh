# tests/lib.sh: what the area scripts (tests/<area>/run.sh) share. Sourced
# from the repository root:
#
#   cd "$(dirname "$0")/../.." && . tests/lib.sh && t_area NAME
#
# - counters: ok WHAT, ko WHAT [DETAIL], skipped WHAT, and finish, which
#   prints the closing line "NAME: N passed, M failed" (tests/run-all.sh
#   reads it) and exits non-zero when a check failed;
# - a scratch directory $work and background processes (t_bg) that go away
#   at exit;
# - bounded waits on conditions (wait_until, wait_log): no test sleeps to
#   wait for something;
# - `imagebuilder-webhook serve` on port 0 (serve_start, serve_stop): the
#   server binds a free port and its "serving" log line names it;
# - make_flags for the normal or the sanitizer build directory;
# - go_build for the Go test programs (tests/go-build.sh).

WEBHOOK_BIN="${WEBHOOK_BIN:-$PWD/bin/imagebuilder-webhook}"
export WEBHOOK_BIN

# ---- counters ------------------------------------------------------------

# t_area NAME: starts the counters of the area NAME.
t_area() {
    T_AREA=$1
    pass=0 fail=0 skip=0
}

# ok [WHAT]: a passed check (printed when named).
ok() {
    pass=$((pass + 1))
    [ $# -eq 0 ] || echo "ok   $*"
    return 0
}

# ko WHAT [DETAIL]: a failed check; DETAIL (up to 30 lines) is indented below.
ko() {
    fail=$((fail + 1))
    echo "FAIL $1"
    [ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 30 | sed 's/^/     /'
    return 0
}

# skipped WHAT: a check that could not run here (not counted as passed).
skipped() {
    skip=$((skip + 1))
    echo "skip $*"
}

# add_counts OUTPUT STATUS: adds the counts of the closing line
# "$T_AREA: N passed, M failed" of a program's OUTPUT; a missing line, or a
# non-zero STATUS with no failure counted, is one failure more.
add_counts() {
    local line p f
    line=$(grep -E "^$T_AREA: [0-9]+ passed, [0-9]+ failed\$" <<<"$1" | tail -n 1)
    p=$(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$line")
    f=$(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$line")
    [ -n "$line" ] || f=1
    [ "$2" -eq 0 ] || [ "${f:-0}" -gt 0 ] || f=1
    pass=$((pass + ${p:-0})) fail=$((fail + ${f:-0}))
}

# finish: the closing line, then exit 0 when nothing failed, else 1.
finish() {
    echo "$T_AREA: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

# ---- scratch directory and background processes ----------------------------

t_pids=()

# t_work: makes $work and removes it, and every t_bg process, at exit.
t_work() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/wh-$T_AREA.XXXXXX")
    trap t_cleanup EXIT
}

t_cleanup() {
    local p
    for p in "${t_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${t_pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -z "${work:-}" ] || rm -rf "$work"
}

# t_bg NAME CMD...: runs CMD in the background, its output in $work/NAME.log;
# $! is its pid.
t_bg() {
    local name=$1
    shift
    "$@" >"$work/$name.log" 2>&1 &
    t_pids+=($!)
}

# ---- bounded waits -----------------------------------------------------------

# now_ms: a clock in milliseconds.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# wait_until SECONDS CMD...: runs CMD until it succeeds (0) or SECONDS have
# passed (1). Looks again every 50 ms.
wait_until() {
    local end=$(($(now_ms) + $1 * 1000))
    shift
    while :; do
        "$@" && return 0
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# log_count FILE TEXT: how many lines of FILE contain TEXT (0 while FILE
# does not exist yet).
log_count() {
    local n
    n=$(grep -cF -- "$2" "$1" 2>/dev/null) || true
    echo "${n:-0}"
}

# wait_log FILE TEXT SECONDS [N]: waits until N (default 1) lines of FILE
# contain TEXT.
wait_log() {
    local n=${4:-1}
    _log_has() { [ "$(log_count "$1" "$2")" -ge "$3" ]; }
    wait_until "$3" _log_has "$1" "$2" "$n"
}

# http_answers URL [curl options]: any HTTP answer at all from URL.
http_answers() {
    local url=$1
    shift
    curl -s -o /dev/null --max-time 2 "$@" "$url"
}

# ---- the webhook server --------------------------------------------------------

# serve_start NAME CONFIG [ARGS...]: starts `serve --config CONFIG --listen
# 127.0.0.1:0 ARGS...` in the background (under "${serve_wrap[@]}" when set),
# stdout in $work/NAME.out and the log in $work/NAME.log; waits up to
# ${SERVE_START_SECONDS:-30} s for its "serving" line. Sets serve_pid,
# serve_addr (HOST:PORT as bound), serve_port and serve_maddr (the metrics
# listener as bound, or empty). Returns 1, with the log's tail, when the
# server did not come up.
serve_start() {
    local name=$1 config=$2
    shift 2
    serve_log=$work/$name.log
    serve_addr="" serve_port="" serve_maddr=""
    "${serve_wrap[@]}" "$WEBHOOK_BIN" serve --config "$config" --listen 127.0.0.1:0 "$@" \
        >"$work/$name.out" 2>"$serve_log" &
    serve_pid=$!
    t_pids+=("$serve_pid")
    _serving() { grep -q '"msg":"serving"' "$serve_log" || ! kill -0 "$serve_pid" 2>/dev/null; }
    if wait_until "${SERVE_START_SECONDS:-30}" _serving && grep -q '"msg":"serving"' "$serve_log"; then
        serve_addr=$(serving_field "$serve_log" addr)
        [ -n "$serve_addr" ] || serve_addr=$(serving_field "$serve_log" listen)
        serve_maddr=$(serving_field "$serve_log" metricsListen)
        serve_port=${serve_addr##*:}
        [ -n "$serve_port" ] && return 0
    fi
    tail -n 5 "$serve_log"
    return 1
}
serve_wrap=()

# serving_field LOG KEY: the string KEY of the server's "serving" log line.
serving_field() {
    grep -m 1 '"msg":"serving"' "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"
}

# serve_stop [PID]: SIGTERM, then waits up to 60 s; returns the exit status
# (124 when it had to be killed).
serve_stop() {
    local pid=${1:-$serve_pid}
    kill -TERM "$pid" 2>/dev/null
    _gone() { ! kill -0 "$1" 2>/dev/null; }
    if ! wait_until 60 _gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 124
    fi
    wait "$pid"
}

# metrics_listen: a webhook.metricsListen value for a test config: port 0
# when the configuration accepts it (the "serving" line then names the bound
# port), else a port free now.
metrics_listen() {
    if [ -z "${T_METRICS_PORT0:-}" ]; then
        printf 'imageBuilder:\n  defaultRepository: localhost:5000/union\nwebhook:\n  metricsListen: "127.0.0.1:0"\n' \
            >"$work/metrics-port-0.yaml"
        T_METRICS_PORT0=no
        "$WEBHOOK_BIN" check-config --config "$work/metrics-port-0.yaml" >/dev/null 2>&1 && T_METRICS_PORT0=yes
    fi
    if [ "$T_METRICS_PORT0" = yes ]; then
        echo 127.0.0.1:0
    else
        echo "127.0.0.1:$(free_port)"
    fi
}

# free_port: a loopback port nobody listens on now, for a server that must
# be told its port in advance and cannot bind port 0.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- builds --------------------------------------------------------------------

# make_flags DIR: sets mkflags, make's arguments for the build directory
# DIR. build/ (relative or absolute) is the normal build; any other
# directory is a sanitizer build (make test-asan's build-asan/).
make_flags() {
    mkflags=(BUILD="$1")
    case "$1" in
    build | "$PWD/build") ;;
    *) mkflags+=(SAN=1 OPT=-O1) ;;
    esac
}

# ---- Go test programs -------------------------------------------------------

# go_build OUT PACKAGE: builds tests/PACKAGE (e.g. golden) to OUT.
go_build() { tests/go-build.sh "$@"; }
