#!/usr/bin/env bash
# dry-run.sh: sends a pod to a running webhook as a dry-run CREATE
# AdmissionReview and prints the decision and the decoded JSON Patch.
#
# Usage: hack/dry-run.sh [--fail-on-deny] POD.yaml|POD.json [URL]
#   --fail-on-deny  exit 3 when the webhook denies the pod (for CI)
#   URL     default https://localhost:8443/mutate (the `make run` server)
#   CACERT  CA certificate to trust (default certs/dev/ca.crt)
#   WEBHOOK_BIN  the webhook binary used to wrap the pod (default bin/imagebuilder-webhook)
# Exit status: 0 answered, 1 no answer, 2 usage, 3 denied with --fail-on-deny.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
fail_on_deny=0
args=()
for a in "$@"; do
    case "$a" in
    -h | --help) usage; exit 0 ;;
    --fail-on-deny) fail_on_deny=1 ;;
    -?*) echo "dry-run: unknown option $a" >&2; usage >&2; exit 2 ;;
    *) args+=("$a") ;;
    esac
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then
    usage >&2
    exit 2
fi
pod=${args[0]}
url=${args[1]:-https://localhost:8443/mutate}
cacert=${CACERT:-certs/dev/ca.crt}
bin=${WEBHOOK_BIN:-bin/imagebuilder-webhook}

[ -r "$pod" ] || { echo "dry-run: cannot read $pod" >&2; exit 2; }
[ -x "$bin" ] || { echo "dry-run: $bin is missing (run make)" >&2; exit 2; }
[ -r "$cacert" ] || { echo "dry-run: CA certificate $cacert is missing (make run creates it)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" review --wrap-only "$pod" >"$tmp/review.json"

code=$(curl -sS --max-time 15 --cacert "$cacert" -o "$tmp/response.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @"$tmp/review.json" "$url?timeout=10s") || code=000
if [ "$code" != 200 ]; then
    echo "dry-run: the webhook answered HTTP $code:" >&2
    cat "$tmp/response.json" >&2 2>/dev/null || true
    exit 1
fi

python3 - "$tmp/response.json" "$fail_on_deny" <<'PY'
import base64, json, sys
review = json.load(open(sys.argv[1]))
r = review.get("response", {})
status = r.get("status", {})
denied = not r.get("allowed")
if not denied:
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
sys.exit(3 if denied and sys.argv[2] == "1" else 0)
PY
