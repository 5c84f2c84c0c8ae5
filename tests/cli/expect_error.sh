# Sourced by the CLI tests: expect_error NAME EXPECTED_SUBSTRING COMMAND...
# passes when COMMAND exits 2 with exactly one line "deltakern: error: ..."
# containing EXPECTED_SUBSTRING on stderr (and nothing else there, unless
# EXPECT_ERROR_ALLOW_PROGRESS=1: progress lines of long commands). Needs WORK
# (a scratch directory); counts checks in n and failures in fail.
n=${n:-0}
fail=${fail:-0}
expect_error() {
    local name=$1 want=$2; shift 2
    n=$((n + 1))
    "$@" > "$WORK/out.txt" 2> "$WORK/err.txt"
    local rc=$? errors lines
    errors=$(grep -c "^deltakern: error: " "$WORK/err.txt")
    lines=$(wc -l < "$WORK/err.txt")
    [ "${EXPECT_ERROR_ALLOW_PROGRESS:-0}" = 1 ] && lines=$errors
    if [ $rc -ne 2 ] || [ "$errors" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$WORK/err.txt"; then
        echo "FAIL $name: exit $rc, $lines stderr lines, wanted '$want':"; sed 's/^/    /' "$WORK/err.txt"
        fail=$((fail + 1))
    else
        echo "ok   $name: $(grep "^deltakern: error: " "$WORK/err.txt")"
    fi
}
