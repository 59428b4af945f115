#!/usr/bin/env bash
# Live checks against real and fake servers on loopback:
#  - Debian's docker-registry (the distribution registry), without auth and
#    behind token auth (a local token server signs the JWTs), with an image
#    pushed over plain HTTP;
#  - a fake registry for what a real one will not do on demand (500, 429,
#    hangs, malformed challenges, failing token endpoints, Basic auth, TLS
#    with a private CA);
#  - a fake Kubernetes namespaces API over TLS (200, 404, 403, 500, slow,
#    malformed, wrong token, token rotation) and a kubeconfig for it;
#  - the livecheck facade as the server and `review` use it.
# QUICK=1 (sanitizer run) keeps only the parts that need no Go toolchain.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area live
t_work
ROOT=$PWD
UNIT_BIN=${UNIT_BIN:-build/unit-tests}
B=$(dirname "$UNIT_BIN")

# ---- build -----------------------------------------------------------------------
make_flags "$B"
if ! make -s "${mkflags[@]}" "$B/live-driver" >"$work/make.log" 2>&1; then
    ko "build live-driver" "$(tail -n 30 "$work/make.log")"
    finish
fi
case "$B" in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
DRIVER=$BD/live-driver
GO_OK=1
[ -n "${QUICK:-}" ] && GO_OK=0
if [ $GO_OK = 1 ] && ! make -s "${mkflags[@]}" "$B/live-fakes" >"$work/make.log" 2>&1; then
    ko "build fake servers" "$(tail -n 30 "$work/make.log")"
    GO_OK=0
fi
FAKES=$BD/live-fakes

# ---- helpers -----------------------------------------------------------------------
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export PATH="$ROOT/tests/live/bin:$PATH"

start() { t_bg "$@"; } # start NAME CMD... (output to $work/NAME.log)
# listening NAME LISTENER: waits up to 10 s for the server NAME (started on
# port 0) to log the address it bound, and prints it. The fakes print
# "listening LISTENER HOST:PORT", docker-registry "listening on HOST:PORT".
listening() {
    local log=$work/$1.log re
    if [ "$2" = docker-registry ]; then
        re='s/.*msg="listening on \([0-9.]*:[0-9]*\)".*/\1/p'
    else
        re="s/^listening $2 \\([0-9.]*:[0-9]*\\)\$/\\1/p"
    fi
    _bound() { [ -n "$(sed -n "$re" "$log")" ]; }
    wait_until 10 _bound || return 1
    sed -n "$re" "$log" | head -n 1
}
wait_http() { wait_until 10 http_answers "$@"; } # wait_http URL [curl options]
# expect NAME OUTPUT REGEX...: every regex must match some line of OUTPUT
expect() {
    local name=$1 out=$2
    shift 2
    for re in "$@"; do
        if ! grep -qE -- "$re" <<<"$out"; then
            ko "$name" "missing /$re/ in:
$out"
            return
        fi
    done
    ok "$name"
}
nlines() { grep -cE -- "$2" <<<"$1"; }
ms_of() { sed -nE 's/.* ms=([0-9]+) .*/\1/p' <<<"$1" | head -n 1; }

# push REGISTRY REPO TAG [curl auth options...]: a one-layer image over HTTP.
push_image() {
    local reg=$1 repo=$2 tag=$3
    shift 3
    local d
    d=$(mktemp -d "$work/push.XXXXXX")
    head -c 512 /dev/urandom >"$d/layer"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' \
        "$(sha256sum <"$d/layer" | cut -d' ' -f1)" >"$d/config"
    local f
    for f in layer config; do
        local dg loc
        dg=sha256:$(sha256sum <"$d/$f" | cut -d' ' -f1)
        loc=$(curl -s -D - -o /dev/null -X POST "$@" "http://$reg/v2/$repo/blobs/uploads/" |
            tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
        [ -n "$loc" ] || return 1
        case "$loc" in /*) loc="http://$reg$loc" ;; esac
        case "$loc" in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
        [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$@" -H 'Content-Type: application/octet-stream' \
            --data-binary @"$d/$f" "$loc")" = 201 ] || return 1
    done
    printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'\
'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"sha256:%s"},'\
'"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"sha256:%s"}]}' \
        "$(stat -c %s "$d/config")" "$(sha256sum <"$d/config" | cut -d' ' -f1)" \
        "$(stat -c %s "$d/layer")" "$(sha256sum <"$d/layer" | cut -d' ' -f1)" >"$d/manifest"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$@" \
        -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
        --data-binary @"$d/manifest" "http://$reg/v2/$repo/manifests/$tag")" = 201 ] || return 1
    echo "sha256:$(sha256sum <"$d/manifest" | cut -d' ' -f1)"
}
# HEAD requests for PATH in docker-registry's access log
reg_hits() { grep -cF "\"HEAD $2 HTTP/" "$1"; }

# ---- A: docker-registry without auth ---------------------------------------------------
mkdir -p "$work/reg1"
cat >"$work/reg1.yml" <<YML
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/reg1}}
http: {addr: 127.0.0.1:0, secret: live-test}
YML
start reg1 docker-registry serve "$work/reg1.yml"
if ! R=$(listening reg1 docker-registry) || ! wait_http "http://$R/v2/"; then
    ko "docker-registry starts" "$(tail -n 20 "$work/reg1.log")"
    finish
fi
if DIGEST=$(push_image "$R" union/foo abc123); then ok "push an image to docker-registry"; else
    ko "push an image to docker-registry"
    DIGEST=sha256:none
fi

out=$("$DRIVER" reg --insecure "$R" --repeat 2 "$R/union/foo:abc123" "$R/union/foo:missing1")
expect "registry: pushed tag is present, unknown tag absent" "$out" \
    "^answer=present source=registry status=200 .* image=$R/union/foo:abc123" \
    "^answer=absent source=registry status=404 .* image=$R/union/foo:missing1"
expect "registry: second identical lookups come from the cache" "$out" \
    "^answer=present source=cache hit .* image=$R/union/foo:abc123" \
    "^answer=absent source=cache hit .* image=$R/union/foo:missing1" "^requests=2$"
hits=$(reg_hits "$work/reg1.log" "/v2/union/foo/manifests/abc123")
if [ "$hits" = 1 ]; then ok "registry: the cached answer did not reach docker-registry"; else
    ko "registry: the cached answer did not reach docker-registry" "registry logged $hits HEADs"
fi

out=$("$DRIVER" reg --insecure 127.0.0.1 "$R/union/foo@$DIGEST" "$R/library-less:abc123")
expect "registry: digest reference, host-only insecure entry" "$out" \
    "^answer=present source=registry status=200 .*@$DIGEST" "^answer=absent .*library-less"

out=$("$DRIVER" reg --parallel 8 "--insecure" "$R" "$R/union/foo:abc123")
regn=$(nlines "$out" "^answer=present source=registry")
shared=$(nlines "$out" "^answer=present source=(shared lookup|cache hit)")
if [ "$regn" = 1 ] && [ "$shared" = 7 ] && grep -q '^requests=1$' <<<"$out"; then
    ok "registry: 8 concurrent lookups of one image share one request"
else
    ko "registry: 8 concurrent lookups of one image share one request" "$out"
fi

out=$("$DRIVER" reg --insecure "$R" --neg-ttl 1 --repeat 2 --pause-ms 1200 "$R/union/foo:gone")
expect "registry: negative answers expire after negativeTtlSeconds" "$out" "^requests=2$"
out=$("$DRIVER" reg --insecure "$R" --pos-ttl 1 --neg-ttl 60 --repeat 2 --pause-ms 300 \
    "$R/union/foo:abc123" "$R/union/foo:gone")
expect "registry: answers live for their TTL" "$out" "^requests=2$"

out=$("$DRIVER" reg --timeout 1000 "$R/union/foo:abc123")
expect "registry: plain HTTP only for insecure registries (TLS attempt fails, counted)" "$out" \
    "^answer=failed source=registry " 'registry_checks_total\{result="failed"\} 1'

out=$("$DRIVER" reg --timeout 500 "127.0.0.1:1/x/y:z" "Not A Valid Image")
expect "registry: unreachable host and bad reference fail without crashing" "$out" \
    "^answer=failed source=registry .*127.0.0.1:1" "^answer=failed source=no lookup .*cannot check"

[ $GO_OK = 1 ] || finish

# ---- certificates and fakes ---------------------------------------------------------
"$FAKES" certs -dir "$work" || { ko "generate certificates"; finish; }

# ---- B: docker-registry behind token auth --------------------------------------------
# token_registry NAME SERVICE REALM: starts docker-registry behind token
# auth (tokens of the `token` fake's key and issuer), storage in $work/NAME.
token_registry() {
    mkdir -p "$work/$1"
    cat >"$work/$1.yml" <<YML
version: 0.1
log: {level: info, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/$1}}
http: {addr: 127.0.0.1:0, secret: live-test}
auth:
  token:
    realm: $3
    service: $2
    issuer: live-issuer
    rootcertbundle: $work/token.crt
YML
    start "$1" docker-registry serve "$work/$1.yml"
}
start token "$FAKES" token -addr 127.0.0.1:0 -sign-key "$work/token.key" -sign-cert "$work/token.crt" \
    -issuer live-issuer -user builder -pass s3cret
T=$(listening token token)
token_registry reg2 live-registry "http://$T/token"
if [ -n "$T" ] && R2=$(listening reg2 docker-registry) && wait_http "http://$T/_count" &&
    wait_http "http://$R2/v2/"; then
    tok=$(curl -s -u builder:s3cret \
        "http://$T/token?service=live-registry&scope=repository:union/bar:pull,push" |
        sed -E 's/.*"token":"([^"]+)".*/\1/')
    if push_image "$R2" union/bar t1 -H "Authorization: Bearer $tok" >/dev/null; then
        ok "push an image to docker-registry behind token auth"
    else
        ko "push an image to docker-registry behind token auth" "$(tail -n 5 "$work/reg2.log")"
    fi
    curl -s "http://$T/_count?reset=1" >/dev/null

    printf '{"credHelpers":{"%s":"livetest"}}' "$R2" >"$work/helper.json"
    out=$(LIVETEST_HELPER_HOST=$R2 LIVETEST_HELPER_LOG=$work/helper.log "$DRIVER" reg \
        --insecure "$R2" --docker-config "$work/helper.json" --repeat 2 \
        "$R2/union/bar:t1" "$R2/union/bar:t2")
    expect "token auth: bearer flow with a credential helper (present, absent)" "$out" \
        "^answer=present source=registry status=200 .*union/bar:t1" \
        "^answer=absent source=registry status=404 .*union/bar:t2" \
        "^answer=present source=cache hit .*union/bar:t1"
    tcount=$(curl -s "http://$T/_count")
    if [ "$tcount" = 1 ] && grep -q '^requests=4$' <<<"$out"; then
        ok "token auth: one token serves both tags of the repository"
    else
        ko "token auth: one token serves both tags of the repository" "token requests: $tcount
$out"
    fi
    if [ "$(grep -c . "$work/helper.log" 2>/dev/null)" = 1 ] && grep -qx "$R2" "$work/helper.log"; then
        ok "token auth: the helper got the registry host on stdin, once"
    else
        ko "token auth: the helper got the registry host on stdin, once" "$(cat "$work/helper.log" 2>&1)"
    fi

    printf '{"auths":{"%s":{"auth":"%s"}}}' "$R2" "$(printf builder:s3cret | base64)" >"$work/inline.json"
    out=$("$DRIVER" reg --insecure "$R2" --docker-config "$work/inline.json" "$R2/union/bar:t1")
    expect "token auth: inline auths credentials" "$out" "^answer=present source=registry status=200"

    out=$("$DRIVER" reg --insecure "$R2" "$R2/union/bar:t1")
    expect "token auth: no credentials -> failed, never absent" "$out" \
        "^answer=failed .*token endpoint answered HTTP 401"
    expect "token auth: the short reason names the token request's 401" "$out" \
        "^answer=failed .* reason=registry answered 401 to the token request$"

    printf '{"credHelpers":{"%s":"livetest-slow"}}' "$R2" >"$work/slow.json"
    out=$("$DRIVER" reg --insecure "$R2" --docker-config "$work/slow.json" --timeout 800 "$R2/union/bar:t1")
    ms=$(ms_of "$out")
    if grep -q '^answer=failed' <<<"$out" && [ -n "$ms" ] && [ "$ms" -lt 1500 ]; then
        ok "token auth: a hanging credential helper is cut off at the timeout"
    else
        ko "token auth: a hanging credential helper is cut off at the timeout" "$out"
    fi

    printf '{"credHelpers":{"%s":"../../bin/sh"}}' "$R2" >"$work/evil.json"
    out=$("$DRIVER" reg --docker-config "$work/evil.json" "$R2/union/bar:t1")
    expect "docker config: a helper name that is not a plain word is refused" "$out" "^error: .*credHelpers"
else
    ko "docker-registry with token auth starts" "$(tail -n 20 "$work/reg2.log" "$work/token.log")"
fi

# ---- C: fake registry failure modes ----------------------------------------------------
start fakereg "$FAKES" registry -addr 127.0.0.1:0 -tls-addr 127.0.0.1:0 -cert "$work/server.crt" \
    -key "$work/server.key"
if F=$(listening fakereg registry) && FT=$(listening fakereg registry-tls) && wait_http "http://$F/_count"; then
    out=$("$DRIVER" reg --insecure "$F" --repeat 2 "$F/err500/a:1")
    expect "fake registry: 500 -> failed" "$out" "^answer=failed source=registry status=500"
    expect "fake registry: the short reason of a 500" "$out" " reason=registry answered 500$"
    c=$(curl -s "http://$F/_count?key=err500")
    if [ "$c" = 2 ]; then ok "fake registry: failures are not cached"; else
        ko "fake registry: failures are not cached" "server saw $c requests"
    fi
    err=$(LIVE_LOG=1 "$DRIVER" reg --insecure "$F" "$F/err500/b:1" 2>&1 >/dev/null)
    expect "fake registry: a failed check is logged as a JSON warning" "$err" \
        '^\{"ts":.*"level":"warn","msg":"registry check failed; the build is injected","image":"'"$F"'/err500/b:1","answer":"failed","status":500'
    out=$("$DRIVER" reg --insecure "$F" "$F/ratelimited/a:1")
    expect "fake registry: 429 -> failed" "$out" "^answer=failed source=registry status=429"

    out=$("$DRIVER" reg --insecure "$F" --timeout 700 "$F/hang/a:1")
    ms=$(ms_of "$out")
    if grep -q '^answer=failed' <<<"$out" && [ -n "$ms" ] && [ "$ms" -ge 600 ] && [ "$ms" -lt 1200 ]; then
        ok "fake registry: a hanging registry is answered at the timeout (${ms} ms)"
    else
        ko "fake registry: a hanging registry is answered at the timeout" "$out"
    fi
    out=$("$DRIVER" reg --insecure "$F" --timeout 700 --parallel 4 "$F/hang/b:1")
    if [ "$(nlines "$out" '^answer=failed')" = 4 ] && [ "$(curl -s "http://$F/_count?key=hang")" = 2 ]; then
        ok "fake registry: concurrent lookups of a hanging image share one request"
    else
        ko "fake registry: concurrent lookups of a hanging image share one request" "$out"
    fi
    # failureBackoffSeconds: a host that timed out is not asked again meanwhile
    hangs=$(curl -s "http://$F/_count?key=hang")
    out=$("$DRIVER" reg --insecure "$F" --timeout 700 --backoff 10 "$F/hang/c:1" "$F/hang/d:1" "$F/hang/e:1")
    after=$(curl -s "http://$F/_count?key=hang")
    first=$(grep '^answer=' <<<"$out" | head -n 1)
    rest=$(grep '^answer=' <<<"$out" | tail -n 2)
    if [ "$((after - hangs))" = 1 ] && grep -q 'source=registry .* reason=registry timed out$' <<<"$first" &&
        [ "$(nlines "$rest" "^answer=failed source=not asked .* reason=not asked: $F failed [01] s ago\$")" = 2 ] &&
        grep -q 'registry_check_cache_total{result="backoff"} 2' <<<"$out"; then
        ok "fake registry: after a timeout the host is not asked again for failureBackoffSeconds"
    else
        ko "fake registry: after a timeout the host is not asked again for failureBackoffSeconds" \
            "registry saw $((after - hangs)) requests
$out"
    fi
    slow=$(grep '^answer=.*source=not asked' <<<"$out" | sed -nE 's/.* ms=([0-9]+) .*/\1/p' |
        awk '$1 >= 50')
    if [ -z "$slow" ] && grep -q 'source=not asked' <<<"$out"; then
        ok "fake registry: the answers not asked come at once"
    else
        ko "fake registry: the answers not asked come at once" "$out"
    fi
    out=$("$DRIVER" reg --insecure "$F" --timeout 500 --backoff 0 "$F/hang/f:1" "$F/hang/g:1")
    if [ "$(($(curl -s "http://$F/_count?key=hang") - after))" = 2 ]; then
        ok "fake registry: failureBackoffSeconds 0 asks every time"
    else
        ko "fake registry: failureBackoffSeconds 0 asks every time" "$out"
    fi

    out=$("$DRIVER" reg --insecure "$F" "$F/badauth/a:1" "$F/noauthhdr/a:1")
    expect "fake registry: malformed or missing WWW-Authenticate -> failed" "$out" \
        "^answer=failed .*badauth.*malformed WWW-Authenticate" \
        "^answer=failed .*noauthhdr.*without a WWW-Authenticate"
    out=$("$DRIVER" reg --insecure "$F" "$F/tokenfail/a:1" "$F/tokenbadjson/a:1")
    expect "fake registry: failing or malformed token endpoint -> failed" "$out" \
        "^answer=failed .*tokenfail.*token endpoint answered HTTP 500" \
        "^answer=failed .*tokenbadjson.*token endpoint: "

    printf '{"auths":{"%s":{"auth":"%s"}}}' "$F" "$(printf builder:s3cret | base64)" >"$work/basic.json"
    out=$("$DRIVER" reg --insecure "$F" --docker-config "$work/basic.json" "$F/basic/a:1")
    expect "fake registry: Basic challenge answered with configured credentials" "$out" \
        "^answer=present source=registry status=200"
    out=$("$DRIVER" reg --insecure "$F" "$F/basic/a:1")
    expect "fake registry: Basic challenge without credentials -> failed" "$out" \
        "^answer=failed .*Basic credentials"
    expect "fake registry: the short reason says no credentials for the host" "$out" \
        "^answer=failed .* reason=no credentials for $F$"

    out=$("$DRIVER" reg --ca "$work/ca.crt" "$FT/present/a:1" "$FT/absent/a:1")
    expect "fake registry over TLS with the CA file: verified" "$out" \
        "^answer=present source=registry status=200" "^answer=absent source=registry status=404"
    out=$("$DRIVER" reg "$FT/present/a:2")
    expect "fake registry over TLS without the CA file: verification fails -> failed" "$out" \
        "^answer=failed source=registry status=0 .*(certificate|SSL)"
else
    ko "fake registry starts" "$(cat "$work/fakereg.log")"
fi

# ---- D: fake Kubernetes API -----------------------------------------------------------
echo "token-one" >"$work/sa-token"
start k8s "$FAKES" k8s -addr 127.0.0.1:0 -cert "$work/server.crt" -key "$work/server.key" \
    -token-file "$work/sa-token"
K=$(listening k8s k8s)
KP=${K##*:}
API=https://$K
nsrun() { "$DRIVER" ns --api "$API" --token-file "$work/sa-token" --ca "$work/ca.crt" "$@"; }
kcount() { curl -s --cacert "$work/ca.crt" "$API/_count?key=$1"; }
if wait_http "$API/_count" --cacert "$work/ca.crt"; then
    out=$(nsrun --namespace ok-production --gets 3)
    expect "namespace API: 200 -> present; first get waits, later ones read the cache" "$out" \
        "^answer=present waited=1 .*status=200" "^requests=1$" \
        'production_namespace\{namespace="ok-production",state="present"\} 1'
    if [ "$(nlines "$out" '^answer=present waited=0')" = 2 ] && [ "$(kcount ok-production)" = 1 ]; then
        ok "namespace API: repeated gets do not touch the network"
    else
        ko "namespace API: repeated gets do not touch the network" "$out"
    fi
    out=$(nsrun --namespace missing-production)
    expect "namespace API: 404 -> absent" "$out" "^answer=absent .*status=404"
    out=$(nsrun --namespace forbidden-production)
    expect "namespace API: 403 -> failed with an RBAC hint" "$out" "^answer=failed .*status=403 .*RBAC"
    out=$(nsrun --namespace boom-production)
    expect "namespace API: 500 -> failed" "$out" "^answer=failed .*status=500"
    out=$(nsrun --namespace malformed-production)
    expect "namespace API: malformed 200 body -> failed" "$out" "^answer=failed .*not the Namespace"
    out=$(nsrun --namespace slow-production --timeout 500 --gets 2)
    first=$(head -n 1 <<<"$out")
    st=$(sed -nE 's/.*since_start=([0-9]+) .*/\1/p' <<<"$first")
    if grep -q '^answer=failed waited=1' <<<"$first" && [ -n "$st" ] && [ "$st" -lt 1200 ]; then
        ok "namespace API: a slow API is bounded by timeoutMs (${st} ms)"
    else
        ko "namespace API: a slow API is bounded by timeoutMs" "$out"
    fi
    echo "wrong" >"$work/wrong-token"
    out=$("$DRIVER" ns --api "$API" --token-file "$work/wrong-token" --ca "$work/ca.crt" --namespace ok-x)
    expect "namespace API: a rejected token -> failed (401)" "$out" "^answer=failed .*status=401"
    out=$("$DRIVER" ns --api "$API" --token-file "$work/sa-token" --namespace ok-x)
    expect "namespace API: TLS is verified (no CA -> failed)" "$out" "^answer=failed .*status=0"

    # rotation: the API starts expecting a new token; the checker re-reads its file.
    # The token changes once the first answer is in, before the refresh at ttlSeconds.
    nsrun --namespace ok-rotate --ttl 1 --gets 3 --interval-ms 1300 >"$work/rotate.out" &
    rot=$!
    wait_log "$work/rotate.out" "answer=" 5
    echo "token-two" >"$work/sa-token.new" && mv "$work/sa-token.new" "$work/sa-token"
    wait "$rot"
    out=$(cat "$work/rotate.out")
    last=$(grep '^answer=' <<<"$out" | tail -n 1)
    if grep -q '^answer=present waited=0 .*status=200 detail=HTTP 200' <<<"$last" &&
        [ "$(kcount ok-rotate)" -ge 2 ]; then
        ok "namespace API: background refresh every ttlSeconds with the rotated token"
    else
        ko "namespace API: background refresh every ttlSeconds with the rotated token" "$out"
    fi

    ca64=$(base64 -w0 <"$work/ca.crt")
    cat >"$work/kubeconfig" <<KC
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: fake
  cluster:
    server: $API
    certificate-authority-data: $ca64
contexts:
- name: dev
  context: {cluster: fake, user: dev}
users:
- name: dev
  user:
    tokenFile: sa-token
KC
    out=$("$DRIVER" ns --kubeconfig "$work/kubeconfig" --namespace ok-kubeconfig)
    expect "namespace API: kubeconfig (server, CA data, relative tokenFile)" "$out" \
        "^answer=present .*status=200"
    out=$(env -u KUBERNETES_SERVICE_HOST "$DRIVER" ns --namespace ok-x)
    expect "namespace API: no API server configured -> a clear setup error" "$out" \
        "^error: .*no API server"
    out=$(nsrun --namespace Bad_Name)
    expect "namespace API: an invalid namespace name is a setup error" "$out" "^error: .*not a valid namespace"
    out=$(KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$KP \
        "$DRIVER" ns --token-file "$work/sa-token" --ca "$work/ca.crt" --namespace ok-incluster)
    expect "namespace API: in-cluster address from KUBERNETES_SERVICE_HOST/PORT" "$out" \
        "^answer=present .*status=200"
else
    ko "fake Kubernetes API starts" "$(cat "$work/k8s.log")"
fi

# ---- E: the facade --------------------------------------------------------------------
out=$("$DRIVER" facade)
expect "facade: both checks off -> nothing asked, not-run" "$out" "^round=0 asked=0 ns=not-run images=0" \
    "^off: registryCheck and productionDomainCheck"
out=$("$DRIVER" facade --insecure "$R" --api "$API" --token-file "$work/sa-token" --ca "$work/ca.crt" \
    --namespace ok-facade "$R/union/foo:abc123" "$R/union/foo:nothere" "$R/union/foo:abc123")
expect "facade: registry and namespace answers, described, cached on the second round" "$out" \
    "^round=0 asked=1 ns=present images=2" \
    "^registry: $R/union/foo:abc123 -> present \(registry, HTTP 200" \
    "^registry: $R/union/foo:nothere -> absent \(registry, HTTP 404" \
    "^namespace: ok-facade -> present \(HTTP 200" \
    "^round=1 asked=1 ns=present images=2" \
    "^registry: $R/union/foo:abc123 -> present \(cache hit" \
    'registry_check_cache_total\{result="hit"\} 2' 'namespace_checks_total\{result="present"\} 1'
out=$("$DRIVER" facade --reload --insecure "$R" --api "$API" --token-file "$work/sa-token" \
    --ca "$work/ca.crt" --namespace ok-reload "$R/union/foo:abc123")
expect "facade: a reload keeps the registry cache and the namespace answer" "$out" \
    "^reloaded" "^registry: $R/union/foo:abc123 -> present \(cache hit" \
    "^namespace: ok-reload -> present .*old\)$"
# ---- F: the webhook server with live checks --------------------------------------------
# The real `serve`, with both checks on against the real registry and the fake
# Kubernetes API, then against a registry that hangs: the request is answered
# within registryCheck.timeoutMs and other requests are not held up meanwhile.
BIN=$WEBHOOK_BIN
review_for() { # review_for IMAGE [LABELLED]: an AdmissionReview for a pod running IMAGE
    local label=""
    [ "${2:-1}" = 1 ] && label='"labels":{"imagebuilder.union.ai/builder":"union"},'
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","namespace":"t","object":{"metadata":{"name":"p",%s"annotations":{"imagebuilder.union.ai/image-spec":"{\\"name\\":\\"foo\\",\\"builder\\":\\"union\\"}"}},"spec":{"containers":[{"name":"main","image":"%s"}]}},"dryRun":true}}\n' "$RANDOM" "$label" "$1"
}
# logical_for IMAGE [LABELLED]: an AdmissionReview for a pod running IMAGE, no ImageSpec
logical_for() {
    local label=""
    [ "${2:-0}" = 1 ] && label='"labels":{"imagebuilder.union.ai/builder":"union"},'
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","namespace":"t","object":{"metadata":{"name":"p",%s"annotations":{}},"spec":{"containers":[{"name":"main","image":"%s"}]}},"dryRun":true}}\n' "$RANDOM" "$label" "$1"
}
serve_with() { # serve_with NAME DEFAULT_REPO BUILD_PROJECT [POD_SELECTION]: starts the webhook, sets WP
    cat >"$work/$1.yaml" <<YML
imageBuilder:
  defaultRepository: $2
  buildProject: $3
  podSelection: ${4:-label}
  registryCheck: {enabled: true, timeoutMs: 600, insecureRegistries: ["$R", "$F"]}
  productionDomainCheck: {enabled: true, apiServer: "$API", tokenFile: "$work/sa-token", caFile: "$work/ca.crt", timeoutMs: 1000}
webhook:
  threads: 1
  tls: {certFile: "$work/server.crt", keyFile: "$work/server.key"}
YML
    serve_start "$1" "$work/$1.yaml" && WP=$serve_port
}
post() { # post FILE: prints the response body, then the time in ms on the last line
    curl -s --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data-binary @"$1" \
        -w '\n%{time_total}\n' "https://127.0.0.1:$WP/mutate?timeout=10s" |
        awk 'NR==1{print; next} {printf "%d\n", $1 * 1000}'
}
decoded() { # the decoded patch of a response, or nothing
    sed -nE 's/.*"patch":"([^"]*)".*/\1/p' <<<"$1" | base64 -d 2>/dev/null
}
if [ -x "$BIN" ] && serve_with srv1 "$R/union" ok; then
    review_for "foo:abc123" >"$work/r-present.json"
    review_for "foo:notbuilt" >"$work/r-absent.json"
    out=$(post "$work/r-present.json")
    if grep -q '"allowed":true' <<<"$out" && ! decoded "$out" | grep -q build-image &&
        decoded "$out" | grep -q "\"value\":\"$R/union/foo:abc123\""; then
        ok "serve: an image that exists in the registry is only rewritten"
    else
        ko "serve: an image that exists in the registry is only rewritten" "$out"
    fi
    out=$(post "$work/r-absent.json")
    if decoded "$out" | grep -q '"name":"build-image"'; then
        ok "serve: an image missing from the registry gets the build"
    else
        ko "serve: an image missing from the registry gets the build" "$out"
    fi
    # label mode: a labelled pod's logical-registry image without a spec is checked too
    logical_for "cr.union.ai/foo:notbuilt" 1 >"$work/r-lmissing-labelled.json"
    out=$(post "$work/r-lmissing-labelled.json")
    if grep -q '"allowed":false' <<<"$out" && grep -q '"code":403' <<<"$out" &&
        grep -qF "foo:notbuilt\\\" does not exist in the default repository ($R/union/foo:notbuilt) and nothing can build it" <<<"$out"; then
        ok "serve: label mode: a missing logical-registry image without a spec is denied with the fix"
    else
        ko "serve: label mode: a missing logical-registry image without a spec is denied with the fix" "$out"
    fi
    m=$(curl -s --cacert "$work/ca.crt" "https://127.0.0.1:$WP/metrics")
    expect "serve: /metrics carries the live-check series" "$m" \
        'registry_checks_total\{result="present"\} 1' 'namespace_checks_total\{result="present"\}'
else
    ko "serve: starts with both live checks on" "$(tail -n 5 "$work/srv1.log" 2>/dev/null)"
fi

if [ -x "$BIN" ] && serve_with srv2 "$R/union" missing; then
    out=$(post "$work/r-absent.json")
    if grep -q '"allowed":false' <<<"$out" && grep -q 'missing-production' <<<"$out"; then
        ok "serve: a missing production namespace denies with its name"
    else
        ko "serve: a missing production namespace denies with its name" "$out"
    fi
else
    ko "serve: starts for the namespace denial" "$(tail -n 5 "$work/srv2.log" 2>/dev/null)"
fi

# podSelection logicalRegistry: unlabelled pods' logical images, checked in the real registry.
if [ -x "$BIN" ] && serve_with srv4 "$R/union" ok logicalRegistry; then
    logical_for "cr.union.ai/foo:abc123" >"$work/r-lpresent.json"
    logical_for "cr.union.ai/foo:notbuilt" >"$work/r-lmissing.json"
    out=$(post "$work/r-lpresent.json")
    if grep -q '"allowed":true' <<<"$out" && ! decoded "$out" | grep -q build-image &&
        decoded "$out" | grep -q "\"value\":\"$R/union/foo:abc123\""; then
        ok "serve: logicalRegistry: an unlabelled pod's logical image that exists is rewritten, not built"
    else
        ko "serve: logicalRegistry: an unlabelled pod's logical image that exists is rewritten, not built" "$out"
    fi
    out=$(post "$work/r-lmissing.json")
    if grep -q '"allowed":false' <<<"$out" && grep -q 'nothing can build it' <<<"$out" &&
        grep -q 'imagebuilder.union.ai/builder=union' <<<"$out" && grep -q 'imagebuilder.union.ai/image-spec' <<<"$out"; then
        ok "serve: logicalRegistry: an unlabelled pod whose logical image is missing is denied with the fix"
    else
        ko "serve: logicalRegistry: an unlabelled pod whose logical image is missing is denied with the fix" "$out"
    fi
    m=$(curl -s --cacert "$work/ca.crt" "https://127.0.0.1:$WP/metrics")
    expect "serve: logicalRegistry: both logical images were looked up in the registry" "$m" \
        'registry_checks_total\{result="present"\} 1' 'registry_checks_total\{result="absent"\} 1'
    out=$("$BIN" review --config "$work/srv4.yaml" --explain "$work/r-lmissing.json" 2>&1)
    expect "review: logicalRegistry: the same denial, the registry's answer explained" "$out" \
        '^decision: denied \(403\)' "^  - registry: $R/union/foo:notbuilt -> absent"
else
    ko "serve: starts with podSelection logicalRegistry" "$(tail -n 5 "$work/srv4.log" 2>/dev/null)"
fi

if [ -x "$BIN" ] && serve_with srv3 "$F/hang" ok; then
    review_for "foo:h$RANDOM" >"$work/r-hang.json"
    review_for "python:3.11" 0 >"$work/r-plain.json"
    # the quick request goes once the registry check of the other one hangs
    hangs=$(curl -s "http://$F/_count?key=hang")
    post "$work/r-hang.json" >"$work/hang.out" &
    hp=$!
    _hanging() { [ "$(curl -s "http://$F/_count?key=hang")" -gt "$hangs" ]; }
    wait_until 5 _hanging
    quick=$(post "$work/r-plain.json" | tail -n 1)
    wait "$hp"
    hang=$(cat "$work/hang.out")
    hms=$(tail -n 1 <<<"$hang")
    if grep -q '"allowed":true' <<<"$hang" && grep -q 'could not check' <<<"$hang" &&
        [ "$hms" -lt 1500 ]; then
        ok "serve: a hanging registry is answered within the bound, build injected (${hms} ms)"
    else
        ko "serve: a hanging registry is answered within the bound, build injected" "$hang"
    fi
    if [ "$quick" -lt 400 ]; then
        ok "serve: other requests are not held up by a hanging check (${quick} ms)"
    else
        ko "serve: other requests are not held up by a hanging check" "took ${quick} ms"
    fi
else
    ko "serve: starts against a hanging registry" "$(tail -n 5 "$work/srv3.log" 2>/dev/null)"
fi

# ---- G: time that holds ------------------------------------------------------------------
# The checks' deadline runs from the request's arrival and is the smallest of
# timeoutMs, kube-apiserver's ?timeout= less a margin and requestTimeoutMs;
# past it the event loop answers without the checks (build + warning).
# serve_yaml NAME: starts the webhook with the configuration read from stdin
# (the TLS block added), sets WP.
serve_yaml() {
    { cat; printf 'webhook:\n  threads: 1\n  tls: {certFile: "%s", keyFile: "%s"}\n' \
        "$work/server.crt" "$work/server.key"; } >"$work/$1.yaml"
    serve_start "$1" "$work/$1.yaml" && WP=$serve_port
}
burst() { "$FAKES" burst -ca "$work/ca.crt" -url "https://127.0.0.1:$WP/mutate?timeout=10s" "$@"; }
field() { sed -nE "s/.*(^| )$1=([0-9]+).*/\\2/p" <<<"$2" | head -n 1; }
# burst_ok NAME OUTPUT BOUND_MS: all 100 answered, allowed, with a build and
# a warning, valid for kube-apiserver, each within BOUND_MS.
burst_ok() {
    local mx
    mx=$(field max_ms "$2")
    if grep -q '^answers=100 allowed=100 builds=100 warned=100 invalid=0 errors=0 ' <<<"$2" &&
        [ -n "$mx" ] && [ "$mx" -le "$3" ]; then
        ok "$1 (slowest ${mx} ms, bound $3 ms)"
    else
        ko "$1" "$2"
    fi
}
if [ -x "$BIN" ] && [ -n "${F:-}" ] && serve_yaml g1 <<YML; then
imageBuilder:
  defaultRepository: $F/hang
  registryCheck: {enabled: true, timeoutMs: 1000, failureBackoffSeconds: 0, insecureRegistries: ["$F"]}
YML
    out=$(burst -n 100 -name g1)
    burst_ok "serve: 100 concurrent reviews against a registry that never answers, each within timeoutMs + 100 ms" \
        "$out" 1100
    expect "serve: a late check's warning says why" "$out" \
        "^warning: could not check whether $F/hang/g1-[0-9]+:t1 exists \((registry timed out|no answer within 1000 ms)\); building it$"
    serve_stop >/dev/null
else
    ko "serve: starts against a hanging registry (burst)" "$(tail -n 5 "$work/g1.log" 2>/dev/null)"
fi

# ?timeout= honoured: kube-apiserver's 2 s leaves 1.5 s, less than timeoutMs 5000
if [ -x "$BIN" ] && [ -n "${F:-}" ] && serve_yaml g2 <<YML; then
imageBuilder:
  defaultRepository: $F/hang
  registryCheck: {enabled: true, timeoutMs: 5000, failureBackoffSeconds: 0, insecureRegistries: ["$F"]}
YML
    # post_t FILE TIMEOUT: the answer to FILE sent with ?timeout=TIMEOUT, then the time in ms
    post_t() {
        curl -s --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data-binary @"$1" \
            -w '\n%{time_total}\n' "https://127.0.0.1:$WP/mutate?timeout=$2" |
            awk 'NR==1{print; next} {printf "%d\n", $1 * 1000}'
    }
    # answered_late NAME OUTPUT LOW HIGH REASON: allowed, with the build and
    # a warning giving REASON (an ERE), in [LOW, HIGH) ms
    answered_late() {
        local ms
        ms=$(tail -n 1 <<<"$2")
        if grep -q '"allowed":true' <<<"$2" && decoded "$2" | grep -q '"name":"build-image"' &&
            grep -qE "exists \\(($5)\\); building it" <<<"$2" && [ "$ms" -ge "$3" ] && [ "$ms" -lt "$4" ]; then
            ok "$1 (${ms} ms, build and warning)"
        else
            ko "$1" "$2"
        fi
    }
    review_for "foo:g2t$RANDOM" >"$work/r-g2.json"
    answered_late "serve: ?timeout=2s is honoured with timeoutMs 5000" "$(post_t "$work/r-g2.json" 2s)" \
        1300 2000 "registry timed out|no answer within 1500 ms"
    # The 4 check threads (one loop) busy with reviews sent with ?timeout=10s
    # (5 s each): one sent with ?timeout=2s waits in their queue, and the
    # event loop answers it at its deadline without the check.
    hangs=$(curl -s "http://$F/_count?key=hang")
    busy=()
    for k in 1 2 3 4; do
        review_for "foo:g2busy$k$RANDOM" >"$work/r-g2-$k.json"
        post_t "$work/r-g2-$k.json" 10s >"$work/g2-$k.out" &
        busy+=($!)
    done
    _busy() { [ "$(curl -s "http://$F/_count?key=hang")" -ge $((hangs + 4)) ]; }
    if wait_until 5 _busy; then
        review_for "foo:g2queued$RANDOM" >"$work/r-g2-q.json"
        answered_late "serve: with every check thread stuck, the event loop answers at the deadline" \
            "$(post_t "$work/r-g2-q.json" 2s)" 1300 2000 "no answer within 1500 ms"
        expect "serve: an answer without the checks is logged" "$(cat "$serve_log")" \
            '"msg":"live checks out of time; answered without them","uid":"u-[0-9]+","budgetMillis":1500'
    else
        ko "serve: the check threads are all busy with the hanging registry" \
            "$(curl -s "http://$F/_count?key=hang") requests, expected $((hangs + 4))"
    fi
    wait "${busy[@]}"
    for k in 1 2 3 4; do
        answered_late "serve: a review sent with ?timeout=10s gets timeoutMs 5000 ($k)" \
            "$(cat "$work/g2-$k.out")" 4800 5400 "registry timed out|no answer within 5000 ms"
    done
    serve_stop >/dev/null
else
    ko "serve: starts for ?timeout=" "$(tail -n 5 "$work/g2.log" 2>/dev/null)"
fi

# failureBackoffSeconds (default 10): an outage costs one timeout per check
# thread, not one per pod
if [ -x "$BIN" ] && [ -n "${F:-}" ] && serve_yaml g3 <<YML; then
imageBuilder:
  defaultRepository: $F/hang
  registryCheck: {enabled: true, timeoutMs: 1000, insecureRegistries: ["$F"]}
YML
    hangs=$(curl -s "http://$F/_count?key=hang")
    out=$(burst -n 100 -name g3a)
    burst_ok "serve: 100 reviews while the registry starts hanging" "$out" 1100
    mid=$(curl -s "http://$F/_count?key=hang")
    # one loop thread: 4 check threads, each asked the hanging host once
    if [ "$((mid - hangs))" -ge 1 ] && [ "$((mid - hangs))" -le 4 ]; then
        ok "serve: the hanging registry was asked $((mid - hangs)) times for 100 reviews"
    else
        ko "serve: the hanging registry was asked once per check thread at most" "$((mid - hangs)) requests"
    fi
    out=$(burst -n 100 -name g3b)
    burst_ok "serve: 100 more reviews answered at once while the host is backed off" "$out" 300
    expect "serve: the warning says the host was not asked and why" "$out" \
        "^warning: could not check whether $F/hang/g3b-[0-9]+:t1 exists \(not asked: $F failed [0-9]+ s ago\); building it$"
    if [ "$(curl -s "http://$F/_count?key=hang")" = "$mid" ]; then
        ok "serve: no request reached the backed-off registry"
    else
        ko "serve: no request reached the backed-off registry" "$(curl -s "http://$F/_count?key=hang") > $mid"
    fi
    serve_stop >/dev/null
else
    ko "serve: starts for failureBackoffSeconds" "$(tail -n 5 "$work/g3.log" 2>/dev/null)"
fi

# ---- H: the production namespace: terminating, created after a denial ------------------
# post_to FILE: the answer of the running webhook (WP) to FILE
post_to() {
    curl -s --cacert "$work/ca.crt" -H 'Content-Type: application/json' --data-binary @"$1" \
        "https://127.0.0.1:$WP/mutate?timeout=10s"
}
ns_serve() { # ns_serve NAME PROJECT
    serve_yaml "$1" <<YML
imageBuilder:
  defaultRepository: localhost:5000/union
  buildProject: $2
  productionDomainCheck: {enabled: true, apiServer: "$API", tokenFile: "$work/sa-token", caFile: "$work/ca.crt", timeoutMs: 1000}
YML
}
review_for "foo:abc" >"$work/r-ns.json"
if [ -x "$BIN" ] && [ -n "${API:-}" ] && ns_serve h1 terminating; then
    out=$(post_to "$work/r-ns.json")
    if grep -q '"allowed":true' <<<"$out" &&
        grep -q 'namespace terminating-production is being deleted (Terminating)' <<<"$out"; then
        ok "serve: a Terminating production namespace allows with a warning"
    else
        ko "serve: a Terminating production namespace allows with a warning" "$out"
    fi
    serve_stop >/dev/null
else
    ko "serve: starts for the terminating namespace" "$(tail -n 5 "$work/h1.log" 2>/dev/null)"
fi
if [ -x "$BIN" ] && [ -n "${API:-}" ] && ns_serve h2 dyn1; then
    out=$(post_to "$work/r-ns.json")
    if grep -q '"allowed":false' <<<"$out" && grep -q 'dyn1-production' <<<"$out"; then
        ok "serve: denied while the production namespace does not exist"
    else
        ko "serve: denied while the production namespace does not exist" "$out"
    fi
    curl -s --cacert "$work/ca.crt" "$API/_state?ns=dyn1-production&phase=Active" >/dev/null
    t0=$(now_ms)
    _allowed() { post_to "$work/r-ns.json" | grep -q '"allowed":true'; }
    if wait_until 6 _allowed && [ $(($(now_ms) - t0)) -lt 5000 ]; then
        ok "serve: a namespace created after a denial unblocks pods within 5 s ($(($(now_ms) - t0)) ms)"
    else
        ko "serve: a namespace created after a denial unblocks pods within 5 s" \
            "$(($(now_ms) - t0)) ms; $(post_to "$work/r-ns.json")"
    fi
    serve_stop >/dev/null
else
    ko "serve: starts for the namespace created late" "$(tail -n 5 "$work/h2.log" 2>/dev/null)"
fi

# ---- I: DNS that never answers --------------------------------------------------------------
# A network namespace of this test's own, whose resolv.conf (bind-mounted by
# `ip netns exec`) names a local DNS server that reads queries and never
# answers, with a Kubernetes pod's search domains and ndots:5: the system
# resolver alone would take 20 s. `review` runs in it with timeoutMs 1500.
NETNS=whlive-$$
netns_cleanup() {
    ip netns del "$NETNS" 2>/dev/null
    rm -rf "/etc/netns/$NETNS"
}
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && [ -x "$BIN" ] && ip netns add "$NETNS" 2>/dev/null; then
    trap 'netns_cleanup; t_cleanup' EXIT
    mkdir -p "/etc/netns/$NETNS"
    printf 'nameserver 127.0.0.1\nsearch t.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
        >"/etc/netns/$NETNS/resolv.conf"
    ip netns exec "$NETNS" ip link set lo up
    start dns ip netns exec "$NETNS" "$FAKES" dns -addr 127.0.0.1:53
    if listening dns dns >/dev/null; then
        cat >"$work/dns.yaml" <<YML
imageBuilder:
  defaultRepository: registry.example.test/union
  registryCheck: {enabled: true, timeoutMs: 1500}
YML
        review_for "foo:dns1" >"$work/r-dns.json"
        t0=$(now_ms)
        out=$(ip netns exec "$NETNS" "$BIN" review --config "$work/dns.yaml" --explain "$work/r-dns.json" 2>&1)
        ms=$(($(now_ms) - t0))
        if [ "$ms" -le 1900 ] && grep -q 'exists (DNS lookup timed out); building it' <<<"$out" &&
            grep -q '^query ' "$work/dns.log"; then
            ok "review: a DNS server that never answers costs timeoutMs, not the resolver's timeouts (${ms} ms)"
        else
            ko "review: a DNS server that never answers costs timeoutMs" "${ms} ms, $(grep -c '^query' "$work/dns.log") queries
$out"
        fi
    else
        ko "DNS server in the test's network namespace starts" "$(cat "$work/dns.log")"
    fi
else
    skipped "DNS that never answers: needs root and ip netns"
fi

# ---- J: authenticationType aws (tests/live/aws.sh) -----------------------------------
if [ -x "$BIN" ]; then
    . tests/live/aws.sh
else
    ko "aws: the webhook binary is built"
fi

# ---- K: authenticationType google and azure (tests/live/gcpaz.sh) --------------------
. tests/live/gcpaz.sh
finish
