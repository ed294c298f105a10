"""The Pareto points of docs/hardware.md: mnist_paper's images/s against golden accuracy over T, the
early-exit rule and the lanes, then the plot.

    python bench/throughput_sweep.py          # after the main run, docs/figures/throughput_mnist_paper.json

Every point is one ``bench/throughput.py`` run (its JSON records its command) with the same compile
options as the main run (8 bits, per-channel, ``--v-init half``) and ``--no-synth``: RTL cycles on the
first ``--images`` test images back to back (every output ``==`` golden), golden accuracy on all 10,000
test images, and the Fmax of ``--fmax-from`` (the main run's median of nextpnr seeds 1-3; the plot marks
these points as borrowing it). The main run itself (200 images, its own synthesis) is in the plot too.
Writes ``docs/figures/throughput_mnist_paper_<point>.json`` and ``docs/figures/throughput_pareto.png``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import throughput, throughput_plot  # noqa: E402

# the main run's design: kernel columns in both 3x3 convs, /7/Conv at 8x3 (its banks in block RAM), the dense
# layer at 16 lanes (docs/hardware.md: at 49 % of the LUTs it places and routes in 15 to 30 minutes per seed)
PLAN = "/0/Conv=16,/3/Conv=32x3,/7/Conv=8x3,/12/Gemm=16,/15/Gemm=1"
# runs with their own synthesis drawn beside the points when their JSON exists (docs/hardware.md: /7/Conv at
# 16x3, 74 % of the LUTs)
OTHER_RUNS = ["throughput_mnist_paper_16x3.json"]
# point name -> (T, exit margin, exit min_steps, -P)
POINTS = {
    "t10_exit702": (10, 702, 1, PLAN),  # the main run's design on the sweep's images
    "t10_exit300": (10, 300, 1, PLAN),
    "t10_exit1200": (10, 1200, 1, PLAN),
    "t6_noexit": (6, 0, 1, PLAN),
    "t10_noexit": (10, 0, 1, PLAN),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO.parent / "shared" / "models" / "mnist_paper.onnx")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "mnist.npz")
    ap.add_argument("--images", type=int, default=20, help="test images simulated per point [20]")
    ap.add_argument("--fmax-from", type=Path, default=REPO / "docs" / "figures" / "throughput_mnist_paper.json",
                    help="the main run's JSON (its median Fmax) [docs/figures/throughput_mnist_paper.json]")
    ap.add_argument("--points", nargs="+", choices=list(POINTS), default=list(POINTS))
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench_throughput_sweep")
    a = ap.parse_args(argv)
    for missing in (p for p in (a.model, a.data) if not p.exists()):
        print(f"skipped: {missing} not found (../shared)", file=sys.stderr)
        return 0
    out = REPO / "docs" / "figures"
    runs = [a.fmax_from]
    for name in a.points:
        T, margin, min_steps, par = POINTS[name]
        json_path = out / f"throughput_mnist_paper_{name}.json"
        args = ["--model", str(a.model), "--data", str(a.data), "--images", str(a.images), "--json", str(json_path),
                "--per-channel", "--v-init", "half", "-T", str(T), "--exit-margin", str(margin),
                "--exit-min-steps", str(min_steps), "-P", par, "--device", "LFE5U-85F", "--no-synth",
                "--work", str(a.work)]
        print(f"[sweep] {name}: bench/throughput.py {' '.join(args)}", file=sys.stderr, flush=True)
        throughput.main(args)
        runs.append(json_path)
    if not a.fmax_from.exists():
        print(f"no {a.fmax_from} yet (python bench/throughput.py ..., docs/hardware.md): the points are written, "
              f"plot them with bench/throughput_plot.py once it exists", file=sys.stderr)
        return 0
    runs += [p for p in (out / name for name in OTHER_RUNS) if p.exists()]
    return throughput_plot.main([*map(str, runs), "--out", str(out / "throughput_pareto.png"),
                                 "--fmax-from", str(a.fmax_from)])


if __name__ == "__main__":
    sys.exit(main())
