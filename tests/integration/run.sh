#!/usr/bin/env bash
# Integration tests: the real `imagebuilder-webhook serve` on loopback ports,
# driven by a Go client that behaves like kube-apiserver (tests/integration/
# client). Under QUICK=1 (sanitizer runs) a curl-based smoke test runs
# instead: start, answer a review exactly like `review`, reload, SIGTERM.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${WEBHOOK_BIN:-$PWD/bin/imagebuilder-webhook}
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$bin" ]; then
    echo "integration: $bin is missing (run make)"
    echo "integration: 0 passed, 1 failed"
    exit 1
fi

if [ "${QUICK:-0}" != 1 ]; then
    export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS=-mod=mod
    export GOCACHE=${GOCACHE:-$work/gocache}
    if ! (cd tests/integration/client && go build -o "$work/itest" .) >"$work/build.log" 2>&1; then
        cat "$work/build.log"
        echo "integration: 0 passed, 1 failed"
        exit 1
    fi
    "$work/itest" -bin "$bin" -golden tests/golden -work "$work" "$@"
    exit $?
fi

# ---- QUICK: shell smoke test ----
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

certs/gen-certs.sh --out "$work/certs" --extra-san DNS:localhost --extra-san IP:127.0.0.1 >/dev/null 2>"$work/gen.log" ||
    { cat "$work/gen.log"; echo "integration: 0 passed, 1 failed"; exit 1; }
port=$(free_port)
mport=$(free_port)
cat >"$work/config.yaml" <<YAML
imageBuilder:
  enabled: true
  defaultRepository: localhost:5000/union
  authenticationType: noop
webhook:
  listen: "127.0.0.1:$port"
  metricsListen: "127.0.0.1:$mport"
  threads: 2
  shutdownTimeoutMs: 5000
  tls:
    certFile: $work/certs/tls.crt
    keyFile: $work/certs/tls.key
YAML
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-h2o.supp" \
    "$bin" serve --config "$work/config.yaml" 2>"$work/server.log" &
pid=$!
for _ in $(seq 1 100); do grep -q '"msg":"serving"' "$work/server.log" && break; sleep 0.1; done
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
for _ in $(seq 1 50); do grep -q '"msg":"certificate reloaded"' "$work/server.log" && break; sleep 0.1; done
m=$(curl -sS "http://127.0.0.1:$mport/metrics")
if grep -q 'config_reloads_total{result="success"} 1' <<<"$m" &&
    grep -q 'requests_total{outcome="mutated"} 1' <<<"$m"; then ok "SIGHUP and metrics"; else ko "SIGHUP and metrics"; fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
if [ "$rc" -eq 0 ]; then ok "SIGTERM exit 0"; else ko "SIGTERM exit $rc"; tail -n 20 "$work/server.log"; fi
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
