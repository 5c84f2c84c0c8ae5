#!/bin/bash
# `deltakern selftest` end to end.
#   selftest.sh DELTAKERN pass      every backend compiled in, default options:
#                                   exit 0, one table row per backend; ref and
#                                   every available backend PASS, every
#                                   unavailable one SKIPPED with a reason
#   selftest.sh DELTAKERN inject    one element per judged output moved to 10x
#                                   its bound: exit 1, the variant's row FAIL
#                                   with failures in both suites; a kernel
#                                   nondeterministic within its bound fails
#   selftest.sh DELTAKERN usage     bad options: one error line, exit 2
# The seed is random and printed (set DK_TEST_SEED to repeat a run).
set -u
DK=$(readlink -f "$1")
MODE=$2
SEED=${DK_TEST_SEED:-$RANDOM}
echo "seed: $SEED"
fail=0
# the conformance columns are checked only where Debian's libonnx-testdata is
DATA=/usr/share/libonnx-testdata/data
have_data=0
[ -d "$DATA/node" ] && have_data=1

# the table row of a variant: "NAME RESULT ..." (first word NAME)
row() { printf '%s\n' "$out" | awk -v n="$1" '$1 == n && ($2 == "PASS" || $2 == "FAIL" || $2 == "SKIPPED")'; }
bad() { echo "FAIL: $*"; fail=1; }

case $MODE in
pass)
    out=$("$DK" selftest --cases 3 --seed "$SEED" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    [ "$rc" -eq 0 ] || bad "exit status $rc, expected 0"
    # the backends compiled in, with their availability, as `deltakern backends` lists them
    # (wrappers such as fault, listed after them, run another backend and need options)
    backends=$("$DK" backends | awk '/^wrappers/ {exit} $2 == "available" || $2 == "unavailable" {print $1, $2}')
    [ -n "$backends" ] || bad "deltakern backends lists no backend"
    while read -r name status; do
        r=$(row "$name")
        if [ -z "$r" ]; then bad "no table row for backend $name"; continue; fi
        [ "$(printf '%s\n' "$r" | wc -l)" -eq 1 ] || bad "more than one row for $name"
        result=$(printf '%s\n' "$r" | awk '{print $2}')
        if [ "$status" = available ]; then
            [ "$result" = PASS ] || bad "$name is available but its row says $result: $r"
            # both suites compared something: passed counts above zero
            set -- $r
            [ "$3" -gt 0 ] || bad "$name: no op-suite case passed: $r"
            [ "$have_data" -eq 0 ] || [ "$7" -gt 0 ] || bad "$name: no conformance case passed: $r"
        else
            [ "$result" = SKIPPED ] || bad "$name is unavailable but its row says $result: $r"
            reason=$(printf '%s\n' "$r" | awk '{$1 = ""; $2 = ""; sub(/^ +/, ""); print}')
            [ -n "$reason" ] || bad "$name is SKIPPED without a reason"
            echo "ok: $name SKIPPED: $reason"
        fi
    done <<< "$backends"
    for name in ref openblas onednn; do
        if printf '%s\n' "$backends" | grep -q "^$name available"; then
            echo "ok: $name: $(row "$name" | awk '{print $2}')"
        fi
    done
    printf '%s\n' "$out" | grep -q "^selftest: PASS$" || bad "no closing 'selftest: PASS' line"
    ;;
inject)
    # a backend other than the reference when one is available, else the reference
    variant=ref
    for name in openblas onednn; do
        if "$DK" backends | awk '/^wrappers/ {exit} $2 == "available" {print $1}' | grep -qx "$name"; then
            variant=$name
            break
        fi
    done
    # (conformance: the convolution cases are enough to show the failure)
    out=$("$DK" selftest --backend "$variant" --cases 1 --seed "$SEED" --inject 10 --filter conv 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v "^SKIP " | tail -n 40
    [ "$rc" -eq 1 ] || bad "exit status $rc with an injected error, expected 1"
    r=$(row "$variant")
    [ "$(printf '%s\n' "$r" | awk '{print $2}')" = FAIL ] || bad "row of $variant is not FAIL: $r"
    set -- $r
    [ "${4:-0}" -gt 0 ] || bad "no op-suite case failed: $r"
    [ "$have_data" -eq 0 ] || [ "${8:-0}" -gt 0 ] || bad "no conformance case failed: $r"
    printf '%s\n' "$out" | grep -q "repro: deltakern selftest" || bad "no repro line"
    printf '%s\n' "$out" | grep -q "^selftest: FAIL$" || bad "no closing 'selftest: FAIL' line"
    # below the bound the same run passes: the line is where the table puts it
    out=$("$DK" selftest --backend "$variant" --cases 1 --seed "$SEED" --inject 0.9 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || { printf '%s\n' "$out" | tail -n 20; bad "exit status $rc with --inject 0.9, expected 0"; }
    # determinism: every case runs twice. Noise of half the bound with the same
    # signs every run passes; with new signs every run (fault kind=flaky) it is
    # still within the bound, and only the second run can tell.
    for kind in noise flaky; do
        out=$("$DK" selftest --backend "fault:base=ref,node=Conv_under_test,kind=$kind,scale=0.5" \
              --op Conv --cases 4 --seed "$SEED" --no-conformance 2>&1)
        rc=$?
        if [ $kind = noise ]; then
            [ "$rc" -eq 0 ] || { printf '%s\n' "$out" | tail -n 20; bad "kind=noise,scale=0.5: exit $rc, expected 0"; }
        else
            [ "$rc" -eq 1 ] || { printf '%s\n' "$out" | tail -n 20; bad "kind=flaky,scale=0.5: exit $rc, expected 1"; }
            printf '%s\n' "$out" | grep -q "nondeterministic: output 0 differs between two runs" \
                || bad "kind=flaky: no 'nondeterministic' failure"
        fi
    done
    ;;
usage)
    expect_usage() {
        local want=$1; shift
        "$DK" selftest "$@" > /dev/null 2> err.txt
        local rc=$?
        if [ "$rc" -ne 2 ] || [ "$(wc -l < err.txt)" -ne 1 ] || ! grep -q "^deltakern: error: .*$want" err.txt; then
            bad "selftest $*: exit $rc, wanted one error line naming '$want': $(cat err.txt)"
        else
            echo "ok: selftest $*: $(cat err.txt)"
        fi
    }
    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    cd "$tmp" || exit 1
    expect_usage "--cases" --cases 0
    expect_usage "--cases" --cases x
    expect_usage "--seed" --seed -1
    expect_usage "--op" --op NoSuchOp
    expect_usage "--inject" --inject -2
    expect_usage "nosuch" --backend nosuch
    expect_usage "fpmath" --backend ref:fpmath=nosuch
    expect_usage "--bogus" --bogus
    expect_usage "nothing to run" --no-ops --no-conformance
    # missing conformance data is reported and skipped, not an error
    out=$("$DK" selftest --backend ref --cases 1 --op Relu --conformance "$PWD/none" 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || bad "missing conformance data: exit $rc, expected 0"
    printf '%s\n' "$out" | grep -q "none not found" || bad "missing conformance data not reported: $out"
    ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
[ "$fail" -eq 0 ] && echo "selftest.sh $MODE: as expected"
exit $fail
