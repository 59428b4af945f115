#!/usr/bin/env bash
# The command line: --help for the program and for each command (exit 0),
# usage errors (exit 2, certgen's among them; tests/certgen runs it against
# a fake API), `review --fail-on-deny` and `--explain` exit
# codes, and hack/dry-run.sh against a running server (allowed, denied,
# --fail-on-deny, no server). The golden area checks --fail-on-deny and
# --explain on every golden case.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area cli
bin=$WEBHOOK_BIN
[ -x "$bin" ] || { ko "$bin is missing (run make)"; finish; }
t_work
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-h2o.supp"

# run NAME WANT_RC CMD...: runs CMD (stdout in $work/out, stderr in $work/err);
# a check that it exited WANT_RC.
run() {
    local name=$1 want=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok "$name"
        return 0
    fi
    ko "$name: exit $rc, want $want" "$(cat "$work/out" "$work/err")"
    return 1
}
# has NAME FILE REGEX: a check that FILE has a line matching REGEX.
has() {
    if grep -qE -- "$3" "$2"; then ok "$1"; else ko "$1: no /$3/ in $2" "$(cat "$2")"; fi
}

# ---- help and usage errors ---------------------------------------------------------
run "--help exits 0" 0 "$bin" --help
for c in serve review check-config certgen; do
    has "--help lists $c" "$work/out" "^  $c "
done
for c in serve review check-config certgen; do
    if run "$c --help exits 0" 0 "$bin" "$c" --help; then
        has "$c --help shows its usage" "$work/out" "(^  |^usage: imagebuilder-webhook )$c "
        [ -s "$work/err" ] && ko "$c --help writes nothing to stderr" "$(cat "$work/err")" || ok
    fi
done
run "review -h exits 0" 0 "$bin" review --config x.yaml -h
has "review -h shows --fail-on-deny" "$work/out" "--fail-on-deny exits 3"
run "review: an unknown option is a usage error" 2 "$bin" review --fail-on-denial x.yaml
has "review: the unknown option is named" "$work/err" "review: unknown option '--fail-on-denial'"
run "certgen: the required flags are required" 2 "$bin" certgen --namespace ns --secret s
has "certgen: the missing flags are named" "$work/err" "--namespace, --secret and --service are required"
run "certgen: a namespace that is not a DNS label is a usage error" 2 "$bin" certgen --namespace Bad_NS --secret s --service svc
has "certgen: the bad namespace is named" "$work/err" "--namespace 'Bad_NS' is not a namespace name"
run "certgen: a flag without its value is a usage error" 2 "$bin" certgen --namespace ns --secret s --service
run "certgen: --timeout-ms out of range is a usage error" 2 "$bin" certgen --namespace ns --secret s --service svc --timeout-ms 5
run "no command is a usage error" 2 "$bin"
run "an unknown command is a usage error" 2 "$bin" reveiw

# ---- review exit codes -------------------------------------------------------------
pod=tests/integration/fixtures/pod-union.yaml
sed '/^  annotations:/,/image-spec/d' "$pod" >"$work/pod-nospec.yaml"
cat >"$work/config.yaml" <<YAML
imageBuilder:
  defaultRepository: localhost:5000/union
  authenticationType: noop
webhook:
  tls:
    certFile: $work/certs/tls.crt
    keyFile: $work/certs/tls.key
YAML
run "review: a mutation exits 0" 0 "$bin" review --config "$work/config.yaml" "$pod"
run "review: a denial exits 0 without --fail-on-deny" 0 "$bin" review --config "$work/config.yaml" "$work/pod-nospec.yaml"
has "review: the denial is in the answer" "$work/out" '"allowed":false'
cp "$work/out" "$work/denied.json"
run "review --fail-on-deny: a denial exits 3" 3 "$bin" review --fail-on-deny --config "$work/config.yaml" "$work/pod-nospec.yaml"
if cmp -s "$work/out" "$work/denied.json"; then ok "review --fail-on-deny: the same answer"; else ko "review --fail-on-deny: another answer"; fi
run "review --fail-on-deny: a mutation exits 0" 0 "$bin" review --fail-on-deny --config "$work/config.yaml" "$pod"
run "review --fail-on-deny --explain: a denial exits 3" 3 "$bin" review --explain --fail-on-deny --config "$work/config.yaml" - <"$work/pod-nospec.yaml"
has "review --explain: the denial is explained" "$work/out" '^decision: denied \(400\)$'
run "review --fail-on-deny --explain: a mutation exits 0" 0 "$bin" review --explain --fail-on-deny --config "$work/config.yaml" "$pod"
has "review --explain: the injected container is shown" "$work/out" '^  - name: build-image$'
if grep -qE '^(  )*- null$|: null$' "$work/out"; then ko "review --explain: no null in the output" "$(grep -n null "$work/out")"; else ok "review --explain: no null in the output"; fi
run "review --fail-on-deny: a broken input still exits 1" 1 "$bin" review --fail-on-deny --config "$work/config.yaml" "$work/missing.yaml"

# ---- hack/dry-run.sh ---------------------------------------------------------------
if ! certs/gen-certs.sh --out "$work/certs" --extra-san DNS:localhost --extra-san IP:127.0.0.1 >/dev/null 2>"$work/gen.log"; then
    ko "test certificates" "$(cat "$work/gen.log")"
    finish
fi
run "dry-run --help exits 0" 0 hack/dry-run.sh --help
has "dry-run --help shows --fail-on-deny" "$work/out" "--fail-on-deny"
run "dry-run: an unknown option is a usage error" 2 hack/dry-run.sh --fail "$pod"
if serve_start server "$work/config.yaml"; then
    url="https://localhost:$serve_port/mutate"
    export CACERT=$work/certs/ca.crt
    run "dry-run: a mutation exits 0" 0 hack/dry-run.sh "$pod" "$url"
    has "dry-run: the mutation is shown" "$work/out" '^allowed \(with a patch\)$'
    run "dry-run: a denial exits 0 without --fail-on-deny" 0 hack/dry-run.sh "$work/pod-nospec.yaml" "$url"
    has "dry-run: the denial is shown" "$work/out" '^denied \(400\): '
    run "dry-run --fail-on-deny: a denial exits 3" 3 hack/dry-run.sh --fail-on-deny "$work/pod-nospec.yaml" "$url"
    has "dry-run --fail-on-deny: the denial is shown" "$work/out" '^denied \(400\): '
    run "dry-run --fail-on-deny: a mutation exits 0" 0 hack/dry-run.sh --fail-on-deny "$pod" "$url"
    serve_stop >/dev/null
    run "dry-run: no server exits 1" 1 hack/dry-run.sh --fail-on-deny "$pod" "$url"
else
    ko "the server starts" "$(tail -n 5 "$work/server.log")"
fi
finish
