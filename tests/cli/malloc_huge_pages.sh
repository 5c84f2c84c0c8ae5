#!/bin/bash
# Huge pages for malloc (tools/cli_malloc_thp.c): where the kernel hands out
# transparent huge pages on advice ("madvise"), run, diff and bench restart
# with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES (a user's other
# tunables kept), and the environment fingerprint says so; a user's own
# hugetlb tunable is left alone and reported as theirs; a sanitizer build,
# whose allocator ignores glibc's tunables, does not restart for it. Every
# node's output is the same bits with and without huge pages (diff results
# equal file by file), on the CPU variants.
# usage: malloc_huge_pages.sh DELTAKERN MODEL_DIR WORKDIR SANITIZED(0|1)
set -u
DK=$1 MODELS=$2 WORK=$3 SAN=$4
. "$(dirname "$0")/checks.sh"
MODEL=$MODELS/mobilenet_v2.onnx INPUT=$MODELS/mobilenet_v2.input.npy
[ -f "$MODEL" ] && [ -f "$INPUT" ] || { echo "SKIP: $MODEL not exported (tools/setup.sh exports it)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
unset GLIBC_TUNABLES DK_MALLOC_HUGETLB_BY
mode=$(sed -n 's/.*\[\([a-z]*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
echo "transparent huge pages: ${mode:-unknown}; sanitized build: $SAN"
variants=()
for v in openblas onednn:opt=3; do
    "$DK" backends | grep -q "^${v%%:*} *available" && variants+=(-v "$v")
done
memory_of() {  # the result's environment.memory: "MALLOC_HUGE_PAGES | GLIBC_TUNABLES"
    /usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["environment"]["memory"]
print(m["malloc_huge_pages"], "|", m.get("glibc_tunables", "-"))' "$1/environment.json"
}
diff_with() {  # OUT [ENV...]: diff from ref on the variants
    local out=$WORK/$1; shift
    env "$@" "$DK" diff "$MODEL" -i "$INPUT" "${variants[@]}" -o "$out" -q > "$out.log" 2>&1 ||
        { cat "$out.log"; return 1; }
}
restarts=0
[ "$mode" = madvise ] && [ "$SAN" = 0 ] && restarts=1

diff_with default || exit 1
got=$(memory_of "$WORK/default"); echo "  default: $got"
if [ $restarts = 1 ]; then
    check "default: set by deltakern" [ "$got" = "glibc.malloc.hugetlb=1 set by deltakern | glibc.malloc.hugetlb=1" ]
else
    check "default: not set (mode ${mode:-unknown}, sanitized $SAN)" [ "$got" = "not set | -" ]
fi

diff_with off GLIBC_TUNABLES=glibc.malloc.hugetlb=0 || exit 1
got=$(memory_of "$WORK/off"); echo "  hugetlb=0 from the user: $got"
check "a user's hugetlb tunable is theirs" [ "$got" = "glibc.malloc.hugetlb=0 from the environment | glibc.malloc.hugetlb=0" ]

diff_with other GLIBC_TUNABLES=glibc.malloc.perturb=0 || exit 1
got=$(memory_of "$WORK/other"); echo "  another tunable from the user: $got"
if [ $restarts = 1 ]; then
    check "a user's other tunable kept beside deltakern's" \
        [ "$got" = "glibc.malloc.hugetlb=1 set by deltakern | glibc.malloc.perturb=0:glibc.malloc.hugetlb=1" ]
else
    check "a user's other tunable alone" [ "$got" = "not set | glibc.malloc.perturb=0" ]
fi

check "the same bits with and without huge pages (${variants[*]})" same_result "$WORK/default" "$WORK/off"
[ "$fail" -eq 0 ] && echo "all $n checks passed" || echo "$fail of $n checks failed"
[ "$fail" -eq 0 ]
