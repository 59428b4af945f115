# tests/live/aws.sh: the registry check with authenticationType aws, sourced
# by tests/live/run.sh (it uses that script's helpers and servers).
#
# An Amazon ECR registry on loopback: Debian's docker-registry behind token
# auth whose token server accepts the user "AWS" with the password the fake
# ECR hands out, reached under an ECR host name that a private /etc/hosts
# (bind-mounted in a mount namespace of the webhook's own) maps to
# 127.0.0.1. The AWS side is the fakes of tests/live/fakes/aws.go: STS,
# ECR (which checks every Signature Version 4), the EKS Pod Identity agent
# and IMDSv2, all on loopback; every test points the webhook at them
# through the AWS SDKs' environment variables, so nothing leaves loopback
# (IMDS is disabled or faked in every run).
#
# What is tested: each identity source end to end through `review` (the
# image exists: no build) and their precedence (web identity, Pod Identity,
# static keys, IMDS); failures of every kind (build + warning, the reason in
# `review --explain` and the log); the Docker config winning over the cloud
# identity; in `serve`, one STS and one ECR call for two reviews,
# credentials near their expiry fetched again, and one STS call for three
# pods while STS throttles (failureBackoffSeconds); the metric by source.

ECR_NAME=123456789012.dkr.ecr.us-east-1.amazonaws.com
ECR_NAME_B=210987654321.dkr.ecr.us-east-1.amazonaws.com # another account
ROLE=arn:aws:iam::123456789012:role/imagebuilder-webhook

# in_hosts CMD...: CMD with $work/hosts as /etc/hosts, in a private mount
# namespace. IN_HOSTS is the same as a command prefix: as serve_wrap it runs
# the server itself in the background (unshare and sh exec into it), so that
# serve_stop signals the server, not a shell left waiting for it.
IN_HOSTS=(unshare -m)
[ "$(id -u)" = 0 ] || IN_HOSTS=(unshare -r -m)
IN_HOSTS+=(sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts")
in_hosts() { "${IN_HOSTS[@]}" "$@"; }
awsctl() { curl -s "http://$AS/$1" >/dev/null; } # awsctl _set?KEY=VALUE / _count?reset=1
awscount() { curl -s "http://$AS/_count?key=$1"; }
# counts "k1=v1 k2=v2 ...": every fake counter as expected (prints what differs)
counts() {
    local kv bad=""
    for kv in $1; do
        [ "$(awscount "${kv%%=*}")" = "${kv#*=}" ] || bad="$bad ${kv%%=*}=$(awscount "${kv%%=*}")"
    done
    [ -z "$bad" ] || { echo "counters:$bad"; return 1; }
}
# aws_review_for IMAGE [REGISTRY]: an AdmissionReview for a pod running IMAGE
# whose image spec builds it (into REGISTRY when given).
aws_review_for() {
    local reg=""
    [ -n "${2:-}" ] && reg=',\"registry\":\"'"$2"'\"'
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","namespace":"t","object":{"metadata":{"name":"p","labels":{"imagebuilder.union.ai/builder":"union"},"annotations":{"imagebuilder.union.ai/image-spec":"{\\"name\\":\\"%s\\",\\"builder\\":\\"union\\"%s}"}},"spec":{"containers":[{"name":"main","image":"%s"}]}},"dryRun":true}}\n' \
        "$RANDOM" "${1%%:*}" "$reg" "$1"
}
# aws_config NAME [TIMEOUT_MS] [DOCKER_CONFIG] [BACKOFF_S]: a configuration for the ECR registry
aws_config() {
    cat >"$work/$1.yaml" <<YML
imageBuilder:
  defaultRepository: $ECR/union
  authenticationType: aws
  buildProject: ok
  registryCheck:
    enabled: true
    timeoutMs: ${2:-3000}
    failureBackoffSeconds: ${4:-10}
    insecureRegistries: ["$ECR", "$ECR_B"]
    dockerConfig: "${3:-}"
  productionDomainCheck: {enabled: false}
webhook:
  threads: 1
  shutdownDelayMs: 0
  tls: {certFile: "$work/server.crt", keyFile: "$work/server.key"}
YML
}
# aws_review CONFIG REVIEW VAR=VALUE...: `review --explain` in the hosts
# namespace with exactly these variables (and PATH); the log goes to $work/aws-review.log.
aws_review() {
    local cfg=$1 rv=$2
    shift 2
    in_hosts env -i PATH="$PATH" "$@" "$WEBHOOK_BIN" review --explain --config "$work/$cfg.yaml" \
        "$rv" 2>"$work/aws-review.log"
}

aws_tests() {
    local out c=""
    # The variables of each source (the ECR API is always the fake).
    E_ECR=(AWS_ENDPOINT_URL_ECR="http://$AE" AWS_ENDPOINT_URL=http://127.0.0.1:1)
    E_OFF=(AWS_EC2_METADATA_DISABLED=true)
    E_WEB=(AWS_ROLE_ARN=$ROLE AWS_WEB_IDENTITY_TOKEN_FILE="$work/web-token" AWS_ENDPOINT_URL_STS="http://$AS"
        AWS_REGION=us-east-1)
    E_POD=(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://$AP/v1/credentials"
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$work/pod-token")
    E_KEYS=(AWS_ACCESS_KEY_ID=AKIASTATICEXAMPLE AWS_SECRET_ACCESS_KEY="static/Secret+Key")
    E_IMDS=(AWS_EC2_METADATA_SERVICE_ENDPOINT="http://$AI")

    aws_config aws1
    aws_review_for foo:abc123 >"$work/aws-present.json"
    aws_review_for foo:nothere >"$work/aws-absent.json"

    # ---- each source, and precedence: every run has the sources below it too
    local src want
    for src in imds keys pod web; do
        local envs=("${E_ECR[@]}" "${E_IMDS[@]}")
        want="imds-token=1 imds-creds=1 ecr=1 ecr-by-ASIAIMD=1 sts=0 pod=0"
        [ $src != imds ] && envs+=("${E_KEYS[@]}") && want="imds-token=0 ecr=1 ecr-by-AKIASTA=1 sts=0 pod=0"
        [ $src = pod ] || [ $src = web ] && envs+=("${E_POD[@]}")
        [ $src = pod ] && want="pod=1 ecr=1 ecr-by-ASIAPOD=1 sts=0 imds-token=0"
        [ $src = web ] && envs+=("${E_WEB[@]}") && want="sts=1 ecr=1 ecr-by-ASIASTS=1 pod=0 imds-token=0"
        local name=$src
        [ $src = keys ] && name=static-keys
        [ $src = imds ] && name=imds
        [ $src = pod ] && name=pod-identity
        [ $src = web ] && name=web-identity
        awsctl "_count?reset=1"
        out=$(aws_review aws1 "$work/aws-present.json" "${envs[@]}")
        if grep -q "^decision: mutated" <<<"$out" && grep -q "image exists, no build" <<<"$out" &&
            grep -qE "^  - registry: $ECR/union:foo-abc123 -> present \(registry, HTTP 200, credentials: aws:$name, " <<<"$out" &&
            c=$(counts "$want"); then
            ok "aws: $name end to end (first source configured of those below it): the image exists, no build"
        else
            ko "aws: $name end to end (first source configured of those below it): the image exists, no build" "$c
$out
$(cat "$work/aws-review.log")"
        fi
    done
    out=$(aws_review aws1 "$work/aws-absent.json" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
    expect "aws: a missing image is absent (and built)" "$out" "^decision: mutated" \
        "-> absent \(registry, HTTP 404, credentials: aws:web-identity" "build injected"

    # ---- failures: build + warning, and the reason
    local mode reason
    for mode in "sts=deny|STS AssumeRoleWithWebIdentity answered HTTP 403: AccessDenied: Not authorized" \
        "sts=throttle|STS AssumeRoleWithWebIdentity answered HTTP 400: Throttling: Rate exceeded" \
        "ecr=deny|ECR GetAuthorizationToken answered HTTP 400: AccessDeniedException" \
        "ecr=wrong-password|token endpoint answered HTTP 401"; do
        reason=${mode#*|}
        awsctl "_set?${mode%%|*}"
        out=$(aws_review aws1 "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
        awsctl "_set?sts=ok&ecr=ok"
        expect "aws: ${mode%%|*} -> build and a warning, the reason in review --explain" "$out" \
            "^decision: mutated" "build injected" "could not check whether $ECR/union:foo-abc123 exists" \
            "-> failed \(registry, .*$reason.*credentials: aws:web-identity"
    done
    expect "aws: the failed check is logged with the reason and the source" "$(cat "$work/aws-review.log")" \
        '"level":"warn","msg":"registry check failed; the build is injected".*"detail":"token endpoint answered HTTP 401".*"credentials":"aws:web-identity"'
    out=$(aws_review aws1 "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}" AWS_ACCESS_KEY_ID=AKIASTATICEXAMPLE \
        AWS_SECRET_ACCESS_KEY=wrong-secret)
    expect "aws: a request signed with the wrong secret is refused by the ECR fake (SigV4 checked)" "$out" \
        "build injected" "InvalidSignatureException: The request signature we calculated does not match"
    awsctl "_set?pod=deny"
    out=$(aws_review aws1 "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}" "${E_POD[@]}")
    awsctl "_set?pod=ok"
    expect "aws: Pod Identity agent refusing the token -> build, reason" "$out" "build injected" \
        "credential endpoint answered HTTP 401, credentials: aws:pod-identity"
    out=$(aws_review aws1 "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}")
    expect "aws: no identity at all -> build, reason" "$out" "build injected" \
        "aws:none: no AWS credentials found"
    aws_config aws-fast 1000
    awsctl "_set?sts=hang"
    local t0=$(now_ms)
    out=$(aws_review aws-fast "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
    local took=$(($(now_ms) - t0))
    awsctl "_set?sts=ok"
    if grep -q "build injected" <<<"$out" && grep -qE "aws:web-identity: STS: .*[Tt]imed? ?out" <<<"$out" &&
        [ "$took" -lt 2500 ]; then
        ok "aws: a hanging STS is cut off at timeoutMs (${took} ms), reason named"
    else
        ko "aws: a hanging STS is cut off at timeoutMs" "took ${took} ms
$out"
    fi

    # ---- the Docker config wins when it has the host
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$ECR" "$(printf AWS:ecr-s3cret | base64)" >"$work/aws-docker.json"
    aws_config aws-dc 3000 "$work/aws-docker.json"
    awsctl "_count?reset=1"
    out=$(aws_review aws-dc "$work/aws-present.json" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
    if grep -q "present (registry, HTTP 200, credentials: docker-config" <<<"$out" && c=$(counts "sts=0 ecr=0"); then
        ok "aws: the Docker config wins over the cloud identity"
    else
        ko "aws: the Docker config wins over the cloud identity" "$c
$out"
    fi

    # ---- serve: caching, expiry, metrics. Reviews 1 and 2: two repositories
    # of one ECR registry; review 3: another account's registry (a new ECR
    # token, the same identity).
    aws_review_for bar:v1 "$ECR/other" >"$work/aws-other.json"
    aws_review_for bar:v1 "$ECR_B/other" >"$work/aws-account-b.json"
    local expiry
    for expiry in long short; do
        awsctl "_count?reset=1"
        [ $expiry = short ] && awsctl "_set?expiry=240&ecr-expiry=240" # inside the 5-minute margin
        serve_wrap=("${IN_HOSTS[@]}" env -i PATH="$PATH" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
        if ! serve_start "aws-$expiry" "$work/aws1.yaml"; then
            serve_wrap=()
            ko "aws: serve starts ($expiry expiry)" "$(tail -n 5 "$work/aws-$expiry.log")"
            continue
        fi
        serve_wrap=()
        WP=$serve_port
        local r1 r2 r3 m c2 c3=""
        r1=$(post "$work/aws-present.json")
        r2=$(post "$work/aws-other.json")
        c2=$(awscount sts)/$(awscount ecr)
        r3=$(post "$work/aws-account-b.json")
        m=$(curl -s --cacert "$work/ca.crt" "https://127.0.0.1:$WP/metrics")
        serve_stop >/dev/null
        local all_ok=1 r
        for r in "$r1" "$r2" "$r3"; do
            grep -q '"allowed":true' <<<"$r" && ! decoded "$r" | grep -q build-image || all_ok=0
        done
        local want2=1/1 want3="sts=1 ecr=2"
        local what="two reviews cost one STS call and one ECR call; another registry one more ECR call"
        [ $expiry = short ] && want2=2/2 && want3="sts=3 ecr=3" &&
            what="credentials and ECR tokens near their expiry are fetched again for each review"
        if [ $all_ok = 1 ] && [ "$c2" = "$want2" ] && c3=$(counts "$want3"); then
            ok "aws: serve: $what"
        else
            ko "aws: serve: $what" "after two reviews sts/ecr=$c2; $c3
$r1
$r2
$r3
$(tail -n 5 "$work/aws-$expiry.log")"
        fi
        [ $expiry = long ] && expect "aws: serve: the credential source is a metric label" "$m" \
            'imagebuilder_webhook_registry_credentials_total\{source="aws:web-identity",result="ok"\} 3' \
            'imagebuilder_webhook_registry_credentials_total\{source="aws:web-identity",result="error"\} 0'
    done
    awsctl "_set?expiry=3600&ecr-expiry=43200"

    # ---- serve: while STS throttles, it is asked once per failureBackoffSeconds, not once per pod
    aws_config aws-bo 3000 "" 300
    awsctl "_count?reset=1"
    awsctl "_set?sts=throttle"
    serve_wrap=("${IN_HOSTS[@]}" env -i PATH="$PATH" "${E_ECR[@]}" "${E_OFF[@]}" "${E_WEB[@]}")
    if serve_start aws-backoff "$work/aws-bo.yaml"; then
        serve_wrap=()
        WP=$serve_port
        local answers="" bad=0 i a
        for i in 1 2 3; do
            a=$(post "$work/aws-present.json")
            answers="$answers$a"$'\n'
            grep -q '"allowed":true' <<<"$a" && grep -q "could not check whether $ECR/union:foo-abc123 exists" <<<"$a" &&
                decoded "$a" | grep -q build-image || bad=1
        done
        m=$(curl -s --cacert "$work/ca.crt" "https://127.0.0.1:$WP/metrics")
        serve_stop >/dev/null
        if [ $bad = 0 ] && c=$(counts "sts=1 ecr=0"); then
            ok "aws: serve: while STS throttles, three pods cost one STS call; each gets its build and the warning"
        else
            ko "aws: serve: while STS throttles, three pods cost one STS call; each gets its build and the warning" \
                "$c
$answers$(tail -n 5 "$work/aws-backoff.log")"
        fi
        expect "aws: serve: the lookups not made are counted as backoff, and logged with the first failure's reason" \
            "$m
$(cat "$work/aws-backoff.log")" \
            'imagebuilder_webhook_registry_credentials_total\{source="aws:web-identity",result="error"\} 1' \
            'imagebuilder_webhook_registry_credentials_total\{source="aws:web-identity",result="backoff"\} 2' \
            '"detail":"[^"]*aws:web-identity: not asked: failed [0-9]+ s ago \(STS AssumeRoleWithWebIdentity answered HTTP 400: Throttling'
    else
        serve_wrap=()
        ko "aws: serve starts (failure backoff)" "$(tail -n 5 "$work/aws-backoff.log")"
    fi
    awsctl "_set?sts=ok"
}

# ---- servers ---------------------------------------------------------------------------
echo "web-identity-token-$RANDOM" >"$work/web-token"
echo "pod-identity-token-$RANDOM" >"$work/pod-token"
start token3 "$FAKES" token -addr 127.0.0.1:0 -sign-key "$work/token.key" -sign-cert "$work/token.crt" \
    -issuer live-issuer -user AWS -pass ecr-s3cret
start awsfakes "$FAKES" aws -role-arn "$ROLE" -web-token-file "$work/web-token" \
    -pod-token-file "$work/pod-token" -region us-east-1 -static-key AKIASTATICEXAMPLE \
    -static-secret "static/Secret+Key" -user AWS -pass ecr-s3cret
T3=$(listening token3 token)
AS=$(listening awsfakes sts)
AE=$(listening awsfakes ecr)
AP=$(listening awsfakes pod)
AI=$(listening awsfakes imds)
token_registry reg3 live-registry "http://$T3/token"
printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 %s %s\n' "$ECR_NAME" "$ECR_NAME_B" >"$work/hosts"
if [ -z "$T3" ] || [ -z "$AS" ] || [ -z "$AI" ] || ! R3=$(listening reg3 docker-registry) ||
    ! wait_http "http://$R3/v2/" || ! wait_http "http://$AS/_count"; then
    ko "aws: docker-registry, its token server and the AWS fakes start" \
        "$(tail -n 5 "$work/reg3.log" "$work/token3.log" "$work/awsfakes.log")"
elif ! in_hosts sh -c "getent hosts $ECR_NAME | grep -q '^127.0.0.1 '"; then
    ko "aws: a private /etc/hosts in a mount namespace (unshare) maps the ECR host to 127.0.0.1"
else
    ECR=$ECR_NAME:${R3##*:}
    ECR_B=$ECR_NAME_B:${R3##*:}
    pushed=1
    for repo in union:foo-abc123 other/bar:v1; do
        tok=$(curl -s -u AWS:ecr-s3cret \
            "http://$T3/token?service=live-registry&scope=repository:${repo%%:*}:pull,push" |
            sed -E 's/.*"token":"([^"]+)".*/\1/')
        push_image "$R3" "${repo%%:*}" "${repo#*:}" -H "Authorization: Bearer $tok" >/dev/null || pushed=0
    done
    if [ $pushed = 1 ]; then
        ok "aws: push images to the ECR stand-in (docker-registry, token auth as user AWS)"
        aws_tests
    else
        ko "aws: push images to the ECR stand-in" "$(tail -n 5 "$work/reg3.log")"
    fi
fi
