# Sourced by tests/live/run.sh (its helpers, $work, $FAKES, $T and the token
# signing files of section B): registry credentials from the Google and
# Azure cloud identities, end to end through `imagebuilder-webhook review`
# and `serve`, against fakes that follow the clouds' wire formats (google.go,
# azure.go in tests/live/fakes) in front of real docker-registry instances
# with token authentication. The registries keep their real kinds of names
# (us-docker.pkg.dev, ibtest.azurecr.io, .cn and .us) and are reached on loopback through
# the webhook's test-only IMAGEBUILDER_WEBHOOK_TEST_CONNECT_TO hook, over TLS
# with a test CA (registryCheck.caFile); no resolver is involved.

# ---- G: Google and Azure cloud identities ---------------------------------------------
cloud_env_clean=(-u GOOGLE_APPLICATION_CREDENTIALS -u GCE_METADATA_HOST -u GCE_METADATA_ROOT
    -u AZURE_CLIENT_ID -u AZURE_TENANT_ID -u AZURE_FEDERATED_TOKEN_FILE -u AZURE_AUTHORITY_HOST)

# registry_at NAME prints the address of token_registry NAME (run.sh) once
# it answers.
registry_at() {
    local a
    a=$(listening "$1" docker-registry) && wait_http "http://$a/v2/" && echo "$a"
}
# push_for REGISTRY SERVICE REPO TAG: pushes an image with a token of the `token` fake.
push_for() {
    local tok
    tok=$(curl -s -u builder:s3cret "http://$T/token?service=$2&scope=repository:$3:pull,push" |
        sed -E 's/.*"token":"([^"]+)".*/\1/')
    push_image "$1" "$3" "$4" -H "Authorization: Bearer $tok" >/dev/null
}
# cloud_config NAME AUTH DEFAULT_REPOSITORY: a webhook configuration with the
# registry check on, trusting the cloud fakes' CA.
cloud_config() {
    cat >"$work/$1.yaml" <<YML
imageBuilder:
  defaultRepository: $3
  authenticationType: $2
  registryCheck: {enabled: true, timeoutMs: 1500, caFile: "$work/cloud-ca.crt"}
webhook:
  threads: 1
  tls: {certFile: "$work/server.crt", keyFile: "$work/server.key"}
YML
}
# cloud_review CONFIG IMAGE [VAR=VALUE...]: `review --explain` of a pod
# running IMAGE, in a clean cloud environment plus the given variables.
cloud_review() {
    local cfg=$1 img=$2
    shift 2
    review_for "$img" >"$work/cloud-review.json"
    env "${cloud_env_clean[@]}" IMAGEBUILDER_WEBHOOK_TEST_CONNECT_TO="$CONNECT_TO" "$@" \
        "$BIN" review --config "$work/$cfg.yaml" --explain "$work/cloud-review.json" \
        2>>"$work/cloud-review.err"
}
ccount() { curl -s "http://$1/_count?key=$2"; }
cmode() { curl -s "http://$1/_mode?target=$2&mode=$3" >/dev/null; }
# expect_built NAME OUTPUT REASON: build injected with a warning, and the
# live check's line gives REASON (a regex).
expect_built() {
    expect "$1" "$2" "^decision: mutated" "build injected" "^  - could not check whether" \
        "^  - registry: .* -> failed \(registry, .*$3"
}
expect_present() {
    if grep -q "^  - registry: .* -> present (registry, HTTP 200" <<<"$2" &&
        ! grep -q "build injected" <<<"$2" && ! grep -q "could not check" <<<"$2"; then
        ok "$1"
    else
        ko "$1" "$2"
    fi
}

if ! "$FAKES" cloudcerts -dir "$work" ||
    ! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sa.key" 2>/dev/null ||
    ! openssl pkey -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null ||
    ! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rogue.key" 2>/dev/null; then
    ko "cloud: test CA and service-account key pair"
    return 0
fi
# sa_key FILE KEY: a service-account key file (JSON) holding the PEM key KEY.
sa_key() {
    printf '{"type":"service_account","project_id":"ibproj","private_key_id":"k1","private_key":"%s","client_email":"webhook@ibproj.iam.gserviceaccount.com","client_id":"1","token_uri":"https://oauth2.googleapis.com/token"}\n' \
        "$(awk '{printf "%s\\n", $0}' "$2")" >"$1"
}
sa_key "$work/sa.json" "$work/sa.key"
sa_key "$work/rogue.json" "$work/rogue.key"

token_registry reg-gcp us-docker.pkg.dev https://us-docker.pkg.dev/v2/token
token_registry reg-az ibtest.azurecr.io https://ibtest.azurecr.io/oauth2/token
RG=$(registry_at reg-gcp)
RA=$(registry_at reg-az)
echo "assertion-one" >"$work/az-token"
start gfake "$FAKES" google -cert "$work/cloud.crt" -key "$work/cloud.key" -upstream "http://$RG" \
    -sign-key "$work/token.key" -sign-cert "$work/token.crt" -issuer live-issuer \
    -sa-pub "$work/sa.pub" -sa-email webhook@ibproj.iam.gserviceaccount.com
start afake "$FAKES" azure -cert "$work/cloud.crt" -key "$work/cloud.key" -upstream "http://$RA" \
    -sign-key "$work/token.key" -sign-cert "$work/token.crt" -issuer live-issuer \
    -tenant tenant-1 -client-id client-1 -assertion-file "$work/az-token"
if [ -z "$RG" ] || [ -z "$RA" ] || ! GT=$(listening gfake google) || ! GC=$(listening gfake google-control) ||
    ! AT=$(listening afake azure) || ! AC=$(listening afake azure-control) ||
    ! wait_http "http://$GC/_count" || ! wait_http "http://$AC/_count" ||
    ! push_for "$RG" us-docker.pkg.dev ibproj/images/foo abc123 ||
    ! push_for "$RA" ibtest.azurecr.io union/foo abc123; then
    ko "cloud fakes and registries start" "$(tail -n 5 "$work"/{gfake,afake,reg-gcp,reg-az}.log 2>/dev/null)"
    return 0
fi
CONNECT_TO="us-docker.pkg.dev:443:${GT%:*}:${GT##*:},oauth2.googleapis.com:443:${GT%:*}:${GT##*:}"
CONNECT_TO+=",metadata.google.internal:80:${GC%:*}:${GC##*:}"
CONNECT_TO+=",ibtest.azurecr.io:443:${AT%:*}:${AT##*:},login.microsoftonline.com:443:${AT%:*}:${AT##*:}"
cloud_config gcp google us-docker.pkg.dev/ibproj/images
cloud_config az azure ibtest.azurecr.io/union

# -- Google: the metadata server
out=$(cloud_review gcp foo:abc123 GCE_METADATA_HOST="$GC")
expect_present "google: metadata token (GCE_METADATA_HOST) -> existing image, no build" "$out"
out=$(cloud_review gcp foo:notbuilt GCE_METADATA_HOST="$GC")
expect "google: metadata token -> missing image gets the build, no warning" "$out" \
    "-> absent \(registry, HTTP 404" "build injected"
grep -q "could not check" <<<"$out" && ko "google: a missing image is not a warning" "$out"
out=$(cloud_review gcp foo:abc123)
expect_present "google: metadata.google.internal by default" "$out"
for m in 404:"metadata server answered 404" 403:"metadata server answered 403" \
    429:"metadata server answered 429" badjson:"metadata server sent a malformed answer" \
    noflavor:"the answer from .* has no Metadata-Flavor: Google header" hang:"metadata server timed out"; do
    cmode "$GC" metadata "${m%%:*}"
    t0=$(date +%s%N)
    out=$(cloud_review gcp foo:abc123 GCE_METADATA_HOST="$GC")
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_built "google: metadata server ${m%%:*} -> build and a warning (google:metadata: ${m#*:})" \
        "$out" "google:metadata: ${m#*:}"
done
if [ "$ms" -lt 3000 ]; then ok "google: a hanging metadata server costs the timeout (${ms} ms)"; else
    ko "google: a hanging metadata server costs the timeout" "${ms} ms"
fi
cmode "$GC" metadata ok

# -- Google: a service-account key file (wins over the metadata server)
before=$(ccount "$GC" metadata)
out=$(cloud_review gcp foo:abc123 GOOGLE_APPLICATION_CREDENTIALS="$work/sa.json" GCE_METADATA_HOST="$GC")
expect_present "google: service-account key (RS256 assertion verified at token_uri) -> no build" "$out"
if [ "$(ccount "$GC" tokenuri)" = 1 ] && [ "$(ccount "$GC" metadata)" = "$before" ]; then
    ok "google: the key file wins over the metadata server"
else
    ko "google: the key file wins over the metadata server" \
        "token_uri $(ccount "$GC" tokenuri), metadata $(ccount "$GC" metadata) (was $before)"
fi
out=$(cloud_review gcp foo:abc123 GOOGLE_APPLICATION_CREDENTIALS="$work/rogue.json")
expect_built "google: a key the service account does not have -> token_uri refuses the signature" \
    "$out" "google:service-account-key: Google token endpoint answered 400 \(invalid_grant: Invalid JWT Signature"
for m in 401:"answered 401" 429:"answered 429" badjson:"sent a malformed answer" hang:"timed out"; do
    cmode "$GC" tokenuri "${m%%:*}"
    out=$(cloud_review gcp foo:abc123 GOOGLE_APPLICATION_CREDENTIALS="$work/sa.json")
    expect_built "google: token_uri ${m%%:*} -> build and a warning" "$out" \
        "google:service-account-key: Google token endpoint ${m#*:}"
done
cmode "$GC" tokenuri ok
out=$(cloud_review gcp foo:abc123 GOOGLE_APPLICATION_CREDENTIALS="$work/nothere.json")
expect_built "google: a missing key file is named" "$out" "GOOGLE_APPLICATION_CREDENTIALS .*nothere.json: cannot open"

# -- Azure: workload identity
az_env=(AZURE_CLIENT_ID=client-1 AZURE_TENANT_ID=tenant-1 AZURE_FEDERATED_TOKEN_FILE="$work/az-token")
out=$(cloud_review az foo:abc123 "${az_env[@]}")
expect_present "azure: Entra token -> ACR refresh token -> registry token -> existing image, no build" "$out"
if [ "$(ccount "$AC" entra)" = 1 ] && [ "$(ccount "$AC" exchange)" = 1 ] && [ "$(ccount "$AC" acrtoken)" = 1 ]; then
    ok "azure: one Entra request, one exchange, one refresh-token grant"
else
    ko "azure: one Entra request, one exchange, one refresh-token grant" \
        "entra $(ccount "$AC" entra) exchange $(ccount "$AC" exchange) acrtoken $(ccount "$AC" acrtoken)"
fi
out=$(cloud_review az foo:notbuilt "${az_env[@]}")
expect "azure: missing image gets the build" "$out" "-> absent \(registry, HTTP 404" "build injected"
echo "assertion-two" >"$work/az-token.new" && mv "$work/az-token.new" "$work/az-token"
out=$(cloud_review az foo:abc123 "${az_env[@]}" AZURE_AUTHORITY_HOST="https://login.microsoftonline.com")
expect_present "azure: the rotated federated token is read again; AZURE_AUTHORITY_HOST without a slash" "$out"
out=$(cloud_review az foo:abc123 "${az_env[@]}" AZURE_AUTHORITY_HOST="https://$AT/")
expect_present "azure: AZURE_AUTHORITY_HOST names another authority" "$out"
out=$(cloud_review az foo:abc123 "${az_env[@]}" AZURE_CLIENT_ID=someone-else)
expect_built "azure: Entra refuses an unknown client -> build and a warning" "$out" \
    "azure:workload-identity: Entra token endpoint answered 400 \(unauthorized_client: AADSTS700016"
echo "stale" >"$work/az-stale"
out=$(cloud_review az foo:abc123 "${az_env[@]}" AZURE_FEDERATED_TOKEN_FILE="$work/az-stale")
expect_built "azure: an assertion Entra does not match -> 401 invalid_client" "$out" \
    "Entra token endpoint answered 401 \(invalid_client: AADSTS700213"
out=$(cloud_review az foo:abc123)
expect_built "azure: no workload identity in the environment -> says so" "$out" \
    "azure:workload-identity: AZURE_CLIENT_ID is not set"
for m in 401:"answered 401" 429:"answered 429" badjson:"sent a malformed answer" hang:"timed out"; do
    cmode "$AC" entra "${m%%:*}"
    out=$(cloud_review az foo:abc123 "${az_env[@]}")
    expect_built "azure: Entra ${m%%:*} -> build and a warning" "$out" \
        "azure:workload-identity: Entra token endpoint ${m#*:}"
done
cmode "$AC" entra ok
for m in 401:"registry token exchange answered 401" 403:"registry token exchange answered 403" \
    badjson:"registry token exchange sent a malformed answer" \
    expired:"the registry's refresh token has already expired" hang:"registry token exchange timed out"; do
    cmode "$AC" exchange "${m%%:*}"
    out=$(cloud_review az foo:abc123 "${az_env[@]}")
    expect_built "azure: /oauth2/exchange ${m%%:*} -> build and a warning" "$out" \
        "azure:workload-identity: ${m#*:}"
done
cmode "$AC" exchange ok
cmode "$AC" acrtoken 401
out=$(cloud_review az foo:abc123 "${az_env[@]}")
expect_built "azure: the registry refuses the refresh token -> build and a warning" "$out" \
    "token endpoint answered HTTP 401"
cmode "$AC" acrtoken ok

# -- Azure: the national clouds' registries. Each cloud has its own Entra
# (the default authority when AZURE_AUTHORITY_HOST is not set), which
# issues registry tokens for that cloud's Resource Manager audience only.
for cloud in cn:login.chinacloudapi.cn us:login.microsoftonline.us; do
    sfx=${cloud%%:*} entra_host=${cloud#*:}
    host=ibtest.azurecr.$sfx
    token_registry "reg-az-$sfx" "$host" "https://$host/oauth2/token"
    if ! rn=$(registry_at "reg-az-$sfx") ||
        ! start "afake-$sfx" "$FAKES" azure -cert "$work/cloud.crt" -key "$work/cloud.key" -upstream "http://$rn" \
            -sign-key "$work/token.key" -sign-cert "$work/token.crt" -issuer live-issuer \
            -tenant tenant-1 -client-id client-1 -assertion-file "$work/az-token" ||
        ! tn=$(listening "afake-$sfx" azure) || ! ctl=$(listening "afake-$sfx" azure-control) ||
        ! wait_http "http://$ctl/_count" || ! push_for "$rn" "$host" union/foo abc123; then
        ko "azure ($host): fake and registry start" "$(tail -n 5 "$work"/{afake-$sfx,reg-az-$sfx}.log 2>/dev/null)"
        continue
    fi
    CONNECT_TO+=",$host:443:${tn%:*}:${tn##*:},$entra_host:443:${tn%:*}:${tn##*:}"
    cloud_config "az-$sfx" azure "$host/union"
    out=$(cloud_review "az-$sfx" foo:abc123 "${az_env[@]}")
    expect_present "azure: a national cloud's registry ($host): its Entra by default, its Resource Manager audience -> existing image, no build" "$out"
    if [ "$(ccount "$ctl" entra)" = 1 ] && [ "$(ccount "$ctl" exchange)" = 1 ]; then
        ok "azure ($host): one request to $entra_host, one exchange"
    else
        ko "azure ($host): one request to $entra_host, one exchange" \
            "entra $(ccount "$ctl" entra) exchange $(ccount "$ctl" exchange)"
    fi
done

# -- caching in a running server: two reviews, one token request
cloud_serve() { # cloud_serve NAME CONFIG [VAR=VALUE...]: starts serve, sets WP
    local name=$1 cfg=$2 rc=0
    shift 2
    serve_wrap=(env "${cloud_env_clean[@]}" IMAGEBUILDER_WEBHOOK_TEST_CONNECT_TO="$CONNECT_TO" "$@")
    serve_start "$name" "$work/$cfg.yaml" >/dev/null && WP=$serve_port || rc=1
    serve_wrap=()
    return $rc
}
review_named() { # review_named NAME TAG: a review whose ImageSpec is NAME, image NAME:TAG
    review_for "$1:$2" | sed 's/\\"name\\":\\"foo\\"/\\"name\\":\\"'"$1"'\\"/'
}
review_for "foo:abc123" >"$work/c-present.json"
review_named bar other1 >"$work/c-other.json"
review_named baz one >"$work/c-baz.json"
review_named qux one >"$work/c-qux.json"
curl -s "http://$GC/_count?reset=1" >/dev/null
if cloud_serve gserve gcp GCE_METADATA_HOST="$GC"; then
    a=$(post "$work/c-present.json")
    b=$(post "$work/c-other.json")
    if ! decoded "$a" | grep -q build-image && decoded "$b" | grep -q build-image &&
        [ "$(ccount "$GC" metadata)" = 1 ] && [ "$(ccount "$GC" regtoken)" = 2 ]; then
        ok "google serve: two reviews (two repositories), one metadata token request"
    else
        ko "google serve: two reviews (two repositories), one metadata token request" \
            "metadata $(ccount "$GC" metadata) regtoken $(ccount "$GC" regtoken)
$a
$b"
    fi
    cmode "$GC" regtoken 401 # the registry refuses the token (revoked)
    a=$(post "$work/c-baz.json")
    cmode "$GC" regtoken ok
    b=$(post "$work/c-qux.json")
    if decoded "$a" | grep -q build-image && [ "$(ccount "$GC" metadata)" = 2 ]; then
        ok "google serve: a token the registry refuses is not offered again"
    else
        ko "google serve: a token the registry refuses is not offered again" \
            "metadata $(ccount "$GC" metadata)"
    fi
else
    ko "google serve starts" "$(tail -n 5 "$work/gserve.log")"
fi
curl -s "http://$AC/_count?reset=1" >/dev/null
if cloud_serve aserve az "${az_env[@]}"; then
    a=$(post "$work/c-present.json")
    b=$(post "$work/c-other.json")
    if ! decoded "$a" | grep -q build-image && decoded "$b" | grep -q build-image &&
        [ "$(ccount "$AC" entra)" = 1 ] && [ "$(ccount "$AC" exchange)" = 1 ] &&
        [ "$(ccount "$AC" acrtoken)" = 2 ]; then
        ok "azure serve: two reviews (two repositories), one Entra request and one exchange"
    else
        ko "azure serve: two reviews (two repositories), one Entra request and one exchange" \
            "entra $(ccount "$AC" entra) exchange $(ccount "$AC" exchange) acrtoken $(ccount "$AC" acrtoken)
$a
$b"
    fi
    cmode "$AC" acrtoken 401 # the registry refuses the refresh token (revoked)
    a=$(post "$work/c-baz.json")
    cmode "$AC" acrtoken ok
    b=$(post "$work/c-qux.json")
    if decoded "$a" | grep -q build-image && [ "$(ccount "$AC" exchange)" = 2 ] &&
        [ "$(ccount "$AC" entra)" = 1 ]; then
        ok "azure serve: a refresh token the registry refuses is exchanged anew"
    else
        ko "azure serve: a refresh token the registry refuses is exchanged anew" \
            "entra $(ccount "$AC" entra) exchange $(ccount "$AC" exchange)"
    fi
else
    ko "azure serve starts" "$(tail -n 5 "$work/aserve.log")"
fi
# the log of every review (under a sanitizer build too: WEBHOOK_BIN)
if grep -qE 'Sanitizer|runtime error' "$work/cloud-review.err"; then
    ko "cloud reviews: no sanitizer report" "$(grep -E -A5 'Sanitizer|runtime error' "$work/cloud-review.err")"
fi
