"""Paper Fig. 1: distribution of the first conv layer's non-zero activations (log scale).

(a) histogram of every non-zero ReLU activation of the first convolution
over the calibration images, with the 99.9th percentile (the robust λ) and
the maximum (max-norm's λ) marked; (b) distribution of each image's largest
activation in that layer. The paper used 16,666 CIFAR-10 samples; here the
calibration set (``--calib-size``, default 2,000 training images) or more.

    python bench/activations.py
    python bench/activations.py --calib-size 16666
    python bench/activations.py --quick
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (command_line, environment, load_data, log, model_path, parser, plt, savefig,  # noqa: E402
                          setup, to_float, write_json)


def first_layer_stats(shared, model: str, calib_size: int, batch: int = 250) -> dict:
    from snnhw.reference.ann import apply_layer
    from snnhw.pipeline import import_model

    ann = import_model(model_path(shared, model))
    layer = ann.layers[0]
    _, _, calib = load_data(shared, model, 1, calib_size)
    positives, per_image_max = [], []
    for s in range(0, len(calib), batch):
        a = apply_layer(layer, to_float(calib[s:s + batch]))
        if not getattr(layer, "relu", False):
            a = np.maximum(a, 0)
        per_image_max.append(a.reshape(len(a), -1).max(axis=1))
        positives.append(a[a > 0].astype(np.float32))
    pos = np.concatenate(positives)
    per_image_max = np.concatenate(per_image_max)
    p999 = float(np.percentile(pos, 99.9))
    mx = float(pos.max())
    edges = np.linspace(0, mx, 101)
    hist, _ = np.histogram(pos, bins=edges)
    hist_max, edges_max = np.histogram(per_image_max, bins=50, range=(0, mx))
    log(f"{model}: {layer.name}: {pos.size} non-zero activations of {len(calib)} images; "
        f"p99.9 = {p999:.3f}, max = {mx:.3f} ({mx / p999:.2f}x)")
    return dict(model=model, layer=layer.name, images=len(calib), nonzero=int(pos.size),
                total=int(len(calib) * np.prod(layer.out_shape)), p99=float(np.percentile(pos, 99)),
                p99_9=p999, p99_99=float(np.percentile(pos, 99.99)), max=mx, max_over_p99_9=mx / p999,
                per_image_max_median=float(np.median(per_image_max)),
                images_with_max_above_p99_9=float((per_image_max > p999).mean()),
                hist_edges=edges.tolist(), hist_counts=hist.tolist(),
                per_image_max_edges=edges_max.tolist(), per_image_max_counts=hist_max.tolist())


def plot(results: list, path: Path) -> None:
    p = plt()
    fig, axes = p.subplots(2, len(results), figsize=(5.6 * len(results), 6.4), dpi=110, squeeze=False)
    for j, r in enumerate(results):
        ax = axes[0][j]
        e = np.array(r["hist_edges"])
        ax.bar(e[:-1], r["hist_counts"], width=np.diff(e), align="edge", color="tab:blue")
        ax.set_yscale("log")
        ax.axvline(r["p99_9"], color="tab:red", ls="--", label=f"99.9th percentile λ = {r['p99_9']:.2f}")
        ax.axvline(r["max"], color="k", ls=":", label=f"max λ = {r['max']:.2f}")
        ax.set_xlabel(f"non-zero activation of {r['layer']}")
        ax.set_ylabel("count (log)")
        ax.set_title(f"(a) {r['model']}: {r['images']} calibration images", fontsize=9)
        ax.legend(fontsize=8)
        ax = axes[1][j]
        e = np.array(r["per_image_max_edges"])
        ax.bar(e[:-1], r["per_image_max_counts"], width=np.diff(e), align="edge", color="tab:green")
        ax.axvline(r["p99_9"], color="tab:red", ls="--")
        ax.axvline(r["max"], color="k", ls=":")
        ax.set_xlabel("largest activation of the layer, per image")
        ax.set_ylabel("images")
        ax.set_title(f"(b) {r['model']}: per-image maximum", fontsize=9)
    fig.tight_layout()
    savefig(fig, path)


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    args = ap.parse_args(argv)
    out = setup(args)
    if args.quick:
        args.calib_size = min(args.calib_size, 100)
    results = [first_layer_stats(args.shared, m, args.calib_size) for m in args.models]
    write_json(out / "activations.json", dict(command=command_line(), environment=environment(), models=results))
    plot(results, out / "activations.png")


if __name__ == "__main__":
    main()
