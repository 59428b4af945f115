# Sourced by tests/hardening/run.sh (parts 4g-4k, after the soak): what a
# pod author can send, sent the way kube-apiserver sends it (Go's net/http
# over HTTP/1.1, build/hardening-podattack), and a configuration file rewritten
# in pieces while reviews flow. Uses run.sh's start_server, stop_server, post,
# json_get, $work, $ca, $good and $deny. Loopback only, every wait bounded.
#
# 4g. The two amplification pods of issue 11 at once, ten times each: 18000
#     containers with distinct tags of the spec's image in a 2.98 MB review,
#     and a 1 MiB ImageSpec used by 40 tags. Each answer is a 400 denial
#     that names the bound; meanwhile a small review on another connection
#     is answered within small_bound_ms (below) every time.
# 4h. The costliest reviews one after the other: the most JSON values a
#     review may hold, 3 MiB of values past that, a 250 KiB spec built 8
#     times (past maxPatchBytes), nine builds. The server's peak resident
#     memory (VmHWM in /proc) stays under 64 MiB over 4g and 4h.
# 4i. A configuration file truncated and rewritten line by line 1000 times,
#     with SIGHUP sent in the middle of the writes, while two reviews (one
#     mutated, one denied) are sent over and over: every answer to each
#     review is the same, byte for byte.
# 4j. Large reviews (1 MiB, read on the large-review thread) with the
#     registry check on, against a registry that never answers: allowed
#     with a warning once the check's time is up, like a small one; one
#     whose checks' time is up while it waits is answered by that thread
#     without them, and only one whose request's own time is up is read on
#     its event loop (a last resort, logged).
# 4k. A burst of large pods that are simply mutated: 8 connections each
#     sending a 1 MiB review, 3 times. The large-review lane holds three
#     reviews of webhook.maxRequestBytes in bytes, so all 8 fit and every
#     one is mutated (none 503); small reviews meanwhile stay within the
#     bound, and so does the peak memory.

atk=build/hardening-podattack
# One worst request at a time (4h) delays small ones by a few ms; two at
# once (4g) by up to about 55 ms on a quiet machine, the test's own client
# sharing the two cores with the server while it sends the 3 MB pods. The
# bound covers both.
small_bound_ms=100
hwm_bound_kib=65536

pod_attacks() {
    mkdir -p "$work/pods"
    "$atk" pods -out "$work/pods" || { ko "write the attack reviews"; return; }
    local p=$work/pods url
    cat >"$work/config-attacks.yaml" <<YAML
imageBuilder:
  defaultRepository: us-central1-docker.pkg.dev/my-project/images
  authenticationType: google
webhook:
  threads: 2
  requestTimeoutMs: 10000
  maxRequestBytes: 3145728
YAML
    start_server attacks "$work/config-attacks.yaml" || { ko "attacks: server start"; return; }
    url="https://127.0.0.1:$port/mutate"

    # 4g
    timeout 300 "$atk" amplify -url "$url" -ca "$ca" -small "$good" -pid "$spid" -rounds 10 \
        -big "$p/containers.json,$p/bigspec.json" \
        -expect "containers.json=200 denied 400: the pod has 18000 containers and init containers; at most 128 are accepted (imageBuilder.limits.maxContainersPerPod)" \
        -expect "bigspec.json=200 denied 400: annotation imagebuilder.union.ai/image-spec: 1048559 bytes; at most 262144" \
        >"$work/amp-a.json"
    judge_amplify "$work/amp-a.json" "two amplification pods at once (18000 containers; 1 MiB spec x 40 tags), 10 each"
    judge_hwm "$work/amp-a.json" "two of the worst requests at once (4g)" $((2 * hwm_bound_kib - hwm_bound_kib / 2))
    # the peak from here on is that of one worst request at a time
    echo 5 >"/proc/$spid/clear_refs" 2>/dev/null || ko "reset the server's peak memory (/proc/$spid/clear_refs)"

    # 4h
    timeout 300 "$atk" amplify -serial -url "$url" -ca "$ca" -small "$good" -pid "$spid" -rounds 3 \
        -big "$p/values.json,$p/too-many-values.json,$p/patch.json,$p/builds.json" \
        -expect "values.json=200 denied 400: " \
        -expect "too-many-values.json=400 request body holds 1500029 JSON values; at most 262144 are read" \
        -expect "patch.json=200 denied 400: the patch would be more than 1048576 bytes" \
        -expect "builds.json=200 denied 400: the pod runs 9 distinct images built from ImageSpecs; at most 8" \
        >"$work/amp-b.json"
    judge_amplify "$work/amp-b.json" "the costliest reviews one after the other"
    judge_hwm "$work/amp-b.json" "the worst requests one at a time (4h)" "$hwm_bound_kib"

    # 4k
    echo 5 >"/proc/$spid/clear_refs" 2>/dev/null || ko "reset the server's peak memory (/proc/$spid/clear_refs)"
    timeout 300 "$atk" amplify -url "$url" -ca "$ca" -small "$good" -pid "$spid" -conns 8 -rounds 3 \
        -big "$p/burst.json" -expect "burst.json=200 mutated" >"$work/amp-c.json"
    judge_amplify "$work/amp-c.json" "a burst of 8 large pods at once, 3 times"
    judge_hwm "$work/amp-c.json" "a burst of 8 large pods (4k)" "$hwm_bound_kib"
    stop_server >/dev/null
    config_rewrites
}

# judge_hwm FILE WHAT BOUND_KIB: the server's peak resident memory (VmHWM
# from /proc, read by the attack client at the end) stayed under BOUND_KIB.
judge_hwm() {
    local hwm
    hwm=$(json_get "$1" z_vmhwm_kib)
    if [ "${hwm:-999999}" -lt "$3" ]; then
        ok "peak resident memory, $2: $((hwm / 1024)) MiB (VmHWM), under $(($3 / 1024)) MiB"
    else
        ko "peak resident memory, $2: ${hwm:-?} KiB (VmHWM), bound $(($3 / 1024)) MiB"
    fi
}

# judge_amplify FILE WHAT: every large review got the answer expected, the
# answers are small, and no small review waited past the bound.
judge_amplify() {
    local f=$1 what=$2 odd big sm n fl
    odd=$(json_get "$f" z_unexpected) big=$(json_get "$f" z_max_answer_bytes)
    sm=$(json_get "$f" z_small_max_ms) n=$(json_get "$f" z_small_n) fl=$(json_get "$f" z_small_failed)
    if [ "${odd:-1}" -eq 0 ] && [ "${big:-999999}" -lt 4096 ]; then
        ok "$what: every answer as expected (answers at most $big bytes)"
    else
        ko "$what: ${odd:-?} unexpected answers, largest ${big:-?} bytes" \
            "$(grep -o '"unexpected_answers":\[[^]]*\]' "$f" | head -c 2000)"
    fi
    if [ "${fl:-1}" -eq 0 ] && [ "${n:-0}" -gt 0 ] && [ "${sm%.*}" -lt "$small_bound_ms" ]; then
        ok "$what: $n small reviews on another connection meanwhile, slowest ${sm} ms (p50 $(json_get "$f" z_small_p50_ms) ms)"
    else
        ko "$what: small reviews meanwhile: ${n:-?} sent, ${fl:-?} failed, slowest ${sm:-?} ms (bound $small_bound_ms ms)"
    fi
}

# 4i
config_rewrites() {
    local cfg=$work/config-rewrite.yaml prog=$work/steady.progress lpid n_ok n_bad i k l
    cp "$work/config-attacks.yaml" "$cfg"
    cp "$cfg" "$work/config-rewrite.whole"
    start_server rewrite "$cfg" || { ko "config rewrites: server start"; return; }
    timeout 180 "$atk" steady -url "https://127.0.0.1:$port/mutate" -ca "$ca" -body "$good,$deny" \
        -conns 4 -duration 150s -stop-file "$work/steady.stop" -progress "$prog" >"$work/steady.json" &
    lpid=$!
    _sent_at_least() { [ "$(json_get "$prog" z_sent)" -ge "$1" ] 2>/dev/null; }
    wait_until 30 _sent_at_least 500
    n_ok=$(log_count "$slog" '"msg":"configuration reloaded"')
    n_bad=$(log_count "$slog" '"msg":"configuration reload failed')
    mapfile -t lines <"$work/config-rewrite.whole"
    # truncate, then one line at a time; SIGHUP after line (i mod lines)
    for i in $(seq 1 1000); do
        : >"$cfg"
        k=0
        for l in "${lines[@]}"; do
            printf '%s\n' "$l" >>"$cfg"
            k=$((k + 1))
            [ $((i % ${#lines[@]})) -eq "$k" ] && kill -HUP "$spid"
        done
    done
    # the file holds still now: the next reload takes it
    kill -HUP "$spid"
    wait_log "$slog" '"msg":"configuration reloaded"' 20 $((n_ok + 1)) ||
        ko "config rewrites: the whole file was not reloaded after the writes"
    local sent
    sent=$(json_get "$prog" z_sent)
    wait_until 30 _sent_at_least $((${sent:-0} + 500))
    touch "$work/steady.stop"
    wait "$lpid"
    local total failed distinct reloads fails
    total=$(json_get "$work/steady.json" z_sent) failed=$(json_get "$work/steady.json" z_failed)
    distinct=$(json_get "$work/steady.json" z_max_distinct)
    reloads=$(($(log_count "$slog" '"msg":"configuration reloaded"') - n_ok))
    fails=$(($(log_count "$slog" '"msg":"configuration reload failed') - n_bad))
    if [ "${total:-0}" -gt 1000 ] && [ "${failed:-1}" -eq 0 ] && [ "${distinct:-0}" -eq 1 ]; then
        ok "config rewritten 1000 times in pieces under load: $total answers, one answer per review ($reloads reloads, $fails refused)"
    else
        ko "config rewritten in pieces under load: $total answers, $failed failed, up to $distinct different answers to one review" \
            "$(grep -o '"answers":{.*}},' "$work/steady.json" | head -c 2000)"
    fi
    stop_server >/dev/null
}

# 4j
# post_large FILE OUT [QUERY]: sends a large review; OUT gets "STATUS MS" on
# its first line, then the answer.
post_large() {
    local t0 st
    t0=$(now_ms)
    st=$(post "$1" "$2.body" "${3:-}")
    { echo "$st $(($(now_ms) - t0))"; cat "$2.body"; } >"$2"
}

# judge_large WHAT OUT TEXT MIN_MS MAX_MS: the answer in OUT (post_large) is
# an allowed pod with TEXT in a warning, within [MIN_MS, MAX_MS).
judge_large() {
    local st ms
    read -r st ms <"$2"
    if [ "$st" = 200 ] && grep -q '"allowed":true' "$2" && grep -q "$3" "$2" &&
        [ "$ms" -ge "$4" ] && [ "$ms" -lt "$5" ]; then
        ok "$1: allowed with a warning in $ms ms"
    else
        ko "$1: got $st in $ms ms (want 200 with \"$3\" in [$4, $5) ms)" "$(head -c 400 "$2")"
    fi
}

# A review A whose check hangs keeps the large-review thread busy for the
# check's timeoutMs. Meanwhile: B, whose own time (?timeout=1s) is up long
# before, is read on its event loop as a last resort; C, whose checks' time
# (200 ms after a reload) is up while it waits, is answered by the thread
# without them as soon as A is done, and never read on the loop.
large_review_with_checks() {
    local out=$work/hang-large.out cfg=$work/config-hang-large.yaml addr big=$work/pods/burst.json
    local loop_msg="large review read on its event loop" n apid
    [ -f "$big" ] || { ko "large review with live checks: no 1 MiB review (4k)"; return; }
    "$lc" hang -listen 127.0.0.1:0 -max 60s >"$out" &
    t_pids+=($!)
    _hang_listens() { [ -s "$out" ]; }
    wait_until 5 _hang_listens || { ko "large review with live checks: no hanging registry"; return; }
    addr=$(head -n 1 "$out")
    _hang_cfg() {
        cat >"$cfg" <<YAML
imageBuilder:
  defaultRepository: $addr/union
  authenticationType: noop
  registryCheck:
    enabled: true
    timeoutMs: $1
    insecureRegistries: [${addr%%:*}]
webhook:
  threads: 2
YAML
    }
    _hang_cfg 3000
    start_server hang-large "$cfg" || { ko "large review with live checks: server start"; return; }
    post_large "$big" "$work/large-a" &
    apid=$!
    _asked() { [ "$(grep -c '^accepted' "$out")" -gt 0 ]; }
    wait_until 5 _asked || ko "large review with live checks: the registry was never asked"
    post_large "$big" "$work/large-b" "?timeout=1s"
    judge_large "large review whose request time is up while the thread is busy" "$work/large-b" \
        "no answer within 500 ms" 500 2500
    # the loop writes its log lines once the turn that sent the answer ends
    wait_log "$slog" "$loop_msg" 5 && ok "that review was read on its event loop, and the log says so" ||
        ko "large review read on its event loop: no log line"
    n=$(log_count "$slog" '"msg":"configuration reloaded"')
    _hang_cfg 200
    kill -HUP "$spid"
    wait_log "$slog" '"msg":"configuration reloaded"' 20 $((n + 1)) || ko "large review with live checks: no reload"
    post_large "$big" "$work/large-c"
    wait "$apid"
    judge_large "large review with the registry check on, registry hanging" "$work/large-a" \
        "could not check whether" 2900 6000
    judge_large "large review whose checks' time is up while it waits" "$work/large-c" \
        "no answer within 200 ms" 0 6000
    n=$(log_count "$slog" "$loop_msg")
    [ "$n" = 1 ] && ok "that review was answered by the large-review thread, not read on an event loop" ||
        ko "large review whose checks' time is up: read on an event loop ($n log lines)"
    stop_server >/dev/null
}

if go_build "$atk" hardening/podattack 2>"$work/go-attack.log"; then
    pod_attacks
    large_review_with_checks
else
    ko "build the attack client" "$(cat "$work/go-attack.log")"
fi
