"""Pareto plot of images/s against golden accuracy from bench/throughput.py runs, and their table.

    python bench/throughput_plot.py docs/figures/throughput_mnist_paper*.json --out docs/figures/throughput_pareto.png \
        --fmax-from docs/figures/throughput_mnist_paper.json

Each point is one run's JSON: images/s = median Fmax / RTL cycles per image (measured), accuracy of the
golden model with the same options on the run's test images. A run without its own synthesis
(``bench/throughput.py --no-synth``) takes the median Fmax of ``--fmax-from``'s run: drawn hollow, marked ¹. Prints the table in Markdown (for docs/hardware.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def label(r: dict, lanes: str | None = None) -> str:
    """T, exit rule and lanes; the lanes only where they differ from ``lanes`` (the plot's common plan)."""
    o = r["options"]
    rule = f"exit {o['exit_margin']}/{o['exit_min_steps']}" if o["exit_margin"] else "no exit"
    return f"T={o['timesteps']}, {rule}" + ("" if o["parallelism"] == lanes else f", P={o['parallelism']}")


def table(rows: list) -> str:
    lines = ["| design (T, rule, lanes) | images/s | Fmax median (MHz) | cycles / image | bound | cycles / bound | "
             "mean steps | golden accuracy | RTL == golden |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ips = f"{r['images_per_s']:,.0f}" if r.get("images_per_s") else "–"
        fm = f"{r['fmax_mhz_median']:.1f}" if r.get("fmax_mhz_median") else "–"
        own = (r.get("fmax_source") or "").startswith("this build")
        src = "" if own else " ¹"
        if own and r.get("seeds"):
            fm += f" (seeds {', '.join(str(x['seed']) for x in r['seeds'])})"
        lines.append(f"| {label(r)} | {ips}{src} | {fm}{src} | {r['cycles_per_image']:,.0f} | "
                     f"{r['bound_cycles']:,.0f} ({r['bound_engine']}) | {r['cycles_over_bound']:.2f} | "
                     f"{r['mean_steps']:.2f} | {100 * r['accuracy_golden']:.2f} % ({r['accuracy_images']:,}) | "
                     f"{'yes, ' + str(r['rtl_images']) + ' images' if r['rtl_equals_golden'] else 'NO'} |")
    return "\n".join(lines)


def pareto_front(rows: list) -> list:
    """The runs no other run beats in both images/s and accuracy, by accuracy."""
    pts = [(r["images_per_s"], r["accuracy_golden"], r) for r in rows if r.get("images_per_s")]
    front = [r for ips, acc, r in pts
             if not any(i >= ips and a >= acc and (i, a) != (ips, acc) for i, a, _ in pts)]
    return sorted(front, key=lambda r: r["accuracy_golden"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("docs/figures/throughput_pareto.png"))
    ap.add_argument("--fmax-from", type=Path, default=None,
                    help="a run with synthesis: its median Fmax for the runs without one")
    a = ap.parse_args(argv)
    rows = [json.loads(p.read_text()) for p in a.runs]
    if a.fmax_from:
        ref = json.loads(a.fmax_from.read_text())
        for r in rows:
            if not r.get("fmax_mhz_median") and r.get("cycles_per_image"):
                r.update(fmax_mhz_median=ref["fmax_mhz_median"], fmax_source=str(a.fmax_from),
                         images_per_s=ref["fmax_mhz_median"] * 1e6 / r["cycles_per_image"])
    rows.sort(key=lambda r: -(r.get("images_per_s") or 0))
    print(table(rows))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plans = [r["options"]["parallelism"] for r in rows]
    common = max(set(plans), key=plans.count)
    lowest_accuracy = min(r["accuracy_golden"] for r in rows)
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in rows:
        if not r.get("images_per_s"):
            continue
        own = (r.get("fmax_source") or "").startswith("this build")
        ax.scatter(100 * r["accuracy_golden"], r["images_per_s"], s=50, facecolors="C0" if own else "none",
                   edgecolors="C0")
        text = label(r, common) + f" ({r['rtl_images']} images)"
        leftmost = r["accuracy_golden"] == lowest_accuracy  # its label goes right, inside the axes
        ax.annotate(text, (100 * r["accuracy_golden"], r["images_per_s"]), fontsize=7,
                    xytext=(6 if leftmost else -6, -12 if own else 4), textcoords="offset points",
                    ha="left" if leftmost else "right")
    front = pareto_front(rows)
    if len(front) > 1:
        ax.plot([100 * r["accuracy_golden"] for r in front], [r["images_per_s"] for r in front], color="C1",
                lw=1, zorder=0, label="Pareto front (no other point both faster and more accurate)")
        ax.legend(fontsize=7, loc="upper right")
    ax.set_yscale("log")
    ax.set_xlabel("golden-model accuracy (%), all test images")
    ax.set_ylabel("images / s (RTL cycles, median Fmax)")
    models = sorted({Path(r["model"]).stem for r in rows})
    ax.set_title(f"{', '.join(models)} on the LFE5U-85F: throughput against accuracy\n"
                 f"lanes -P {common} unless named\n"
                 "(filled: median Fmax of the same build's nextpnr seeds; hollow: Fmax of the main run's build)",
                 fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
