#!/bin/bash
# deltakern report on real results: the bundled photos diffed across four
# variants (one with a planted fault, so that there are flips to show), a
# short bench of two variants, their comparison, and all three on one page.
# Each page is checked against the result files it came from
# (tests/tools/check_report.py); bad results give one error line, exit 2 and
# no page. The pages stay in WORK for tests/tools/browser_check.py.
# usage: report.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1 SRC=$2 MODELS=$3 WORK=$4
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
CHECK="/usr/bin/python3 $SRC/tests/tools/check_report.py"
step() { echo "== $*"; }
die() { echo "FAIL: $*"; exit 1; }

# a fault on an early convolution of the reference: every photo flips
FAULT="fault:base=ref,node=/features/features.5/conv/conv.2/Conv,kind=zero"
step "diff of the bundled photos with --report"
t0=$(date +%s.%N)
"$DK" diff "$MODEL" -i "$SRC/data/images" -v openblas -v onednn:opt=3 -v onednn:fpmath=bf16 -v "$FAULT" \
    -o "$WORK/diff" -q --report "$WORK/diff.html" > "$WORK/diff.txt" || die "diff exited $?"
[ -f "$WORK/diff/environment.json" ] || die "diff wrote no environment.json"
grep -Eq '"command":[[:space:]]*"deltakern diff ' "$WORK/diff/environment.json" || die "environment.json lacks the command"
$CHECK "$WORK/diff.html" --diff "$WORK/diff" || die "diff page"
grep -q "<code>deltakern diff " "$WORK/diff.html" || die "the diff page does not show the command line"

step "bench with --report"
"$DK" bench "$MODEL" -v ref -v onednn --reps 3 --warmup 1 --sessions 1 --seed 7 -o "$WORK/bench.json" \
    --report "$WORK/bench.html" > "$WORK/bench.txt" || die "bench exited $?"
$CHECK "$WORK/bench.html" --bench "$WORK/bench.json" || die "bench page"

step "compare, then one page of all three"
"$DK" compare "$WORK/bench.json" "$WORK/bench.json" --base-variant 0 --cand-variant 1 --json "$WORK/cmp.json" \
    > "$WORK/cmp.txt"
[ $? -le 1 ] || die "compare failed"
"$DK" report "$WORK/diff" "$WORK/bench.json" "$WORK/cmp.json" -o "$WORK/all.html" || die "report exited $?"
$CHECK "$WORK/all.html" --diff "$WORK/diff" --bench "$WORK/bench.json" --compare "$WORK/cmp.json" || die "all page"
# the same results give the same page (nothing but the inputs goes into it)
"$DK" report "$WORK/diff" "$WORK/bench.json" "$WORK/cmp.json" -o "$WORK/all2.html" > /dev/null
cmp -s "$WORK/all.html" "$WORK/all2.html" || die "two reports of the same results differ"
echo "ok   report of the same results twice: identical pages"

step "bad results: one error line, exit 2, no page left"
B=$WORK/bad
mkdir -p "$B/empty_dir"
printf '{"schema": "deltakern-bench/1", "variants": [' > "$B/truncated.json"
echo '{"model": "x"}' > "$B/foreign.json"
echo '{"schema": "someone-else/3"}' > "$B/other_schema.json"
echo '[1, 2, 3]' > "$B/array.json"
printf '\x89PNG\r\n' > "$B/not_json.json"
echo '{"schema": "deltakern-bench/1", "variants": {"a": 1}}' > "$B/bench_variants.json"
echo '{"schema": "deltakern-bench/1", "variants": [{"name": "x"}]}' > "$B/bench_no_nodes.json"
echo '{"schema": "deltakern-compare/1", "story": "s", "nodes": 5}' > "$B/compare_nodes.json"
cp -r "$WORK/diff" "$B/unfinished" && rm "$B/unfinished/summary.json"
cp -r "$WORK/diff" "$B/no_pairs" && echo '{"schema": "deltakern-diff-summary/1"}' > "$B/no_pairs/summary.json"
cp -r "$WORK/diff" "$B/cut_csv" && head -n 3 "$WORK/diff/layers.csv" > "$B/cut_csv/layers.csv" &&
    echo '"openblas","node"' >> "$B/cut_csv/layers.csv"
cp -r "$WORK/diff" "$B/open_quote" && head -n 1 "$WORK/diff/layers.csv" > "$B/open_quote/layers.csv" &&
    printf '"open quote,1\n' >> "$B/open_quote/layers.csv"
cp -r "$WORK/diff" "$B/corrupt_summary" && head -c 100 "$WORK/diff/summary.json" > "$B/corrupt_summary/summary.json"
OUT=$B/page.html
check_no_page() {
    if [ -e "$OUT" ] || ls "$B" | grep -q '\.tmp\.'; then
        echo "FAIL $1: a page or temporary file was left"; fail=$((fail + 1)); rm -f "$OUT"
    fi
}
for c in "truncated.json:truncated.json: not JSON" "foreign.json:no \"schema\"" \
         "other_schema.json:someone-else/3" "array.json:no \"schema\"" "not_json.json:not JSON" \
         "bench_variants.json:bench_variants.json" "bench_no_nodes.json:bench_no_nodes.json" \
         "compare_nodes.json:compare_nodes.json" "empty_dir:holds no diff result" "unfinished:--resume" \
         "no_pairs:no \"pairs\"" "cut_csv:layers.csv: row 4 has 2 fields" "open_quote:not closed" "corrupt_summary:corrupt_summary/summary.json" \
         "missing.json:missing.json: No such file"; do
    f=${c%%:*} want=${c#*:}
    expect_error "report $f" "$want" "$DK" report "$WORK/diff" "$B/$f" -o "$OUT"
    check_no_page "$f"
done
echo keep > "$OUT"
expect_error "existing page" "exists (use --force" "$DK" report "$WORK/diff" -o "$OUT"
[ "$(cat "$OUT")" = keep ] || { echo "FAIL: an existing page was replaced without --force"; fail=$((fail + 1)); }
rm -f "$OUT"
expect_error "no result" "expected 1 to 64 results" "$DK" report -o "$OUT"
expect_error "no -o" "no output file" "$DK" report "$WORK/diff"
expect_error "diff --report exists" "exists (use --force" "$DK" diff "$MODEL" -i "$SRC/data/images" -v onednn \
    -o "$B/d2" --report "$WORK/diff.html"
[ -e "$B/d2/summary.json" ] && { echo "FAIL: diff ran although its --report target exists"; fail=$((fail + 1)); }
expect_error "unwritable page" "$B/no/such/dir" "$DK" report "$WORK/diff" -o "$B/no/such/dir/page.html"
echo "report: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
