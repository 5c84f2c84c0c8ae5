#!/bin/bash
# deltakern roofline: measures positive numbers, caches them per CPU and
# thread count in $XDG_CACHE_HOME/deltakern/roofline.json (the second call
# returns the cached numbers), --force measures again, and a corrupt cache is
# one error line naming the file (exit 2). No timing thresholds.
# usage: roofline.sh DELTAKERN WORKDIR
set -u
DK=$1; WORK=$2
PY=/usr/bin/python3
rm -rf "$WORK"; mkdir -p "$WORK"
export XDG_CACHE_HOME=$WORK/cache
CACHE=$XDG_CACHE_HOME/deltakern/roofline.json
fail=0
"$DK" roofline --json > "$WORK/first.json" || { echo "FAIL: roofline exited $?"; exit 1; }
[ -f "$CACHE" ] || { echo "FAIL: no cache written at $CACHE"; exit 1; }
"$DK" roofline --json > "$WORK/second.json" || { echo "FAIL: cached roofline exited $?"; exit 1; }
"$DK" roofline
$PY - "$WORK/first.json" "$WORK/second.json" "$CACHE" <<'PYEOF' || fail=1
import json, sys
a, b, cache = (json.load(open(p)) for p in sys.argv[1:4])
print("measured: %.1f GFLOP/s, %.1f GB/s (%s)" % (a["peak_gflops"], a["bandwidth_gbs"], a["source"]))
assert a["peak_gflops"] > 0 and a["bandwidth_gbs"] > 0, a
assert (a["peak_gflops"], a["bandwidth_gbs"]) == (b["peak_gflops"], b["bandwidth_gbs"]), (a, b)
assert "cached in" in b["source"], b["source"]
e = [x for x in cache["entries"] if x["cpu_model"] == a["cpu_model"]]
# the cache keeps 17 digits; --json prints what cJSON prints (15 when they
# agree to its epsilon), so the two agree to 1e-12, not bit for bit
assert len(e) == 1 and abs(e[0]["peak_gflops"] - a["peak_gflops"]) <= 1e-12 * a["peak_gflops"], cache
assert a["topology"]["cores"] >= 1, a["topology"]
print("ok: cache round-trips")
PYEOF
cp "$CACHE" "$WORK/good.json"
echo '{"entries": 3' > "$CACHE"
"$DK" roofline > "$WORK/out.txt" 2> "$WORK/err.txt"; rc=$?
if [ $rc -ne 2 ] || [ "$(grep -c '^deltakern: error: ' "$WORK/err.txt")" -ne 1 ] || ! grep -qF "$CACHE" "$WORK/err.txt"; then
    echo "FAIL corrupt cache: exit $rc:"; cat "$WORK/err.txt"; fail=1
else
    echo "ok   corrupt cache: $(cat "$WORK/err.txt")"
fi
"$DK" roofline --force > /dev/null || { echo "FAIL: --force over a corrupt cache exited $?"; fail=1; }
$PY -c "import json,sys; e=json.load(open(sys.argv[1]))['entries']; assert len(e)==1 and e[0]['peak_gflops']>0" "$CACHE" \
    || { echo "FAIL: --force did not rewrite the cache"; fail=1; }
"$DK" roofline --bogus > /dev/null 2> "$WORK/err.txt"; rc=$?
[ $rc -eq 2 ] && grep -q "^deltakern: error: roofline: option '--bogus'" "$WORK/err.txt" || { echo "FAIL bad option: exit $rc"; cat "$WORK/err.txt"; fail=1; }
exit $fail
