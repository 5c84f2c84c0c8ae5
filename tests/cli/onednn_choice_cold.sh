#!/bin/bash
# opt=3 (kernels/onednn/onednn_choose.c) times each candidate hot and after
# evicting its output, weights and workspace from the caches, and expects
# inside the network hot + share x (cold - hot), the share F^2 / (F^2 + C^2)
# for F the bytes a pass touches and C what the caches hold (measured,
# runtime/cache.c). On a small network of convolutions (seeded random
# weights and input, printed), every timed convolution's plan note:
#   gives each candidate's expected, hot and cold time, the expected one
#     hot + share x (cold - hot) to the printed precision;
#   chose the candidate with the least expected time (plus its way back);
#   gives the share as F^2 / (F^2 + C^2) with F the bytes of the fused graph's
#     values (the input, the weights and biases, each layer's output:
#     computed here from the model) and C a power-of-two number of MiB;
# and a second process takes every choice and computes the same bits; two
# processes planning at once into one file lose neither's choices.
# No time is asserted: the numbers are checked against each other only.
# usage: onednn_choice_cold.sh DELTAKERN WORKDIR
set -u
DK=$1 WORK=$2
. "$(dirname "$0")/checks.sh"
. "$(dirname "$0")/onednn_choices.sh"
begin_onednn_test
# 3x3 (Winograd a candidate) twice, 3x3 stride 2, 1x1, each with Relu
LAYERS="[(3, 32, 3, 1), (32, 64, 3, 1), (64, 64, 3, 2), (64, 32, 1, 1)]"
conv_chain_model "$LAYERS"
export DK_ONEDNN_CHOICES=$WORK/choices.json
VARIANT=onednn:opt=3
run cold "$VARIANT"
grep "^onednn: node 'conv" "$WORK/cold.log"
case $(uname -m) in x86_64 | i?86 | aarch64) evicts=1 ;; *) evicts=0 ;; esac
check "every convolution's note gives hot and cold times and the share they were weighed with" \
    /usr/bin/python3 - "$WORK/cold.log" "$LAYERS" "$evicts" <<'PY'
import ast, math, re, sys
log, layers, evicts = sys.argv[1], ast.literal_eval(sys.argv[2]), sys.argv[3] == "1"
# F: the fused graph's values, float32: input, weights, biases, outputs (Relu
# fused into its Conv, so one output per layer)
size, f = 64, 3 * 64 * 64
for c, m, k, s in layers:
    size = (size + 2 * (k // 2) - k) // s + 1
    f += m * c * k * k + m + m * size * size
f_mb = 4 * f / 1e6
cand = re.compile(r"(?:, )?([a-z0-9 ,]+?) (\d+\.\d+) ms \((\d+\.\d+) hot, (\d+\.\d+) cold\)"
                  r"(?: \+ (\d+\.\d+) ms back to blocked)?")
notes = [l.rstrip() for l in open(log) if re.match(r"onednn: node 'conv\d+'", l)]
assert len(notes) == len(layers), notes
for note in notes:
    m = re.search(r"; ([a-z0-9 ,]+), fastest of (.*?); (cold share (\d\.\d\d) \(a pass touches (\d+\.\d) MB, "
                  r"the caches hold (\d+\.\d) MB\)|cold runs with hot caches \(this build cannot evict\))", note)
    assert m, note
    chosen, times = m.group(1), m.group(2)
    if not evicts:
        assert m.group(3).startswith("cold runs with hot caches"), note
        share = 0.0
    else:
        share, pass_mb, cache_mb = float(m.group(4)), float(m.group(5)), float(m.group(6))
        assert abs(pass_mb - f_mb) <= 0.051, (pass_mb, f_mb, note)
        mib = cache_mb * 1e6 / 2**20
        assert mib >= 7.9 and abs(mib - 2 ** round(math.log2(mib))) <= 0.1, (cache_mb, note)
        def weigh(f, c): return f * f / (f * f + c * c)
        lo, hi = weigh(pass_mb - 0.05, cache_mb + 0.05), weigh(pass_mb + 0.05, cache_mb - 0.05)
        assert lo - 0.005 <= share <= hi + 0.005, (share, lo, hi, note)
    cands = [(n, float(t), float(h), float(c), float(b or 0)) for n, t, h, c, b in cand.findall(times)]
    assert len(cands) >= 2 and len(cands) == times.count(" hot, "), (cands, note)
    for n, t, h, c, b in cands:
        # rounding: 0.0005 ms on each of t, h, c and 0.005 on the share
        want = h + share * (c - h)
        assert abs(t - want) <= 0.0015 + 0.005 * abs(c - h), (n, t, want, note)
    best = min(t + b for _, t, _, _, b in cands)
    got = [t + b for n, t, _, _, b in cands if n == chosen]
    assert got and got[0] <= best + 0.002, (chosen, cands, note)
    print(f"  ok: chose {chosen} of {len(cands)}, share {share}")
PY
run again "$VARIANT"
check "a second process takes every choice ('chosen before')" \
    test "$(grep -c "^onednn: node 'conv.*, chosen before\( on a busy host (.*)\)\?$" "$WORK/again.log")" = 4
check "and computes the same bits" cmp -s "$WORK/cold.npy" "$WORK/again.npy"
# Two processes planning at once into one fresh choices file (one and two
# threads: one table each) lose neither's choices: the file is merged under a
# lock, not overwritten by the last writer (onednn_choices.c).
export DK_ONEDNN_CHOICES=$WORK/shared.json
for t in 1 2; do
    DK_ONEDNN_VERBOSE=1 "$DK" run "$MODEL" -i "$INPUT" -b "$VARIANT,threads=$t" --no-softmax \
        --save-output "$WORK/t$t.npy" > "$WORK/t$t.log" 2>&1 &
done
wait
check "both tables are in the file, 4 choices each" /usr/bin/python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["tables"]
sys.exit(0 if sorted((x["threads"], len(x["choices"])) for x in t) == [(1, 4), (2, 4)] else 1)' "$DK_ONEDNN_CHOICES"
for t in 1 2; do
    DK_ONEDNN_VERBOSE=1 "$DK" run "$MODEL" -i "$INPUT" -b "$VARIANT,threads=$t" --no-softmax \
        --save-output "$WORK/t$t.again.npy" > "$WORK/t$t.again.log" 2>&1
    check "threads=$t: a next process takes all four and computes the same bits" \
        test "$(grep -c "^onednn: node 'conv.*, chosen before" "$WORK/t$t.again.log")" = 4 -a \
        -n "$(cmp "$WORK/t$t.npy" "$WORK/t$t.again.npy" && echo same)"
done
echo "$((n - fail)) of $n checks passed"
[ "$fail" -eq 0 ]
