#!/usr/bin/env bash
# Every benchmark of docs/results.md, one at a time (nice), then docs/results.md itself.
# (Its evaluate_<model>*.json rows come from the `snnhw evaluate` commands in docs/frontend.md,
# which this script does not rerun.)
#
#   bench/run_all.sh                 # full: all test images (MNIST 10,000, CIFAR-10 1,000), T = 300
#   BITS_MNIST=300 BITS_CIFAR=100 bench/run_all.sh   # the bits sweeps on subsets, as docs/results.md
#   bench/run_all.sh --quick         # seconds per script, outputs in a temporary directory
#   bench/run_all.sh --no-cache      # other arguments go to every script
#
# Curves that several scripts need (the ablation's p = 99.9 row is also a Fig. 2b curve and
# snnhw's side of the SpikingJelly comparison) are simulated once: bench/common.py keeps them in
# build/bench_cache/ under a key of settings, images and snnhw sources (--no-cache to recompute),
# in chunks of 1,000 images: a stopped run resumes where it was, and the first 1,000 images of a
# full run reuse a 1,000-image run. ablation.py keeps rows it has not (yet) rerun from the
# existing table, each with its own image count (--rows runs a subset of rows).
# RTL_MNIST=N:T and RTL_CIFAR=N:T also simulate the generated Verilog on N images for T steps
# (the RTL rows; docs/results.md used RTL_MNIST=20:32 RTL_CIFAR=4:16).
#
# Needs ../shared (data + models) beside the checkout, or SHARED=/path; SpikingJelly for the
# comparison: .venv/bin/pip install spikingjelly==2.0.0 torch==2.13.0
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
NICE="nice -n ${NICE_LEVEL:-10}"

if [[ "${1:-}" == "--quick" ]]; then
    OUT=$(mktemp -d -t snnhw_bench_quick_XXXX)
    shift
    for s in ablation activations spikingjelly_compare paired speed latency bits synops; do
        $NICE $PY bench/$s.py --quick --shared "$SHARED" --out "$OUT" "$@"
    done
    $PY bench/make_results.py --figures "$OUT" --output "$OUT/results.md"
    echo "quick outputs in $OUT"
    exit 0
fi

opt() { [[ -n "${1:-}" ]] && echo "--images $1" || true; }
M=$(opt "${IMAGES_MNIST:-}"); C=$(opt "${IMAGES_CIFAR:-}")
BM=$(opt "${BITS_MNIST:-${IMAGES_MNIST:-}}"); BC=$(opt "${BITS_CIFAR:-${IMAGES_CIFAR:-}}")
EXTRA=("$@")
run() { echo "+ $*"; $NICE $PY "$@" --shared "$SHARED" ${EXTRA[@]+"${EXTRA[@]}"}; }

run bench/ablation.py --models cifar10_paper $C
run bench/ablation.py --models mnist_paper $M
run bench/activations.py
run bench/spikingjelly_compare.py --models mnist_paper $M
run bench/spikingjelly_compare.py --models cifar10_paper $C
run bench/paired.py --models mnist_paper $M
run bench/paired.py --models cifar10_paper $C
run bench/speed.py
run bench/latency.py --models cifar10_paper $C
run bench/latency.py --models mnist_paper $M
run bench/bits.py --models cifar10_paper $BC
run bench/bits.py --models mnist_paper $BM
run bench/synops.py
rtl() {  # model, N:T
    echo "+ bench/rtl_cycles.py --models $1 (RTL row)"
    $NICE $PY bench/rtl_cycles.py --models "$1" --images "${2%%:*}" --steps "${2##*:}" \
        --shared "$SHARED" --out "docs/figures/rtl_accuracy_$1.json"
}
if [[ -n "${RTL_MNIST:-}" ]]; then rtl mnist_paper "$RTL_MNIST"; fi
if [[ -n "${RTL_CIFAR:-}" ]]; then rtl cifar10_paper "$RTL_CIFAR"; fi
$PY bench/make_results.py
