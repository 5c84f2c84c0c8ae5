#!/bin/bash
# Mutated models (tests/tools/make_mutated_models.py, a fixed seed): byte
# flips, truncations, rewritten length fields and structural damage made with
# the onnx API. `deltakern info` and `deltakern run -b ref` on each must exit
# 0, or exit 2 with exactly one "deltakern: error:" line and nothing else on
# stderr: never a crash, a hang or a sanitizer report. The unmutated base
# models must run. Prints the count of each outcome per mutation class.
# RUNNER is tests/cli/mutated_runner.c: the CLI's main() in a forked child
# per command, killed after LIMIT seconds (a hang).
# STRIDE > 1 runs every STRIDE-th model of each class (the unmutated ones
# always), for a quick look; ctest runs the whole corpus (STRIDE 1), and
# every second model under the sanitizers (STRIDE 2).
# DK_MUTATION_STRIDE, when set, overrides it.
# usage: mutated_models.sh RUNNER WORKDIR SOURCE_DIR [SEED] [STRIDE]
set -u
RUNNER=$1; WORK=$2; SRC=$3; SEED=${4:-${DK_MUTATION_SEED:-1}}; STRIDE=${DK_MUTATION_STRIDE:-${5:-1}}
PY=/usr/bin/python3
if ! $PY -c "import onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks onnx or numpy"
    exit 77
fi
M=$WORK/models
rm -rf "$WORK"
mkdir -p "$WORK"
$PY "$SRC/tests/tools/make_mutated_models.py" "$M" "$SEED" || { echo "FAIL make_mutated_models.py"; exit 1; }
LIMIT=60  # seconds per command: a hang fails instead of blocking the suite

awk -F'\t' -v s="$STRIDE" '$2 == "valid" || n[$2]++ % s == 0' "$M/classes.txt" > "$M/selected.txt"
mkdir -p "$WORK/err"
start=$(date +%s)
cut -f1 "$M/selected.txt" | "$RUNNER" $LIMIT "$(nproc)" "$M" "$M/x8.npy" "$WORK/err" > "$WORK/outcomes.txt" ||
    { echo "FAIL mutated_runner exited $?"; exit 1; }
echo "seed $SEED, stride $STRIDE: $(wc -l < "$M/selected.txt") of $(wc -l < "$M/classes.txt") models, info and run on each in $(( $(date +%s) - start )) s"

$PY - "$M/selected.txt" "$WORK/outcomes.txt" "$WORK/err" <<'PYEOF'
import collections, sys
classes = dict(line.rstrip("\n").split("\t") for line in open(sys.argv[1]))
table = collections.defaultdict(collections.Counter)
bad = []
seen = 0
for line in open(sys.argv[2]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 3 or parts[0] not in classes:
        bad.append("unexpected output: " + line.rstrip())
        continue
    model, cmd, outcome = parts
    seen += 1
    kind = outcome.split("(")[0]
    table[classes[model]][kind] += 1
    if kind in ("crash", "hang") or (classes[model] == "valid" and kind != "accepted"):
        try:
            err = open("%s/%s.%s.err" % (sys.argv[3], model, cmd), errors="replace").read()
        except OSError:
            err = ""
        bad.append("%s %s: %s\n    %s" % (model, cmd, outcome, "\n    ".join(err.splitlines()[:12])))
cols = ("refused", "accepted", "crash", "hang")
print("%-16s %8s %8s %8s %8s   (info and run, one count each)" % (("class",) + cols))
total = collections.Counter()
for cls in sorted(table):
    print("%-16s %8d %8d %8d %8d" % ((cls,) + tuple(table[cls][c] for c in cols)))
    total.update(table[cls])
print("%-16s %8d %8d %8d %8d" % (("total",) + tuple(total[c] for c in cols)))
if seen != 2 * len(classes):
    bad.append("%d outcomes for %d models x 2 commands" % (seen, len(classes)))
for b in bad:
    print("FAIL " + b)
print("%d models, %d commands, %d failures" % (len(classes), seen, len(bad)))
sys.exit(1 if bad else 0)
PYEOF
