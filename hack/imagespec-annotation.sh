#!/usr/bin/env bash
# imagespec-annotation.sh: prints the pod label and annotation that attach
# an ImageSpec to a task pod, so that the spec the webhook builds from is
# the spec flytekit computed the image tag from. The ImageSpec is a YAML or
# JSON file with flytekit's field names (the file `pyflyte run --image`
# reads), one spec or a list of them; it is checked by the webhook's own
# ImageSpec reader (`imagebuilder-webhook imagespec-annotation`).
#
# Usage: hack/imagespec-annotation.sh [--yaml | --python] SPEC.yaml|SPEC.json|-
#   prints a YAML metadata snippet (for a pod or a PodTemplate) and Python
#   dicts for @task(labels=..., annotations=...) or PodTemplate(...);
#   --yaml or --python prints only that one.
#   WEBHOOK_BIN  the webhook binary (default bin/imagebuilder-webhook; make builds it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEBHOOK_BIN:-$root/bin/imagebuilder-webhook}

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
[ -x "$bin" ] || { echo "imagespec-annotation: $bin is missing (run make)" >&2; exit 2; }
exec "$bin" imagespec-annotation "$@"
