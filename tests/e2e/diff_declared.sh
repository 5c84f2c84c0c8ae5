#!/bin/bash
# Plans that declare their traits, as cuDNN's do (kernels/backend_iface.h),
# planted by the fault wrapper's declare= on one convolution of MobileNetV2:
#  - noise at 2x the table's bound: a faulty kernel when undeclared; declared
#    a transform-based convolution (Winograd, FFT), within the looser bound
#    such algorithms are held to, so no faulty kernel, and counted;
#  - noise at 30x, declared a transform: past that bound too, a faulty kernel;
#  - a flaky kernel: NONDETERMINISTIC when undeclared; declared may-differ,
#    "nondeterministic ... where its plans declare they may".
# usage: diff_declared.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
PY=/usr/bin/python3
FILE="$DIR/mobilenet_v2.onnx"
[ -f "$FILE" ] || { echo "SKIP: $FILE is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
# a 1x1 convolution over 960 channels: the transform bound (u 4096 S) is
# about 4096/960 = 4.3 times the table's (960 u S)
N=/features/features.16/conv/conv.2/Conv
F="fault:base=onednn,node=$N"
"$DK" diff "$FILE" -i "$SRC/data/images/chelsea.png" -q -o "$WORK/out" \
    -v "$F,kind=noise,scale=2" -v "$F,kind=noise,scale=2,declare=transform" \
    -v "$F,kind=noise,scale=30,declare=transform" -v "$F,kind=flaky,scale=2" \
    -v "$F,kind=flaky,scale=2,declare=may-differ" > "$WORK/stdout.txt" || { cat "$WORK/stdout.txt"; exit 1; }
tail -n 5 "$WORK/stdout.txt"
$PY - "$WORK/out" "$N" "$F" <<'PYEOF'
import json, sys
out, node, f = sys.argv[1:]
rec = [json.loads(l) for l in open(out + "/state.jsonl")][1:]
assert len(rec) == 1, len(rec)
vs = {v["variant"]: v for v in rec[0]["variants"]}
summ = {v["variant"]: v for v in json.load(open(out + "/summary.json"))["variants"]}
fails = 0
def check(ok, what):
    global fails
    print(("ok   " if ok else "FAIL ") + what)
    fails += not ok
def target(v):
    return [n for n in vs[v]["nodes"] if n["node"] == node][0]
plain, within, past = f + ",kind=noise,scale=2", f + ",kind=noise,scale=2,declare=transform", f + ",kind=noise,scale=30,declare=transform"
check((vs[plain]["first_faulty"] or {}).get("node") == node, "undeclared 2x noise: the node is the first faulty kernel")
check("transform_ratio" not in target(plain), "undeclared: no transform ratio recorded")
t = target(within)
check(t["iso_ratio"] > 1 and 0 < t["transform_ratio"] <= 1 and t["transform_ratio"] < t["iso_ratio"],
      "declared transform, 2x noise: over the table's bound (%.3g), within the transform bound (%.3g)"
      % (t["iso_ratio"], t["transform_ratio"]))
check(vs[within]["first_faulty"] is None, "declared transform, 2x noise: no faulty kernel")
check(summ[within]["transform_within_bound"] == 1 and summ[within]["faulty_kernel_images"] == 0,
      "declared transform, 2x noise: counted in the summary, no faulty image")
t = target(past)
check(t["transform_ratio"] > 1 and (vs[past]["first_faulty"] or {}).get("node") == node,
      "declared transform, 30x noise: past the transform bound too (%.3g), a faulty kernel" % t["transform_ratio"])
flaky, declared = f + ",kind=flaky,scale=2", f + ",kind=flaky,scale=2,declare=may-differ"
check(vs[flaky]["deterministic"] is False and vs[flaky]["nondeterminism_declared"] is False,
      "undeclared flaky kernel: nondeterministic, not declared")
check(vs[declared]["deterministic"] is False and vs[declared]["nondeterminism_declared"] is True
      and summ[declared]["nondeterministic_declared_images"] == 1,
      "flaky kernel declared may-differ: nondeterministic where the plans declare it")
check(all(summ[v]["nondeterministic_images"] == 0 for v in (plain, within, past)), "the noise variants are deterministic")
sys.exit(1 if fails else 0)
PYEOF
rc=$?
grep -q "scale=2,declare=transform: .*1 node result(s) of transform-based convolutions over the table's bound, within their looser bound" "$WORK/stdout.txt" ||
    { echo "FAIL: the summary line does not count the declared transform"; rc=1; }
grep -q "kind=flaky,scale=2: .*NONDETERMINISTIC in 1 image" "$WORK/stdout.txt" || { echo "FAIL: undeclared flaky not NONDETERMINISTIC"; rc=1; }
grep -q "declare=may-differ: .*nondeterministic in 1 image(s), where its plans declare they may" "$WORK/stdout.txt" ||
    { echo "FAIL: the declared nondeterminism is not said so"; rc=1; }
exit $rc
