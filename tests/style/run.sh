#!/usr/bin/env bash
# Style: every C file is formatted as .clang-format says (one check per file).
set -uo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null 2>&1; then
    echo "clang-format is not installed (hack/install-deps.sh test)"
    echo "style: 0 passed, 1 failed"
    exit 1
fi
pass=0 fail=0
for f in webhook/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/live/*.c bench/*.c; do
    [ -e "$f" ] || continue
    if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $f is not clang-formatted (make format)"
    fi
done
echo "style: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
