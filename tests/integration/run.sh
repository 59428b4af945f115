#!/usr/bin/env bash
# Integration tests: the real `imagebuilder-webhook serve` on loopback port
# 0, driven by a Go client that behaves like kube-apiserver (tests/
# integration/client). Under QUICK=1 (sanitizer runs) a curl-based smoke
# test runs instead: start, answer a review exactly like `review`, reload,
# SIGTERM.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area integration
bin=$WEBHOOK_BIN
[ -x "$bin" ] || { ko "$bin is missing (run make)"; finish; }
t_work

if [ "${QUICK:-0}" != 1 ]; then
    go_build "$work/itest" integration/client || { ko "build the integration client"; finish; }
    "$work/itest" -bin "$bin" -golden tests/golden -work "$work" "$@" | tee "$work/itest.out" |
        grep --line-buffered -v '^integration: [0-9]* passed, [0-9]* failed$'
    rc=${PIPESTATUS[0]}
    add_counts "$(cat "$work/itest.out")" "$rc"
    finish
fi

# ---- QUICK: shell smoke test ----
certs/gen-certs.sh --out "$work/certs" --extra-san DNS:localhost --extra-san IP:127.0.0.1 >/dev/null 2>"$work/gen.log" ||
    { ko "test certificates" "$(cat "$work/gen.log")"; finish; }
cat >"$work/config.yaml" <<YAML
imageBuilder:
  enabled: true
  defaultRepository: localhost:5000/union
  authenticationType: noop
webhook:
  metricsListen: "$(metrics_listen)"
  threads: 2
  shutdownTimeoutMs: 5000
  tls:
    certFile: $work/certs/tls.crt
    keyFile: $work/certs/tls.key
YAML
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-h2o.supp"
serve_start server "$work/config.yaml" || { ko "the server starts"; finish; }
pid=$serve_pid port=$serve_port
url="https://localhost:$port"
c() { curl -sS --max-time 10 --cacert "$work/certs/ca.crt" "$@"; }

[ "$(c "$url/healthz")" = ok ] && ok healthz || ko healthz
"$bin" review --wrap-only tests/integration/fixtures/pod-union.yaml >"$work/review.json" 2>/dev/null
"$bin" review --config "$work/config.yaml" "$work/review.json" >"$work/want.json" 2>/dev/null
c -H 'Content-Type: application/json' --data-binary @"$work/review.json" "$url/mutate?timeout=10s" >"$work/got.json"
printf '\n' >>"$work/got.json"
if [ -s "$work/want.json" ] && cmp -s "$work/got.json" "$work/want.json"; then ok "review answer"; else ko "review answer"; fi
code=$(c -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "$url/mutate")
[ "$code" = 400 ] && ok "400" || ko "400 (got $code)"
code=$(c -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' -d '{}' "$url/mutate")
[ "$code" = 415 ] && ok "415" || ko "415 (got $code)"
# 413 on the headers alone: a huge Content-Length and only a few bytes sent
code=$(python3 - "$port" "$work/certs/ca.crt" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5),
                    server_hostname="localhost")
s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          b"Content-Length: 400000000\r\n\r\n{")
try:
    print(s.recv(64).split(b" ")[1].decode())
except Exception:
    print("none")
PY
)
[ "$code" = 413 ] && ok "413" || ko "413 (got $code)"
kill -HUP "$pid"
wait_log "$serve_log" '"msg":"certificate reloaded"' 5
m=$(curl -sS "http://$serve_maddr/metrics")
if grep -q 'config_reloads_total{result="success"} 1' <<<"$m" &&
    grep -q 'requests_total{outcome="mutated"} 1' <<<"$m"; then ok "SIGHUP and metrics"; else ko "SIGHUP and metrics"; fi
serve_stop
rc=$?
if [ "$rc" -eq 0 ]; then ok "SIGTERM exit 0"; else ko "SIGTERM exit $rc" "$(tail -n 20 "$serve_log")"; fi
finish
