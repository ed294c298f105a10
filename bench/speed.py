"""Simulation speed: image-steps per second of snnhw's float SNN and integer golden model
against SpikingJelly 2.0's converted model, measured in the same run on the same images.

Each simulator runs the same batch of test images for a fixed number of
steps; the median wall time over ``--repeats`` runs (after a warm-up run)
gives image-steps/s. SpikingJelly runs on torch, CPU, the same thread count.

    python bench/speed.py            # mnist_paper, 100 images x 30 steps, 5 repeats
    python bench/speed.py --quick
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

# Timing threads (before numpy/torch load their thread pools): 1 by default, because on a shared
# 2-core machine multi-threaded timings swung by 5x between repeats (thread oversubscription).
THREADS = os.environ.get("BENCH_THREADS", "1")
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, THREADS)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel, sj  # noqa: E402
from bench.common import (Converter, command_line, environment, load_data, log, median_time, parser,  # noqa: E402
                          plt, savefig, setup, to_float, write_json)


def measure(shared, model: str, images: int, steps: int, repeats: int, calib_size: int,
            golden: bool = True, percentile: float = 99.9) -> dict:
    """Seconds per image-step (median) of every simulator on the same ``images`` x ``steps``."""
    import torch

    from snnhw.reference.float_snn import SnnConfig, run_float_snn
    from snnhw.reference.golden import run_golden

    x, y, calib = load_data(shared, model, images, calib_size)
    conv = Converter(shared, model, calib)
    normalized = conv.normalized(percentile)
    qnet = conv.qnet(percentile, bits=8) if golden else None
    cfg = SnnConfig(reset="subtract", input="analog", gate="count")
    xf = to_float(x)
    runs = {}
    reason = sj.available()
    snn = sj.convert(shared, model, calib, f"{percentile:g}%" if percentile < 100 else "Max")[0] if reason is None else None
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", THREADS)))

    def with_accel(on, fn):
        def run():
            (accel.enable if on else accel.disable)()
            try:
                return fn()
            finally:
                accel.enable()
        return run

    sims = [("snnhw_float_numpy", "snnhw float SNN (NumPy im2col path)",
             with_accel(False, lambda: run_float_snn(normalized, xf, steps, cfg)))]
    if golden:
        sims.append(("snnhw_golden_numpy", "snnhw 8-bit golden model (NumPy im2col path)",
                     with_accel(False, lambda: run_golden(qnet, x, steps))))
    sims.append(("snnhw_float_accel", "snnhw float SNN (as shipped: torch conv backend)",
                 with_accel(True, lambda: run_float_snn(normalized, xf, steps, cfg))))
    if golden:
        sims.append(("snnhw_golden_accel", "snnhw 8-bit golden model (as shipped: torch conv backend)",
                     with_accel(True, lambda: run_golden(qnet, x, steps))))
    if snn is not None:
        sims.append(("spikingjelly", f"SpikingJelly {sj.version()} converted model (torch)", lambda: sj.run(snn, x, steps)))
    samples = {key: [] for key, _, _ in sims}
    for _, _, fn in sims:  # warm-up
        fn()
    for _ in range(repeats):  # interleaved rounds
        for key, _, fn in sims:
            samples[key].append(median_time(fn, repeats=1, warmup=0)[0])
    for key, label, _ in sims:
        med = float(np.median(samples[key]))
        runs[key] = dict(label=label, median_s=med, samples_s=samples[key], image_steps=images * steps,
                         us_per_image_step=1e6 * med / (images * steps), image_steps_per_s=images * steps / med)
        log(f"  {label}: {runs[key]['image_steps_per_s']:.0f} image-steps/s")
    ratios = {}
    if "spikingjelly" in runs:
        base = runs["spikingjelly"]["image_steps_per_s"]
        ratios = {k: r["image_steps_per_s"] / base for k, r in runs.items() if k != "spikingjelly"}
    return dict(model=model, images=images, steps=steps, repeats=repeats, torch_threads=torch.get_num_threads(),
                blas_threads=os.environ.get("OPENBLAS_NUM_THREADS"), interleaved=True,
                runs=runs, ratio_vs_spikingjelly=ratios, spikingjelly_missing=reason)


def plot(res: dict, path: Path) -> None:
    p = plt()
    fig, ax = p.subplots(figsize=(7.5, 3.2), dpi=110)
    keys = list(res["runs"])
    vals = [res["runs"][k]["image_steps_per_s"] for k in keys]
    ax.barh(range(len(keys)), vals, color=["tab:blue" if k.startswith("snnhw") else "tab:red" for k in keys])
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([res["runs"][k]["label"] for k in keys], fontsize=8)
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:.0f}", va="center", fontsize=8)
    ax.set_xlabel("image-steps per second (higher is better)")
    ax.set_title(f"{res['model']}: {res['images']} images x {res['steps']} steps, median of {res['repeats']}", fontsize=9)
    fig.tight_layout()
    savefig(fig, path)


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.set_defaults(models=["mnist_paper"])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    out = setup(args)
    images = args.images or (8 if args.quick else 100)
    steps = args.steps or (3 if args.quick else 30)
    repeats = args.repeats or (2 if args.quick else 5)
    calib = min(args.calib_size, 200) if args.quick else args.calib_size
    results = []
    for model in args.models:
        res = measure(args.shared, model, images, steps, repeats, calib)
        res.update(command=command_line(), environment=environment())
        write_json(out / f"speed_{model}.json", res)
        plot(res, out / f"speed_{model}.png")
        results.append(res)
        for k, r in res["runs"].items():
            ratio = res["ratio_vs_spikingjelly"].get(k)
            print(f"{r['label']:<55} {r['image_steps_per_s']:9.0f} image-steps/s"
                  + (f"  ({ratio:.2f}x SpikingJelly)" if ratio else ""))


if __name__ == "__main__":
    main()
