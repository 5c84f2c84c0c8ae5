#!/bin/bash
# diff --shard K/N and deltakern merge: the bundled photos diffed once whole
# and in 2 and 3 shards; every merge must equal the single run file by file
# (summary.json but for its timing), whatever the order the shards are
# given in. Shards of other runs, other splits, other versions, a shard given
# twice, a missing or unfinished shard and bad --shard values are refused
# with one line and exit 2; --partial merges what is there and says so; an
# unfinished shard is finished alone with --resume. The single run and the
# 2 shards also --save their bundles: merge --bundle ... --save must give the
# single run's bundle file by file, and --against either gives one result;
# bundles that do not make one run's are refused, nothing written.
# usage: diff_shards.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK [VARIANT...]
set -u
DK=$1 SRC=$2 MODELS=$3 WORK=$4
shift 4
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(openblas onednn onednn:opt=3 onednn:fpmath=bf16)
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
VARGS=()
for v in "${VARIANTS[@]}"; do VARGS+=(-v "$v"); done
diff_run() { "$DK" diff "$MODEL" -i "$SRC/data/images" "${VARGS[@]}" -q "$@" > /dev/null; }
. "$SRC/tests/cli/checks.sh"

echo "variants: ${VARIANTS[*]}"
t0=$(date +%s.%N)
diff_run -o "$WORK/single" --save "$WORK/single.b" || { echo "FAIL: the single run exited $?"; exit 1; }
t1=$(date +%s.%N)
for N in 2 3; do
    for ((K = 0; K < N; K++)); do
        save=()
        [ "$N" = 2 ] && save=(--save "$WORK/b${K}of$N")
        diff_run -o "$WORK/s${K}of$N" --shard "$K/$N" "${save[@]}" || { echo "FAIL: shard $K/$N exited $?"; exit 1; }
    done
done
t2=$(date +%s.%N)
echo "single run $(secs "$t0" "$t1") s; 5 shards (2 + 3) $(secs "$t1" "$t2") s"
check "a shard's summary says it is one" grep -q '"shard"' "$WORK/s1of2/summary.json"
check "a shard's bundle says it is one" grep -q '"shard"' "$WORK/b1of2/manifest.json"
check "a whole run's bundle has no shard" bash -c "! grep -q '\"shard\"' '$WORK/single.b/manifest.json'"
"$DK" merge "$WORK/s0of2" "$WORK/s1of2" -o "$WORK/m2" -q --bundle "$WORK/b1of2" --bundle "$WORK/b0of2" \
    --save "$WORK/mb2" > "$WORK/m2.txt"
check "2 shards merge to the single run" same_result "$WORK/single" "$WORK/m2"
check "2 bundles merge to the single run's bundle, file by file" diff -r -x .lock "$WORK/single.b" "$WORK/mb2"
check "merge says it merged the bundles" grep -q "merged 5 bundle image(s) from 2 bundle(s)" "$WORK/m2.txt"
against() {  # against BUNDLE OUTDIR [INPUT...]: the first variant (kept short: slow under the sanitizers)
    "$DK" diff "$MODEL" --against "$1" -v "${VARIANTS[0]}" -q -o "$2" "${@:3}" > /dev/null
}
same_against() {  # same_against DIR_A DIR_B: same_result but for the bundle's path (run.against)
    local d
    for d in "$1" "$2"; do
        mkdir -p "$d.n" && cp "$d"/*.csv "$d/summary.json" "$d/state.jsonl" "$d.n/" &&
            sed -i 's|"against":[[:space:]]*"[^"]*"|"against":"BUNDLE"|' "$d.n/summary.json" "$d.n/state.jsonl" ||
            return 1
    done
    same_result "$1.n" "$2.n"
}
# an input of each shard, from the bundle (found by its hash)
two=(-i "$SRC/data/images/chelsea.png" -i "$SRC/data/images/coffee.png")
against "$WORK/single.b" "$WORK/a_single" "${two[@]}" && against "$WORK/mb2" "$WORK/a_merged" "${two[@]}"
check "--against the merged bundle gives the single bundle's result" same_against "$WORK/a_single" "$WORK/a_merged"
against "$WORK/b1of2" "$WORK/a_shard"
check "--against a shard's bundle runs its inputs" grep -q '"images":[[:space:]]*2' "$WORK/a_shard/summary.json"
"$DK" merge "$WORK/s2of3" "$WORK/s0of3" "$WORK/s1of3" -o "$WORK/m3" -q > "$WORK/m3.txt"
check "3 shards, given out of order, merge to the single run" same_result "$WORK/single" "$WORK/m3"
check "environment.json lists every shard" /usr/bin/python3 -c "
import json,sys; e=json.load(open('$WORK/m3/environment.json'))
sys.exit(0 if sorted(s['index'] for s in e['shards']) == [0, 1, 2] and e['command'].startswith('deltakern merge') else 1)"
check "the merged result is a diff result (report reads it)" "$DK" report "$WORK/m3" -o "$WORK/m3.html"

# refusals
diff_run -o "$WORK/other" --shard 1/2 --no-counterfactual
expect_error "a shard of another run" "shards of different runs" "$DK" merge "$WORK/s0of2" "$WORK/other" -o "$WORK/x"
expect_error "another split" "not the same split" "$DK" merge "$WORK/s0of2" "$WORK/s1of3" -o "$WORK/x"
expect_error "a shard twice" "shard 0/2 is given twice" "$DK" merge "$WORK/s0of2" "$WORK/s0of2" -o "$WORK/x"
expect_error "a missing shard" "shard 1/2 missing" "$DK" merge "$WORK/s0of2" -o "$WORK/x"
expect_error "a whole run" "is a whole run, not a shard" "$DK" merge "$WORK/single" -o "$WORK/x"
cp -r "$WORK/s1of2" "$WORK/v1of2"
sed -i '1s/"deltakern":"[^"]*"/"deltakern":"0.0.0-other"/' "$WORK/v1of2/state.jsonl"
expect_error "another version" "made by deltakern 0.0.0-other" "$DK" merge "$WORK/s0of2" "$WORK/v1of2" -o "$WORK/x"
expect_error "OUTDIR holding results" "holds results" "$DK" merge "$WORK/s0of2" "$WORK/s1of2" -o "$WORK/m2"
# bundle refusals: one line, exit 2, nothing written
mb() { "$DK" merge "$WORK/s0of2" "$WORK/s1of2" -o "$WORK/x" "$@"; }
expect_error "--bundle without --save" "--bundle needs --save" mb --bundle "$WORK/b0of2" --bundle "$WORK/b1of2"
expect_error "--save without --bundle" "--save MERGED needs" mb --save "$WORK/xb"
expect_error "a whole run's bundle" "is a whole run's bundle" mb --bundle "$WORK/b0of2" --bundle "$WORK/single.b" \
    --save "$WORK/xb"
expect_error "a shard's bundle missing" "has no --bundle" mb --bundle "$WORK/b0of2" --save "$WORK/xb"
expect_error "a shard's bundle twice" "are both shard 0/2" mb --bundle "$WORK/b0of2" --bundle "$WORK/b0of2" \
    --save "$WORK/xb"
cp -r "$WORK/b1of2" "$WORK/c1of2"
/usr/bin/python3 - "$WORK/c1of2/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["images"][0]["name"], m["images"][1]["name"] = m["images"][1]["name"], m["images"][0]["name"]
json.dump(m, open(sys.argv[1], "w"), indent="\t")
PY
expect_error "a bundle's image that is not its shard's input" "(not this shard's bundle)" \
    mb --bundle "$WORK/b0of2" --bundle "$WORK/c1of2" --save "$WORK/xb"
cp -r "$WORK/b1of2" "$WORK/u1of2"
/usr/bin/python3 - "$WORK/u1of2/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["images"][1:]
json.dump(m, open(sys.argv[1], "w"), indent="\t")
PY
expect_error "an unfinished bundle" "hold 1 and 2 of shard 1/2's 2 inputs" \
    mb --bundle "$WORK/b0of2" --bundle "$WORK/u1of2" --save "$WORK/xb"
expect_error "--save one of the bundles" "is bundle" mb --bundle "$WORK/b0of2" --bundle "$WORK/b1of2" \
    --save "$WORK/b0of2"
expect_error "--save holding a bundle" "holds a bundle (use --force" mb --bundle "$WORK/b0of2" \
    --bundle "$WORK/b1of2" --save "$WORK/mb2"
check "nothing was written by the refusals" test ! -e "$WORK/x/summary.json" -a ! -e "$WORK/xb"
for bad in 2/2 -1/2 1/0 x 1/2/3 1 /2; do
    expect_error "--shard $bad" "--shard" "$DK" diff "$MODEL" -i "$SRC/data/images" -v openblas -o "$WORK/x" \
        --shard "$bad"
done

# partial and unfinished shards; resume per shard
"$DK" merge "$WORK/s0of2" -o "$WORK/p" --partial -q > "$WORK/p.txt"
check "--partial merges one shard of two and says so" grep -q "merged 3 of 5 inputs" "$WORK/p.txt"
check "--partial's notes name what is missing" grep -q "partial merge: 3 of 5 inputs" "$WORK/p/summary.json"
"$DK" merge "$WORK/s0of2" -o "$WORK/pb" --partial -q --bundle "$WORK/b0of2" --save "$WORK/pbb" > /dev/null
check "--partial merges one shard's bundle: inputs 0, 2, 4 as 00000..00002" /usr/bin/python3 -c "
import json,sys; a=json.load(open('$WORK/pbb/manifest.json')); s=json.load(open('$WORK/single.b/manifest.json'))
sys.exit(0 if [i['name'] for i in a['images']] == [s['images'][k]['name'] for k in (0, 2, 4)]
         and [i['dir'] for i in a['images']] == ['00000', '00001', '00002'] and 'shard' not in a else 1)"
cp -r "$WORK/s0of2" "$WORK/u0of2"
head -n 2 "$WORK/s0of2/state.jsonl" > "$WORK/u0of2/state.jsonl" && rm "$WORK/u0of2/summary.json"
expect_error "an unfinished shard" "holds 1 of its 3 inputs" "$DK" merge "$WORK/u0of2" "$WORK/s1of2" -o "$WORK/x"
diff_run -o "$WORK/u0of2" --shard 0/2 --resume
"$DK" merge "$WORK/u0of2" "$WORK/s1of2" -o "$WORK/mu" -q > /dev/null
check "a shard finished alone with --resume merges to the single run" same_result "$WORK/single" "$WORK/mu"
t3=$(date +%s.%N)
"$DK" merge "$WORK/s0of3" "$WORK/s1of3" "$WORK/s2of3" -o "$WORK/m3" --force -q > /dev/null
echo "merge of 3 shards: $(secs "$t3" "$(date +%s.%N)") s"
echo "diff_shards: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
