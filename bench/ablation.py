"""Paper Fig. 2a: what each conversion mechanism contributes, accuracy at T = 300.

Rows (cumulative, as in the paper): default (Poisson input, reset to zero, no
normalization) → + max-norm → + reset by subtraction → + analog input →
+ 99.9th-percentile normalization; then the 8-bit fixed-point golden model of
the last row and, beyond the paper, both again with membranes that start at
half the threshold. The RTL row of docs/results.md comes from
bench/rtl_cycles.py (the RTL's own answers on a stated subset).
Max-pool layers use the spike-count gate and the output layer accumulates in
every row. Every row keeps its whole accuracy-vs-T curve (used by latency.py).

    python bench/ablation.py                 # full: all test images, T = 300
    python bench/ablation.py --images 500    # a subset
    python bench/ablation.py --rows p99.9 golden8   # only these rows
    python bench/ablation.py --quick         # seconds, output to a tmp dir

Rows this run does not (or not yet) produce are kept from the existing
ablation_<model>.json when it has the same model, T and calibration, with
their own image count and command, so a long run on more images replaces an
earlier table row by row instead of blanking it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel  # noqa: E402
from bench.common import (Converter, ann_accuracy, ann_reference_accuracy, binomial_se, command_line,  # noqa: E402
                          environment, load_data, log, parser, plt, savefig,
                          setup, write_json)

# key, label, simulator, percentile (None: no normalization), reset, input, v_init; in table order
ROWS = [
    ("default", "default (Poisson input, reset to zero, no norm.)", "float SNN", None, "zero", "poisson", "zero"),
    ("maxnorm", "+ max-norm (p = 100)", "float SNN", 100.0, "zero", "poisson", "zero"),
    ("subtract", "+ reset by subtraction", "float SNN", 100.0, "subtract", "poisson", "zero"),
    ("analog", "+ analog input", "float SNN", 100.0, "subtract", "analog", "zero"),
    ("p99.9", "+ 99.9th-percentile norm.", "float SNN", 99.9, "subtract", "analog", "zero"),
    ("golden8", "8-bit fixed point (golden model), p = 99.9", "golden", 99.9, "subtract", "analog", "zero"),
    # beyond the paper: the last two rows with membranes that start at θ/2
    ("half", "+ half-threshold initial membrane (beyond the paper)", "float SNN", 99.9, "subtract", "analog", "half"),
    ("golden8_half", "8-bit fixed point (golden model), half-threshold init", "golden", 99.9, "subtract", "analog",
     "half"),
]
PAPER_ROWS = ["default", "maxnorm", "subtract", "analog", "p99.9"]
# simulation order: the curves other scripts share (spikingjelly_compare.py, latency.py) first
ORDER = ["analog", "p99.9", "half", "golden8", "default", "maxnorm", "subtract", "golden8_half"]
PAPER_CIFAR = dict(ann=87.86, default=16.5, maxnorm=59.82, subtract=None, analog=83.6, **{"p99.9": 87.62})
BATCH = {"mnist_paper": 250, "cifar10_paper": 100}


def run_model(args, model: str) -> dict:
    from snnhw.reference.float_snn import SnnConfig

    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    conv = Converter(args.shared, model, calib)
    batch = args.batch_size or BATCH[model]
    T = args.timesteps
    out = dict(model=model, onnx=str(conv.path), data=f"{args.shared}/data", images=len(x),
               calib=f"{len(calib)} training images, fixed-seed (0) random subset", timesteps=T,
               command=command_line(), environment=environment(), accelerated=not args.no_accel,
               ann_reference_accuracy=ann_reference_accuracy(args.shared, model), rows=[], complete=False)
    out["ann_accuracy"] = ann_accuracy(conv.ann, x, y)
    log(f"{model}: {len(x)} images, ANN {100 * out['ann_accuracy']:.2f}%")
    path = args.out / f"ablation_{model}.json"
    spec = {r[0]: r for r in ROWS}
    done = {}
    kept = earlier_rows(path, out)
    for key in [k for k in ORDER if k in (args.rows or ORDER)]:
        _, label, simulator, p, reset, inp, v_init = spec[key]
        row = dict(key=key, label=label, simulator=simulator, percentile=p, reset=reset, input=inp, gate="count",
                   v_init=v_init, bits=8 if simulator == "golden" else None, beyond_paper=v_init != "zero")
        if simulator == "golden":
            qopts = dict(bits=8, reset=reset, v_init=v_init)
            curve, synops = conv.golden_curve(x, y, T, batch, f"{model} {key}", p, **qopts)
            qnet = conv.qnet(p, **qopts)  # for the layer names the synops table needs
            row.update(synops_per_image_step=synops.tolist(), layer_names=[l.name for l in qnet.layers],
                       layer_kinds=[l.kind for l in qnet.layers])
        else:
            cfg = SnnConfig(reset=reset, input=inp, gate="count", output="accumulate", v_init=v_init, seed=0)
            curve = conv.float_curve(x, y, T, cfg, batch, f"{model} {key}", p)
        row.update(accuracy=float(curve[-1]), se=binomial_se(curve[-1], len(x)), curve=curve.tolist(),
                   images=len(x), ann_accuracy=out["ann_accuracy"], command=out["command"])
        done[key] = row
        out["rows"] = [done.get(r[0]) or kept[r[0]] for r in ROWS if r[0] in done or r[0] in kept]
        write_json(path, out)
    out["complete"] = all(r["images"] == len(x) for r in out["rows"]) and len(out["rows"]) == len(ROWS)
    write_json(path, out)
    return out


def earlier_rows(path: Path, out: dict) -> dict:
    """Rows of an existing table of the same model, T and calibration, each with its image count and command."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if any(old.get(k) != out[k] for k in ("model", "timesteps", "calib")):
        return {}
    return {r["key"]: dict(r, **{k: r.get(k, old[k]) for k in ("images", "ann_accuracy", "command")})
            for r in old["rows"]}


def plot(out_dir: Path, path: Path) -> None:
    """Bar chart of every ablation_<model>.json in ``out_dir``."""
    import json

    results = [json.loads(f.read_text()) for f in sorted(out_dir.glob("ablation_*.json"))]
    if not results:
        return
    p = plt()
    fig, axes = p.subplots(1, len(results), figsize=(6.0 * len(results), 4.2), dpi=110, squeeze=False)
    colors = ["tab:blue", "tab:red", "tab:orange", "tab:green", "tab:purple", "tab:gray", "tab:pink", "tab:olive"]
    for ax, res in zip(axes[0], results):
        rows = [r for r in res["rows"] if r["accuracy"] is not None]
        vals = [100 * r["accuracy"] for r in rows]
        ax.bar(range(len(rows)), vals, color=colors[:len(rows)],
               yerr=[100 * r["se"] for r in rows], capsize=3)
        ax.axhline(100 * res["ann_accuracy"], color="k", ls="--", lw=1, label=f"ANN {100 * res['ann_accuracy']:.2f}%")
        for i, (v, r) in enumerate(zip(vals, rows)):
            ax.text(i + 0.12, v + 100 * r["se"] + 1, f"{v:.2f}", ha="left", fontsize=7.5)
        ax.set_xticks(range(len(rows)))
        fewer = {r.get("images", res["images"]) for r in rows} - {res["images"]}  # rows kept from a smaller run
        ax.set_xticklabels([r["key"] + ("*" if r.get("images", res["images"]) in fewer else "") for r in rows],
                           rotation=20, fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel(f"accuracy at T = {res['timesteps']} (%)")
        ax.set_title(f"{res['model']}, {res['images']} test images"
                     + (f" (* first {', '.join(map(str, sorted(fewer)))})" if fewer else ""))
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    savefig(fig, path)


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=None, help="T (default 300; 8 with --quick)")
    ap.add_argument("--no-accel", action="store_true", help="force snnhw's NumPy conv path (slower, same results)")
    ap.add_argument("--rows", nargs="+", choices=ORDER, default=None,
                    help="run only these rows (default: all); the others are kept from the existing table")
    args = ap.parse_args(argv)
    out_dir = setup(args)
    if args.quick:
        args.images = args.images or 10
        args.timesteps = args.timesteps or 8
        args.calib_size = min(args.calib_size, 100)
    args.timesteps = args.timesteps or 300
    if args.no_accel:
        accel.disable()
    results = [run_model(args, m) for m in args.models]
    plot(out_dir, out_dir / "ablation.png")
    for res in results:
        print(f"\n{res['model']} ({res['images']} images, T = {res['timesteps']}): ANN {100 * res['ann_accuracy']:.2f}%")
        for r in res["rows"]:
            if r["accuracy"] is not None:
                on = "" if r["images"] == res["images"] else f"  (first {r['images']} images, an earlier run)"
                print(f"  {r['label']:<55} {100 * r['accuracy']:6.2f}% ± {100 * r['se']:.2f}{on}")


if __name__ == "__main__":
    main()
