#!/usr/bin/env bash
# Golden cases: pod + config + the exact expected answer, checked as
# kube-apiserver would check it, patch applied with evanphx/json-patch and
# the patched pod sent again (it must come back allowed with no patch).
# Every patched pod is then validated against the Kubernetes Pod schema
# (kubernetes-models, installed by tests/deploy), and `review --explain` must
# show each case's answer, patch and mutated pod (explain.mjs); both are
# skipped under QUICK=1.
# UPDATE_GOLDEN=1 rewrites the response.json files (review the diff!).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area golden
bin=$WEBHOOK_BIN
rm -rf build/golden-patched
go_build build/golden-check golden || { ko "build the golden checker"; finish; }
args=(-patched build/golden-patched)
[ "${UPDATE_GOLDEN:-}" = 1 ] && args+=(-update)
out=$(build/golden-check "${args[@]}" "$bin" tests/golden)
rc=$?
echo "$out" | grep -v '^golden: '
add_counts "$out" "$rc"

if [ -z "${QUICK:-}" ] && ls build/golden-patched/*.json >/dev/null 2>&1; then
    if [ ! -d tests/deploy/node_modules/kubernetes-models ]; then
        # npm's own words are shown when it fails (its warnings included).
        npm_log=$(mktemp)
        if ! (cd tests/deploy && { npm ci --no-audit --no-fund >"$npm_log" 2>&1 ||
            npm install --no-audit --no-fund >>"$npm_log" 2>&1; }); then
            echo "npm could not install the packages of tests/deploy:"
            tail -n 30 "$npm_log" | sed 's/^/     /'
        fi
        rm -f "$npm_log"
    fi
    v=$(node tests/deploy/checks.mjs validate patched-pod build/golden-patched/*.json 2>&1)
    echo "$v" | grep '^FAIL' || true
    p=$(grep -c '^PASS' <<<"$v")
    f=$(grep -c '^FAIL' <<<"$v")
    [ "$p" -eq 0 ] && f=$((f + 1))
    echo "patched pods valid against the Pod schema: $p passed, $f failed"
    pass=$((pass + p)) fail=$((fail + f))
    v=$(node tests/golden/explain.mjs "$bin" tests/golden build/golden-patched 2>&1)
    echo "$v" | grep -v '^PASS' || true
    p=$(grep -c '^PASS' <<<"$v")
    f=$(grep -c '^FAIL' <<<"$v")
    [ "$p" -eq 0 ] && f=$((f + 1))
    echo "review --explain shows the answer, its patch and the mutated pod: $p passed, $f failed"
    pass=$((pass + p)) fail=$((fail + f))
fi
finish
