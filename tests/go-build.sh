#!/usr/bin/env bash
# Builds one program of the test module (tests/go.mod), offline: its only
# outside packages are the Debian golang-*-dev packages under
# /usr/share/gocode, which tests/vendor links to. Every Go test program is
# built here, by the area scripts and by mk/*.mk alike.
#
# Usage: tests/go-build.sh OUT PACKAGE   (PACKAGE under tests/, e.g. live/fakes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: tests/go-build.sh OUT PACKAGE" >&2; exit 2; }
out=$1 pkg=$2
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
mkdir -p "$(dirname "$out")"
cd "$root/tests"
export GO111MODULE=on GOFLAGS=-mod=vendor GOPROXY=off GOWORK=off
export GOCACHE="${GOCACHE:-$root/build/gocache}"
exec go build -o "$out" "./$pkg"
