#!/bin/sh
# Prints the suites.h that tests/unit/main.c includes for one unit-test
# program: a declaration of every `Suite *suite_x(void)` defined at the
# start of a line in the given test files, and ALL_SUITES, their list.
set -eu
if [ $# -gt 0 ]; then
    names=$(sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void).*/\1/p' "$@" | sort -u)
else
    names=
fi
for n in $names; do
    printf 'Suite *%s(void);\n' "$n"
done
printf '#define ALL_SUITES \\\n'
for n in $names; do
    printf '    %s, \\\n' "$n"
done
printf '\n'
