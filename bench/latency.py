"""Paper Fig. 2b: accuracy vs time step for normalization percentiles p ∈ {99, 99.9, 99.99, 100},
plus later techniques that lower the T needed: half-threshold initial membrane
(``v_init='half'``) and per-channel normalization.

All curves: snnhw's float SNN, analog input, reset by subtraction, spike-count
max-pool gate, accumulating output. Curves that another script already
simulated on the same images, T and calibration (p = 99.9 and p = 100 are
ablation rows) come from the curve cache (``bench/common.py``, ``cached``).
Table: the T at which each curve first reaches 99% of its own final
accuracy, and the T at which it is first within 1 point of the ANN.

    python bench/latency.py                   # all test images, T = 300
    python bench/latency.py --images 300
    python bench/latency.py --quick
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel  # noqa: E402
from bench.common import (Converter, ann_accuracy, ann_reference_accuracy, binomial_se, command_line,  # noqa: E402
                          environment, first_reaching, load_data, parser, plt, savefig,
                          setup, write_json)

PERCENTILES = [99.0, 99.9, 99.99, 100.0]
EXTRAS = {  # key: (label, percentile, per_channel, v_init)
    "p99.9_half": ("p = 99.9, half-threshold initial membrane", 99.9, False, "half"),
    # per-channel λ in hidden layers; the output layer keeps one λ (per-class λ would change the argmax)
    "p99.9_channel": ("p = 99.9, per-channel normalization", 99.9, True, "zero"),
    "p99.9_channel_half": ("p = 99.9, per-channel norm. + half-threshold init", 99.9, True, "half"),
}
DEFAULT_EXTRAS = list(EXTRAS)
BATCH = {"mnist_paper": 250, "cifar10_paper": 100}
MARKS = [1, 2, 5, 10, 20, 50, 100, 200, 300]


def within(curve, target: float):
    for t, a in enumerate(curve, 1):
        if a >= target:
            return t
    return None


def run_model(args, model: str) -> dict:
    from snnhw.reference.float_snn import SnnConfig

    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    conv = Converter(args.shared, model, calib)
    batch = args.batch_size or BATCH[model]
    T = args.timesteps
    out = dict(model=model, images=len(x), timesteps=T, calib=f"{len(calib)} training images, fixed-seed (0) random subset",
               command=command_line(), environment=environment(), curves={}, complete=False,
               ann_reference_accuracy=ann_reference_accuracy(args.shared, model))
    out["ann_accuracy"] = ann = ann_accuracy(conv.ann, x, y)
    path = args.out / f"latency_{model}.json"
    if args.add and path.exists():  # keep the curves of an earlier run on the same settings
        old = json.loads(path.read_text())
        if old.get("images") == len(x) and old.get("timesteps") == T and old.get("calib") == out["calib"]:
            out["curves"] = old["curves"]
            out["command"] = old["command"] + " ; " + out["command"]
    jobs = [(f"p{p:g}", f"p = {p:g}", p, False, "zero") for p in args.percentiles]
    if not args.no_extras:
        jobs += [(k, *EXTRAS[k]) for k in args.extras]
    for key, label, p, per_channel, v_init in jobs:
        if key in out["curves"]:
            continue
        cfg = SnnConfig(reset="subtract", input="analog", gate="count", v_init=v_init)
        curve = conv.float_curve(x, y, T, cfg, batch, f"{model} {key}", p, per_channel)
        curve = list(map(float, curve))
        out["curves"][key] = dict(label=label, percentile=p, per_channel=per_channel, v_init=v_init, curve=curve,
                                  accuracy=curve[-1], se=binomial_se(curve[-1], len(x)),
                                  t99_of_final=first_reaching(curve), t_within_1pt_of_ann=within(curve, ann - 0.01),
                                  at={t: curve[t - 1] for t in MARKS if t <= T})
        write_json(path, out)
    out["complete"] = True
    write_json(path, out)
    return out


def plot(out_dir: Path) -> None:
    results = [json.loads(f.read_text()) for f in sorted(out_dir.glob("latency_*.json"))]
    results = [r for r in results if r.get("curves")]
    if not results:
        return
    p = plt()
    fig, axes = p.subplots(1, len(results), figsize=(6.2 * len(results), 4.3), dpi=110, squeeze=False)
    colors = {"p99": "tab:orange", "p99.9": "tab:green", "p99.99": "tab:blue", "p100": "tab:red",
              "p99.9_half": "tab:purple", "p99.9_channel": "tab:brown", "p99.9_channel_half": "tab:pink"}
    for ax, res in zip(axes[0], results):
        for key, c in res["curves"].items():
            ls = "-" if key.startswith("p") and "_" not in key else "--"
            ax.plot(np.arange(1, len(c["curve"]) + 1), 100 * np.array(c["curve"]), color=colors.get(key, "k"), ls=ls,
                    lw=1.3, label=f"{c['label']} ({100 * c['accuracy']:.2f}%, T99 = {c['t99_of_final']})")
        ax.axhline(100 * res["ann_accuracy"], color="k", ls=":", lw=0.8, label=f"ANN {100 * res['ann_accuracy']:.2f}%")
        ax.set_xscale("log")
        ax.set_ylim(0, 100)
        ax.set_xlabel("time step T")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="lower right")
        ax.set_title(f"{res['model']}, {res['images']} test images")
    fig.tight_layout()
    savefig(fig, out_dir / "latency.png")


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--percentiles", type=float, nargs="+", default=PERCENTILES)
    ap.add_argument("--no-extras", action="store_true", help="skip the beyond-the-paper curves")
    ap.add_argument("--extras", nargs="+", default=DEFAULT_EXTRAS, choices=list(EXTRAS),
                    help="beyond-the-paper curves (default: %(default)s)")
    ap.add_argument("--add", action="store_true", help="keep the curves already in latency_<model>.json, run only missing ones")
    args = ap.parse_args(argv)
    out = setup(args)
    if args.quick:
        args.images = args.images or 10
        args.timesteps = args.timesteps or 8
        args.calib_size = min(args.calib_size, 100)
    args.timesteps = args.timesteps or 300
    accel.enable()
    for m in args.models:
        res = run_model(args, m)
        print(f"\n{m}: {res['images']} images, ANN {100 * res['ann_accuracy']:.2f}%")
        for key, c in res["curves"].items():
            print(f"  {c['label']:<52} {100 * c['accuracy']:6.2f}%  T99 {c['t99_of_final']}  "
                  f"T(ANN-1pt) {c['t_within_1pt_of_ann']}")
    plot(out)


if __name__ == "__main__":
    main()
