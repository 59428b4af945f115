#!/usr/bin/env bash
# fill-cabundle.sh: writes the CA made by certs/gen-certs.sh into the caBundle
# of the MutatingWebhookConfiguration manifest, after checking that the
# serving certificate next to it verifies against that CA and names the
# Service the manifest points to.
#
# Usage: hack/fill-cabundle.sh [--certs DIR] [--stdout] [FILE]
#   --certs DIR  where ca.crt and tls.crt are (default certs/out)
#   --stdout     print the filled manifest instead of editing FILE in place
#   FILE         default manifests/08-mutatingwebhookconfiguration.yaml
set -euo pipefail

certs=certs/out
stdout=0
file=""
die() {
    echo "fill-cabundle: error: $*" >&2
    exit 1
}
while [ $# -gt 0 ]; do
    case "$1" in
    --certs) [ $# -ge 2 ] || die "--certs needs a directory"; certs=$2; shift 2 ;;
    --stdout) stdout=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$file" ] || die "only one FILE"; file=$1; shift ;;
    esac
done
[ -n "$file" ] || file="$(cd "$(dirname "$0")/.." && pwd)/manifests/08-mutatingwebhookconfiguration.yaml"
[ -f "$file" ] || die "$file does not exist"
[ -s "$certs/ca.crt" ] || die "$certs/ca.crt is missing; run certs/gen-certs.sh first"
[ -s "$certs/tls.crt" ] || die "$certs/tls.crt is missing; run certs/gen-certs.sh first"
openssl verify -CAfile "$certs/ca.crt" "$certs/tls.crt" >/dev/null 2>&1 ||
    die "$certs/tls.crt does not verify against $certs/ca.crt"

# The Service the webhook configuration calls, read from its clientConfig.
svc=$(awk '/^ *service:/ {s = 1; next} s && /^ *name:/ {print $2; exit}' "$file")
ns=$(awk '/^ *service:/ {s = 1; next} s && /^ *namespace:/ {print $2; exit}' "$file")
[ -n "$svc" ] && [ -n "$ns" ] || die "$file has no clientConfig.service name and namespace"
want="DNS:${svc}.${ns}.svc"
openssl x509 -in "$certs/tls.crt" -noout -ext subjectAltName | tr ',' '\n' | sed 's/^ *//' | grep -qx "$want" ||
    die "$certs/tls.crt has no SAN $want; run certs/gen-certs.sh --service $svc --namespace $ns"

[ "$(grep -c '^ *caBundle:' "$file")" -ge 1 ] || die "$file has no caBundle field"
bundle=$(base64 -w0 <"$certs/ca.crt")
filled=$(sed -E "s|^( *caBundle:).*$|\1 \"${bundle}\"|" "$file")
if [ "$stdout" -eq 1 ]; then
    printf '%s\n' "$filled"
else
    tmp=$(mktemp "$file.XXXXXX")
    printf '%s\n' "$filled" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$file"
    echo "fill-cabundle: caBundle of $file set from $certs/ca.crt" >&2
fi
