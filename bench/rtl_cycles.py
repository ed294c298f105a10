"""RTL == golden on many images, and cycles per image against the throughput bound.

For the bundled example and ../shared/models/{mnist_paper,cifar10_paper}.onnx
(8 bits, calibrated on the first 2,000 training images as ``snnhw generate``
does): generate the design, simulate N test images in cocotb + Verilator
(every class and final potential compared with ``==``), score the classes
the RTL streams out against the labels (the RTL row of docs/results.md), and
relate the measured cycles per image to the throughput bound (the busiest
engine's, docs/hardware.md "Throughput bound": the build's
``manifest.cycle_model.bound_cycles``) and to the cycle model's estimate.
``-P`` overrides the lanes (and kernel columns, ``16x3``) of every model run.

    python bench/rtl_cycles.py --images 20 --steps 16       # docs/hardware.md's cycles table
    python bench/rtl_cycles.py --models example --images 200 --steps 16 \
        --out docs/figures/rtl_cycles_example_200.json     # its 200-image runs, one per model
    python bench/rtl_cycles.py --quick                      # 4 images, CI-sized
    python bench/rtl_cycles.py --models example --images 20 --steps 16 -P 16x3 \
        --out docs/figures/rtl_cycles_example_cols.json    # kernel columns, beside the P = 16 run
    python bench/rtl_cycles.py --models mnist_paper --images 20 --steps 32 \
        --out docs/figures/rtl_accuracy_mnist_paper.json   # the RTL rows of the ablation table
    python bench/rtl_cycles.py --models cifar10_paper --images 4 --steps 16 \
        --out docs/figures/rtl_accuracy_cifar10_paper.json

Writes docs/figures/rtl_cycles.json (or --out).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402


def models(shared: Path):
    yield dict(key="example", name="mnist_small (bundled example)", onnx=ROOT / "examples/mnist_small.onnx",
               calib=ROOT / "examples/mnist_sample.npz", test=ROOT / "examples/mnist_sample.npz", parallelism=16)
    mp = shared / "models/mnist_paper.onnx"
    if mp.exists():
        yield dict(key="mnist_paper", name="mnist_paper", onnx=mp, calib=shared / "data/mnist.npz", test=shared / "data/mnist.npz",
                   parallelism=32)
    else:
        print(f"skipping mnist_paper: {mp} not found", file=sys.stderr)
    cp = shared / "models/cifar10_paper.onnx"
    if cp.exists():
        yield dict(key="cifar10_paper", name="cifar10_paper", onnx=cp, calib=shared / "data/cifar10.npz",
                   test=shared / "data/cifar10.npz", parallelism=32)
    else:
        print(f"skipping cifar10_paper: {cp} not found", file=sys.stderr)


def measure(spec: dict, images: int, steps: int, workdir: Path, bits: int = 8) -> dict:
    from snnhw.codegen.folding import parse_parallelism
    from snnhw.codegen import generate_design
    from snnhw.data import load_split, to_nchw
    from snnhw.reference.golden import run_golden
    from snnhw.pipeline import compile_model
    from snnhw.sim import run_sim

    calib, _ = load_split(spec["calib"], "train", 2000)
    c = compile_model(spec["onnx"], calib, bits=bits, max_timesteps=300)
    x, y = load_split(spec["test"], "test", images)
    x = to_nchw(x, c.qnet.input_shape)
    out = workdir / Path(spec["onnx"]).stem
    manifest = generate_design(c.qnet, out, parallelism=parse_parallelism(spec["parallelism"]), timesteps=steps,
                               test_images=x,
                               test_labels=y, source_note=Path(spec["onnx"]).name)
    golden = run_golden(c.qnet, x, steps)
    synops_layer = golden.synops.sum(axis=0) / len(x)
    lanes = {row["index"]: row["parallelism"] for row in manifest["layers"] if "parallelism" in row}
    columns = {row["index"]: row.get("columns") or 1 for row in manifest["layers"] if "parallelism" in row}
    event_layers = [i for i, l in enumerate(c.qnet.layers) if l.is_neuron_layer and not l.analog_input]
    synops = float(synops_layer.sum())
    cm = manifest["cycle_model"]
    t0 = time.time()
    res = run_sim(out, n_images=len(x), extra=False)
    rtl_classes = np.array(res.final_classes)
    return dict(
        key=spec["key"], model=spec["name"], bits=bits, calib="first 2000 x_train images", parallelism=spec["parallelism"], images=int(len(x)), timesteps=steps,
        rtl_equals_golden=bool(res.passed), mismatches=res.mismatches[:5],
        # accuracy after the last step, from the RTL's own output stream and from the golden model
        rtl_accuracy=float((rtl_classes == y).mean()) if len(rtl_classes) == len(y) else None,
        golden_accuracy=float((golden.classes[-1] == y).mean()),
        cycles_per_image=res.cycles_per_image, latency_cycles=res.latency_cycles,
        cycles_timed_in=res.cycles_pass,  # "stalls": random valid/ready stalls, their cycles included
        synops_per_image=synops, synops_per_layer={c.qnet.layers[i].name: float(synops_layer[i])
                                                   for i in event_layers},
        lanes={c.qnet.layers[i].name: lanes[i] for i in lanes},
        columns={c.qnet.layers[i].name: columns[i] for i in columns},
        bound_cycles=cm["bound_cycles"], bound_engine=cm["bound_engine"],
        ratio_to_bound=res.cycles_per_image / cm["bound_cycles"] if res.cycles_per_image else None,
        model_estimate_cycles=cm["throughput_cycles_per_image"],
        memory_bits=manifest.get("memory_bits"), sim_seconds=time.time() - t0,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--quick", action="store_true", help="4 images, 8 steps, bundled example only")
    ap.add_argument("--models", nargs="+", choices=["example", "mnist_paper", "cifar10_paper"], default=["example", "mnist_paper"])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--work", type=Path, default=ROOT / "build/bench_rtl")
    ap.add_argument("--out", type=Path, default=ROOT / "docs/figures/rtl_cycles.json")
    ap.add_argument("-P", "--parallelism", default=None, help="lanes for every model run (e.g. 16, 16x3)")
    args = ap.parse_args(argv)
    images, steps = (4, 8) if args.quick else (args.images, args.steps)
    wanted = ["example"] if args.quick else args.models
    specs = [dict(m, parallelism=args.parallelism or m["parallelism"]) for m in models(args.shared)
             if m["key"] in wanted]
    rows = []
    for spec in specs:
        print(f"{spec['name']}: {images} images x {steps} steps, P={spec['parallelism']} ...", flush=True)
        row = measure(spec, images, steps, args.work)
        print(f"  RTL == golden: {row['rtl_equals_golden']}; {row['cycles_per_image']:.0f} cycles/image; "
              f"SynOps/image {row['synops_per_image']:.0f}; bound {row['bound_cycles']:.0f} "
              f"({row['bound_engine']}), ratio {row['ratio_to_bound']:.2f}", flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, dict(command="python bench/rtl_cycles.py " + " ".join(argv or sys.argv[1:]), rows=rows),
               work=args.work)
    return 0 if all(r["rtl_equals_golden"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
