#!/bin/bash
# deltakern diff --labels: a good file gives each variant's accuracy, and it
# equals the count recomputed from the per-input records; a malformed file, a
# class the model lacks, too few or too many labels and a name that is not the
# input's each give one error line naming the file and line, exit 2, no result.
# usage: diff_labels.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
M="$DIR/mobilenet_v2.onnx"
[ -f "$M" ] || { echo "SKIP: $M is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
A="$SRC/data/images/chelsea.png"; B="$SRC/data/images/rocket.jpg"
fails=0
run() { "$DK" diff "$M" -i "$A" -i "$B" -v openblas --no-counterfactual -q "$@"; }

# the baseline's own top-1 classes, from a run without labels
run -o "$WORK/plain" > /dev/null || { echo "FAIL: diff without labels"; exit 1; }
read -r TA TB < <(/usr/bin/python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[1:]]
print(*[r["baseline_top5"][0] for r in recs])' "$WORK/plain/state.jsonl")
echo "baseline top-1: chelsea $TA, rocket $TB"

# good: the first label is the baseline's class, the second another one, so
# the baseline scores exactly 1 of 2; the names are optional and checked
printf '# true classes\nchelsea.png %d\n\n%d\n' "$TA" $(( (TB + 1) % 1000 )) > "$WORK/good.txt"
run --labels "$WORK/good.txt" -o "$WORK/good" > "$WORK/good.out" || { echo "FAIL: diff --labels on a good file"; cat "$WORK/good.out"; exit 1; }
cat "$WORK/good.out"
grep -q "accuracy against $WORK/good.txt (2 labelled inputs)" "$WORK/good.out" || { echo "FAIL: no accuracy in the table"; fails=$((fails + 1)); }
/usr/bin/python3 - "$WORK/good" "$TA" $(( (TB + 1) % 1000 )) <<'EOF' || fails=$((fails + 1))
import csv, json, sys
out, labels = sys.argv[1], [int(x) for x in sys.argv[2:]]
recs = [json.loads(l) for l in open(f"{out}/state.jsonl").read().splitlines()[1:]]
s = json.load(open(f"{out}/summary.json"))
assert [r["label"] for r in recs] == labels, "records lack the labels"
want = {"ref": sum(r["baseline_top5"][0] == l for r, l in zip(recs, labels))}
assert want["ref"] == 1, want
for v in s["run"]["variants"]:
    want[v] = sum(next(x for x in r["variants"] if x["variant"] == v)["top5"][0] == l for r, l in zip(recs, labels))
got = {a["variant"]: a["correct"] for a in s["accuracy"]}
assert got == want, (got, want)
for a in s["accuracy"]:
    assert a["labelled"] == 2 and abs(a["accuracy_pct"] - 50.0 * a["correct"]) < 1e-9, a
for v in s["variants"]:
    assert v["correct"] == want[v["variant"]] and abs(v["accuracy_pct"] - 50.0 * v["correct"]) < 1e-9, v
rows = list(csv.DictReader(open(f"{out}/summary.csv")))
assert float(rows[0]["a_accuracy_pct"]) == 50.0 * want["ref"], rows[0]
assert float(rows[0]["b_accuracy_pct"]) == 50.0 * want["openblas"], rows[0]
assert "label" in next(csv.reader(open(f"{out}/flips.csv"))), "flips.csv has no label column"
assert s["run"]["labels"].endswith("good.txt")
print("ok: accuracy", got, "recomputed from the records")
EOF
# without --labels the result files keep their fields and add no accuracy
/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert "accuracy" not in s and "accuracy_pct" not in s["variants"][0] and "labels" not in s["run"]
print("ok: no accuracy without --labels")' "$WORK/plain/summary.json" || fails=$((fails + 1))

# expect WHAT PATTERN -- COMMAND...: exit 2, one error line matching PATTERN, no result
expect() {
    local what=$1 pat=$2 out=$3; shift 4
    "$@" > "$WORK/out" 2> "$WORK/err"
    local rc=$?
    local lines; lines=$(grep -c "deltakern: error:" "$WORK/err")
    if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pat" "$WORK/err" || [ -f "$out/summary.json" ]; then
        echo "FAIL: $what: exit $rc, stderr:"; cat "$WORK/err"; fails=$((fails + 1))
    else
        echo "ok: $what: $(grep "deltakern: error:" "$WORK/err")"
    fi
}
printf '%d\nseven\n' "$TA" > "$WORK/word.txt"
expect "not a number" "word.txt:2: 'seven' is not a class number" "$WORK/o1" -- run --labels "$WORK/word.txt" -o "$WORK/o1"
printf '%d\n1000\n' "$TA" > "$WORK/range.txt"
expect "class the model lacks" "range.txt:2: '1000' is not a class number of this model (0 to 999)" "$WORK/o2" -- run --labels "$WORK/range.txt" -o "$WORK/o2"
printf '%d\n' "$TA" > "$WORK/short.txt"
expect "too few labels" "short.txt:1: the file ends after 1 label(s), but 2 inputs" "$WORK/o3" -- run --labels "$WORK/short.txt" -o "$WORK/o3"
printf '1\n2\n3\n' > "$WORK/long.txt"
expect "too many labels" "long.txt:3: more labels than the 2 input(s)" "$WORK/o4" -- run --labels "$WORK/long.txt" -o "$WORK/o4"
printf 'rocket.jpg 1\nchelsea.png 2\n' > "$WORK/swapped.txt"
expect "names in another order" "swapped.txt:1: names 'rocket.jpg', but input 1 is" "$WORK/o5" -- run --labels "$WORK/swapped.txt" -o "$WORK/o5"
printf '1 2 3\n' > "$WORK/fields.txt"
expect "three fields" "fields.txt:1: more than two fields" "$WORK/o6" -- run --labels "$WORK/fields.txt" -o "$WORK/o6"
expect "missing file" "labels $WORK/nope.txt: No such file" "$WORK/o7" -- run --labels "$WORK/nope.txt" -o "$WORK/o7"
[ $fails -eq 0 ]
