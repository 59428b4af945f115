#!/usr/bin/env bash
# Style: every C file is formatted as .clang-format says (one check per
# file), and webhook/ keeps its structure rules (tests/style/structure.py:
# what each file owns, file and function sizes, include cycles, prototypes).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_area style
if ! command -v clang-format >/dev/null 2>&1; then
    ko "clang-format is not installed (hack/install-deps.sh test)"
    finish
fi
for f in webhook/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] tests/live/*.c bench/*.c; do
    [ -e "$f" ] || continue
    if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        ok
    else
        ko "$f is not clang-formatted (make format)"
    fi
done
while IFS= read -r line; do
    case "$line" in
    "ok "*) ok ;;
    "ko "*) what=${line#ko }; ko "${what%%$'\t'*}" "${what#*$'\t'}" ;;
    esac
done < <(python3 tests/style/structure.py webhook || echo "ko structure.py did not run")
finish
