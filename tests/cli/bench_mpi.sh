#!/bin/bash
# mpirun deltakern bench (tools/cli_bench_mpi.c) with Debian's Open MPI on
# localhost: 2 and 3 ranks write one RUN.json, rank 0's result as a single
# run writes it plus "nodes", every rank's whole result (environment and
# topology included) with its host; rank 0 alone prints; ranks given host
# names of their own (unshare -u) are told apart by host; compare RUN.json#K
# selects a rank and refuses a rank that is not there; report shows the
# ranks. An error on every rank, or on rank 1 alone, gives one error line
# naming it and no file, as does a bad command line (said by rank 0 alone).
# No timing is checked: this host drifts by 20-40%.
# usage: bench_mpi.sh DELTAKERN HAVE_MPI MPIEXEC SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1 HAVE_MPI=$2 MPIEXEC=$3 SRC=$4 MODELS=$5 WORK=$6
. "$SRC/tests/cli/mpi_env.sh"
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
# threads=1: ranks take turns, but on 2 cores the host's other load would
# otherwise make OpenMP's spinning threads the slowest part of the test
BENCH=(-v onednn:threads=1 -v openblas:threads=1 -n 3 --warmup 1 --sessions 1)
. "$SRC/tests/cli/checks.sh"
# the file's structure: schema, ranks 0..N-1 each with environment and
# topology, the same variants and seed, and the top level equal to rank 0's
valid_run() {  # valid_run FILE N
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
nodes = d.get("nodes")
def bad(why):
    print("    " + why)
    sys.exit(1)
if d.get("schema") != "deltakern-bench/1": bad("schema is %r" % d.get("schema"))
if not isinstance(nodes, list) or [e.get("rank") for e in nodes] != list(range(n)): bad("ranks are not 0..%d" % (n - 1))
for e in nodes:
    r = e["result"]
    if not e.get("host"): bad("rank %d has no host" % e["rank"])
    if r.get("schema") != "deltakern-bench/1" or "nodes" in r: bad("rank %d's result is no single result" % e["rank"])
    if not isinstance(r.get("topology"), dict): bad("rank %d has no topology" % e["rank"])
    if not all(isinstance(v.get("environment"), dict) for v in r["variants"]): bad("rank %d lacks an environment" % e["rank"])
    if [v["name"] for v in r["variants"]] != [v["name"] for v in d["variants"]]: bad("rank %d's variants differ" % e["rank"])
    if r["input"] != d["input"]: bad("rank %d's input differs from rank 0's (seed)" % e["rank"])
    h = r.get("host_load")
    if not isinstance(h, dict) or h.get("verdict") not in ("quiet", "disturbed", "unknown"):
        bad("rank %d records no host load of its own" % e["rank"])
top = {k: v for k, v in d.items() if k != "nodes"}
if top != nodes[0]["result"]: bad("the top level is not rank 0's result")
PY
}

"$MPIEXEC" --version 2>&1 | head -n 1
"${MPIRUN[@]}" -np 2 "$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/np2.json" > "$WORK/np2.out" 2> "$WORK/np2.err"
rc=$?
if [ $rc -ne 0 ]; then echo "FAIL: mpirun -np 2 exited $rc:"; sed 's/^/    /' "$WORK/np2.err"; exit 1; fi
check "mpirun -np 2: one file, rank 0's result and both ranks' in nodes" valid_run "$WORK/np2.json" 2
check "rank 0 alone prints (one header, each rank's summary once)" \
    test "$(grep -c '^bench: 2 ranks on ' "$WORK/np2.out")" = 1 -a "$(grep -c '^rank [01] of 2 on ' "$WORK/np2.out")" = 2 \
    -a "$(grep -c '^wrote ' "$WORK/np2.out")" = 1
check "nothing on stderr" test ! -s "$WORK/np2.err"

"${MPIRUN[@]}" -np 3 "$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/np3.json" --trace "$WORK/np3.trace.json" \
    --report "$WORK/np3.html" > "$WORK/np3.out" 2> "$WORK/np3.err"
rc=$?
if [ $rc -ne 0 ]; then echo "FAIL: mpirun -np 3 exited $rc:"; sed 's/^/    /' "$WORK/np3.err"; exit 1; fi
check "mpirun -np 3: ranks 0..2 in nodes" valid_run "$WORK/np3.json" 3
check "--trace and --report are written by rank 0" test -s "$WORK/np3.trace.json" -a -s "$WORK/np3.html"
check "the report lists the ranks" grep -q "Ranks (mpirun): 3" "$WORK/np3.html"

# Two hosts on one machine: ranks in UTS namespaces of their own, each with a
# host name (root, unshare -u). Ranks 0 and 2 share host A, rank 1 is alone
# on B; the file names each rank's host. Left out where unshare is refused.
if unshare -u true 2> /dev/null; then
    one=("$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/hosts.json")
    "${MPIRUN[@]}" -np 1 unshare -u sh -c 'hostname dk-host-a && exec "$0" "$@"' "${one[@]}" \
        : -np 1 unshare -u sh -c 'hostname dk-host-b && exec "$0" "$@"' "${one[@]}" \
        : -np 1 unshare -u sh -c 'hostname dk-host-a && exec "$0" "$@"' "${one[@]}" > "$WORK/hosts.out" 2> "$WORK/hosts.err"
    rc=$?
    check "3 ranks on 2 hosts (exit $rc)" test $rc -eq 0 -a "$(grep -c '^bench: 3 ranks on 2 hosts; ' "$WORK/hosts.out")" = 1
    check "each rank's host in nodes" /usr/bin/python3 -c "
import json, sys; d = json.load(open('$WORK/hosts.json'))
sys.exit(0 if [e['host'] for e in d['nodes']] == ['dk-host-a', 'dk-host-b', 'dk-host-a'] else 1)"
else
    echo "note: unshare -u refused here: the test of ranks on two hosts is left out"
fi

# compare: FILE#K selects rank K. With 3 repetitions a side no Mann-Whitney
# p-value goes below 0.1, so nothing can be flagged: the exit is 0.
"$DK" compare "$WORK/np2.json#0" "$WORK/np2.json#1" --json "$WORK/cmp.json" > "$WORK/cmp.out" 2> "$WORK/cmp.err"
rc=$?
check "compare RUN.json#0 RUN.json#1 exits 0 (exit $rc)" test $rc -eq 0
check "compare names both ranks with their host" \
    grep -q "^base .*np2.json#0 (.*, on .*), candidate .*np2.json#1 (.*, on .*)$" "$WORK/cmp.out"
"$DK" compare "$WORK/np2.json" "$WORK/np3.json#2" > /dev/null 2>&1
rc=$?
check "compare --json names both hosts" /usr/bin/python3 -c "
import json, sys; c = json.load(open('$WORK/cmp.json'))
ok = c.get('base_host') and c.get('cand_host')
ok = ok and all(c[k + '_host_load']['verdict'] in ('quiet', 'disturbed', 'unknown') for k in ('base', 'cand'))
sys.exit(0 if ok else 1)"
check "RUN.json alone is rank 0's result, for every existing reader (exit $rc)" test $rc -eq 0
expect_error "a rank the run did not have" "np2.json#9: no rank 9 (the run had 2 ranks)" \
    "$DK" compare "$WORK/np2.json#0" "$WORK/np2.json#9"
/usr/bin/python3 -c "import json,sys; json.dump(json.load(open(sys.argv[1]))['nodes'][1]['result'], open(sys.argv[2], 'w'))" \
    "$WORK/np2.json" "$WORK/rank1.json"
expect_error "#K on a result without nodes" "rank1.json#0: the file holds no \"nodes\"" \
    "$DK" compare "$WORK/rank1.json#0" "$WORK/np2.json"
expect_error "#K that is no number" "'#one' is no rank number" "$DK" compare "$WORK/np2.json#one" "$WORK/np2.json"
"$DK" report "$WORK/np2.json" -o "$WORK/np2.html" > /dev/null 2>&1
rc=$?
check "report reads the file and lists the ranks (exit $rc)" test $rc -eq 0 -a -n "$(grep -l "Ranks (mpirun): 2" "$WORK/np2.html")"

# errors: one line from rank 0 naming the ranks, a non-zero exit, no file
failed() {  # failed NAME EXPECTED OUT MPIRUN-ARGS...
    local name=$1 want=$2 out=$3
    shift 3
    "${MPIRUN[@]}" "$@" > /dev/null 2> "$WORK/err.txt"
    local rc=$?
    n=$((n + 1))
    if [ $rc -ne 0 ] && [ "$(grep -c '^deltakern: error: ' "$WORK/err.txt")" = 1 ] &&
        grep -q "^deltakern: error: .*$want" "$WORK/err.txt" && [ ! -e "$out" ]; then
        echo "ok   $name (exit $rc): $(grep '^deltakern: error: ' "$WORK/err.txt")"
    else
        echo "FAIL $name: exit $rc, wanted one error line with '$want' and no $out:"
        sed 's/^/    /' "$WORK/err.txt"
        fail=$((fail + 1))
    fi
}
failed "a missing model on every rank" "ranks 0, 1 of 2: .*missing.onnx" "$WORK/x.json" \
    -np 2 "$DK" bench "$WORK/missing.onnx" "${BENCH[@]}" -o "$WORK/x.json"
failed "a missing model on rank 1 alone" "rank 1 of 2 (on .*): .*missing.onnx" "$WORK/y.json" \
    -np 1 "$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/y.json" : \
    -np 1 "$DK" bench "$WORK/missing.onnx" "${BENCH[@]}" -o "$WORK/y.json"
failed "an unknown variant" "ranks 0, 1, 2 of 3: variant 'nosuch'" "$WORK/z.json" \
    -np 3 "$DK" bench "$MODEL" -v nosuch -n 3 -o "$WORK/z.json"
# the other ranks wait for rank 0 to have said it: were they to leave first,
# mpirun would end the job, at times before rank 0 started (so, 5 times)
for i in 1 2 3 4 5; do
    failed "a command-line error, said by rank 0 alone ($i)" "bench: no variant given" "$WORK/w.json" \
        -np 3 "$DK" bench "$MODEL" -n 3 -o "$WORK/w.json"
done
failed "a command-line error on rank 1 alone, said by rank 1" "bench: no variant given" "$WORK/w.json" \
    -np 1 "$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/w.json" : -np 1 "$DK" bench "$MODEL" -n 3 -o "$WORK/w.json"
cp "$WORK/np2.json" "$WORK/keep.json"
"${MPIRUN[@]}" -np 2 "$DK" bench "$MODEL" "${BENCH[@]}" -o "$WORK/np2.json" > /dev/null 2> "$WORK/err.txt"
rc=$?
check "an existing RUN.json is refused before measuring (exit $rc)" test $rc -ne 0 \
    -a "$(grep -c '^deltakern: error: bench: .*np2.json exists' "$WORK/err.txt")" = 1
check "and left as it was" cmp -s "$WORK/np2.json" "$WORK/keep.json"
echo "bench_mpi: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
