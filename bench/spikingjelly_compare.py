"""snnhw side by side with SpikingJelly 2.0's ANN→SNN converter, same weights and images.

Both convert the same trained network (SpikingJelly: the torch rebuild from
the ``.pt`` state dict; snnhw: the ONNX export of it), normalize on the same
calibration images (99.9th percentile and max), feed the image as an analog
current and sum the output layer. Reported: accuracy vs T for both, the cost
of SpikingJelly's missing spiking max-pool (snnhw's float SNN with the gate
switched off, ``gate='none'``, computes the same max-of-spikes as an
``nn.MaxPool2d`` on spike maps), and the wall time per image-step of both,
measured in this run (medians over repeats, see bench/speed.py). snnhw's
curves include two later-work settings (half-threshold initial membrane,
alone and with per-channel normalization), each compared with SpikingJelly
at every T.

    python bench/spikingjelly_compare.py                 # all test images, T = 300
    python bench/spikingjelly_compare.py --keep-timing   # curves only, wall times from the existing JSON
    python bench/spikingjelly_compare.py --images 500
    python bench/spikingjelly_compare.py --quick
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # see bench/speed.py
    os.environ.setdefault(_v, os.environ.get("BENCH_THREADS", "1"))

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel, sj  # noqa: E402
from bench.common import (Converter, ann_accuracy, ann_reference_accuracy, array_digest,  # noqa: E402
                          binomial_se, chunked_curve, command_line, environment, first_reaching, load_data, parser, plt,
                          savefig, setup, write_json)
from bench.speed import measure  # noqa: E402

BATCH = {"mnist_paper": 250, "cifar10_paper": 100}
# (our curve, SpikingJelly's curve) pairs whose every-T comparison the bar asks for
PAIRS = {"99.9": ("snnhw_99.9", "sj_99.9"), "max": ("snnhw_100", "sj_100"), "half": ("snnhw_99.9_half", "sj_99.9"),
         "channel_half": ("snnhw_99.9_channel_half", "sj_99.9")}


def run_model(args, model: str) -> dict:
    from snnhw.reference.float_snn import SnnConfig

    T = args.timesteps
    path = args.out / f"spikingjelly_{model}.json"
    if args.timing_only:  # re-measure the wall times, keep the accuracy curves
        out = json.loads(path.read_text())
        out["timing"] = measure(args.shared, model, args.timing_images, args.timing_steps, args.repeats,
                                args.calib_size, golden=False)
        out["timing_command"] = command_line()
        write_json(path, out)
        return out
    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    batch = args.batch_size or BATCH[model]
    conv = Converter(args.shared, model, calib)
    out = dict(model=model, images=len(x), timesteps=T, spikingjelly=sj.version(),
               calib=f"{len(calib)} training images, fixed-seed (0) random subset (both tools)",
               command=command_line(), environment=environment(), curves={}, complete=False,
               ann_reference_accuracy=ann_reference_accuracy(args.shared, model))
    out["ann_accuracy"] = ann_accuracy(conv.ann, x, y)

    if args.keep_timing and path.exists():  # curves only: the machine is busy, keep the earlier wall times
        earlier = json.loads(path.read_text())
        out["timing"] = earlier["timing"]
        out["timing_command"] = earlier.get("timing_command", earlier["command"])
    else:  # speed first, on an idle simulator state: same images, both tools, this run
        out["timing"] = measure(args.shared, model, args.timing_images, args.timing_steps, args.repeats,
                                args.calib_size, golden=False)
    write_json(path, out)

    ours = [  # what the missing spiking max-pool costs: the gate off = max of spikes, like nn.MaxPool2d
            ("snnhw_99.9_nogate", "snnhw float SNN, p = 99.9, gate off (max of spikes, as SpikingJelly)", 99.9,
             "none", "zero", False),
            ("snnhw_99.9", "snnhw float SNN, p = 99.9 (spike-count max-pool gate)", 99.9, "count", "zero", False),
            ("snnhw_100", "snnhw float SNN, p = 100 (spike-count max-pool gate)", 100.0, "count", "zero", False),
            # beyond the paper: membranes start at θ/2 (fewer steps to the same accuracy) ...
            ("snnhw_99.9_half", "snnhw float SNN, p = 99.9, half-threshold initial membrane", 99.9, "count", "half",
             False),
            # ... and also per-channel λ (bench/latency.py's p99.9_channel_half curve: the cache shares it)
            ("snnhw_99.9_channel_half", "snnhw float SNN, p = 99.9 per channel, half-threshold initial membrane",
             99.9, "count", "half", True)]
    order = ["sj_99.9", "sj_100"] + [o[0] for o in ours]  # table order

    def add(key, label, curve, **kw):
        out["curves"][key] = dict(label=label, curve=np.asarray(curve).tolist(), accuracy=float(curve[-1]),
                                  se=binomial_se(curve[-1], len(x)), t99=first_reaching(list(curve)), **kw)
        out["curves"] = {k: out["curves"][k] for k in order if k in out["curves"]}
        out["pairs"] = pairs(out["curves"])
        write_json(path, out)

    for p, mode in ((99.9, "99.9%"), (100.0, "Max")):
        snn, secs = sj.convert(args.shared, model, calib, mode)
        settings = dict(model=model, mode=mode, spikingjelly=sj.version(), calib=array_digest(calib), timesteps=T)
        curve = chunked_curve("spikingjelly", settings, x, y,
                              lambda xc, yc: dict(hits=sj.hits(snn, xc, yc, T, batch, f"{model} {mode}")),
                              f"SpikingJelly {mode}", snnhw_sources=False)["curve"]
        add(f"sj_{p:g}", f"SpikingJelly, mode={mode!r} (max-pool on spikes)", curve, tool="spikingjelly", percentile=p,
            conversion_s=secs)
    accel.enable()
    # the ablation rows first: ablation.py may be simulating them now, and the cache shares their chunks
    for key, label, p, gate, v_init, per_channel in sorted(ours, key=lambda o: o[0] == "snnhw_99.9_nogate"):
        cfg = SnnConfig(reset="subtract", input="analog", gate=gate, v_init=v_init)
        add(key, label, conv.float_curve(x, y, T, cfg, batch, f"{model} {key}", p, per_channel), tool="snnhw",
            percentile=p, per_channel=per_channel, gate=gate, v_init=v_init)
    accel.disable()
    out["complete"] = True
    write_json(path, out)
    return out


def pairs(curves: dict) -> dict:
    """Each pair of PAIRS whose two curves are done: ours ≥ theirs at every T, smallest difference and where."""
    out = {}
    for name, (a, b) in PAIRS.items():
        if a in curves and b in curves:
            diff = np.array(curves[a]["curve"]) - np.array(curves[b]["curve"])
            out[name] = dict(ours=a, theirs=b, ge_every_T=bool(np.all(diff >= 0)), min_diff=float(diff.min()),
                             min_diff_at_T=int(diff.argmin()) + 1, share_ge=float((diff >= 0).mean()),
                             mean_diff=float(diff.mean()))
    return out


def plot(out_dir: Path, models) -> None:
    p = plt()
    results = [json.loads(f.read_text()) for f in sorted(out_dir.glob("spikingjelly_*.json"))]
    results = [r for r in results if r.get("curves")]
    if not results:
        return
    fig, axes = p.subplots(1, len(results), figsize=(6.2 * len(results), 4.2), dpi=110, squeeze=False)
    style = {"snnhw_99.9": ("tab:blue", "-"), "snnhw_100": ("tab:blue", ":"), "sj_99.9": ("tab:red", "-"),
             "sj_100": ("tab:red", ":"), "snnhw_99.9_nogate": ("tab:gray", "--"),
             "snnhw_99.9_half": ("tab:purple", "-"), "snnhw_99.9_channel_half": ("tab:green", "-")}
    for ax, res in zip(axes[0], results):
        for key, c in res["curves"].items():
            col, ls = style.get(key, ("k", "-"))
            steps = np.arange(1, len(c["curve"]) + 1)
            ax.plot(steps, 100 * np.array(c["curve"]), color=col, ls=ls, lw=1.3,
                    label=f"{c['label']}: {100 * c['accuracy']:.2f}%")
        ax.axhline(100 * res["ann_accuracy"], color="k", ls="--", lw=0.8, label=f"ANN {100 * res['ann_accuracy']:.2f}%")
        ax.set_xscale("log")
        ax.set_xlabel("time step T")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="lower right")
        ax.set_title(f"{res['model']}, {res['images']} test images")
    fig.tight_layout()
    savefig(fig, out_dir / "spikingjelly.png")


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--timing-images", type=int, default=None)
    ap.add_argument("--timing-steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--timing-only", action="store_true", help="re-measure only the wall times of an existing JSON")
    ap.add_argument("--keep-timing", action="store_true",
                    help="compute the curves, keep the wall times of an existing JSON (for a busy machine)")
    args = ap.parse_args(argv)
    out = setup(args)
    reason = sj.available()
    if reason:
        print(f"SKIP: {reason}")
        return
    if args.quick:
        args.images = args.images or 12
        args.timesteps = args.timesteps or 10
        args.calib_size = min(args.calib_size, 200)
    args.timesteps = args.timesteps or 300
    args.timing_images = args.timing_images or (4 if args.quick else 50)
    args.timing_steps = args.timing_steps or (2 if args.quick else 20)
    args.repeats = args.repeats or (2 if args.quick else 5)
    for m in args.models:
        res = run_model(args, m)
        c = res["curves"]
        print(f"\n{m} ({res['images']} images, T = {res['timesteps']}), ANN {100 * res['ann_accuracy']:.2f}%")
        for key, v in c.items():
            print(f"  {v['label']:<70} {100 * v['accuracy']:6.2f}%  (99% of final at T = {v['t99']})")
        t = res["timing"]["runs"]
        print(f"  time per image-step: snnhw {t['snnhw_float_numpy']['us_per_image_step']:.0f} us (numpy), "
              f"{t['snnhw_float_accel']['us_per_image_step']:.0f} us (accel); "
              f"SpikingJelly {t['spikingjelly']['us_per_image_step']:.0f} us")
    plot(out, args.models)


if __name__ == "__main__":
    main()
