#!/bin/bash
# The upsampling ops on one network end to end: a DB-style text detector
# (tests/tools/make_text_detector.py: PRelu, InstanceNormalization, nearest
# Resize x2, ConvTranspose 2x2/s2, symbolic height and width) with seeded
# weights. Every CPU variant runs it twice (`run --input-shape`): the two maps
# must be equal bit for bit and match PyTorch's (relative L2 <= 1e-4 for
# float32, <= 1e-2 for bf16); then `deltakern diff` from the reference over
# four seeded inputs: no node over its bound, nothing non-deterministic.
# usage: text_detector.sh DELTAKERN SOURCE_DIR WORK
set -u
DK=$1; SRC=$2; WORK=$3
PY=/usr/bin/python3
$PY -c "import torch, onnx, numpy" 2> /dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks torch, onnx or numpy (python3-torch python3-onnx python3-numpy)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK/inputs"
$PY "$SRC/tests/tools/make_text_detector.py" "$WORK" --seed 0 2> "$WORK/export.log" ||
    { cat "$WORK/export.log"; echo "FAIL: export"; exit 1; }
M="$WORK/text_detector.onnx"
VARIANTS="ref openblas onednn onednn:opt=2 onednn:opt=3 onednn:layout=plain onednn:fpmath=bf16"
ran=""
for v in $VARIANTS; do
    b=${v%%:*}
    if ! "$DK" backends | grep -Eq "^$b +available"; then echo "note: $b unavailable, $v left out"; continue; fi
    tag=$(printf '%s' "$v" | tr -c 'A-Za-z0-9_.-' '_')
    for k in 1 2; do
        "$DK" run "$M" -i "$WORK/input.npy" -b "$v" --input-shape x=1x3x64x192 -k 1 --no-softmax \
            --save-output "$WORK/$tag.$k.npy" --force > /dev/null || { echo "FAIL: run on $v"; exit 1; }
    done
    ran="$ran $v"
done
$PY - "$WORK" $ran <<'PYEOF' || exit 1
import sys
import numpy as np
work, variants = sys.argv[1], sys.argv[2:]
want = np.load(f"{work}/torch_output.npy").astype(np.float64)
ok = True
for v in variants:
    tag = "".join(c if c.isalnum() or c in "_.-" else "_" for c in v)
    a, b = np.load(f"{work}/{tag}.1.npy"), np.load(f"{work}/{tag}.2.npy")
    rel = float(np.linalg.norm(a.astype(np.float64) - want) / np.linalg.norm(want))
    bound = 1e-2 if "bf16" in v else 1e-4
    same = a.tobytes() == b.tobytes()
    good = same and a.shape == want.shape and np.isfinite(a).all() and rel <= bound
    print(f"{v:22s} rel L2 {rel:.3g} (bound {bound:g}), second run {'identical' if same else 'DIFFERS'}"
          f"{'' if good else '  FAIL'}")
    ok &= good
sys.exit(0 if ok else 1)
PYEOF
# diff over four seeded inputs (the exported one and three more)
$PY -c "
import numpy as np, shutil, sys
w = sys.argv[1]
shutil.copy(f'{w}/input.npy', f'{w}/inputs/x0.npy')
for s in (1, 2, 3):
    print('input seed', s)
    np.save(f'{w}/inputs/x{s}.npy', np.random.default_rng(s).standard_normal((1, 3, 64, 192)).astype(np.float32))
" "$WORK" || exit 1
set -- $ran
vargs=""
for v in "$@"; do [ "$v" = ref ] || vargs="$vargs -v $v"; done
"$DK" diff "$M" -i "$WORK/inputs" --input-shape x=1x3x64x192 --baseline ref $vargs -o "$WORK/diff" -q ||
    { echo "FAIL: deltakern diff"; exit 1; }
$PY - "$WORK/diff" <<'PYEOF'
import csv, json, sys
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
ok = s["complete"]
worst = {}
for r in csv.DictReader(open(f"{out}/layers.csv")):
    if r["iso_ratio_max"] not in ("", "nan", "null"):
        x = float(r["iso_ratio_max"])
        if x > worst.get(r["variant"], (0, ""))[0]:
            worst[r["variant"]] = (x, r["node"])
for v in s["variants"]:
    name = v["variant"]
    w, node = worst.get(name, (0.0, ""))
    bad = v["faulty_kernel_images"] or v["nondeterministic_images"] or v["nonfinite_images"] or w > 1.0
    print(f"diff {name:22s} faulty kernel {v['faulty_kernel_images']}, non-deterministic "
          f"{v['nondeterministic_images']}, worst isolated ratio {w:.3g} ({node}){'  FAIL' if bad else ''}")
    ok &= not bad
sys.exit(0 if ok else 1)
PYEOF
