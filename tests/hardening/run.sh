#!/usr/bin/env bash
# hardening area: the bad-input corpus against the running server and the
# CLI, and faults under load (idle and slow clients, 100 MB bodies,
# certificate rotation and config reload under load, SIGTERM under load, a
# hanging registry and API server, an RSS soak), a pod author's attacks
# (amplification pods, a config rewritten in pieces under load:
# pod-attacks.sh), the network attacks of tests/hardening/attack
# (oversized, stalled and unread HTTP/1.1 requests, HTTP/2 stream, window,
# reset and PING abuse, connection floods, the descriptor limit, SIGTERM's
# delay, refused client certificates; each with a bound on memory or CPU
# read from /proc), plus valgrind runs of the server and of `review`.
# Loopback only; every wait is bounded.
#
# QUICK=1 (the sanitizer run) keeps the curl and CLI parts and skips the
# Go-driven load parts, the soak and valgrind.
# HARDEN_SOAK_REQUESTS (default 100000) sizes the RSS soak; the README
# figures come from HARDEN_SOAK_REQUESTS=1000000.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area hardening
root=$PWD
bin=$WEBHOOK_BIN
soak_n="${HARDEN_SOAK_REQUESTS:-100000}"
quick="${QUICK:-}"

# Under the sanitizers: libh2o's per-thread allocations (see tests/lsan-h2o.supp).
export LSAN_OPTIONS="suppressions=$root/tests/lsan-h2o.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

t_work

[ -x "$bin" ] || { ko "webhook binary $bin missing"; finish; }
if ! certs/gen-certs.sh --out "$work/certs" --extra-san DNS:localhost --extra-san IP:127.0.0.1 \
    >/dev/null 2>"$work/gen.log"; then
    cat "$work/gen.log"
    ko "development certificates"
    finish
fi
ca="$work/certs/ca.crt"

# start_server NAME CONFIG [wrapper...]: starts the server on port 0 in the
# background (tests/lib.sh serve_start), sets $port, $spid and $slog.
start_server() {
    local name=$1 config=$2 rc=0
    shift 2
    serve_wrap=("$@")
    serve_start "$name" "$config" --tls-cert "$work/certs/tls.crt" --tls-key "$work/certs/tls.key" || rc=1
    serve_wrap=()
    port=$serve_port spid=$serve_pid slog=$serve_log
    return $rc
}

# stop_server: SIGTERM, bounded wait; returns the exit code (124 on timeout).
stop_server() { serve_stop "$spid"; }

post() { # post FILE [OUT [QUERY]] -> prints "STATUS" and leaves the body in OUT ($work/resp)
    curl -sS --max-time 20 --cacert "$ca" -o "${2:-$work/resp}" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @"$1" "https://127.0.0.1:$port/mutate${3:-}"
}

serving() { # a good request still gets its answer
    [ "$(curl -sS --max-time 5 --cacert "$ca" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/healthz")" = 200 ] &&
        [ "$(post "$good")" = 200 ] && grep -q '"allowed":true' "$work/resp"
}

good=tests/golden/mutate-gar-path-layout/review.json
deny=tests/golden/deny-auth-mismatch/review.json
cat >"$work/config.yaml" <<YAML
imageBuilder:
  defaultRepository: us-central1-docker.pkg.dev/my-project/images
  authenticationType: google
webhook:
  threads: 2
  requestTimeoutMs: 2000
  maxRequestBytes: 3145728
  shutdownTimeoutMs: 5000
  shutdownDelayMs: 0
  http2: {enabled: true}
YAML

# ---- 1. bad input over HTTP ---------------------------------------------
if start_server main "$work/config.yaml"; then
    ok "server starts"
    for f in tests/hardening/corpus/http/*; do
        name=$(basename "$f")
        want=${name%%-*}
        got=$(post "$f")
        case "$want" in
        deny) good_answer=$([ "$got" = 200 ] && grep -q '"allowed":false' "$work/resp" && echo y) ;;
        any) good_answer=$([ "$got" -ge 200 ] && [ "$got" -lt 500 ] && echo y) ;;
        *) good_answer=$([ "$got" = "$want" ] && echo y) ;;
        esac
        if [ "$good_answer" = y ] && serving; then
            ok "http $name: $got, still serving"
        else
            ko "http $name: got $got ($(head -c 200 "$work/resp")), want $want"
        fi
    done
    # ImageSpec annotations made here: 250 KiB (answered: a mutation) and
    # 1 MiB (past the 256 KiB bound: denied, naming it).
    for n in 16000 70000; do
        awk -v n=$n 'BEGIN { s = "["; for (i = 0; i < n; i++) s = s (i ? "," : "") "\\\"p" i "==1.0\\\""; print s "]" }' \
            >"$work/pkgs"
        awk -v f="$work/pkgs" 'BEGIN { getline p < f } { i = index($0, "@PKGS@"); if (i) $0 = substr($0, 1, i - 1) p substr($0, i + 6); print }' \
            tests/hardening/corpus/big-spec.template.json >"$work/big-spec-$n.json"
    done
    size=$(stat -c %s "$work/big-spec-16000.json")
    got=$(post "$work/big-spec-16000.json")
    if [ "$size" -gt 240000 ] && [ "$got" = 200 ] && grep -q '"allowed":true' "$work/resp" &&
        grep -q '"patch":' "$work/resp" && serving; then
        ok "http 250 KiB ImageSpec annotation ($size bytes): mutated"
    else
        ko "http 250 KiB ImageSpec annotation ($size bytes): got $got $(head -c 300 "$work/resp")"
    fi
    size=$(stat -c %s "$work/big-spec-70000.json")
    got=$(post "$work/big-spec-70000.json")
    if [ "$size" -gt 1000000 ] && [ "$got" = 200 ] && grep -q '"allowed":false' "$work/resp" &&
        grep -q 'bytes; at most 262144 (256 KiB' "$work/resp" && serving; then
        ok "http 1 MiB ImageSpec annotation ($size bytes): denied, the 256 KiB bound named"
    else
        ko "http 1 MiB ImageSpec annotation ($size bytes): got $got $(head -c 300 "$work/resp")"
    fi
    # Bodies past webhook.maxRequestBytes: 413. curl sends "Expect: 100-continue" for the
    # 100 MB one, so it is refused before it is sent (part 4a sends it without asking).
    head -c 4000000 /dev/zero | tr '\0' ' ' >"$work/4mb.json"
    got=$(curl -sS --http1.1 --max-time 20 --cacert "$ca" -o /dev/null -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @"$work/4mb.json" "https://127.0.0.1:$port/mutate")
    [ "$got" = 413 ] && serving && ok "http/1.1 4 MB body: 413" || ko "http/1.1 4 MB body: got $got"
    # HTTP/2: libh2o 2.2 resets the stream itself (see SECURITY.md); 413 or a reset, then still serving.
    got=$(curl -sS --http2 --retry 0 --max-time 20 --cacert "$ca" -o /dev/null -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @"$work/4mb.json" "https://127.0.0.1:$port/mutate" 2>/dev/null)
    { [ "$got" = 413 ] || [ "$got" = 000 ]; } && serving && ok "http/2 4 MB body: refused ($got)" ||
        ko "http/2 4 MB body: got $got"
    got=$(head -c 104857600 /dev/zero | curl -sS --http1.1 --max-time 30 --cacert "$ca" -o /dev/null -w '%{http_code}' \
        -H 'Content-Type: application/json' -H 'Content-Length: 104857600' \
        --data-binary @- "https://127.0.0.1:$port/mutate" 2>/dev/null)
    [ "$got" = 413 ] && serving && ok "http 100 MB body: 413" || ko "http 100 MB body: got $got"
    # TLS: 1.2 and 1.3 only, forward-secret AEAD suites for 1.2, no compression.
    sc() { timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$ca" "$@" </dev/null 2>&1; }
    for old in -tls1 -tls1_1; do
        out=$(sc "$old" -cipher 'DEFAULT:@SECLEVEL=0')
        # refused: no certificate sent and no cipher agreed
        ! grep -q '^Server certificate' <<<"$out" && grep -q 'Cipher is (NONE)' <<<"$out" &&
            ok "TLS: $old refused" || ko "TLS: $old accepted"
    done
    out=$(sc -tls1_2)
    grep -q 'Verify return code: 0 (ok)' <<<"$out" && grep -q 'Compression: NONE' <<<"$out" &&
        ok "TLS: 1.2 handshake, no compression ($(sed -n 's/.*Cipher is //p' <<<"$out" | head -n 1))" ||
        ko "TLS: 1.2 handshake or compression: $(grep -E 'Cipher|Compression|Verify' <<<"$out" | head -n 3)"
    out=$(sc -tls1_3)
    grep -q 'TLSv1.3' <<<"$out" && ok "TLS: 1.3 handshake" || ko "TLS: 1.3 handshake"
    for weak in AES128-SHA AES256-GCM-SHA384 DHE-RSA-AES128-SHA ECDHE-RSA-AES128-SHA; do
        out=$(sc -tls1_2 -cipher "$weak")
        grep -q "Cipher is $weak" <<<"$out" && ko "TLS: weak suite $weak accepted" || ok "TLS: suite $weak refused"
    done
else
    ko "server starts"
fi

# ---- 2. bad input to the CLI ----------------------------------------------
cli_ok=0 cli_bad=0
for f in tests/hardening/corpus/http/400-*; do
    # `review` also takes a bare Pod, so a body whose kind is Pod is fine there.
    [ "$f" = tests/hardening/corpus/http/400-kind-not-review.json ] && continue
    "$bin" review --config "$work/config.yaml" "$f" >/dev/null 2>"$work/cli.err"
    rc=$?
    if [ "$rc" -ge 1 ] && [ "$rc" -lt 126 ] && [ -s "$work/cli.err" ]; then
        cli_ok=$((cli_ok + 1))
    else
        cli_bad=$((cli_bad + 1))
        echo "     review $(basename "$f"): exit $rc, stderr: $(head -c 200 "$work/cli.err")"
    fi
done
[ "$cli_bad" -eq 0 ] && ok "review refuses $cli_ok bad reviews with a message" || ko "review: $cli_bad bad reviews"

awk 'BEGIN { printf "imageBuilder:\n  defaultRepository: ghcr.io/org\nother: ["; for (i = 0; i < 1100000; i++) printf "%s1", (i ? "," : ""); print "]" }' \
    >"$work/too-many-nodes.yaml"
mkdir -p "$work/confdir"
mkfifo "$work/fifo.yaml"
cfg_cases=(tests/hardening/corpus/config/*.yaml "$work/too-many-nodes.yaml" "$work/confdir" "$work/fifo.yaml"
           /dev/null "$work/missing.yaml")
for f in "${cfg_cases[@]}"; do
    timeout 20 "$bin" check-config --config "$f" >/dev/null 2>"$work/cc.err"
    rc=$?
    if [ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] && [ -s "$work/cc.err" ] && [ "$(wc -l <"$work/cc.err")" -lt 50 ]; then
        ok "check-config $(basename "$f"): refused ($(head -n 1 "$work/cc.err" | cut -c1-100))"
    else
        ko "check-config $(basename "$f"): exit $rc, $(head -c 200 "$work/cc.err")"
    fi
done
# Unreadable for the user that runs it (mode 0600, another owner).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    cp "$work/config.yaml" "$work/private.yaml"
    chmod 0600 "$work/private.yaml"
    chmod 0755 "$work"
    # nobody runs a copy in $work (under /tmp): the clone may be where nobody
    # cannot enter (/root is 0700), and so may the sanitizers' suppressions.
    cp "$bin" "$work/webhook-as-nobody" && cp tests/lsan-h2o.supp "$work/lsan-h2o.supp" &&
        chmod 0755 "$work/webhook-as-nobody" && chmod 0644 "$work/lsan-h2o.supp"
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups
               env "LSAN_OPTIONS=suppressions=$work/lsan-h2o.supp")
    out=$("${as_nobody[@]}" "$work/webhook-as-nobody" check-config \
        --config "$work/private.yaml" 2>&1)
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "$work/private.yaml: error: cannot open the file: Permission denied" <<<"$out"; then
        ok "check-config unreadable file: refused ($(head -n 1 <<<"$out" | cut -c1-100))"
    else
        ko "check-config unreadable file: exit $rc: $out"
    fi
    # The TLS key: 0600 and owned by another user, unreadable -> a clear error.
    mkdir -p "$work/pub"
    cp "$work/certs/tls.crt" "$work/config.yaml" "$work/pub/"
    chmod 0755 "$work/pub"
    chmod 0644 "$work/pub/tls.crt" "$work/pub/config.yaml"
    out=$("${as_nobody[@]}" timeout 10 "$work/webhook-as-nobody" serve \
        --config "$work/pub/config.yaml" --listen 127.0.0.1:0 \
        --tls-cert "$work/pub/tls.crt" --tls-key "$work/certs/tls.key" 2>&1)
    rc=$?
    if [ "$rc" -eq 1 ] && grep -qF "cannot read TLS key file $work/certs/tls.key: cannot open: Permission denied" <<<"$out"; then
        ok "serve with an unreadable key: refused ($(grep -m1 'tls.key' <<<"$out" | cut -c1-120))"
    else
        ko "serve with an unreadable key: exit $rc: $(head -c 300 <<<"$out")"
    fi
else
    skipped "unreadable files (needs root and setpriv to act as another user)"
fi

# TLS files that are not regular files (a FIFO would block a reader that
# opened it plainly): refused at once, never waited on.
mkfifo "$work/cert.fifo" "$work/ca.fifo"
for f in cert key ca; do
    args=(--tls-cert "$work/certs/tls.crt" --tls-key "$work/certs/tls.key")
    case $f in
    cert) args=(--tls-cert "$work/cert.fifo" --tls-key "$work/certs/tls.key") ;;
    key) args=(--tls-cert "$work/certs/tls.crt" --tls-key "$work/cert.fifo") ;;
    ca) printf 'imageBuilder: {}\nwebhook:\n  tls: {clientCAFile: "%s"}\n' "$work/ca.fifo" >"$work/fifo-ca.yaml" ;;
    esac
    conf=$work/config.yaml
    [ $f = ca ] && conf=$work/fifo-ca.yaml
    t0=$(now_ms)
    out=$(timeout 10 "$bin" serve --config "$conf" --listen 127.0.0.1:0 "${args[@]}" 2>&1)
    rc=$? ms=$(($(now_ms) - t0))
    if [ "$rc" -eq 1 ] && grep -q "not a regular file" <<<"$out"; then
        ok "serve with a FIFO as the TLS $f file: refused in ${ms} ms"
    else
        ko "serve with a FIFO as the TLS $f file: exit $rc after ${ms} ms" "$(head -c 300 <<<"$out")"
    fi
done

# ---- 3. a bad config while serving: kept running on the old one ---------
if kill -0 "${spid:-0}" 2>/dev/null; then
    cp "$work/config.yaml" "$work/config.good"
    n=$(log_count "$slog" "configuration reload failed")
    cp tests/hardening/corpus/config/billion-laughs.yaml "$work/config.yaml"
    kill -HUP "$spid"
    if ! wait_log "$slog" "configuration reload failed" 20 $((n + 1)); then
        ko "billion-laughs config on reload: no reload failure logged"
    elif serving && grep -q 'my-project/images' "$work/resp" 2>/dev/null ||
        { post "$good" >/dev/null; base64 -d <<<"$(sed -n 's/.*"patch":"\([^"]*\)".*/\1/p' "$work/resp")" | grep -q 'my-project/images'; }; then
        ok "billion-laughs config on reload: refused, old config kept"
    else
        ko "billion-laughs config on reload: not serving the old config"
    fi
    n=$(log_count "$slog" '"msg":"configuration reloaded"')
    cp "$work/config.good" "$work/config.yaml"
    kill -HUP "$spid"
    wait_log "$slog" '"msg":"configuration reloaded"' 10 $((n + 1)) || ko "good config on reload: not reloaded"
    stop_server
    rc=$?
    [ "$rc" -eq 0 ] && ok "SIGTERM: clean exit" || ko "SIGTERM: exit $rc"
fi

if [ -n "$quick" ]; then
    skipped "load, soak and valgrind parts (QUICK=1)"
    finish
fi

# ---- 4. faults under load (Go client) ------------------------------------
if ! go_build build/hardening-load hardening/loadclient 2>"$work/go.log"; then
    ko "build the load client" "$(cat "$work/go.log")"
    finish
fi
lc=build/hardening-load
json_get() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" 2>/dev/null | tr -d '"'; }
# load_ok_at_least FILE N: the load's progress FILE counts N answers (200) or more.
load_ok_at_least() { [ "$(json_get "$1" ok)" -ge "$2" ] 2>/dev/null; }
# load_certs_at_least FILE N: the load has seen N server certificates or more.
load_certs_at_least() { [ "$(grep -o '"certs":{[^}]*}' "$1" 2>/dev/null | grep -o '":' | wc -l)" -ge "$2" ]; }
# load_contains_at_least FILE TEXT N: N answers or more contained TEXT.
load_contains_at_least() { [ "$(grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | cut -d: -f2)" -ge "$3" ] 2>/dev/null; }

# 4a. 100 MB bodies, Content-Length and chunked: 413 before the body is read.
if start_server big "$work/config.yaml"; then
    for mode in length chunked; do
        flag=""
        [ "$mode" = chunked ] && flag=-chunked
        timeout 60 $lc big -addr "127.0.0.1:$port" -ca "$ca" $flag >"$work/big.json"
        st=$(json_get "$work/big.json" status)
        wr=$(json_get "$work/big.json" written)
        if [ "$st" = 413 ] && [ "${wr:-999999999}" -lt 33554432 ] && serving; then
            ok "100 MB body ($mode): 413 after $((wr / 1024)) KiB sent"
        else
            ko "100 MB body ($mode): $(cat "$work/big.json")"
        fi
    done
    stop_server >/dev/null
fi

# 4b. 1000 idle and slow connections vs. good clients; all closed after the timeout.
ulimit -n 8192 2>/dev/null
if start_server slow "$work/config.yaml"; then
    timeout 120 $lc slow -addr "127.0.0.1:$port" -url "https://127.0.0.1:$port/mutate" -ca "$ca" \
        -body "$good" -idle 500 -slow 500 -hold 20s >"$work/slow.json"
    echo "     $(cat "$work/slow.json")"
    io=$(json_get "$work/slow.json" idle_opened) ic=$(json_get "$work/slow.json" idle_closed)
    so=$(json_get "$work/slow.json" slow_opened) sc=$(json_get "$work/slow.json" slow_closed)
    gok=$(json_get "$work/slow.json" good_ok) gf=$(json_get "$work/slow.json" good_failed)
    gmax=$(json_get "$work/slow.json" good_max_ms)
    if [ "${gf:-1}" -eq 0 ] && [ "${gok:-0}" -gt 0 ] && [ "${gmax%.*}" -lt 2000 ]; then
        ok "good clients served beside ${io:-0} idle and ${so:-0} slow connections ($gok answers, max ${gmax} ms)"
    else
        ko "good clients beside idle/slow connections: ok ${gok:-?} failed ${gf:-?} max ${gmax:-?} ms"
    fi
    if [ "${io:-0}" -eq 500 ] && [ "${ic:-0}" -eq 500 ] && [ "${so:-0}" -eq 500 ] && [ "${sc:-0}" -eq 500 ]; then
        ok "idle and slow connections closed by the server (max $(json_get "$work/slow.json" idle_max_close_s) s / $(json_get "$work/slow.json" slow_max_close_s) s)"
    else
        ko "idle/slow connections not closed within 20 s: idle $ic/$io, slow $sc/$so"
    fi
    stop_server >/dev/null
fi

# 4c. certificate rotation and config reload during load: zero failures.
cp -r "$work/certs" "$work/certs-b"
certs/gen-certs.sh --out "$work/certs-b" --extra-san DNS:localhost --extra-san IP:127.0.0.1 --renew \
    >/dev/null 2>&1
cp "$work/certs/tls.crt" "$work/certs-a.crt"
cp "$work/certs/tls.key" "$work/certs-a.key"
for proto in h1 h2; do
    cp "$work/certs-a.crt" "$work/certs/tls.crt"
    cp "$work/certs-a.key" "$work/certs/tls.key"
    cp "$work/config.good" "$work/config.yaml" 2>/dev/null || true
    start_server "rotate-$proto" "$work/config.yaml" || { ko "rotation ($proto): server start"; continue; }
    h2flag=""
    [ "$proto" = h2 ] && h2flag=-h2
    # The load runs until told to stop: 10000 answers, the certificate swapped
    # (until the new one is seen and 10000 more answers), the config changed
    # (until 20000 answers carry the new repository). Every wait is bounded.
    prog=$work/rot-$proto.progress
    timeout 120 $lc load -url "https://127.0.0.1:$port/mutate" -ca "$ca" -body "$good,$deny" $h2flag \
        -conns 6 -n 0 -duration 100s -fresh-every 25 -expect "europe-docker.pkg.dev" \
        -progress "$prog" -stop-file "$work/rot-$proto.stop" >"$work/rot.json" &
    lpid=$!
    wait_until 30 load_ok_at_least "$prog" 10000
    n=$(log_count "$slog" '"msg":"certificate reloaded"')
    cp "$work/certs-b/tls.key" "$work/certs/tls.key.new"
    cp "$work/certs-b/tls.crt" "$work/certs/tls.crt.new"
    mv "$work/certs/tls.key.new" "$work/certs/tls.key"
    mv "$work/certs/tls.crt.new" "$work/certs/tls.crt"
    wait_log "$slog" '"msg":"certificate reloaded"' 30 $((n + 1))
    wait_until 30 load_certs_at_least "$prog" 2
    n=$(json_get "$prog" ok)
    wait_until 30 load_ok_at_least "$prog" $((${n:-0} + 10000))
    n=$(log_count "$slog" '"msg":"configuration reloaded"')
    sed 's|us-central1-docker.pkg.dev/my-project/images|europe-docker.pkg.dev/my-project/images|' \
        "$work/config.yaml" >"$work/config.new" && mv "$work/config.new" "$work/config.yaml"
    wait_log "$slog" '"msg":"configuration reloaded"' 30 $((n + 1))
    wait_until 30 load_contains_at_least "$prog" europe-docker.pkg.dev 20000
    touch "$work/rot-$proto.stop"
    wait $lpid
    echo "     $(cat "$work/rot.json")"
    okn=$(json_get "$work/rot.json" ok) sent=$(json_get "$work/rot.json" sent)
    f=$(json_get "$work/rot.json" failed) r=$(json_get "$work/rot.json" refused) i=$(json_get "$work/rot.json" idle_closed)
    certs_seen=$(grep -o '"certs":{[^}]*}' "$work/rot.json" | grep -o '":' | wc -l)
    newrepo=$(grep -o '"europe-docker.pkg.dev":[0-9]*' "$work/rot.json" | cut -d: -f2)
    if [ "${okn:-0}" -gt 0 ] && [ "$okn" = "$sent" ] && [ "${f:-1}" -eq 0 ] && [ "${r:-1}" -eq 0 ] && [ "${i:-1}" -eq 0 ]; then
        ok "rotation + reload under load ($proto): $okn/$sent answered, none failed"
    else
        ko "rotation + reload under load ($proto): ok $okn of $sent, failed $f, refused $r, idle-closed $i"
    fi
    [ "$certs_seen" -ge 2 ] && ok "new certificate served after rotation ($proto)" ||
        ko "new certificate not served after rotation ($proto): $certs_seen certificate(s) seen"
    [ "${newrepo:-0}" -gt 0 ] && ok "reloaded config used under load ($proto): $newrepo answers" ||
        ko "reloaded config not used under load ($proto)"
    stop_server >/dev/null
done
cp "$work/certs-a.crt" "$work/certs/tls.crt"
cp "$work/certs-a.key" "$work/certs/tls.key"
cp "$work/config.good" "$work/config.yaml" 2>/dev/null || true

# 4d. SIGTERM during load: every accepted request answered.
for proto in h1 h2; do
    start_server "term-$proto" "$work/config.yaml" || { ko "SIGTERM under load ($proto): start"; continue; }
    h2flag=""
    [ "$proto" = h2 ] && h2flag=-h2
    # SIGTERM once 10000 answers went through; the clients stop when refused.
    prog=$work/term-$proto.progress
    timeout 60 $lc load -url "https://127.0.0.1:$port/mutate" -ca "$ca" -body "$good" $h2flag \
        -conns 8 -n 0 -duration 50s -stop-on-refused -progress "$prog" >"$work/term.json" &
    lpid=$!
    wait_until 30 load_ok_at_least "$prog" 10000
    stop_server
    rc=$?
    wait $lpid
    echo "     $(cat "$work/term.json")"
    okn=$(json_get "$work/term.json" ok) f=$(json_get "$work/term.json" failed)
    i=$(json_get "$work/term.json" idle_closed)
    bad_status=$(grep -o '"status":{[^}]*}' "$work/term.json" | grep -o '"[0-9]*":' | grep -vc '"200":')
    if [ "$rc" -eq 0 ] && [ "${okn:-0}" -gt 0 ] && [ "${f:-1}" -eq 0 ] && [ "$bad_status" -eq 0 ]; then
        ok "SIGTERM under load ($proto): exit 0, $okn answered, 0 accepted-but-unanswered (${i:-0} idle keep-alive closes)"
    else
        ko "SIGTERM under load ($proto): exit $rc, ok ${okn:-?}, failed ${f:-?}, other statuses $bad_status"
    fi
done

# 4e. a registry and an API server that accept and never answer.
hang_reg_out="$work/hang-reg.out" hang_api_out="$work/hang-api.out"
$lc hang -listen 127.0.0.1:0 -max 120s >"$hang_reg_out" &
t_pids+=($!)
$lc hang -listen 127.0.0.1:0 -max 120s >"$hang_api_out" &
t_pids+=($!)
_hang_up() { [ -s "$hang_reg_out" ] && [ -s "$hang_api_out" ]; }
wait_until 5 _hang_up
reg_addr=$(head -n 1 "$hang_reg_out") api_addr=$(head -n 1 "$hang_api_out")
echo "token" >"$work/sa-token"
cat >"$work/config-hang.yaml" <<YAML
imageBuilder:
  defaultRepository: $reg_addr/union
  authenticationType: noop
  productionDomainCheck:
    enabled: true
    apiServer: http://$api_addr
    tokenFile: $work/sa-token
    timeoutMs: 500
  registryCheck:
    enabled: true
    timeoutMs: 500
    insecureRegistries: [${reg_addr%%:*}]
webhook:
  threads: 2
  requestTimeoutMs: 5000
  shutdownDelayMs: 0
YAML
if start_server hang "$work/config-hang.yaml"; then
    worst=0 answered=0
    for k in 1 2 3 4 5 6; do
        sed "s/say-hello-image/hang-image-$k/g; s/\\\\\"name\\\\\":\\\\\"[a-z-]*\\\\\"/\\\\\"name\\\\\":\\\\\"hang-image-$k\\\\\"/" \
            "$good" >"$work/hang-$k.json"
        t0=$(date +%s%N)
        got=$(post "$work/hang-$k.json")
        ms=$((($(date +%s%N) - t0) / 1000000))
        [ "$ms" -gt "$worst" ] && worst=$ms
        [ "$got" = 200 ] && grep -q '"allowed":true' "$work/resp" && answered=$((answered + 1))
    done
    reg_hits=$(grep -c '^accepted' "$hang_reg_out")
    api_hits=$(grep -c '^accepted' "$hang_api_out")
    if [ "$answered" -eq 6 ] && [ "$worst" -lt 3000 ]; then
        ok "hanging registry and API: 6/6 allowed, slowest ${worst} ms (bound 500 ms per check)"
    else
        ko "hanging registry and API: $answered/6 allowed, slowest ${worst} ms"
    fi
    if [ "$reg_hits" -gt 0 ] && [ "$api_hits" -gt 0 ]; then
        ok "the live checks did reach the hanging servers (registry $reg_hits, API $api_hits connections)"
    else
        ko "the live checks never reached the hanging servers (registry $reg_hits, API $api_hits connections): checks not wired?"
    fi
    stop_server >/dev/null
fi

# 4f. RSS soak: growth after warm-up below 1 MiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
if start_server soak "$work/config.yaml"; then
    bad400=tests/hardening/corpus/http/400-truncated-half.json
    h2l() { h2load -n "$1" -c 4 -m 8 -H 'content-type: application/json' -d "$2" \
        "https://127.0.0.1:$port/mutate" 2>&1; }
    warm=$((soak_n / 10))
    [ "$warm" -lt 20000 ] && warm=20000
    for body in "$good" "$deny" "$bad400"; do h2l "$((warm / 3))" "$body" >/dev/null; done
    rss0=$(rss_kib "$spid")
    t0=$(date +%s)
    soak_fail=0
    for body in "$good" "$deny" "$bad400"; do
        want=2xx
        [ "$body" = "$bad400" ] && want=4xx
        per=$((soak_n / 3))
        out=$(h2l "$per" "$body")
        done_n=$(sed -n 's/^requests: .*, \([0-9]*\) done, .*, \([0-9]*\) errored, \([0-9]*\) timeout.*/\1 \2 \3/p' <<<"$out")
        read -r d e t <<<"$done_n"
        got=$(sed -n "s/^status codes:.* \([0-9][0-9]*\) $want.*/\1/p" <<<"$out")
        if [ "${d:-0}" -ne "$per" ] || [ "${e:-1}" -ne 0 ] || [ "${t:-1}" -ne 0 ] || [ "${got:-0}" -ne "$per" ]; then
            soak_fail=1
            echo "     $(basename "$body"): want $per x $want"
            grep -E '^requests:|^status codes:' <<<"$out"
        fi
    done
    rss1=$(rss_kib "$spid")
    secs=$(($(date +%s) - t0))
    growth=$((rss1 - rss0))
    echo "     soak: $((soak_n / 3 * 3)) requests in ${secs}s, RSS ${rss0} KiB after warm-up, ${rss1} KiB after, growth ${growth} KiB"
    [ "$soak_fail" -eq 0 ] && ok "soak: every request answered" || ko "soak: requests failed"
    [ "$growth" -lt 1024 ] && ok "soak: RSS growth ${growth} KiB < 1 MiB" || ko "soak: RSS grew ${growth} KiB"
    stop_server >/dev/null
fi

# ---- 4g-4k. what a pod author can send (tests/hardening/pod-attacks.sh) --
. tests/hardening/pod-attacks.sh

# ---- 5. network attacks (Go client, HTTP/2 framer), each with its own server --
if go_build build/hardening-attack hardening/attack 2>"$work/go-attack.log"; then
    mkdir -p "$work/attack"
    timeout 900 build/hardening-attack -bin "$bin" -work "$work/attack" -review "$good" >"$work/attack.out" 2>&1
    rc=$?
    grep -vE '^hardening: [0-9]+ passed, [0-9]+ failed$' "$work/attack.out"
    add_counts "$(cat "$work/attack.out")" "$rc"
else
    ko "build the attack client" "$(cat "$work/go-attack.log")"
fi

# ---- 6. valgrind -----------------------------------------------------------
vg=(valgrind -q --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions=tests/valgrind.supp)
if command -v valgrind >/dev/null; then
    if start_server valgrind "$work/config.yaml" "${vg[@]}" --log-file="$work/vg-server.log"; then
        timeout 120 $lc load -url "https://127.0.0.1:$port/mutate" -ca "$ca" -body "$good,$deny" \
            -conns 2 -n 200 -fresh-every 20 >"$work/vg-load.json"
        timeout 120 $lc load -url "https://127.0.0.1:$port/mutate" -ca "$ca" -body "$good" -h2 \
            -conns 2 -n 100 >>"$work/vg-load.json"
        nbad=0
        for f in tests/hardening/corpus/http/*; do post "$f" >/dev/null && nbad=$((nbad + 1)); done
        stop_server
        rc=$?
        if [ "$rc" -eq 0 ] && ! grep -q 'definitely lost\|Invalid\|uninitialised' "$work/vg-server.log"; then
            ok "valgrind: server, 300 good + $nbad bad requests and SIGTERM: no errors, no definite leaks"
        else
            ko "valgrind: server exit $rc"
            head -n 40 "$work/vg-server.log"
        fi
    else
        ko "valgrind: server did not start"
        tail -n 20 "$work/vg-server.log" 2>/dev/null
    fi
    vg_fail=0 vg_n=0
    for d in tests/golden/*/; do
        in="$d/review.json"
        [ -f "$in" ] || in="$d/pod.yaml"
        [ -f "$in" ] || continue
        vg_n=$((vg_n + 1))
        if ! "${vg[@]}" "$bin" review --config "$d/config.yaml" "$in" >/dev/null 2>"$work/vg-review.log"; then
            vg_fail=$((vg_fail + 1))
            echo "     $d: $(head -n 5 "$work/vg-review.log")"
        fi
    done
    [ "$vg_fail" -eq 0 ] && ok "valgrind: review on $vg_n golden cases" || ko "valgrind: review failed on $vg_fail of $vg_n golden cases"
else
    ko "valgrind not installed (hack/install-deps.sh test)"
fi
finish
