# Sourced by the CLI tests of opt=3's choices on oneDNN (onednn_bf16_choice.sh,
# onednn_concat_dst.sh, onednn_choice_busy.sh), after checks.sh, with DK and
# WORK set (and MODEL, INPUT and an exported DK_ONEDNN_CHOICES for run and
# choose):
#   begin_onednn_test     skips (77) without the oneDNN backend, empties WORK,
#                         prints the seed SEED (DK_TEST_SEED, else random)
#   conv_chain_model LAYERS
#                         WORK/convs.onnx, a chain of Conv+Relu layers
#                         (LAYERS: a Python list of (in, out, kernel, stride),
#                         padding kernel/2), seeded random weights, and its
#                         input WORK/x.npy (1x3x64x64); sets MODEL and INPUT
#   run NAME VARIANT      the raw output in NAME.npy, the plan notes in NAME.log
#   choose NAME COUNT [CANDIDATES]
#                         the remembered choices whose candidate list is
#                         CANDIDATES ("a,b,..."), or without it those that have
#                         a candidate NAME, set to NAME; exactly COUNT of them
#   no_faulty_kernel DIR  a diff result in DIR blames no kernel
begin_onednn_test() {
    "$DK" backends | grep -q "^onednn *available" || { echo "SKIP: onednn backend unavailable in this build"; exit 77; }
    rm -rf "$WORK"; mkdir -p "$WORK"
    SEED=${DK_TEST_SEED:-$RANDOM}
    echo "seed $SEED"
}
conv_chain_model() {
    /usr/bin/python3 - "$WORK" "$SEED" "$1" <<'PY' || exit 1
import ast, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
work, seed, layers = sys.argv[1], int(sys.argv[2]), ast.literal_eval(sys.argv[3])
rng = np.random.default_rng(seed)
nodes, inits, x, size = [], [], "x", 64
for i, (c, m, k, s) in enumerate(layers):
    w = (rng.standard_normal((m, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)
    b = (rng.standard_normal(m) * 0.1).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
    nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], name=f"conv{i}",
                                  kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4))
    nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
    x, size = f"r{i}", (size + 2 * (k // 2) - k) // s + 1
graph = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, layers[-1][1], size, size])],
                          inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, f"{work}/convs.onnx")
np.save(f"{work}/x.npy", rng.standard_normal((1, 3, 64, 64)).astype(np.float32))
PY
    MODEL=$WORK/convs.onnx INPUT=$WORK/x.npy
}
run() {
    DK_ONEDNN_VERBOSE=1 "$DK" run "$MODEL" -i "$INPUT" -b "$2" --no-softmax --save-output "$WORK/$1.npy" \
        > "$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log"; exit 1; }
}
choose() {
    /usr/bin/python3 - "$DK_ONEDNN_CHOICES" "$1" "$2" "${3:-}" <<'PY'
import json, re, sys
path, name, want, listed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
doc = json.load(open(path))
n = 0
for t in doc["tables"]:
    for key in t["choices"]:
        cands = key[key.rindex("[") + 1:key.rindex(";")]
        # "as given, dst nchw16c" is one candidate: a comma and a space do not split
        if (cands == listed) if listed else name in re.split(r",(?! )", cands):
            t["choices"][key] = name
            n += 1
json.dump(doc, open(path, "w"))
print(f"  {n} choices set to {name}")
sys.exit(0 if n == want else 1)
PY
}
no_faulty_kernel() {
    /usr/bin/python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if all(v["faulty_kernel_images"] == 0 for v in s["variants"]) else 1)' "$1/summary.json"
}
