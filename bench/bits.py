"""Fixed point: accuracy of the integer golden model vs weight bits at T = 300,
per-layer and per-output-channel quantization scales (normalization p = 99.9, per layer).

    python bench/bits.py                     # all test images
    python bench/bits.py --images 200
    python bench/bits.py --quick
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel  # noqa: E402
from bench.common import (Converter, ann_accuracy, ann_reference_accuracy, binomial_se, command_line,  # noqa: E402
                          environment, first_reaching, load_data, parser, plt,
                          savefig, setup, write_json)

BITS = [4, 5, 6, 8, 10, 12, 16]
BATCH = {"mnist_paper": 250, "cifar10_paper": 100}


def run_model(args, model: str) -> dict:
    from snnhw.reference.float_snn import SnnConfig
    from snnhw.frontend.quantize import weight_error

    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    conv = Converter(args.shared, model, calib)
    batch = args.batch_size or BATCH[model]
    T = args.timesteps
    out = dict(model=model, images=len(x), timesteps=T, percentile=99.9,
               calib=f"{len(calib)} training images, fixed-seed (0) random subset", command=command_line(),
               environment=environment(), rows=[], complete=False,
               ann_reference_accuracy=ann_reference_accuracy(args.shared, model))
    out["ann_accuracy"] = ann_accuracy(conv.ann, x, y)
    path = args.out / f"bits_{model}.json"
    if not args.no_float:
        cfg = SnnConfig(reset="subtract", input="analog", gate="count")
        curve = conv.float_curve(x, y, T, cfg, batch, f"{model} float", 99.9)
        out["float_snn"] = dict(accuracy=float(curve[-1]), curve=curve.tolist(), se=binomial_se(curve[-1], len(x)))
    for scales in ("layer", "channel"):
        for bits in args.bits:
            row = dict(bits=bits, scales=scales)
            qopts = dict(bits=bits, per_channel=False, per_channel_scales=scales == "channel",
                         max_timesteps=max(T, 1024))
            try:
                qnet = conv.qnet(99.9, **qopts)
            except Exception as exc:  # FitError: the membrane would be too wide
                row.update(error=f"{type(exc).__name__}: {exc}", accuracy=None)
                out["rows"].append(row)
                write_json(path, out)
                continue
            curve, _ = conv.golden_curve(x, y, T, batch, f"{model} {bits}-bit/{scales}", 99.9, **qopts)
            werr = weight_error(conv.normalized(99.9), qnet)
            row.update(accuracy=float(curve[-1]), se=binomial_se(curve[-1], len(x)), curve=curve.tolist(),
                       t99_of_final=first_reaching(list(curve)),
                       max_threshold=int(max(int(l.threshold.max()) for l in qnet.layers if l.threshold is not None)),
                       max_mem_bits=int(max(l.mem_bits for l in qnet.layers if l.is_neuron_layer)),
                       weight_error=werr)
            out["rows"].append(row)
            write_json(path, out)
    out["complete"] = True
    write_json(path, out)
    return out


def plot(out_dir: Path) -> None:
    results = [json.loads(f.read_text()) for f in sorted(out_dir.glob("bits_*.json"))]
    results = [r for r in results if r.get("rows")]
    if not results:
        return
    p = plt()
    fig, axes = p.subplots(1, len(results), figsize=(5.6 * len(results), 4.0), dpi=110, squeeze=False)
    for ax, res in zip(axes[0], results):
        for scales, col in (("layer", "tab:blue"), ("channel", "tab:orange")):
            rows = [r for r in res["rows"] if r["scales"] == scales and r.get("accuracy") is not None]
            ax.errorbar([r["bits"] for r in rows], [100 * r["accuracy"] for r in rows],
                        yerr=[100 * r["se"] for r in rows], marker="o", color=col, capsize=3,
                        label=f"golden model, per-{scales} scales")
        ax.axhline(100 * res["ann_accuracy"], color="k", ls="--", lw=0.8, label=f"ANN {100 * res['ann_accuracy']:.2f}%")
        if res.get("float_snn"):
            ax.axhline(100 * res["float_snn"]["accuracy"], color="tab:green", ls=":", lw=1,
                       label=f"float SNN {100 * res['float_snn']['accuracy']:.2f}%")
        ax.set_xlabel("weight bits")
        ax.set_ylabel(f"accuracy at T = {res['timesteps']} (%)")
        ax.set_xticks([r["bits"] for r in res["rows"] if r["scales"] == "layer"])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        ax.set_title(f"{res['model']}, {res['images']} test images")
    fig.tight_layout()
    savefig(fig, out_dir / "bits.png")


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--bits", type=int, nargs="+", default=BITS)
    ap.add_argument("--no-float", action="store_true", help="skip the float-SNN reference line")
    args = ap.parse_args(argv)
    out = setup(args)
    if args.quick:
        args.images = args.images or 8
        args.timesteps = args.timesteps or 6
        args.calib_size = min(args.calib_size, 100)
        args.bits = [4, 8, 16] if args.bits == BITS else args.bits
    args.timesteps = args.timesteps or 300
    accel.enable()
    for m in args.models:
        res = run_model(args, m)
        print(f"\n{m}: {res['images']} images, T = {res['timesteps']}, ANN {100 * res['ann_accuracy']:.2f}%")
        for r in res["rows"]:
            acc = f"{100 * r['accuracy']:6.2f}%" if r.get("accuracy") is not None else r.get("error")
            print(f"  {r['bits']:>2} bits, per-{r['scales']:<7} {acc}")
    plot(out)


if __name__ == "__main__":
    main()
