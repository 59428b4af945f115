#!/usr/bin/env bash
# test-fresh.sh: the README's two commands on a minimal Debian 12, as a new
# user runs them. Builds a root with `debootstrap --variant=minbase`,
# installs only git, make and ca-certificates in it, clones the commit under
# test (HEAD of this repository) into /root, runs `make run` until it serves,
# sends the dry-run review `make run` suggests, stops the server, then runs
# `make test` there. Prints "fresh: N passed, M failed" for its own checks.
#
# Needs root (chroot, mounts; through sudo when not root) and ports 8443
# and 9090 free (`make run`'s).
# The machine's apt mirror, apt network settings (Acquire::*), CA bundle,
# proxy and npm settings are carried into the root, so the package
# registries are reached as the machine reaches them.
#
# Cache (FRESH_CACHE, default /var/cache/imagebuilder-webhook-fresh): the
# pristine minbase root as a tarball (rebuilt after FRESH_BASE_DAYS, 7) and
# the downloaded .deb files. Every run unpacks the pristine root and installs
# every package in it again: only downloads are saved.
# FRESH_KEEP=1 keeps the run's root (its mounts are always removed).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
src=$(git rev-parse --show-toplevel) || exit 2
cd "$src" || exit 2

suite=bookworm
cache=${FRESH_CACHE:-/var/cache/imagebuilder-webhook-fresh}
base_days=${FRESH_BASE_DAYS:-7}
run_timeout=${FRESH_RUN_TIMEOUT:-1200}
test_timeout=${FRESH_TEST_TIMEOUT:-3600}
clone=/root/imagebuilder-webhook

pass=0 fail=0 inner=""
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
phases=()
phase_name="" phase_t0=$SECONDS
phase() { # phase NAME: ends the current phase (printing its time), starts NAME
    if [ -n "$phase_name" ]; then
        phases+=("$(printf '%-42s %5d s' "$phase_name" $((SECONDS - phase_t0)))")
        echo "--- $phase_name: $((SECONDS - phase_t0)) s"
    fi
    phase_name=$1 phase_t0=$SECONDS
    [ -n "$1" ] && echo "--- $1"
}
finished=""
finish() { # cleans up first, so that the summary is the last line
    finished=1
    phase "clean up"
    cleanup || ko "clean up the fresh root: processes or mounts left (see above)"
    phase ""
    echo "--- times"
    printf '    %s\n' "${phases[@]}"
    echo "fresh: $pass passed, $fail failed${inner:+ (make test in the fresh root: $inner)}"
    [ "$fail" -eq 0 ]
    exit $?
}
tail_log() { [ -f "$1" ] && tail -n "${2:-40}" "$1" | sed 's/^/     /'; }

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null && exec sudo -E "$0" "$@"
    ko "make test-fresh needs root (debootstrap, chroot, mounts)"
    finish
fi
for tool in debootstrap chroot mount umount tar git curl setsid timeout flock; do
    command -v "$tool" >/dev/null || { ko "$tool is missing (hack/install-deps.sh fresh)"; finish; }
done

# ---- the machine's apt sources: "URI SUITE" for every enabled deb entry -------
apt_entries() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '{ sub(/#.*/, "") } $1 == "deb" {
                 i = 2
                 if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                 if (i + 1 <= NF) print $i, $(i + 1) }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: paragraphs of "Field: value" lines; Enabled: no turns one off.
        awk 'BEGIN { RS = ""; FS = "\n" }
             { types = uris = suites = ""; enabled = "yes"
               for (i = 1; i <= NF; i++) {
                   line = $i
                   if (line ~ /^#/) continue
                   n = index(line, ":"); if (!n) continue
                   k = tolower(substr(line, 1, n - 1)); v = substr(line, n + 1)
                   if (k == "types") types = v
                   else if (k == "uris") uris = v
                   else if (k == "suites") suites = v
                   else if (k == "enabled") enabled = v
               }
               gsub(/[ \t]+/, " ", enabled); gsub(/ /, "", enabled)
               if (enabled == "no" || (" " types " ") !~ / deb /) next
               nu = split(uris, u, " "); ns = split(suites, s, " ")
               for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) print u[a], s[b] }' "$f"
    done
}
suite_uri() { apt_entries | awk -v s="$1" '$2 == s { print $1; exit }'; }

# ---- cleanup: every process in the root, every mount under it, the run dir ---
work="" root=""
mounts_under() { # mount points at or under $1, deepest first
    awk -v r="$1" '{ p = $5; gsub(/\\040/, " ", p) } p == r || index(p, r "/") == 1 { print p }' \
        /proc/self/mountinfo | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}
procs_in() { # processes whose root directory is $1 or under it
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$1" ] || [ "${r#"$1"/}" != "$r" ] && echo "${p#/proc/}"
    done
}
release_root() { # release_root DIR: kill its processes, unmount everything under it
    local dir=$1 pids m i
    for sig in TERM KILL; do
        pids=$(procs_in "$dir")
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086
        kill -s "$sig" $pids 2>/dev/null
        for _ in $(seq 100); do
            [ -z "$(procs_in "$dir")" ] && break
            sleep 0.1
        done
    done
    for i in 1 2 3; do
        m=$(mounts_under "$dir")
        [ -z "$m" ] && break
        while IFS= read -r mp; do
            umount "$mp" 2>/dev/null || [ "$i" -lt 3 ] || umount -l "$mp" 2>/dev/null
        done <<<"$m"
    done
    if [ -n "$(procs_in "$dir")" ]; then
        echo "test-fresh: processes left in $dir: $(procs_in "$dir" | tr '\n' ' ')" >&2
    fi
    [ -z "$(mounts_under "$dir")" ]
}
remove_run_dir() { # only once nothing is mounted under it
    local dir=$1
    if release_root "$dir/root"; then
        [ -n "${FRESH_KEEP:-}" ] && { echo "test-fresh: root kept in $dir/root"; return 0; }
        rm -rf --one-file-system "$dir"
    else
        echo "test-fresh: mounts left under $dir, not removing it:" >&2
        mounts_under "$dir" >&2
        return 1
    fi
}
cleanup() {
    local w=$work
    work=""
    [ -z "$w" ] || remove_run_dir "$w"
}
on_exit() {
    [ -n "$finished" ] && { cleanup; return; }
    ko "test-fresh stopped before its end (exit status $1)"
    finish
}
trap 'on_exit $?' EXIT
trap 'ko "interrupted by a signal"; finish' INT TERM HUP

mkdir -p "$cache" || { ko "cache directory $cache"; finish; }
exec 9>"$cache/lock"
if ! flock -w 3600 9; then
    ko "another make test-fresh held $cache/lock for an hour"
    finish
fi
# Run directories of earlier runs that were killed outright.
for d in "$cache"/run.* "$cache"/debootstrap.*; do
    [ -d "$d" ] && { remove_run_dir "$d" || { ko "remove $d, left by an earlier run"; finish; }; }
done

# ---- 1. the pristine minbase root ------------------------------------------------
phase "minimal Debian root"
mirror=$(suite_uri "$suite")
if [ -z "$mirror" ]; then
    ko "no apt source for $suite in /etc/apt/sources.list{,.d/}: cannot choose a mirror"
    finish
fi
updates=$(suite_uri "$suite-updates")
security=$(suite_uri "$suite-security")
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
echo "mirror $mirror (updates: ${updates:-none}, security: ${security:-none}), $arch"
# debootstrap fetches with wget: give it apt's proxy when the environment has none.
if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null; then
    p=$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p')
    [ -n "$p" ] && [ "$p" != DIRECT ] && export http_proxy=$p
fi
key=$(printf '%s %s %s minbase' "$suite" "$mirror" "$arch" | sha256sum | cut -c1-16)
base="$cache/minbase-$key.tar"
if [ -f "$base" ] && [ -n "$(find "$base" -mtime +"$base_days" 2>/dev/null)" ]; then
    echo "the cached root is older than $base_days days: building it again"
    rm -f "$base"
fi
if [ ! -f "$base" ]; then
    b=$(mktemp -d "$cache/debootstrap.XXXXXX")
    if debootstrap --variant=minbase --arch="$arch" "$suite" "$b/root" "$mirror" >"$b/log" 2>&1 &&
        tar -C "$b/root" -cf "$b/root.tar" . && mv "$b/root.tar" "$base"; then
        echo "debootstrap: new minbase root ($(du -sh "$base" | cut -f1))"
    else
        tail_log "$b/log"
        [ -f "$b/root/debootstrap/debootstrap.log" ] && tail_log "$b/root/debootstrap/debootstrap.log"
    fi
    release_root "$b/root" && rm -rf --one-file-system "$b"
    [ -f "$base" ] || { ko "debootstrap --variant=minbase $suite $mirror"; finish; }
else
    echo "cached minbase root $(basename "$base") from $(date -r "$base" '+%F %R')"
fi
work=$(mktemp -d "$cache/run.XXXXXX")
root=$work/root
mkdir -m 0755 "$root" && tar -C "$root" -xf "$base" || { ko "unpack the minbase root"; finish; }

# ---- 2. the machine's network settings, mounts ---------------------------------
{
    echo "deb $mirror $suite main"
    [ -n "$updates" ] && echo "deb $updates $suite-updates main"
    [ -n "$security" ] && echo "deb $security $suite-security main"
} >"$root/etc/apt/sources.list"
[ -f /etc/apt/apt.conf ] && cp /etc/apt/apt.conf "$root/etc/apt/apt.conf"
for f in /etc/apt/apt.conf.d/*; do # how apt reaches the mirror: proxies, validity
    [ -f "$f" ] && grep -qi 'acquire' "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# What the Debian installer writes; debootstrap writes no /etc/hosts.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# The machine's CA bundle: the bundle itself (apt over https before
# ca-certificates exists), and as a local CA file so that the bundle
# ca-certificates generates keeps every certificate the machine trusts.
hostca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$hostca" ]; then
    mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
    cp "$hostca" "$root/etc/ssl/certs/ca-certificates.crt"
    cp "$hostca" "$root/usr/local/share/ca-certificates/host-ca-bundle.crt"
fi
# The environment the machine's tools read for proxies and certificates.
chroot_env=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
while IFS='=' read -r name _; do
    case "$name" in
    http_proxy | https_proxy | no_proxy | all_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY | ALL_PROXY | \
        NODE_EXTRA_CA_CERTS | SSL_CERT_FILE | SSL_CERT_DIR | CURL_CA_BUNDLE | GIT_SSL_CAINFO | \
        npm_config_* | NPM_CONFIG_*)
        chroot_env+=("$name=${!name}")
        ;;
    esac
done < <(env)
# npm's settings that reach the registry (the user's ~/.npmrc, /etc/npmrc).
if command -v npm >/dev/null; then
    : >"$root/root/.npmrc"
    for k in registry cafile proxy https-proxy noproxy strict-ssl; do
        v=$(npm config get "$k" 2>/dev/null) || continue
        case "$k=$v" in
        registry=https://registry.npmjs.org/ | *=null | *=undefined | *= | strict-ssl=true) continue ;;
        esac
        echo "$k=$v" >>"$root/root/.npmrc"
        [ "$k" = cafile ] && [ -f "$v" ] && [ ! -e "$root$v" ] && mkdir -p "$root$(dirname "$v")" &&
            cp "$v" "$root$v"
    done
    chmod 0600 "$root/root/.npmrc"
fi

mkdir -p "$cache/apt-archives/partial" "$root/var/cache/apt/archives"
# The root is a mount point of its own, private, so that the tests' own
# namespaces (ip netns exec, unshare -m) can change mount propagation there.
mount --bind "$root" "$root" && mount --make-private "$root" &&
    mount -t proc proc "$root/proc" &&
    mount -t sysfs sysfs "$root/sys" &&
    mount --bind /dev "$root/dev" &&
    mount --bind /dev/pts "$root/dev/pts" &&
    mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm" &&
    mount -t tmpfs -o mode=0755 tmpfs "$root/run" &&
    mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives" ||
    { ko "mount the root, /proc, /sys, /dev, /run and the package cache in it"; finish; }
mkdir -p "$root/run/lock"

inroot() { chroot "$root" /usr/bin/env -i "${chroot_env[@]}" "$@" 9>&-; }

# ---- 3. only git, make and ca-certificates ------------------------------------
phase "apt-get install git make ca-certificates"
if inroot sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends git make ca-certificates' >"$work/apt.log" 2>&1; then
    ok "apt-get install git make ca-certificates in the minbase root"
else
    tail_log "$work/apt.log"
    ko "apt-get install git make ca-certificates in the minbase root"
    finish
fi

# ---- 4. the clone -----------------------------------------------------------------
phase "git clone"
sha=$(git rev-parse HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] &&
    echo "note: uncommitted changes are not tested, only the commit $sha"
if git bundle create "$root/tmp/source.bundle" HEAD >"$work/bundle.log" 2>&1 &&
    inroot sh -c "cd /root && git -c advice.detachedHead=false clone -q /tmp/source.bundle $clone" \
        >"$work/clone.log" 2>&1 &&
    [ "$(inroot git -C "$clone" rev-parse HEAD)" = "$sha" ]; then
    ok "git clone of $sha into $clone"
else
    tail_log "$work/bundle.log"
    tail_log "$work/clone.log"
    ko "git clone of $sha into $clone"
    finish
fi
rm -f "$root/tmp/source.bundle"

# ---- 5. make run, and the dry-run it suggests ---------------------------------
phase "make run until it serves"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in 8443 9090; do
    if port_open "$p"; then
        ko "port $p is in use on this machine: make run needs it"
        finish
    fi
done
setsid chroot "$root" /usr/bin/env -i "${chroot_env[@]}" bash -c "cd $clone && exec make run" \
    >"$work/make-run.log" 2>&1 9>&- &
make_pid=$!
served=0 t0=$SECONDS
while [ $((SECONDS - t0)) -lt "$run_timeout" ] && kill -0 "$make_pid" 2>/dev/null; do
    if [ -f "$root$clone/certs/dev/ca.crt" ] &&
        [ "$(curl -s --max-time 2 --cacert "$root$clone/certs/dev/ca.crt" -o /dev/null -w '%{http_code}' \
            https://127.0.0.1:8443/healthz)" = 200 ]; then
        served=1
        break
    fi
    sleep 0.5
done
if [ "$served" = 1 ]; then
    ok "make run serves https://127.0.0.1:8443 ($((SECONDS - t0)) s from a fresh clone)"
elif kill -0 "$make_pid" 2>/dev/null; then
    tail_log "$work/make-run.log"
    ko "make run did not serve within $run_timeout s"
    finish
else
    wait "$make_pid"
    rc=$?
    tail_log "$work/make-run.log"
    ko "make run exited ($rc) before it served"
    finish
fi

phase "the dry-run make run suggests"
# The command make run prints after "send a dry-run review from another terminal:".
hint=$(awk 'f { sub(/^[ \t]+/, ""); print; exit } /send a dry-run review/ { f = 1 }' "$work/make-run.log")
if [ -z "$hint" ]; then
    tail_log "$work/make-run.log"
    ko "make run printed no dry-run command"
elif inroot timeout 60 bash -c "cd $clone && $hint" >"$work/dry-run.out" 2>&1 &&
    [ "$(head -n 1 "$work/dry-run.out")" = "allowed (with a patch)" ] &&
    grep -q '^patch (JSONPatch):' "$work/dry-run.out"; then
    ok "$hint: $(head -n 1 "$work/dry-run.out")"
else
    tail_log "$work/dry-run.out"
    ko "$hint: no mutated answer"
fi

phase "stop make run"
# make runs the server in place of its shell: the server is make's child.
server=""
for s in /proc/[0-9]*/stat; do
    st=$(cat "$s" 2>/dev/null) || continue
    read -r _ ppid _ <<<"${st##*) }"
    [ "$ppid" = "$make_pid" ] && server=$(basename "$(dirname "$s")") && break
done
[ -n "$server" ] && kill -TERM "$server"
for _ in $(seq 300); do
    kill -0 "$make_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$make_pid" 2>/dev/null; then
    kill -KILL -- "-$make_pid" 2>/dev/null
    wait "$make_pid" 2>/dev/null
    ko "make run did not stop within 30 s of SIGTERM to its server"
else
    wait "$make_pid"
    rc=$?
    if [ -n "$server" ] && [ "$rc" -eq 0 ] && ! port_open 8443; then
        ok "make run stops cleanly on SIGTERM (exit 0)"
    else
        tail_log "$work/make-run.log" 10
        ko "make run on SIGTERM: exit $rc${server:- (no server process found)}"
    fi
fi

# ---- 6. make test ----------------------------------------------------------------------
phase "make test"
# In the background so that a signal to this script is handled at once.
(inroot timeout "$test_timeout" bash -c "cd $clone && make test" 2>&1 | tee "$work/make-test.log") 9>&- &
wait $!
rc=$?
inner=$(tail -n 1 "$work/make-test.log")
if [ "$rc" -eq 0 ] && [[ "$inner" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
    ok "make test in the fresh root"
else
    [ "$rc" -eq 124 ] && echo "make test did not finish within $test_timeout s"
    ko "make test in the fresh root: exit $rc, last line: $inner"
    inner=${inner:-no summary line}
fi
# Downloaded packages the mirror no longer has leave the cache.
inroot apt-get autoclean -qq >/dev/null 2>&1
finish
