#!/usr/bin/env bash
# purity area: the core library is pure, and the build proves it.
#  - every object of libwebhook-core.a (CORE_NAMES in the Makefile) passes
#    check-objects.sh: no I/O, clock, randomness, thread, libcurl, libh2o
#    or TLS symbol, no thread-local storage;
#  - the checker itself catches such objects, compiled here on the fly,
#    and names the object and the symbol (and lets a pure one through);
#  - the whole core library links into a program with cJSON, libyaml and
#    libcrypto only;
#  - unit-core (the core's unit tests) and every fuzz target link neither
#    libcurl, libh2o nor the shell library.
# Uses the build directory of UNIT_BIN (build/, or build-asan/ under
# make test-asan).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
t_area purity
UNIT_BIN=${UNIT_BIN:-build/unit-tests}
B=$(dirname "$UNIT_BIN")
check=tests/purity/check-objects.sh
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

make_flags "$B"
# A Makefile variable, as make computes it for this build directory.
mkvar() {
    make -s --no-print-directory "${mkflags[@]}" -f Makefile -f - "print-$1" <<<"print-$1: ; @echo \$($1)"
}

if ! make -s "${mkflags[@]}" "$B/libwebhook-core.a" "$B/unit-core" >"$scratch/make.log" 2>&1; then
    ko "build the core library and unit-core" "$(tail -n 20 "$scratch/make.log")"
    finish
fi

# ---- every core object is pure -------------------------------------------------
objs=$(mkvar CORE_OBJS)
for o in $objs; do
    if out=$("$check" "$o" 2>&1); then
        ok "$(basename "$o" .o): pure"
    else
        ko "$(basename "$o" .o): not pure" "$out"
    fi
done

# ---- the check catches what it must --------------------------------------------
CC=$(mkvar CC)
# probe NAME 'C source' 'expected text' : compiles NAME.o and expects the
# checker to refuse it with exactly that offence.
probe() {
    local name=$1 src=$2 want=$3 o="$scratch/$1.o"
    printf '%s\n' "$src" >"$scratch/$name.c"
    if ! "$CC" -std=c11 -O0 -D_POSIX_C_SOURCE=200809L -c "$scratch/$name.c" -o "$o" \
        >"$scratch/$name.log" 2>&1; then
        ko "checker: compile the $name probe" "$(cat "$scratch/$name.log")"
        return
    fi
    out=$("$check" "$o" 2>&1)
    rc=$?
    if [ -z "$want" ]; then
        if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok "checker: $name passes"; else ko "checker: $name refused" "$out"; fi
    elif [ "$rc" -eq 1 ] && grep -qF -- "$o: $want" <<<"$out"; then
        ok "checker: $name refused ($want)"
    else
        ko "checker: $name not refused with '$o: $want' (exit $rc)" "$out"
    fi
}
probe fopen '#include <stdio.h>
int f(const char *p) { FILE *x = fopen(p, "r"); return x != 0; }' \
    'references fopen (stream I/O)'
probe stderr '#include <stdio.h>
void f(const char *m) { fputs(m, stderr); }' \
    'references stderr (standard stream)'
probe socket '#include <sys/socket.h>
int f(void) { return socket(AF_INET, SOCK_STREAM, 0); }' \
    'references socket (network or event I/O)'
probe clock '#include <time.h>
long f(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec; }' \
    'references clock_gettime (clock or sleep)'
probe getenv '#include <stdlib.h>
const char *f(void) { return getenv("HOME"); }' \
    'references getenv (process or environment)'
probe mutex '#include <pthread.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
void f(void) { pthread_mutex_lock(&mu); }' \
    'references pthread_mutex_lock (threads)'
probe tls '_Thread_local int depth;
int f(void) { return ++depth; }' \
    'has thread-local storage: depth (threads)'
probe curl 'void *curl_easy_init(void);
void *f(void) { return curl_easy_init(); }' \
    'references curl_easy_init (libcurl)'
probe h2o 'void h2o_config_init(void *c);
void f(void *c) { h2o_config_init(c); }' \
    'references h2o_config_init (libh2o)'
probe pure '#include <stdio.h>
#include <string.h>
int f(char *d, size_t n, const char *s) { return snprintf(d, n, "%zu:%s", strlen(s), s); }' ''

# ---- the whole core library links without the shell's libraries ----------------
printf 'int main(void) { return 0; }\n' >"$scratch/main.c"
core_libs=$(mkvar CORE_PKG_LIBS)
ldflags=$(mkvar LDFLAGS)
# shellcheck disable=SC2086 # word splitting of flag lists is intended
if out=$("$CC" $ldflags -o "$scratch/whole-core" "$scratch/main.c" -Wl,--whole-archive \
    "$B/libwebhook-core.a" -Wl,--no-whole-archive $core_libs 2>&1); then
    ok "libwebhook-core.a links whole with: $core_libs"
else
    ko "libwebhook-core.a does not link whole without the shell's libraries" "$out"
fi

# ---- unit-core and the fuzz targets link only the core --------------------------
# links_only_core NAME FILE: FILE (a program) needs neither libcurl nor libh2o,
# and has no curl or h2o symbol in it.
links_only_core() {
    local deps syms
    deps=$(ldd "$2" 2>&1 | grep -E 'libcurl|libh2o')
    syms=$(nm "$2" 2>/dev/null | awk '$2 ~ /^[TtUu]$/ && $3 ~ /^(curl_|Curl_|h2o_)/ {print $3}' | head -n 5)
    if [ -z "$deps" ] && [ -z "$syms" ]; then
        ok "$1 links only the core"
    else
        ko "$1 links more than the core" "$deps$syms"
    fi
}
links_only_core unit-core "$B/unit-core"

fuzz_build=$(mkvar FUZZ_BUILD)
shell_lib=$(basename "$(mkvar SHELL_LIB)")
for t in $(mkvar FUZZ_ALL_TARGETS); do
    bin="$fuzz_build/fuzz_$t"
    if [ -x "$bin" ] && make -s -q "${mkflags[@]}" "$bin" 2>/dev/null; then
        links_only_core "fuzz_$t" "$bin"
        continue
    fi
    # not built (or out of date): judge the link command make would run
    line=$(make -n -B "${mkflags[@]}" "$bin" 2>/dev/null | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
        grep -F -- "-o $bin " | tail -n 1)
    if [ -z "$line" ]; then
        ko "fuzz_$t: no link command from make -n"
    elif grep -qE -- "-lcurl|-lh2o|$shell_lib" <<<"$line" || ! grep -qF libwebhook-core.a <<<"$line"; then
        ko "fuzz_$t links more than the core" "$line"
    else
        ok "fuzz_$t links only the core (its link command)"
    fi
done

finish
