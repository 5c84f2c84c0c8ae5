#!/bin/bash
# OpenBLAS's kernel set (tools/cli_openblas_core.c): the command restarts
# itself with OPENBLAS_CORETYPE set for a variant's openblas:core=, even
# against the environment's; a user's OPENBLAS_CORETYPE stays when no core=
# asks otherwise; on an AVX-512 CPU with the variable unset, AVX-512 kernels
# run (OpenBLAS's detection, or SkylakeX set by deltakern where it does not
# know the CPU); the environment fingerprint says who chose. Two kernel sets
# in one command and an unknown name are one-line errors (exit 2). The
# variants' results stay within their bounds (diff from ref: no faulty kernel).
# usage: openblas_core.sh DELTAKERN MODEL_DIR WORKDIR
set -u
DK=$1 MODELS=$2 WORK=$3
. "$(dirname "$0")/checks.sh"
"$DK" backends | grep -q "^openblas *available" || { echo "SKIP: openblas backend unavailable in this build"; exit 77; }
MODEL=$MODELS/mobilenet_v2.onnx INPUT=$MODELS/mobilenet_v2.input.npy
[ -f "$MODEL" ] && [ -f "$INPUT" ] || { echo "SKIP: $MODEL not exported (tools/setup.sh exports it)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
unset OPENBLAS_CORETYPE DK_OPENBLAS_CORETYPE_BY
# the openblas entry of a result's environment.json: "core NAME, WHO"
core_of() {
    /usr/bin/python3 -c 'import json, re, sys
for b in json.load(open(sys.argv[1]))["environment"]["backends"]:
    if b["name"] == "openblas":
        m = re.search(r"\(core (\w+), ([^,]+)", b["version"]); print(m.group(1), "|", m.group(2))' "$1"
}
diff_core() {  # OUT VARIANT [ENV...]: diff from ref, then the core line
    local out=$WORK/$1 v=$2; shift 2
    env "$@" "$DK" diff "$MODEL" -i "$INPUT" -v "$v" -o "$out" -q > "$out.log" 2>&1 || { cat "$out.log"; return 1; }
    core_of "$out/environment.json"
}
no_faulty() {
    /usr/bin/python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if all(v["faulty_kernel_images"] == 0 for v in s["variants"]) else 1)' "$WORK/$1/summary.json"
}
avx512=0
grep -q -w avx512f /proc/cpuinfo && grep -q -w avx512bw /proc/cpuinfo && grep -q -w avx512vl /proc/cpuinfo &&
    grep -q -w avx512dq /proc/cpuinfo && grep -q -w avx512cd /proc/cpuinfo && avx512=1

got=$(diff_core haswell openblas:core=Haswell); echo "  core=Haswell: $got"
check "core=Haswell restarts with OPENBLAS_CORETYPE=Haswell" [ "$got" = "Haswell | OPENBLAS_CORETYPE=Haswell set by deltakern" ]
check "core=Haswell: no faulty kernel" no_faulty haswell
if [ $avx512 = 1 ]; then
    got=$(diff_core skx openblas:core=SkylakeX OPENBLAS_CORETYPE=Haswell); echo "  core=SkylakeX against OPENBLAS_CORETYPE=Haswell: $got"
    check "core=SkylakeX wins over the environment" [ "$got" = "SkylakeX | OPENBLAS_CORETYPE=SkylakeX set by deltakern" ]
    check "core=SkylakeX: no faulty kernel" no_faulty skx
    got=$(diff_core auto openblas); echo "  auto, OPENBLAS_CORETYPE unset: $got"
    check "auto on an AVX-512 CPU runs AVX-512 kernels" bash -c "[[ '$got' =~ ^(SkylakeX|Cooperlake|SapphireRapids)\ \| ]]"
    check "auto: no faulty kernel" no_faulty auto
else
    echo "  (this CPU lacks AVX-512: the SkylakeX checks do not apply)"
fi
got=$(diff_core envkept openblas OPENBLAS_CORETYPE=Haswell); echo "  auto, OPENBLAS_CORETYPE=Haswell: $got"
check "the user's OPENBLAS_CORETYPE stays without core=" bash -c "[[ '$got' =~ ^Haswell\ \|\ OPENBLAS_CORETYPE=Haswell\ from\ the\ environment ]]"

"$DK" diff "$MODEL" -i "$INPUT" -v openblas:core=Haswell -v openblas:core=SkylakeX -o "$WORK/two" -q > /dev/null 2> "$WORK/two.err"
rc=$?; cat "$WORK/two.err"
check "two kernel sets in one command: exit 2, one line naming the variant" \
    bash -c "[ $rc = 2 ] && [ \$(wc -l < '$WORK/two.err') = 1 ] && grep -q \"variant 'openblas:core=SkylakeX'.*one kernel set per process\" '$WORK/two.err'"
"$DK" diff "$MODEL" -i "$INPUT" -v openblas:core=Bogus -o "$WORK/bogus" -q > /dev/null 2> "$WORK/bogus.err"
rc=$?; cat "$WORK/bogus.err"
check "unknown kernel set: exit 2, one line" bash -c "[ $rc = 2 ] && [ \$(wc -l < '$WORK/bogus.err') = 1 ] && grep -q 'core=Bogus is not valid' '$WORK/bogus.err'"
echo "$((n - fail)) of $n checks passed"
[ "$fail" = 0 ]
