#!/usr/bin/env bash
# Deployment checks: the certificate tool (certs/gen-certs.sh), the caBundle
# filler (hack/fill-cabundle.sh), a TLS handshake of the real server with a
# generated certificate, check-config on every configuration we ship, and
# the manifests and every rendered chart variant validated against the
# Kubernetes schemas and the webhook's safety properties.
#
# The chart is linted and rendered with the real helm (HELM, default helm
# from PATH; hack/install-helm.sh installs it).
#
# Last line: "deploy: N passed, M failed". Under QUICK=1 the parts that need
# helm and Node (schemas) are skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
WEBHOOK_BIN=${WEBHOOK_BIN:-$ROOT/bin/imagebuilder-webhook}
QUICK=${QUICK:-0}
CHART=$ROOT/charts/imagebuilder-webhook
GEN=$ROOT/certs/gen-certs.sh
FILL=$ROOT/hack/fill-cabundle.sh
NODE_DIR=$ROOT/tests/deploy
HELM=${HELM:-helm}
KUBECTL=${KUBECTL:-kubectl}
RELEASE=imagebuilder-webhook
NS=imagebuilder

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

pass=0 fail=0
ok() {
    pass=$((pass + 1))
    echo "PASS $1"
}
ko() {
    fail=$((fail + 1))
    echo "FAIL $1: $2"
}
# expect NAME CMD...: passes when CMD succeeds.
expect() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else ko "$name" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
}
# expect_to FILE NAME CMD...: like expect, with CMD's standard output in FILE.
expect_to() {
    local file=$1 name=$2
    shift 2
    if "$@" >"$file" 2>"$file.err"; then ok "$name"; else ko "$name" "$(tail -n 3 "$file.err" | tr '\n' ' ')"; fi
}
# refuse NAME CMD...: passes when CMD fails.
refuse() {
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then ko "$name" "succeeded but should have failed"; else ok "$name"; fi
}
# Runs a checks.mjs command, counting its PASS/FAIL lines.
node_checks() { node_script checks.mjs "$@"; }
# Runs one of the Node scripts of tests/deploy, counting its PASS/FAIL lines.
node_script() {
    local script=$1 out rc p f
    shift
    out=$(cd "$NODE_DIR" && node "$script" "$@" 2>&1)
    rc=$?
    grep -E '^(FAIL|NOTE) ' <<<"$out"
    p=$(grep -c '^PASS ' <<<"$out")
    f=$(grep -c '^FAIL ' <<<"$out")
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "$out" | tail -n 5; f=1; }
    pass=$((pass + p))
    fail=$((fail + f))
    echo "  $script $1 ${2:-}: $p passed, $f failed"
}
# node_refuses NAME PATTERN CMD...: checks.mjs must fail with a FAIL line matching PATTERN.
node_refuses() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$(cd "$NODE_DIR" && node checks.mjs "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && grep -E '^FAIL ' <<<"$out" | grep -qE -- "$pattern"; then
        ok "$name"
    else
        ko "$name" "expected a failure matching '$pattern' (exit $rc)"
    fi
}
sums() { (cd "$1" && sha256sum ca.crt ca.key tls.crt tls.key secret.yaml); }
sans_of() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr ',' '\n' | sed 's/^ *//'; }
# The value of a data key of the Secret manifest written by gen-certs.sh.
secret_data() { awk -v k="  $2:" 'index($0, k) == 1 {print $2}' "$1" | base64 -d; }

# ---- certs/gen-certs.sh ---------------------------------------------------
C=$work/c1
bundle=$("$GEN" --out "$C" --extra-san DNS:localhost --extra-san IP:127.0.0.1 2>"$work/gen.err")
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$C/ca.crt" ] && [ -s "$C/ca.key" ] && [ -s "$C/tls.crt" ] && [ -s "$C/tls.key" ] && [ -s "$C/secret.yaml" ]; then
    ok "gen-certs: writes ca.crt ca.key tls.crt tls.key secret.yaml"
else
    ko "gen-certs: writes ca.crt ca.key tls.crt tls.key secret.yaml" "exit $rc: $(tail -n 2 "$work/gen.err")"
fi
[ "$bundle" = "$(base64 -w0 <"$C/ca.crt" 2>/dev/null)" ] && [ -n "$bundle" ] &&
    ok "gen-certs: stdout is exactly the base64 caBundle" || ko "gen-certs: stdout is exactly the base64 caBundle" "got '${bundle:0:40}...'"
modes=$(stat -c '%a' "$C/ca.key" "$C/tls.key" "$C/secret.yaml" 2>/dev/null | sort -u | paste -sd, -)
[ "$modes" = 600 ] && ok "gen-certs: keys and Secret are mode 0600" || ko "gen-certs: keys and Secret are mode 0600" "modes $modes"
sans=$(sans_of "$C/tls.crt" 2>/dev/null)
missing=""
for want in DNS:imagebuilder-webhook.imagebuilder.svc DNS:imagebuilder-webhook.imagebuilder.svc.cluster.local DNS:localhost "IP Address:127.0.0.1"; do
    grep -qxF "$want" <<<"$sans" || missing="$missing $want"
done
[ -z "$missing" ] && ok "gen-certs: serving certificate has the service and extra SANs" ||
    ko "gen-certs: serving certificate has the service and extra SANs" "missing:$missing"
expect "gen-certs: serving certificate verifies against the CA" openssl verify -CAfile "$C/ca.crt" "$C/tls.crt"
expect "gen-certs: serving key is ECDSA P-256" bash -c "openssl pkey -in '$C/tls.key' -noout -text | grep -q 'NIST CURVE: P-256'"
expect "gen-certs: serving certificate is for server auth, not a CA" bash -c \
    "openssl x509 -in '$C/tls.crt' -noout -ext extendedKeyUsage,basicConstraints | grep -q 'TLS Web Server Authentication' &&
     openssl x509 -in '$C/tls.crt' -noout -ext basicConstraints | grep -q 'CA:FALSE'"
expect "gen-certs: the CA is a CA" bash -c "openssl x509 -in '$C/ca.crt' -noout -ext basicConstraints | grep -q 'CA:TRUE'"
expect "gen-certs: secret.yaml is a kubernetes.io/tls Secret in the namespace" bash -c \
    "grep -qx 'type: kubernetes.io/tls' '$C/secret.yaml' && grep -qx '  namespace: imagebuilder' '$C/secret.yaml' &&
     grep -qx '  name: imagebuilder-webhook-tls' '$C/secret.yaml'"
ok_data=1
for k in tls.crt tls.key ca.crt; do
    cmp -s <(secret_data "$C/secret.yaml" "$k") "$C/$k" || ok_data=0
done
[ "$ok_data" = 1 ] && ok "gen-certs: secret.yaml carries the same tls.crt, tls.key and ca.crt" ||
    ko "gen-certs: secret.yaml carries the same tls.crt, tls.key and ca.crt" "data differs from the files"

before=$(sums "$C" 2>/dev/null)
again=$("$GEN" --out "$C" --extra-san DNS:localhost --extra-san IP:127.0.0.1 2>/dev/null)
rc=$?
[ "$rc" -eq 0 ] && [ "$before" = "$(sums "$C")" ] && [ "$again" = "$bundle" ] &&
    ok "gen-certs: a second run with the same parameters changes nothing" ||
    ko "gen-certs: a second run with the same parameters changes nothing" "exit $rc or files changed"
refuse "gen-certs: refuses other names over existing files" "$GEN" --out "$C" --namespace other
[ "$before" = "$(sums "$C")" ] && ok "gen-certs: a refused run leaves the files alone" ||
    ko "gen-certs: a refused run leaves the files alone" "files changed"
renewed=$("$GEN" --out "$C" --renew --extra-san DNS:localhost --extra-san IP:127.0.0.1 2>/dev/null)
rc=$?
if [ "$rc" -eq 0 ] && [ "$renewed" = "$bundle" ] && cmp -s <(sed -n 1p <<<"$before") <(cd "$C" && sha256sum ca.crt) &&
    ! grep -q "$(cd "$C" && sha256sum tls.crt | cut -c1-64)" <<<"$before" &&
    openssl verify -CAfile "$C/ca.crt" "$C/tls.crt" >/dev/null 2>&1; then
    ok "gen-certs: --renew re-issues the serving certificate with the same CA"
else
    ko "gen-certs: --renew re-issues the serving certificate with the same CA" "exit $rc"
fi
cmp -s <(secret_data "$C/secret.yaml" tls.crt) "$C/tls.crt" && ok "gen-certs: --renew updates secret.yaml" ||
    ko "gen-certs: --renew updates secret.yaml" "secret.yaml still has the old certificate"
forced=$("$GEN" --out "$C" --force --namespace other 2>/dev/null)
rc=$?
[ "$rc" -eq 0 ] && [ -n "$forced" ] && [ "$forced" != "$bundle" ] && sans_of "$C/tls.crt" | grep -qx DNS:imagebuilder-webhook.other.svc &&
    ok "gen-certs: --force replaces the CA and takes the new names" || ko "gen-certs: --force replaces the CA and takes the new names" "exit $rc"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/tls.key" 2>/dev/null
refuse "gen-certs: refuses a key that does not match the certificate" "$GEN" --out "$C" --namespace other
refuse "gen-certs: rejects a service name that is not a DNS label" "$GEN" --out "$work/bad" --service Bad_Name
refuse "gen-certs: rejects an unknown option" "$GEN" --out "$work/bad" --bogus
D=$work/c2
"$GEN" --out "$D" --service hooks --namespace tools --secret-name hooks-cert >/dev/null 2>&1
sans=$(sans_of "$D/tls.crt" 2>/dev/null | paste -sd, -)
[ "$sans" = "DNS:hooks.tools.svc,DNS:hooks.tools.svc.cluster.local" ] && grep -qx '  name: hooks-cert' "$D/secret.yaml" &&
    ok "gen-certs: --service/--namespace/--secret-name name the certificate and Secret" ||
    ko "gen-certs: --service/--namespace/--secret-name name the certificate and Secret" "SANs $sans"

# ---- hack/fill-cabundle.sh ------------------------------------------------
P=$work/prod
"$GEN" --out "$P" >/dev/null 2>&1
"$FILL" --certs "$P" --stdout >"$work/mwc.yaml" 2>"$work/fill.err"
rc=$?
got=$(awk '/^ *caBundle:/ {gsub(/"/, "", $2); print $2}' "$work/mwc.yaml")
[ "$rc" -eq 0 ] && [ "$got" = "$(base64 -w0 <"$P/ca.crt")" ] && ok "fill-cabundle: writes the CA of certs/ into the webhook configuration" ||
    ko "fill-cabundle: writes the CA of certs/ into the webhook configuration" "exit $rc $(cat "$work/fill.err")"
refuse "fill-cabundle: refuses certificates made for another Service" "$FILL" --certs "$D" --stdout
cp "$ROOT/manifests/08-mutatingwebhookconfiguration.yaml" "$work/inplace.yaml"
"$FILL" --certs "$P" "$work/inplace.yaml" 2>/dev/null && cmp -s "$work/inplace.yaml" "$work/mwc.yaml" &&
    ok "fill-cabundle: edits a given file in place" || ko "fill-cabundle: edits a given file in place" "file differs from --stdout"

# ---- the server accepts the generated certificate -------------------------
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}
cat >"$work/dev-config.yaml" <<'EOF'
imageBuilder:
  enabled: true
  buildkitUri: tcp://127.0.0.1:1234
  defaultRepository: localhost:5000/union
  authenticationType: noop
webhook:
  path: /mutate
  logLevel: warn
EOF
if [ ! -x "$WEBHOOK_BIN" ]; then
    ko "server: serves /healthz over TLS with the gen-certs certificate" "$WEBHOOK_BIN is missing (make builds it)"
else
    port=$(free_port)
    "$WEBHOOK_BIN" serve --config "$work/dev-config.yaml" --listen "127.0.0.1:$port" \
        --tls-cert "$P/tls.crt" --tls-key "$P/tls.key" >"$work/server.log" 2>&1 &
    server_pid=$!
    up=0
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    host=imagebuilder-webhook.imagebuilder.svc
    req() { printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host"; }
    if [ "$up" = 1 ]; then
        resp=$(req | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$host" \
            -verify_hostname "$host" -verify_return_error -CAfile "$P/ca.crt" -quiet 2>&1)
        grep -q "^HTTP/1.1 200" <<<"$resp" && ok "server: serves /healthz over TLS with the gen-certs certificate" ||
            ko "server: serves /healthz over TLS with the gen-certs certificate" "$(head -n 3 <<<"$resp" | tr '\n' ' ')"
        req | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$host" \
            -verify_hostname "$host" -verify_return_error -CAfile "$D/ca.crt" -quiet >/dev/null 2>&1 &&
            ko "server: a client trusting another CA is refused" "handshake succeeded" ||
            ok "server: a client trusting another CA is refused"
    else
        ko "server: serves /healthz over TLS with the gen-certs certificate" "server did not listen: $(tail -n 3 "$work/server.log" | tr '\n' ' ')"
    fi
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
fi

# ---- check-config on what we ship -----------------------------------------
# config.yaml of a ConfigMap manifest: the block under "config.yaml: |".
awk '/^  config.yaml: \|/ {s = 1; next} s && /^    / {print substr($0, 5); next} s && !/^ *$/ {exit} s {print ""}' \
    "$ROOT/manifests/03-config.yaml" >"$work/manifests-config.yaml"
if [ ! -x "$WEBHOOK_BIN" ]; then
    ko "check-config: manifests/03-config.yaml is valid" "$WEBHOOK_BIN is missing"
else
    expect "check-config: manifests/03-config.yaml is valid" "$WEBHOOK_BIN" check-config --config "$work/manifests-config.yaml"
    sed 's/authenticationType: noop/authenticationType: github/' "$work/manifests-config.yaml" >"$work/bad-config.yaml"
    refuse "check-config: the same config with an unknown authenticationType is refused" \
        "$WEBHOOK_BIN" check-config --config "$work/bad-config.yaml"
fi

if [ "$QUICK" = 1 ]; then
    echo "QUICK=1: skipping the chart (helm) and the schema checks (Node)"
    echo "deploy: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

# ---- helm, kubectl and the Node checks --------------------------------------
# The real helm v4 and kubectl v1.35 (hack/install-helm.sh, run by
# hack/install-deps.sh test).
if "$HELM" version --template '{{ .Version }}' 2>/dev/null | grep -q '^v4\.'; then
    ok "helm: $("$HELM" version --template '{{ .Version }}') is installed"
else
    ko "helm: v4 is installed" "'$HELM' is missing or not v4: run hack/install-deps.sh test"
fi
kubectl_version=$("$KUBECTL" version --client 2>/dev/null | sed -n 's/^Client Version: //p')
[[ "$kubectl_version" == v1.35.* ]] && ok "kubectl: $kubectl_version is installed" ||
    ko "kubectl: v1.35 is installed" "'$KUBECTL' is missing or ${kubectl_version:-unknown}: run hack/install-deps.sh test"
# npm ci again whenever the lock changed since the last install; npm's own
# output is shown when it fails.
lock_sum=$(sha256sum "$NODE_DIR/package-lock.json" | cut -c1-64)
if [ "$(cat "$NODE_DIR/node_modules/.lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
    if (cd "$NODE_DIR" && npm ci --no-audit --no-fund >"$work/npm.log" 2>&1); then
        echo "$lock_sum" >"$NODE_DIR/node_modules/.lock-sha256"
    else
        echo "npm ci failed in tests/deploy:"
        sed 's/^/  /' "$work/npm.log"
    fi
fi
[ -d "$NODE_DIR/node_modules/kubernetes-models" ] && ok "node: the packages of tests/deploy/package-lock.json are installed" ||
    ko "node: the packages of tests/deploy/package-lock.json are installed" "npm ci failed (its output is above)"
node_checks engines lock "$NODE_DIR/package-lock.json" 18.19.0

R=$work/render
mkdir -p "$R"
# Renders the chart as release imagebuilder-webhook in namespace imagebuilder.
render() { "$HELM" template "$RELEASE" "$CHART" -n "$NS" "$@"; }
# Every values file under ci/ is a variant, named by its file (aws-values.yaml: aws).
variants=(defaults)
for f in "$CHART"/ci/*-values.yaml; do
    v=${f##*/}
    variants+=("${v%-values.yaml}")
done
vargs() { [ "$1" = defaults ] || printf '%s\n' -f "$CHART/ci/$1-values.yaml"; }
for v in "${variants[@]}"; do
    mapfile -t args < <(vargs "$v")
    expect "chart: helm lint --strict ($v)" "$HELM" lint --strict "$CHART" -n "$NS" "${args[@]}"
    expect_to "$R/$v.yaml" "chart: helm template renders ($v)" render "${args[@]}"
done

# ---- schemas ----------------------------------------------------------------
"$FILL" --certs "$P" --stdout >"$R/manifests-mwc.yaml"
mfiles=()
for f in "$ROOT"/manifests/*.yaml; do
    case "$f" in *08-mutatingwebhookconfiguration.yaml) mfiles+=("$R/manifests-mwc.yaml") ;; *) mfiles+=("$f") ;; esac
done
node_checks validate manifests "$ROOT"/manifests/*.yaml "$P/secret.yaml"
for v in "${variants[@]}"; do
    mapfile -t args < <(vargs "$v")
    node_checks validate "chart-$v" "$R/$v.yaml"
    node_checks values "chart-$v" "$CHART/values.schema.json" "$CHART/values.yaml" "${args[@]:1}"
done
node_refuses "validate: a Deployment with replicas \"two\" is rejected" "replicas must be integer" validate broken \
    <(sed 's/^  replicas: 2$/  replicas: two/' "$ROOT/manifests/05-deployment.yaml")

# values.schema.json rejects what the webhook would reject: checked with ajv
# over the merged values, and by helm itself (lint validates the schema).
schema_refuses() {
    local name=$1 out
    printf '%s\n' "$2" >"$R/neg-values.yaml"
    node_refuses "values.schema.json rejects $name" "values match" values neg "$CHART/values.schema.json" \
        "$CHART/values.yaml" "$R/neg-values.yaml"
    out=$("$HELM" lint --strict "$CHART" -n "$NS" -f "$R/neg-values.yaml" 2>&1)
    if [ $? -ne 0 ] && grep -q "don't meet the specifications of the schema" <<<"$out"; then
        ok "helm lint rejects $name"
    else
        ko "helm lint rejects $name" "lint passed or failed for another reason: $(grep -m1 ERROR <<<"$out")"
    fi
}
schema_refuses "an unknown authenticationType" 'imageBuilder: {authenticationType: github}'
schema_refuses "an unknown key under imageBuilder" 'imageBuilder: {defaultRepo: x}'
schema_refuses "a chart-only key under webhook" 'webhook: {replicas: 3}'
schema_refuses "timeoutSeconds above 10" 'admission: {timeoutSeconds: 30}'
schema_refuses "a defaultRepository with a scheme" 'imageBuilder: {defaultRepository: "https://ghcr.io/org"}'
schema_refuses "an unknown certificates.mode" 'certificates: {mode: manual}'

# ---- safety properties ----------------------------------------------------
node_checks safety manifests "${mfiles[@]}" "$P/secret.yaml"
for v in "${variants[@]}"; do
    node_checks safety "chart-$v" "$R/$v.yaml"
done
render --set admission.failurePolicy=Ignore >"$R/neg1.yaml" 2>/dev/null
node_refuses "safety: failurePolicy Ignore is caught" "failurePolicy is Fail" safety neg "$R/neg1.yaml"
render --skip-schema-validation --set admission.timeoutSeconds=30 >"$R/neg2.yaml" 2>/dev/null
node_refuses "safety: timeoutSeconds 30 is caught" "at most 10" safety neg "$R/neg2.yaml"
printf 'admission:\n  excludeNamespaces: []\n' >"$R/neg3-values.yaml"
render -f "$R/neg3-values.yaml" >"$R/neg3.yaml" 2>/dev/null
node_refuses "safety: a namespaceSelector that lets kube-system in is caught" "excludes the webhook's namespace" safety neg "$R/neg3.yaml"
sed 's/sideEffects: None/sideEffects: NoneOnDryRun/' "$R/manifests-mwc.yaml" >"$R/neg4.yaml"
node_refuses "safety: sideEffects other than None is caught" "sideEffects is None" safety neg "${mfiles[@]/$R\/manifests-mwc.yaml/$R/neg4.yaml}"
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "$ROOT/manifests/05-deployment.yaml" >"$R/neg5.yaml"
node_refuses "safety: a writable root filesystem is caught" "read-only root filesystem" safety neg \
    "${mfiles[@]/$ROOT\/manifests\/05-deployment.yaml/$R/neg5.yaml}"
render --set certificates.mode=secret --set certificates.secret.name=imagebuilder-webhook-tls \
    --set "certificates.secret.caBundle=$(base64 -w0 <"$D/ca.crt")" >"$R/neg6.yaml" 2>/dev/null
node_refuses "safety: a caBundle that did not sign the serving certificate is caught" "signed by the caBundle" safety neg \
    "$R/neg6.yaml" "$P/secret.yaml"

# ---- what the chart renders -------------------------------------------------
(cd "$NODE_DIR" && node checks.mjs objects "${mfiles[@]}") | grep -v '^Namespace ' | sort >"$R/m.objects"
(cd "$NODE_DIR" && node checks.mjs objects "$R/defaults.yaml") | grep -v '^Secret ' | sort >"$R/c.objects"
if [ -s "$R/m.objects" ] && cmp -s "$R/m.objects" "$R/c.objects"; then
    ok "chart: defaults render the same objects as manifests/"
else
    ko "chart: defaults render the same objects as manifests/" "$(diff "$R/m.objects" "$R/c.objects" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
fi
uri=tcp://imagebuilder-webhook-buildkit.imagebuilder.svc.cluster.local:1234
grep -qx "  buildkit-uri: \"$uri\"" "$R/defaults.yaml" && grep -qx "      buildkitUri: $uri" "$R/defaults.yaml" &&
    ok "chart: empty buildkitUri with buildkit enabled renders the in-cluster URI into both ConfigMaps" ||
    ko "chart: empty buildkitUri with buildkit enabled renders the in-cluster URI into both ConfigMaps" "URI not found"
"$HELM" template ib "$CHART" -n builds >"$R/other.yaml" 2>/dev/null
uri=tcp://ib-buildkit.builds.svc.cluster.local:1234
grep -qx "  buildkit-uri: \"$uri\"" "$R/other.yaml" && grep -qx "      buildkitUri: $uri" "$R/other.yaml" &&
    grep -q '^  name: ib-buildkit$' "$R/other.yaml" && ok "chart: the buildkit URI follows the release name and namespace" ||
    ko "chart: the buildkit URI follows the release name and namespace" "$uri not rendered"
out=$(render --skip-schema-validation --set imageBuilder.buildkit.enabled=false 2>&1)
[ $? -ne 0 ] && grep -q "no builder" <<<"$out" && ok "chart: no buildkitUri and buildkit disabled is refused" ||
    ko "chart: no buildkitUri and buildkit disabled is refused" "rendered anyway"
grep -qx '        dockerConfig: /etc/imagebuilder-webhook/docker/config.json' "$R/google.yaml" &&
    grep -qx '                  name: registry-pull-credentials' "$R/google.yaml" &&
    grep -qx '                      path: docker/config.json' "$R/google.yaml" &&
    ! grep -q 'dockerConfig' "$R/defaults.yaml" &&
    ok "chart: registryCredentials mounts the Docker config Secret and points registryCheck at it" ||
    ko "chart: registryCredentials mounts the Docker config Secret and points registryCheck at it" "google variant"
grep -q 'buildkit-uri: "tcp://buildkitd.buildkit.svc.cluster.local:1234"' "$R/google.yaml" && ! grep -q 'name: imagebuilder-buildkit' "$R/google.yaml" &&
    ok "chart: an explicit buildkitUri is used and no buildkitd is deployed when disabled" ||
    ko "chart: an explicit buildkitUri is used and no buildkitd is deployed when disabled" "google variant"
[ "$(grep -c '^  name: build-image-config$' "$R/aws.yaml")" = 4 ] &&
    ok "chart: build-image-config is rendered into every listed namespace" ||
    ko "chart: build-image-config is rendered into every listed namespace" "$(grep -c '^  name: build-image-config$' "$R/aws.yaml") copies"
out=$(render --set certificates.mode=secret --set certificates.secret.name=x 2>&1)
[ $? -ne 0 ] && grep -q caBundle <<<"$out" && ok "chart: certificates.mode=secret requires a caBundle" ||
    ko "chart: certificates.mode=secret requires a caBundle" "rendered without one"
"$HELM" install "$RELEASE" "$CHART" -n "$NS" --dry-run=client >"$R/notes.txt" 2>/dev/null
grep -q -- '--dry-run=server' "$R/notes.txt" && ok "chart: NOTES.txt explains a server-side dry run" ||
    ko "chart: NOTES.txt explains a server-side dry run" "not in NOTES"
grep -q 'cert-manager.io/inject-ca-from: imagebuilder/imagebuilder-webhook-tls' "$R/cert-manager.yaml" && ! grep -q 'caBundle:' "$R/cert-manager.yaml" &&
    ok "chart: cert-manager mode injects the CA instead of rendering one" || ko "chart: cert-manager mode injects the CA instead of rendering one" "annotation or caBundle"

# ---- what the chart's values do (tests/deploy/chart.mjs) -------------------
V=$R/values
node_script chart.mjs "$HELM" "$CHART" "$V"
# Every render it made holds valid objects; those meant for production keep
# the safety properties (the others have one replica on purpose).
for f in "$V"/*.yaml; do
    node_checks validate "values-$(basename "$f" .yaml)" "$f"
done
for v in host-network name-override fullname-override labels security-context topology-spread hpa image-digest \
    build-image-security-context certgen metrics-scraper buildkit-rootless; do
    node_checks safety "values-$v" "$V/$v.yaml"
done

# ---- pod selection by image: the matchConditions (tests/deploy/cel.mjs) ------------
# The CEL of podSelection logicalRegistry, from the chart and the manifests,
# compiled and evaluated with @bufbuild/cel; the manifests' alternative file
# is a valid, safe registration, and the config change it asks for is valid.
node_script cel.mjs "$HELM" "$CHART" "$ROOT/manifests" "$ROOT/tests/golden"
LR_MWC=$ROOT/manifests/logical-registry/08-mutatingwebhookconfiguration.yaml
"$FILL" --certs "$P" --stdout "$LR_MWC" >"$R/manifests-mwc-lr.yaml" 2>/dev/null
node_checks validate manifests-logical-registry "$LR_MWC"
node_checks safety manifests-logical-registry "${mfiles[@]/$R\/manifests-mwc.yaml/$R/manifests-mwc-lr.yaml}" "$P/secret.yaml"
sed 's/^  podSelection: label$/  podSelection: logicalRegistry/' "$work/manifests-config.yaml" >"$R/manifests-config-lr.yaml"
if [ -x "$WEBHOOK_BIN" ] && grep -q 'podSelection: logicalRegistry' "$R/manifests-config-lr.yaml"; then
    expect "check-config: manifests/03-config.yaml with podSelection: logicalRegistry is valid" \
        "$WEBHOOK_BIN" check-config --config "$R/manifests-config-lr.yaml"
else
    ko "check-config: manifests/03-config.yaml with podSelection: logicalRegistry is valid" "no binary or no podSelection line"
fi

# ---- attaching an ImageSpec from flytekit (tests/deploy/imagespec.mjs) ------------
if [ -x "$WEBHOOK_BIN" ]; then
    node_script imagespec.mjs "$ROOT" "$WEBHOOK_BIN"
else
    ko "imagespec: hack/imagespec-annotation.sh and the README's snippets" "$WEBHOOK_BIN is missing"
fi

# ---- Pod Security Standards (tests/deploy/pss-check.mjs) ------------------------
node_script pss-check.mjs selftest
# What the webhook adds never lowers a pod's level; a restricted pod stays
# restricted once mutated (the build container brings its own
# restricted securityContext).
if [ -x "$WEBHOOK_BIN" ]; then
    node_script pss-check.mjs golden "$WEBHOOK_BIN" "$ROOT/tests/golden"
else
    ko "pss: golden pods" "$WEBHOOK_BIN is missing"
fi
# The chart's and the manifests' own pods meet restricted (buildkitd aside,
# and hostNetwork, which no level but privileged allows).
node_script pss-check.mjs workloads manifests "$ROOT"/manifests/*.yaml
for v in "${variants[@]}"; do
    node_script pss-check.mjs workloads "chart-$v" "$R/$v.yaml"
done
for f in "$V"/*.yaml; do
    case "$f" in */host-network.yaml) continue ;; esac
    node_script pss-check.mjs workloads "values-$(basename "$f" .yaml)" "$f"
done

# ---- the image, the chart README, the install docs ------------------------------
app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CHART/Chart.yaml")
[ "$app_version" = "$(cat "$ROOT/VERSION")" ] && ok "chart: appVersion is VERSION, the tag make docker-image gives" ||
    ko "chart: appVersion is VERSION, the tag make docker-image gives" "appVersion $app_version, VERSION $(cat "$ROOT/VERSION")"
render --set deployment.image.repository=registry.example.com/x/imagebuilder-webhook >"$R/image.yaml" 2>/dev/null
grep -qx "          image: \"registry.example.com/x/imagebuilder-webhook:$(cat "$ROOT/VERSION")\"" "$R/image.yaml" &&
    ok "chart: one --set of the repository points it at the image make docker-image tags" ||
    ko "chart: one --set of the repository points it at the image make docker-image tags" "image not rendered as repository:VERSION"
dry=$(cd "$ROOT" && make -s -n docker-image IMAGE=registry.example.com/x/imagebuilder-webhook 2>&1)
grep -q -- "docker build -t registry.example.com/x/imagebuilder-webhook:$(cat "$ROOT/VERSION")" <<<"$dry" &&
    grep -q -- "--build-arg RUNTIME_BASE=\$runtime" <<<"$dry" && grep -q "RepoDigests" <<<"$dry" &&
    grep -q -- "--set deployment.image.repository=registry.example.com/x/imagebuilder-webhook" <<<"$dry" &&
    ok "make docker-image: tags IMAGE:VERSION from base images pinned by digest, prints the --set" ||
    ko "make docker-image: tags IMAGE:VERSION from base images pinned by digest, prints the --set" "make -n output differs"
from_lines=$(grep -c '^FROM \${\(BUILD\|RUNTIME\)_BASE}' "$ROOT/Dockerfile")
labels=$(grep -o 'org\.opencontainers\.image\.[a-z.]*=' "$ROOT/Dockerfile" | sort -u | paste -sd' ' -)
[ "$from_lines" = 2 ] && [[ "$labels" == *base.name=*created=*description=*licenses=*revision=*source=*title=*version=* ]] &&
    ok "Dockerfile: both stages take their base by build argument, OCI labels set" ||
    ko "Dockerfile: both stages take their base by build argument, OCI labels set" "FROM lines $from_lines, labels: $labels"
readme=$("$HELM" show readme "$CHART" 2>/dev/null)
missing=""
for k in $(sed -n 's/^\([a-zA-Z][a-zA-Z]*\):.*/\1/p' "$CHART/values.yaml"); do
    grep -q "\`$k\`" <<<"$readme" || missing="$missing $k"
done
[ -n "$readme" ] && [ -z "$missing" ] && ok "chart: helm show readme documents every top-level value" ||
    ko "chart: helm show readme documents every top-level value" "missing:${missing:- the whole README}"
install=$(awk '/^## Install/ {s = 1} /^## Troubleshooting/ {s = 0} s' "$ROOT/README.md")
grep -q 'make docker-image IMAGE=' <<<"$install" && grep -q 'deployment.image.repository=' <<<"$install" &&
    grep -q 'make docker-push' <<<"$install" &&
    ok "README: the install section says how to build and push the image and point the chart at it" ||
    ko "README: the install section says how to build and push the image and point the chart at it" "not found"
grep -q 'Not GitOps-safe' <<<"$install" && grep -q 'recommended for Argo CD and Flux' <<<"$install" &&
    ok "README: helm certificates are documented as not GitOps-safe, job mode recommended for Argo CD and Flux" ||
    ko "README: helm certificates are documented as not GitOps-safe, job mode recommended for Argo CD and Flux" "not found"

# ---- check-config on every rendered config --------------------------------
for v in "${variants[@]}"; do
    (cd "$NODE_DIR" && node checks.mjs config "$R/$v.yaml") >"$R/$v.config.yaml" 2>/dev/null
    if [ ! -x "$WEBHOOK_BIN" ]; then
        ko "check-config: the config rendered by the chart is valid ($v)" "$WEBHOOK_BIN is missing"
    elif [ ! -s "$R/$v.config.yaml" ]; then
        ko "check-config: the config rendered by the chart is valid ($v)" "no config.yaml in the render"
    else
        expect "check-config: the config rendered by the chart is valid ($v)" "$WEBHOOK_BIN" check-config --config "$R/$v.config.yaml"
    fi
done

node_refuses "safety: buildkitd without its NetworkPolicy is caught" "without the builder label cannot" \
    safety neg "$V/network-policy-off.yaml"
sed 's/imagebuilder.union.ai\/builder: union$/app: x/' "$ROOT/manifests/12-networkpolicy.yaml" >"$R/neg7.yaml"
node_refuses "safety: a buildkit NetworkPolicy that admits other pods than the builders is caught" \
    "without the builder label cannot" safety neg "${mfiles[@]/$ROOT\/manifests\/12-networkpolicy.yaml/$R/neg7.yaml}"

# ---- monitoring: the alerts, the dashboard and the README against /metrics ----
# The server with both live checks on exports every metric family (the API
# server address is a closed local port: the namespace check just fails).
cat >"$work/metrics-config.yaml" <<EOF
imageBuilder:
  enabled: true
  buildkitUri: tcp://127.0.0.1:1234
  defaultRepository: localhost:5000/union
  authenticationType: noop
  registryCheck:
    enabled: true
  productionDomainCheck:
    enabled: true
    apiServer: http://127.0.0.1:9
webhook:
  logLevel: warn
  tls:
    certFile: $P/tls.crt
    keyFile: $P/tls.key
EOF
scraped=0
if [ -x "$WEBHOOK_BIN" ] && port=$(free_port) && mport=$(free_port) && [ "$port" != "$mport" ]; then
    printf '  listen: 127.0.0.1:%s\n  metricsListen: 127.0.0.1:%s\n' "$port" "$mport" >>"$work/metrics-config.yaml"
    "$WEBHOOK_BIN" serve --config "$work/metrics-config.yaml" >"$work/metrics-server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS --max-time 2 "http://127.0.0.1:$mport/metrics" >"$R/exposition.txt" 2>/dev/null && { scraped=1; break; }
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    # helm test: the test pod's own command, its Service name led to this
    # server by a curl that adds --connect-to.
    mkdir -p "$work/shim"
    printf '#!/bin/sh\nexec %s --connect-to imagebuilder-webhook.imagebuilder.svc:443:127.0.0.1:%s "$@"\n' \
        "$(command -v curl)" "$port" >"$work/shim/curl"
    chmod +x "$work/shim/curl"
    node_checks helmtest chart-defaults "$R/defaults.yaml" "$P/ca.crt" "$work/shim"
    node_checks helmtest chart-defaults "$R/defaults.yaml" "$P/ca.crt" "$work/shim" union
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
fi
[ "$scraped" = 1 ] && ok "metrics: scraped the server's /metrics with both live checks on" ||
    ko "metrics: scraped the server's /metrics with both live checks on" "$(tail -n 2 "$work/metrics-server.log" 2>/dev/null | tr '\n' ' ')"
node_checks monitoring chart "$R/exposition.txt" "$ROOT/README.md" "$V/monitoring.yaml"
sed 's/imagebuilder_webhook_config_reloads_total{/imagebuilder_webhook_config_reload_failures_total{/' "$V/monitoring.yaml" >"$R/neg8.yaml"
node_refuses "monitoring: an alert on a metric the webhook does not export is caught" "unknown metrics" \
    monitoring neg "$R/exposition.txt" "$ROOT/README.md" "$R/neg8.yaml"
sed 's/^| `imagebuilder_webhook_ready` .*$//' "$ROOT/README.md" >"$R/neg9.md"
node_refuses "monitoring: a metric missing from the README's table is caught" "lists every exported family" \
    monitoring neg "$R/exposition.txt" "$R/neg9.md" "$V/monitoring.yaml"

# The ports of hostNetwork mode reach the webhook's config as listen addresses.
(cd "$NODE_DIR" && node checks.mjs config "$V/host-network.yaml") >"$R/host-network.config.yaml" 2>/dev/null
if [ -x "$WEBHOOK_BIN" ] && [ -s "$R/host-network.config.yaml" ]; then
    expect "check-config: the config rendered with hostNetwork and other ports is valid" \
        "$WEBHOOK_BIN" check-config --config "$R/host-network.config.yaml"
else
    ko "check-config: the config rendered with hostNetwork and other ports is valid" "no binary or no config"
fi

# A build container securityContext given in values is one the webhook accepts.
(cd "$NODE_DIR" && node checks.mjs config "$V/build-image-security-context.yaml") >"$R/bisc.config.yaml" 2>/dev/null
if [ -x "$WEBHOOK_BIN" ] && [ -s "$R/bisc.config.yaml" ]; then
    expect "check-config: the config with imageBuilder.buildImage.securityContext from values is valid" \
        "$WEBHOOK_BIN" check-config --config "$R/bisc.config.yaml"
else
    ko "check-config: the config with imageBuilder.buildImage.securityContext from values is valid" "no binary or no config"
fi

echo "deploy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
