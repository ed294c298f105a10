"""Operations: synaptic operations (additions) per image of the 8-bit golden model vs the ANN's MACs.

The golden model counts, per step and layer, one synaptic operation per
(input spike, connected output neuron). The analog first layer computes its
input current once per image (its MACs, counted once). The cumulative SNN
count over T is compared with the ANN's multiply-accumulates per image
(``snnhw.pipeline.layer_table``); reported: the T at which they are equal.
Reuses the golden-model counts of ``ablation_<model>.json`` when present
(same images), otherwise runs the golden model on ``--images``.

    python bench/synops.py
    python bench/synops.py --images 100 --no-reuse
    python bench/synops.py --quick
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel  # noqa: E402
from bench.common import (Converter, command_line, environment, golden_curve, load_data, log, parser, plt,  # noqa: E402
                          savefig, setup, write_json)

BATCH = {"mnist_paper": 250, "cifar10_paper": 100}


def run_model(args, model: str) -> dict:
    from snnhw.pipeline import layer_table

    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    conv = Converter(args.shared, model, calib)
    table = layer_table(conv.ann)
    source = None
    abl = args.out / f"ablation_{model}.json"
    if not args.no_reuse and abl.exists():
        res = json.loads(abl.read_text())
        row = next((r for r in res["rows"] if r["key"] == "golden8" and r.get("synops_per_image_step")), None)
        if row is not None:
            synops = np.array(row["synops_per_image_step"])
            names = row["layer_names"]
            accuracy = row["curve"]
            images = row.get("images", res["images"])
            source = f"ablation_{model}.json (golden model, 8 bits, p = 99.9, {images} test images)"
    if source is None:
        qnet = conv.qnet(99.9, bits=8)
        accuracy, synops = golden_curve(qnet, x, y, args.timesteps, args.batch_size or BATCH[model], model)
        names = [l.name for l in qnet.layers]
        source = f"golden model run here (8 bits, p = 99.9, {len(x)} test images)"
        images = len(x)
    T = len(synops)
    macs = {r["name"]: r["macs"] for r in table}
    first = next(r for r in table if r["macs"])  # the analog layer: computed once per image
    ann_macs = int(sum(macs.values()))
    per_step = synops.sum(axis=1)
    cumulative = first["macs"] + np.cumsum(per_step)
    t_equal = next((t for t, c in enumerate(cumulative, 1) if c >= ann_macs), None)
    layers = []
    for j, name in enumerate(names):
        if name in macs and macs[name]:
            ops = float(synops[:, j].sum()) if name != first["name"] else float(first["macs"])
            layers.append(dict(name=name, ann_macs=macs[name], snn_ops_T=ops, ratio=ops / macs[name],
                               snn_ops_per_step=float(synops[:, j].mean())))
    out = dict(model=model, source=source, images=images, timesteps=T, ann_macs_per_image=ann_macs,
               first_layer=first["name"], first_layer_macs=int(first["macs"]),
               snn_ops_per_step=per_step.tolist(), snn_ops_cumulative=cumulative.tolist(),
               t_snn_ops_equal_ann_macs=t_equal, snn_ops_at={t: float(cumulative[t - 1]) for t in (10, 50, 100, 200, 300)
                                                           if t <= T},
               accuracy_curve=list(map(float, accuracy)), layers=layers, command=command_line(),
               environment=environment())
    write_json(args.out / f"synops_{model}.json", out)
    log(f"{model}: ANN {ann_macs / 1e6:.2f} M MACs/image; SNN ops equal it at T = {t_equal} ({source})")
    return out


def plot(out_dir: Path) -> None:
    results = [json.loads(f.read_text()) for f in sorted(out_dir.glob("synops_*.json"))]
    if not results:
        return
    p = plt()
    fig, axes = p.subplots(1, len(results), figsize=(5.8 * len(results), 4.0), dpi=110, squeeze=False)
    for ax, r in zip(axes[0], results):
        steps = np.arange(1, r["timesteps"] + 1)
        ax.plot(steps, np.array(r["snn_ops_cumulative"]) / 1e6, color="tab:blue", label="SNN synaptic ops (cumulative)")
        ax.axhline(r["ann_macs_per_image"] / 1e6, color="k", ls="--", label=f"ANN MACs {r['ann_macs_per_image'] / 1e6:.2f} M")
        if r["t_snn_ops_equal_ann_macs"]:
            ax.axvline(r["t_snn_ops_equal_ann_macs"], color="tab:red", ls=":", label=f"equal at T = {r['t_snn_ops_equal_ann_macs']}")
        ax2 = ax.twinx()
        ax2.plot(steps, 100 * np.array(r["accuracy_curve"]), color="tab:green", lw=0.9, alpha=0.7)
        ax2.set_ylabel("8-bit SNN accuracy (%)", color="tab:green")
        ax2.set_ylim(0, 100)
        ax.set_xlabel("time step T")
        ax.set_ylabel("operations per image (millions)")
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title(f"{r['model']}", fontsize=9)
    fig.tight_layout()
    savefig(fig, out_dir / "synops.png")


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--timesteps", type=int, default=None)
    ap.add_argument("--no-reuse", action="store_true")
    args = ap.parse_args(argv)
    out = setup(args)
    if args.quick:
        args.images = args.images or 6
        args.timesteps = args.timesteps or 6
        args.calib_size = min(args.calib_size, 100)
    args.images = args.images or 100
    args.timesteps = args.timesteps or 300
    accel.enable()
    for m in args.models:
        run_model(args, m)
    plot(out)


if __name__ == "__main__":
    main()
