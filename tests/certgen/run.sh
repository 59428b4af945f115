#!/usr/bin/env bash
# certgen: `imagebuilder-webhook certgen` against a fake Kubernetes API on
# loopback (tests/certgen/*.go): the Secret created, kept, renewed; the
# webhook configuration's caBundle patched; conflicts, API failures and
# hangs; in-cluster and kubeconfig access; `serve` with the Secret's files
# and its certificate expiry gauge. Needs Go: skipped under QUICK=1.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area certgen
bin=$WEBHOOK_BIN
[ -x "$bin" ] || { ko "$bin is missing (run make)"; finish; }
if [ -n "${QUICK:-}" ]; then
    skipped "certgen against the fake API (needs Go)"
    finish
fi
t_work
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-h2o.supp"
go_build "$work/certgen-test" certgen >"$work/build.log" 2>&1 || { ko "build the certgen tests" "$(cat "$work/build.log")"; finish; }
"$work/certgen-test" -bin "$bin" -work "$work" | tee "$work/out" | grep --line-buffered -v '^certgen: [0-9]* passed, [0-9]* failed$'
add_counts "$(cat "$work/out")" "${PIPESTATUS[0]}"
finish
