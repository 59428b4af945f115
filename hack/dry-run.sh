#!/usr/bin/env bash
# dry-run.sh: sends a pod to a running webhook as a dry-run CREATE
# AdmissionReview and prints the decision and the decoded JSON Patch.
#
# Usage: hack/dry-run.sh POD.yaml|POD.json [URL]
#   URL     default https://localhost:8443/mutate (the `make run` server)
#   CACERT  CA certificate to trust (default certs/dev/ca.crt)
#   WEBHOOK_BIN  the webhook binary used to wrap the pod (default bin/imagebuilder-webhook)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
pod=$1
url=${2:-https://localhost:8443/mutate}
cacert=${CACERT:-certs/dev/ca.crt}
bin=${WEBHOOK_BIN:-bin/imagebuilder-webhook}

[ -r "$pod" ] || { echo "dry-run: cannot read $pod" >&2; exit 2; }
[ -x "$bin" ] || { echo "dry-run: $bin is missing (run make)" >&2; exit 2; }
[ -r "$cacert" ] || { echo "dry-run: CA certificate $cacert is missing (make run creates it)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" review --wrap-only "$pod" >"$tmp/review.json"

code=$(curl -sS --cacert "$cacert" -o "$tmp/response.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @"$tmp/review.json" "$url?timeout=10s")
if [ "$code" != 200 ]; then
    echo "dry-run: the webhook answered HTTP $code:" >&2
    cat "$tmp/response.json" >&2
    exit 1
fi

python3 - "$tmp/response.json" <<'PY'
import base64, json, sys
review = json.load(open(sys.argv[1]))
r = review.get("response", {})
status = r.get("status", {})
if r.get("allowed"):
    print("allowed" + (" (with a patch)" if r.get("patch") else " (unchanged)"))
else:
    print("denied (%s): %s" % (status.get("code", "?"), status.get("message", "")))
for w in r.get("warnings", []) or []:
    print("warning: " + w)
for k, v in (r.get("auditAnnotations") or {}).items():
    print("audit %s: %s" % (k, v))
if r.get("patch"):
    print("patch (%s):" % r.get("patchType", "?"))
    print(json.dumps(json.loads(base64.b64decode(r["patch"])), indent=2))
PY
