#!/bin/bash
# tools/fresh_machine_test.sh [run|test] [--keep]
#
# Runs the README's set-up command (tools/setup.sh run, the default, or test)
# on a pristine Debian 12 root, as on a fresh machine, and exits with its status.
#
# Why: CI runs on machines that already hold the packages an earlier run or a
# developer installed, so a package missing from setup.sh's list, or a build
# step that assumes something only a developer machine has, goes unnoticed
# there (oneDNN's CMake config needing ocl-icd-opencl-dev was one). Here the
# same command runs where nothing is installed but Debian's minbase.
#
# How:
#   1. mmdebstrap --variant=minbase bookworm builds the root in a temporary
#      directory under ${TMPDIR:-/var/tmp}, from this machine's apt sources
#      (the sources.list and sources.list.d files apt itself reads). Its
#      output goes to a log that is printed only when it fails.
#   2. The repository this script lives in is cloned at its current HEAD
#      (committed state only, as CI's clean clone) into /root/deltakern.
#   3. tools/setup.sh MODE runs there as root, chrooted, with /proc, /sys,
#      /dev (with /dev/pts) and a fresh /dev/shm mounted, the host's
#      resolv.conf and locally added certificate authorities (NODE_EXTRA_CA_CERTS
#      for npm), and a login-like environment (env -i). Its output streams.
#   4. The directory is removed (also on failure, Ctrl-C or SIGTERM) unless
#      --keep is given; the last line printed is the summary.
# mmdebstrap and the chroot each run in a mount namespace of their own
# (unshare), so their mounts vanish with their processes and never outlive
# this script; the chroot's PID namespace takes every process it started
# down with it.
# Needs root (re-runs itself under sudo otherwise), mmdebstrap (installed with
# apt-get when missing), git, and the Debian mirror in this machine's sources.
set -euo pipefail

MODE=
KEEP=0
for arg in "$@"; do
    case "$arg" in
        run|test) MODE=$arg ;;
        --keep) KEEP=1 ;;
        *) echo "usage: tools/fresh_machine_test.sh [run|test] [--keep]" >&2; exit 2 ;;
    esac
done
MODE=${MODE:-run}

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null && { sudo -n true 2>/dev/null || { [ -t 0 ] && sudo -v; }; }; then
        exec sudo -- env TMPDIR="${TMPDIR:-}" CI="${CI:-}" TERM="${TERM:-dumb}" "$0" "$@"
    fi
    echo "fresh_machine_test: needs root (mmdebstrap, mount, chroot): run it as root or with sudo available" >&2
    exit 1
fi

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHA=$(git -C "$REPO" -c safe.directory='*' rev-parse HEAD)
if ! git -C "$REPO" -c safe.directory='*' diff --quiet HEAD -- 2>/dev/null; then
    echo "fresh_machine_test: note: uncommitted changes in $REPO are not tested (HEAD ${SHA:0:12} is)"
fi

if ! command -v mmdebstrap > /dev/null; then
    echo "fresh_machine_test: installing mmdebstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap > /dev/null
fi

# This machine's apt sources, as apt reads them (*.list and *.sources only).
SOURCES=()
if [ -f /etc/apt/sources.list ] && grep -q '^[[:space:]]*deb' /etc/apt/sources.list; then
    SOURCES+=(/etc/apt/sources.list)
fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && SOURCES+=("$f")
done
if [ ${#SOURCES[@]} -eq 0 ]; then
    echo "fresh_machine_test: no apt sources on this machine, using mmdebstrap's default mirror"
fi

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/fresh_machine_test.XXXXXX")
ROOT=$WORK/root
CHILD=         # the running mmdebstrap or chroot: a process group of its own
SUMMARY="fresh_machine_test: stopped while building the root; tools/setup.sh $MODE did not run"
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$CHILD" ]; then
        echo "fresh_machine_test: stopping process group $CHILD" >&2
        kill -TERM -- "-$CHILD" 2>/dev/null || true
        ( sleep 20; kill -KILL -- "-$CHILD" 2>/dev/null ) &
        local killer=$!
        wait "$CHILD" 2>/dev/null || true
        kill "$killer" 2>/dev/null || true
    fi
    # The mounts live in the children's namespaces and died with them; still,
    # never delete while anything is mounted below $WORK.
    if [ "$KEEP" = 1 ]; then
        echo "fresh_machine_test: kept $WORK (root in $ROOT)"
    elif grep -q " ${WORK}/" /proc/self/mountinfo; then
        echo "fresh_machine_test: something is still mounted under $WORK; not removing it" >&2
    else
        rm -rf --one-file-system "$WORK"
    fi
    echo "$SUMMARY"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# run_child CMD...: runs CMD as a process group of its own and waits for it,
# so that a signal reaches the traps above at once and cleanup stops CMD.
run_child() {
    setsid "$@" < /dev/null &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}

# 1. the root
echo "fresh_machine_test: building a Debian 12 minbase root in $ROOT (${SOURCES[*]:-default mirror})"
t0=$(date +%s)
if ! run_child unshare --mount --propagation private -- \
        mmdebstrap --mode=root --variant=minbase --logfile="$WORK/mmdebstrap.log" \
        bookworm "$ROOT" "${SOURCES[@]}"; then
    tail -n 40 "$WORK/mmdebstrap.log" >&2 || true
    SUMMARY="fresh_machine_test: building the root failed after $(( $(date +%s) - t0 )) s (mmdebstrap's log above); tools/setup.sh $MODE did not run"
    exit 1
fi
root_s=$(( $(date +%s) - t0 ))
echo "fresh_machine_test: root built in $root_s s ($(du -sh --one-file-system "$ROOT" | cut -f1))"

# 2. the repository at HEAD, as CI's clean clone
git -c safe.directory='*' clone --quiet --no-checkout "$REPO" "$ROOT/root/deltakern"
git -C "$ROOT/root/deltakern" -c advice.detachedHead=false checkout --quiet --detach "$SHA"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's network, like resolv.conf: certificate authorities added
# locally (a TLS-inspecting proxy's) go into the root too, and npm (node)
# is told of them, or the npm registry is unreachable from the root.
EXTRA_CA=""
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cat /usr/local/share/ca-certificates/*.crt > "$ROOT/usr/local/share/ca-certificates/host-local.crt"
    EXTRA_CA=/usr/local/share/ca-certificates/host-local.crt
fi
echo "fresh_machine_test: cloned $REPO at ${SHA:0:12} into /root/deltakern"

# 3. setup.sh in the root
echo "fresh_machine_test: running tools/setup.sh $MODE in the root"
t1=$(date +%s)
SUMMARY="fresh_machine_test: stopped while tools/setup.sh $MODE ran (root built in $root_s s)"
rc=0
# shellcheck disable=SC2016  # expanded by the inner shell
run_child unshare --mount --pid --fork --kill-child --propagation private -- /bin/bash -c '
    set -e
    r=$1; mode=$2; term=$3; ci=$4; ca=$5
    mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
    mount -t sysfs -o ro,nosuid,nodev,noexec sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"
    trap "exit 143" TERM
    env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
         USER=root LOGNAME=root SHELL=/bin/bash TERM="$term")
    [ -z "$ci" ] || env+=(CI="$ci")
    [ -z "$ca" ] || env+=(NODE_EXTRA_CA_CERTS="$ca")
    chroot "$r" /usr/bin/env -i "${env[@]}" /bin/bash -c "cd /root/deltakern && tools/setup.sh $mode"
' fresh_machine_chroot "$ROOT" "$MODE" "${TERM:-dumb}" "${CI:-}" "$EXTRA_CA" || rc=$?
setup_s=$(( $(date +%s) - t1 ))
echo "fresh_machine_test: root after the run: $(du -sh --one-file-system "$ROOT" | cut -f1)"

# 4. the verdict, printed last by cleanup once the root is removed
SUMMARY="fresh_machine_test: tools/setup.sh $MODE exited $rc in $setup_s s (root built in $root_s s)"
exit "$rc"
