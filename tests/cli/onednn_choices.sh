# Sourced by the CLI tests of opt=3's choices on oneDNN (onednn_bf16_choice.sh,
# onednn_concat_dst.sh), after checks.sh, with DK and WORK set (and MODEL,
# INPUT and an exported DK_ONEDNN_CHOICES for run and choose):
#   begin_onednn_test     skips (77) without the oneDNN backend, empties WORK,
#                         prints the seed SEED (DK_TEST_SEED, else random)
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
