#!/usr/bin/env bash
# Golden cases: pod + config + the exact expected answer, checked as
# kube-apiserver would check it, patch applied with evanphx/json-patch and
# the patched pod sent again (it must come back allowed with no patch).
# UPDATE_GOLDEN=1 rewrites the response.json files (review the diff!).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${WEBHOOK_BIN:-bin/imagebuilder-webhook}"
mkdir -p build
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-$PWD/build/gocache}" \
    go build -o build/golden-check ./tests/golden/
args=(-patched build/golden-patched)
[ "${UPDATE_GOLDEN:-}" = 1 ] && args+=(-update)
exec build/golden-check "${args[@]}" "$bin" tests/golden
