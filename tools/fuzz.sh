#!/bin/bash
# Runs one libFuzzer target for a fixed time from its seed corpus:
#   tools/fuzz.sh TARGET SECONDS     (TARGET: onnx npy pb image manifest compare)
# Builds $DK_FUZZ_BUILD (default build-fuzz: clang, DK_FUZZ=ON, ASan+UBSan)
# when the target is missing there, makes the seeds and dictionary
# (fuzz/make_corpus.py) once, and exits non-zero on any crash, leak,
# sanitizer report, timeout (> 25 s for one input; a loaded host slows ASan a lot) or memory blow-up
# (> 2 GB); the input that did it is written to $DK_FUZZ_BUILD/fuzz/artifacts/.
# The seed is fixed (DK_FUZZ_SEED, default 1) and printed, so a CI failure
# replays. Inputs found are kept in $DK_FUZZ_BUILD/fuzz/found/TARGET.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-}
SECONDS_=${2:-}
if [ -z "$TARGET" ] || ! [[ "$SECONDS_" =~ ^[0-9]+$ ]]; then
    echo "usage: tools/fuzz.sh TARGET SECONDS" >&2
    exit 2
fi
BUILD=${DK_FUZZ_BUILD:-$ROOT/build-fuzz}
SEED=${DK_FUZZ_SEED:-1}
BIN=$BUILD/fuzz/fuzz_$TARGET
if [ ! -x "$BIN" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DDK_FUZZ=ON -DDK_BUILD_TESTS=OFF -DCMAKE_C_COMPILER=clang > /dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target "fuzz_$TARGET" > /dev/null
fi
WORK=$BUILD/fuzz
# seeds made once (they do not change with the code); regressions are checked in
[ -f "$WORK/seeds/$TARGET.dict" ] || /usr/bin/python3 "$ROOT/fuzz/make_corpus.py" "$TARGET" "$WORK/seeds"
mkdir -p "$WORK/found/$TARGET" "$WORK/artifacts"
REGRESS=()
[ -d "$ROOT/fuzz/regress/$TARGET" ] && REGRESS=("$ROOT/fuzz/regress/$TARGET")
echo "fuzz.sh: fuzz_$TARGET for $SECONDS_ s, -seed=$SEED"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$BIN" -seed="$SEED" -max_total_time="$SECONDS_" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$WORK/seeds/$TARGET.dict" -artifact_prefix="$WORK/artifacts/$TARGET-" -print_final_stats=1 \
    "$WORK/found/$TARGET" "$WORK/seeds/$TARGET" "${REGRESS[@]}"
