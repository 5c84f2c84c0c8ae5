#!/bin/bash
# deltakern compare with an ONNX Runtime profile as one side (docs/bench.md).
# usage: compare_ort.sh DELTAKERN WORKDIR DATA_DIR MNIST_DIR [ORT_DIR]
#   DATA_DIR  tests/cli/ort: mnist.ort.json, the profile bench/ort_profile.mjs
#             recorded of the MNIST model tools/train_mnist.py builds (8 runs
#             after 2 warm-ups, 2 threads, optimisation "all"), and
#             mnist.onednn.json, `deltakern bench` of that model (variant
#             onednn, 8 repetitions) on the same digit
#   MNIST_DIR where the e2e.mnist test trains the model (mnist.onnx): when it
#             is there, a fresh bench of it is compared with the recorded
#             profile too (else that part is skipped, saying why)
#   ORT_DIR   where onnxruntime-node is installed (bench/ort-runtime): when it
#             and node are there, bench/ort_profile.mjs records a fresh profile
#             of the model as well (else skipped, saying why)
# Checks: the recorded pair matched node by node in both orders (every
# deltakern node in one row, ORT's fused Conv+BatchNormalization+Relu one row,
# ReorderOutput listed as only in the profile), --json and report; the
# matching rules on a crafted profile (residual Add fused into the Conv that
# names it, or into another Conv than deltakern's, a Pad taken into the
# pooling, FusedConv of the "extended" level, layout nodes); two profiles compared; a profile of another model, corrupt,
# truncated and foreign JSON: one line, exit 2. No timing is checked.
set -u
DK=$1; WORK=$2; DATA=$3; MNIST=$4; ORT_DIR=${5:-}
PY=/usr/bin/python3
mkdir -p "$WORK"
rm -f "$WORK"/*.json "$WORK"/*.html
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/checks.sh"
source "$here/expect_error.sh"
PROFILE=$DATA/mnist.ort.json
RESULT=$DATA/mnist.onednn.json

# The groups of the MNIST model: ORT folds each BatchNormalization into its
# Conv and fuses the Relu (named after the Relu's output, "_nchwc").
cat > "$WORK/groups.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ort_side = sys.argv[2]          # "base" or "cand"
dk_side = "cand" if ort_side == "base" else "base"
want = [{"/0/Conv", "/1/BatchNormalization", "/2/Relu"}, {"/3/MaxPool"},
        {"/4/Conv", "/5/BatchNormalization", "/6/Relu"}, {"/7/MaxPool"},
        {"/8/Conv", "/9/BatchNormalization", "/10/Relu"}, {"/11/MaxPool"}, {"/12/Flatten"}, {"/13/Gemm"}]
got = [set(r.get("covers", r["name"]).split(",")) for r in d["nodes"]]
assert sorted(map(sorted, got)) == sorted(map(sorted, want)), got
for r in d["nodes"]:
    assert r["name"] == sorted(r.get("covers", r["name"]).split(","), key=lambda n: int(n.split("/")[1]))[0], r
    assert r["base_n"] >= 3 and r["cand_n"] >= 3, r
    assert r["desc"], r
assert d["only_in_" + ort_side] == ["ReorderOutput"], d["only_in_" + ort_side]
assert d["only_in_" + dk_side] == [], d["only_in_" + dk_side]
assert d["only_in_%s_median_s" % ort_side][0] > 0
assert d[ort_side + "_kind"] == "onnxruntime-profile" and d[dk_side + "_kind"] == "deltakern-bench"
assert d[ort_side + "_variant"] == "onnxruntime (CPUExecutionProvider)", d[ort_side + "_variant"]
assert d["end_to_end"][ort_side + "_n"] == int(sys.argv[3]) if len(sys.argv) > 3 else True
assert d["story"].split(";")[0].endswith(")") and "end to end" in d["story"]
EOF

# --- the recorded pair ------------------------------------------------------
"$DK" compare "$RESULT" "$PROFILE" --json "$WORK/dk_ort.json" > "$WORK/dk_ort.txt" 2>&1
rc=$?
cat "$WORK/dk_ort.txt"
check "recorded: compare RESULT PROFILE runs (exit $rc), the story first" \
    bash -c "[ $rc -le 1 ] && head -1 '$WORK/dk_ort.txt' | grep -q 'end to end'"
check "recorded: every node of the model in one row; ReorderOutput only in the profile; 8 runs" \
    $PY "$WORK/groups.py" "$WORK/dk_ort.json" cand 8
check "recorded: the table lists the profile's own node with its time" \
    grep -q "^only in candidate (1): ReorderOutput ([0-9.]* ms)" "$WORK/dk_ort.txt"
check "recorded: a fused row lists what it covers" \
    grep -q "^/0/Conv .*covers /0/Conv,/1/BatchNormalization,/2/Relu" "$WORK/dk_ort.txt"
"$DK" compare "$PROFILE" "$RESULT" --json "$WORK/ort_dk.json" > "$WORK/ort_dk.txt" 2>&1
rc=$?
check "recorded: compare PROFILE RESULT runs too (exit $rc)" [ $rc -le 1 ]
check "recorded: ... with the same rows, ReorderOutput only in the base" \
    $PY "$WORK/groups.py" "$WORK/ort_dk.json" base 8
check "recorded: ... and the ratios inverted" $PY -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ra = {r['name']: r['ratio'] for r in a['nodes']}
for r in b['nodes']:
    assert abs(ra[r['name']] * r['ratio'] - 1) < 1e-9, r" "$WORK/dk_ort.json" "$WORK/ort_dk.json"
for f in dk_ort ort_dk; do
    "$DK" report "$WORK/$f.json" -o "$WORK/$f.html" > "$WORK/report.txt" 2>&1
    rc=$?
    check "report of the comparison $f (exit $rc) shows the ORT side and its own node" \
        bash -c "[ $rc -eq 0 ] && grep -q 'onnxruntime (CPUExecutionProvider)' '$WORK/$f.html' && grep -q ReorderOutput '$WORK/$f.html'"
done
"$DK" compare "$PROFILE" "$PROFILE" --json "$WORK/ort_ort.json" > "$WORK/ort_ort.txt" 2>&1
rc=$?
check "two profiles: the same one twice matches node for node, no change (exit $rc)" \
    $PY -c "import json, sys; d = json.load(open(sys.argv[1]))
assert $rc == 0
assert len(d['nodes']) == 9 and d['only_in_base'] == [] and d['only_in_cand'] == [], d
assert all(r['ratio'] == 1 and r['change'] == 'none' for r in d['nodes'])" "$WORK/ort_ort.json"

# --- the matching rules on a crafted profile --------------------------------
$PY - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
# the other side, as bench writes it before graph passes (execution order)
dk = [("/b/conv1/Conv", "Conv"), ("/b/relu/Relu", "Relu"), ("/b/conv3/Conv", "Conv"),
      ("/b/down/Conv", "Conv"), ("/b/Add", "Add"), ("/b/relu_2/Relu", "Relu"),
      ("/p/Pad", "Pad"), ("/p/AveragePool", "AveragePool"),
      ("/e/conv/Conv", "Conv"), ("/e/bn/BatchNormalization", "BatchNormalization"), ("/e/relu/Relu", "Relu"),
      ("/gap/GlobalAveragePool", "GlobalAveragePool"), ("/fc/Gemm", "Gemm")]
reps = 6
def node(name, op, ms=1.0):
    return {"name": name, "op": op, "desc": op, "covers": [name],
            "time": {"samples_s": [ms * 1e-3 * (1 + 0.01 * r) for r in range(reps)]}}
def result(nodes):
    return {"schema": "deltakern-bench/1", "model": {"path": "m.onnx", "hash": "fnv1a64:0"},
            "variants": [{"name": "v", "nodes": nodes,
                          "end_to_end": {"samples_s": [len(nodes) * 1e-3] * reps}}]}
json.dump(result([node(n, op) for n, op in dk]), open(work + "/crafted_dk.json", "w"))
json.dump(result([node("/x%d/Conv" % i, "Conv") for i in range(len(dk))]), open(work + "/other_model.json", "w"))
# ORT's nodes: (name, op_name, inputs)
ort = [("ReorderInput_token_1", "ReorderInput", 1),
       ("/b/relu/Relu_output_0_nchwc", "Conv", 3),        # Conv+Relu, named after the Relu's output
       ("/b/down/Conv_output_0_nchwc", "Conv", 3),
       ("/b/conv3/Conv_output_0_nchwc", "Conv", 4),       # + the Add (sum input) and its Relu
       ("/p/AveragePool_output_0_nchwc", "AveragePool", 1),  # + the Pad before it
       ("/e/conv/Conv", "FusedConv", 3),                  # level "extended": + BatchNormalization, Relu
       ("/gap/GlobalAveragePool_output_0_nchwc_token_7", "GlobalAveragePool", 1),
       ("ReorderOutput", "ReorderOutput", 1), ("/fc/Gemm", "Gemm", 2)]
events, ts = [{"cat": "Session", "name": "session_initialization", "ph": "X", "ts": 0, "dur": 100, "args": {}}], 1000
for r in range(reps):
    start = ts
    for name, op, inputs in ort:
        events.append({"cat": "Node", "ph": "X", "name": name + "_kernel_time", "ts": ts, "dur": 10 + r,
                       "args": {"op_name": op, "provider": "CPUExecutionProvider",
                                "input_type_shape": [{"float": [1, 8, 4, 4]}] * inputs}})
        ts += 20
    events.append({"cat": "Session", "name": "model_run", "ph": "X", "ts": start - 1, "dur": ts - start + 2, "args": {}})
    ts += 100
json.dump(events, open(work + "/crafted_ort.json", "w"))
# the other side fused a residual Add into the downsample Conv (block r), or
# into the same Conv as ORT (block s)
dk2 = [node("/r/conv3/Conv", "Conv"), node("/r/down/Conv", "Conv"), node("/s/conv3/Conv", "Conv")]
dk2[1]["covers"] += ["/r/Add", "/r/relu_2/Relu"]
dk2[2]["covers"] += ["/s/Add", "/s/relu_2/Relu"]
json.dump(result(dk2), open(work + "/crafted2_dk.json", "w"))
ort2 = [("/r/conv3/Conv_output_0_nchwc", "Conv", 4), ("/r/down/Conv_output_0_nchwc", "Conv", 3),
        ("/s/conv3/Conv_output_0_nchwc", "Conv", 4)]
events2, ts = [], 0
for r in range(reps):
    for name, op, inputs in ort2:
        events2.append({"cat": "Node", "ph": "X", "name": name + "_kernel_time", "ts": ts + 1, "dur": 10,
                       "args": {"op_name": op, "input_type_shape": [{"float": [1]}] * inputs}})
        ts += 20
    events2.append({"cat": "Session", "name": "model_run", "ph": "X", "ts": ts - 60, "dur": 60, "args": {}})
    ts += 100
json.dump(events2, open(work + "/crafted2_ort.json", "w"))
json.dump([e for e in events if e["name"] != "model_run"], open(work + "/no_runs.json", "w"))
json.dump({"traceEvents": events}, open(work + "/crafted_ort_object.json", "w"))
EOF
for order in dk_first ort_first; do
    if [ $order = dk_first ]; then args=("$WORK/crafted_dk.json" "$WORK/crafted_ort.json"); s=cand
    else args=("$WORK/crafted_ort.json" "$WORK/crafted_dk.json"); s=base; fi
    "$DK" compare "${args[@]}" --json "$WORK/crafted_$order.json" > "$WORK/crafted.txt" 2>&1
    rc=$?
    check "crafted ($order, exit $rc): conv+relu, conv3+Add+Relu, Pad+pool, FusedConv+BN+Relu grouped; layout nodes only in the profile" \
        $PY -c "
import json, sys
d = json.load(open(sys.argv[1])); s = sys.argv[2]; other = 'cand' if s == 'base' else 'base'
assert $rc <= 1
got = sorted(sorted(r.get('covers', r['name']).split(',')) for r in d['nodes'])
want = sorted(sorted(g) for g in [['/b/conv1/Conv', '/b/relu/Relu'], ['/b/down/Conv'],
        ['/b/conv3/Conv', '/b/Add', '/b/relu_2/Relu'], ['/p/Pad', '/p/AveragePool'],
        ['/e/conv/Conv', '/e/bn/BatchNormalization', '/e/relu/Relu'], ['/gap/GlobalAveragePool'], ['/fc/Gemm']])
assert got == want, got
assert d['only_in_' + s] == ['ReorderInput_token_1', 'ReorderOutput'], d['only_in_' + s]
assert d['only_in_' + other] == []
assert all(r['base_n'] == 6 and r['cand_n'] == 6 for r in d['nodes'])
" "$WORK/crafted_$order.json" $s
done
"$DK" compare "$WORK/crafted2_dk.json" "$WORK/crafted2_ort.json" --json "$WORK/crafted2.json" > /dev/null 2>&1
rc=$?
check "crafted: an Add fused into different Convs on the two sides makes one row of both (exit $rc)" \
    $PY -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert $rc <= 1
got = sorted(sorted(r.get('covers', r['name']).split(',')) for r in d['nodes'])
want = [sorted(['/r/conv3/Conv', '/r/down/Conv', '/r/Add', '/r/relu_2/Relu']), sorted(['/s/conv3/Conv', '/s/Add', '/s/relu_2/Relu'])]
assert got == sorted(want), got
assert d['only_in_base'] == [] and d['only_in_cand'] == []
" "$WORK/crafted2.json"
"$DK" compare "$WORK/crafted_dk.json" "$WORK/crafted_ort_object.json" > /dev/null 2>&1
rc=$?
check "crafted: a trace as an object with traceEvents reads the same (exit $rc)" [ $rc -le 1 ]

# --- errors -------------------------------------------------------------------
expect_error "a profile of another model" "another model" "$DK" compare "$WORK/other_model.json" "$PROFILE"
expect_error "... in the other order" "another model" "$DK" compare "$PROFILE" "$WORK/other_model.json"
expect_error "... the MNIST profile against the crafted model" "mnist.ort.json is a profile of another model" \
    "$DK" compare "$WORK/crafted_dk.json" "$PROFILE"
expect_error "two profiles of different models" "different models" "$DK" compare "$PROFILE" "$WORK/crafted_ort.json"
head -c 20000 "$PROFILE" > "$WORK/truncated.json"
expect_error "a truncated profile" "truncated.json: not valid JSON" "$DK" compare "$RESULT" "$WORK/truncated.json"
printf '[{"cat": "Node", "name": "x_kernel_time", "ts": 1, "dur": 2},' > "$WORK/corrupt.json"
expect_error "corrupt JSON" "corrupt.json: not valid JSON" "$DK" compare "$WORK/corrupt.json" "$RESULT"
echo '[1, 2, 3]' > "$WORK/numbers.json"
expect_error "an array of numbers" "numbers.json: malformed profile" "$DK" compare "$RESULT" "$WORK/numbers.json"
echo '[{"cat": "Session", "name": "model_run", "ts": 0, "dur": 5}]' > "$WORK/foreign.json"
expect_error "a trace without node events" "foreign.json: neither a deltakern bench result nor an ONNX Runtime profile" \
    "$DK" compare "$RESULT" "$WORK/foreign.json"
echo '{"traceEvents": [{"ph": "X", "name": "Conv", "cat": "node", "ts": 0, "dur": 1}]}' > "$WORK/dk_trace.json"
expect_error "a deltakern --trace file" "dk_trace.json: neither" "$DK" compare "$WORK/dk_trace.json" "$RESULT"
expect_error "a profile without runs" "without a run" "$DK" compare "$RESULT" "$WORK/no_runs.json"
printf '[{"cat": "Session", "name": "model_run", "ts": 0, "dur": 5}, {"cat": "Node", "name": "a_kernel_time", "ts": 1, "dur": "x", "args": {}}]' \
    > "$WORK/baddur.json"
expect_error "a node event without a duration" "baddur.json: malformed profile: event 2" "$DK" compare "$RESULT" "$WORK/baddur.json"
# the recorded profile with one node's duration grown past its run's end
/usr/bin/python3 - "$PROFILE" "$WORK/overlong.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))
node = next(e for e in events if e.get("cat") == "Node")
node["dur"] = 1e300
json.dump(events, open(sys.argv[2], "w"))
PY
expect_error "a node event longer than its run" "ends after its model_run" \
    "$DK" compare "$RESULT" "$WORK/overlong.json"
expect_error "FILE#K on a profile" "selects a rank" "$DK" compare "$RESULT" "$PROFILE#1"

# --- fresh: a bench of the model and, with onnxruntime-node, a profile ---------
if [ -f "$MNIST/mnist.onnx" ]; then
    BACKEND=ref
    for b in onednn openblas; do
        if "$DK" backends 2>/dev/null | grep -qE "^$b +available"; then BACKEND=$b; break; fi
    done
    "$DK" bench "$MNIST/mnist.onnx" -v "$BACKEND" -v "$BACKEND:opt=3" -o "$WORK/fresh.json" --reps 4 --warmup 1 \
        --sessions 1 --seed 1 > "$WORK/bench.txt" 2>&1
    check "fresh: bench of $MNIST/mnist.onnx ($BACKEND)" [ $? -eq 0 ]
    for v in 0 1; do
        "$DK" compare "$WORK/fresh.json" "$PROFILE" --base-variant $v --json "$WORK/fresh$v.json" > /dev/null 2>&1
        rc=$?
        check "fresh: variant $v against the recorded profile (exit $rc), node by node" \
            bash -c "[ $rc -le 1 ] && $PY '$WORK/groups.py' '$WORK/fresh$v.json' cand 8"
    done
    if [ -n "$ORT_DIR" ] && [ -d "$ORT_DIR/node_modules/onnxruntime-node" ] && command -v node > /dev/null; then
        node "$here/../../bench/ort_profile.mjs" "$MNIST/mnist.onnx" "$WORK/fresh_ort.json" --runs 3 --warmup 1 \
            --seed 1 --ort-dir "$ORT_DIR" > "$WORK/ort.txt" 2>&1
        rc=$?
        cat "$WORK/ort.txt"
        check "fresh: bench/ort_profile.mjs records a profile (exit $rc)" [ $rc -eq 0 ]
        "$DK" compare "$WORK/fresh.json" "$WORK/fresh_ort.json" --json "$WORK/fresh_ort_cmp.json" > /dev/null 2>&1
        rc=$?
        check "fresh: ... of the timed runs only, matched node by node (exit $rc)" \
            bash -c "[ $rc -le 1 ] && $PY '$WORK/groups.py' '$WORK/fresh_ort_cmp.json' cand 3"
    else
        echo "skipped: no onnxruntime-node in '${ORT_DIR:-(none given)}' or no node: no fresh profile" \
             "(install it as docs/bench.md says)"
    fi
else
    echo "skipped: $MNIST/mnist.onnx is missing (the e2e.mnist.labels test trains it):" \
         "the recorded pair was compared, no fresh bench"
fi

[ $fail -eq 0 ] || { echo "$fail of $n check(s) failed"; exit 1; }
echo "all $n checks passed"
