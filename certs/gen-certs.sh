#!/usr/bin/env bash
# gen-certs.sh: makes the webhook's private CA and its serving certificate
# with the `openssl` command, writes them as PEM files and as a
# kubernetes.io/tls Secret manifest, and prints the base64 caBundle for the
# MutatingWebhookConfiguration on stdout (every message goes to stderr).
#
# Usage: certs/gen-certs.sh [--service NAME] [--namespace NS] [--out DIR]
#                           [--days N] [--extra-san SAN]... [--secret-name NAME]
#                           [--force] [--renew]
#
#   --service NAME      Service name (default imagebuilder-webhook)
#   --namespace NS      namespace of the Service and Secret (default imagebuilder)
#   --out DIR           output directory (default certs/out)
#   --days N            validity of newly issued certificates (default 365;
#                       a new CA gets ten times as long, at most 100 years)
#   --extra-san SAN     an additional subject alternative name, DNS:name or
#                       IP:address (a bare value is a DNS name, or an IP when
#                       it looks like one); repeatable
#   --secret-name NAME  name of the Secret in secret.yaml (default <service>-tls)
#   --force             replace everything, CA included, whatever exists
#   --renew             issue a new serving key and certificate signed by the
#                       existing CA (the caBundle does not change)
#
# Files in DIR: ca.crt ca.key tls.crt tls.key secret.yaml (keys and the
# Secret are mode 0600). Running it again with the same parameters over
# valid files changes nothing. Existing files for other names, or that no
# longer verify or are about to expire, are left alone and the run fails
# unless --force (new CA) or --renew (same CA) is given.
set -euo pipefail
umask 077

service=imagebuilder-webhook
namespace=imagebuilder
out=certs/out
days=365
secret_name=""
force=0
renew=0
extra=()

say() { printf 'gen-certs: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; }

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --service) need_arg "$@"; service=$2; shift 2 ;;
    --namespace) need_arg "$@"; namespace=$2; shift 2 ;;
    --out) need_arg "$@"; out=$2; shift 2 ;;
    --days) need_arg "$@"; days=$2; shift 2 ;;
    --extra-san) need_arg "$@"; extra+=("$2"); shift 2 ;;
    --secret-name) need_arg "$@"; secret_name=$2; shift 2 ;;
    --force) force=1; shift ;;
    --renew) renew=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; die "unknown argument '$1'" ;;
    esac
done

command -v openssl >/dev/null 2>&1 || die "the openssl command is required (apt-get install openssl)"

dns_label='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
[[ $service =~ $dns_label ]] || die "--service '$service' is not a DNS-1123 label"
[[ $namespace =~ $dns_label ]] || die "--namespace '$namespace' is not a DNS-1123 label"
[[ $days =~ ^[1-9][0-9]{0,4}$ ]] || die "--days '$days' must be a whole number of days (1-99999)"
[ -n "$secret_name" ] || secret_name="${service}-tls"
[[ $secret_name =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] ||
    die "--secret-name '$secret_name' is not a valid object name"
[ "$force" -eq 1 ] && [ "$renew" -eq 1 ] && die "--force and --renew exclude each other"

# The wanted SAN list, normalised to "DNS:x" / "IP:x".
sans=("DNS:${service}.${namespace}.svc" "DNS:${service}.${namespace}.svc.cluster.local")
for s in "${extra[@]+"${extra[@]}"}"; do
    case "$s" in
    DNS:* | dns:*) v=${s#*:}; t=DNS ;;
    IP:* | ip:*) v=${s#*:}; t=IP ;;
    *:*:* | *[0-9].*[0-9].*[0-9].*[0-9]) v=$s; t=IP ;;
    *) v=$s; t=DNS ;;
    esac
    [ -n "$v" ] || die "empty --extra-san '$s'"
    if [ "$t" = DNS ]; then
        [[ $v =~ ^(\*\.)?[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$ ]] || die "--extra-san '$s' is not a DNS name"
        v=$(printf '%s' "$v" | tr 'A-Z' 'a-z')
    else
        [[ $v =~ ^[0-9a-fA-F.:]+$ ]] || die "--extra-san '$s' is not an IP address"
    fi
    dup=0
    for have in "${sans[@]}"; do [ "$have" = "$t:$v" ] && dup=1; done
    [ "$dup" -eq 1 ] || sans+=("$t:$v")
done
want_sans=$(printf '%s\n' "${sans[@]}" | sort | paste -sd, -)
san_ext=$(printf '%s\n' "${sans[@]}" | paste -sd, -)

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "$out/.gen-certs.XXXXXX") || die "cannot create a temporary directory in $out"
trap 'rm -rf "$tmp"' EXIT

# --- checks over existing files --------------------------------------------
# The SANs of a certificate, in the same normalised, sorted form.
cert_sans() {
    openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
        sed -n '2,$p' | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' -e 's/^IP Address:/IP:/' |
        grep -v '^$' | sort | paste -sd, -
}
# Succeeds when the key file holds the private key of the certificate.
key_matches() {
    local a b
    a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
    [ -n "$a" ] && [ "$a" = "$b" ]
}
ca_ok() {
    [ -s "$out/ca.crt" ] && [ -s "$out/ca.key" ] &&
        key_matches "$out/ca.crt" "$out/ca.key" &&
        openssl x509 -in "$out/ca.crt" -noout -checkend 86400 >/dev/null 2>&1
}
# Why the serving certificate cannot be kept as it is ("" when it can).
serving_problem() {
    [ -s "$out/tls.crt" ] && [ -s "$out/tls.key" ] || { echo "tls.crt or tls.key is missing"; return; }
    openssl verify -CAfile "$out/ca.crt" "$out/tls.crt" >/dev/null 2>&1 ||
        { echo "tls.crt is not signed by ca.crt"; return; }
    key_matches "$out/tls.crt" "$out/tls.key" || { echo "tls.key does not belong to tls.crt"; return; }
    # Expiring within 7 days counts as expired.
    openssl x509 -in "$out/tls.crt" -noout -checkend 604800 >/dev/null 2>&1 ||
        { echo "tls.crt expires within 7 days"; return; }
    local have
    have=$(cert_sans "$out/tls.crt")
    [ "$have" = "$want_sans" ] || { echo "tls.crt has SANs [$have], wanted [$want_sans]"; return; }
    echo ""
}

# --- issuing -----------------------------------------------------------------
cat >"$tmp/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_serving ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${san_ext}
EOF

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    die "openssl could not generate a key"
}; }

issue_ca() {
    local ca_days=$((days * 10))
    [ "$ca_days" -le 36500 ] || ca_days=36500
    [ "$ca_days" -ge "$days" ] || ca_days=$days
    say "creating a new CA (ECDSA P-256, $ca_days days)"
    new_key "$tmp/ca.key"
    openssl req -config "$tmp/openssl.cnf" -new -x509 -key "$tmp/ca.key" -sha256 \
        -days "$ca_days" -subj "/CN=${service}-ca/O=imagebuilder-webhook" \
        -extensions v3_ca -set_serial "0x$(openssl rand -hex 16)" -out "$tmp/ca.crt" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; die "openssl could not create the CA"; }
}

# Signs a new serving key with the CA in $1 (directory holding ca.crt/ca.key).
issue_serving() {
    local cadir=$1
    say "issuing the serving certificate for ${sans[*]} ($days days)"
    new_key "$tmp/tls.key"
    openssl req -config "$tmp/openssl.cnf" -new -key "$tmp/tls.key" -sha256 \
        -subj "/CN=${service}.${namespace}.svc" -out "$tmp/tls.csr" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; die "openssl could not create the signing request"; }
    openssl x509 -req -in "$tmp/tls.csr" -CA "$cadir/ca.crt" -CAkey "$cadir/ca.key" -sha256 \
        -days "$days" -set_serial "0x$(openssl rand -hex 16)" \
        -extfile "$tmp/openssl.cnf" -extensions v3_serving -out "$tmp/tls.crt" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; die "openssl could not sign the serving certificate"; }
    openssl verify -CAfile "$cadir/ca.crt" "$tmp/tls.crt" >/dev/null 2>&1 ||
        die "the new serving certificate does not verify against the CA"
}

b64() { base64 -w0 <"$1"; }

write_secret() {
    cat >"$tmp/secret.yaml" <<EOF
# The webhook's serving certificate, made by certs/gen-certs.sh.
apiVersion: v1
kind: Secret
metadata:
  name: ${secret_name}
  namespace: ${namespace}
  labels:
    app.kubernetes.io/name: imagebuilder-webhook
    app.kubernetes.io/component: webhook
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
  ca.crt: $(b64 "$out/ca.crt")
EOF
    if ! cmp -s "$tmp/secret.yaml" "$out/secret.yaml" 2>/dev/null; then
        mv -f "$tmp/secret.yaml" "$out/secret.yaml"
        say "wrote $out/secret.yaml (Secret ${namespace}/${secret_name})"
    fi
}

# Moves the issued files into place; CA files only when they were made here.
install_files() {
    local f
    for f in "$@"; do
        chmod 0600 "$tmp/$f"
        case "$f" in *.crt) chmod 0644 "$tmp/$f" ;; esac
        mv -f "$tmp/$f" "$out/$f"
    done
}

have_any=0
for f in ca.crt ca.key tls.crt tls.key; do [ -e "$out/$f" ] && have_any=1; done

if [ "$force" -eq 1 ] || [ "$have_any" -eq 0 ]; then
    [ "$have_any" -eq 1 ] && say "--force: replacing the CA and the serving certificate in $out"
    issue_ca
    issue_serving "$tmp"
    install_files ca.key ca.crt tls.key tls.crt
elif [ "$renew" -eq 1 ]; then
    ca_ok || die "--renew needs a valid ca.crt and ca.key in $out (use --force to start over)"
    issue_serving "$out"
    install_files tls.key tls.crt
    say "renewed; the caBundle is unchanged"
else
    ca_ok || die "$out holds no valid CA (ca.crt/ca.key missing, mismatched or expiring); use --force to replace everything"
    problem=$(serving_problem)
    [ -z "$problem" ] || die "$problem; use --renew to re-issue it with the same CA, or --force to replace everything"
    say "certificates in $out are valid for the requested names; nothing to do"
fi

chmod 0600 "$out/ca.key" "$out/tls.key"
write_secret
chmod 0600 "$out/secret.yaml"

b64 "$out/ca.crt"
echo
