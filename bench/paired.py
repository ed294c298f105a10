"""Paired, image-by-image comparison of snnhw and SpikingJelly in the first steps.

The bar "snnhw ≥ SpikingJelly at every T" compares two accuracy curves on
the same images. Where both are near the ANN's accuracy, a gap of a few
images can be chance. This script keeps, for every image and step up to
``--max-steps``, whether each tool classified it correctly, and gives per
step the discordant pairs (images only snnhw gets right, images only
SpikingJelly gets right) and the exact two-sided McNemar p-value of the
difference. It simulates only the first steps (the comparison's curves
over all T = 300 are bench/spikingjelly_compare.py's). One more snnhw run,
for analysis only, replaces the max-pool gate by the ANN's own choice
(float_snn's ``gate='ann'``): a bound on what any better gate could give.
Per-image results are cached (build/bench_cache), so adding a setting
simulates only that one.

    python bench/paired.py --models mnist_paper            # all test images, T = 1..60
    python bench/paired.py --quick
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # see bench/speed.py
    os.environ.setdefault(_v, os.environ.get("BENCH_THREADS", "1"))

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import sj  # noqa: E402
from bench.common import (Converter, array_digest, cached, command_line, environment, load_data, log,  # noqa: E402
                          parser, setup, to_float, write_json)
from bench.spikingjelly_compare import BATCH, PAIRS  # noqa: E402


def mcnemar_p(ours_only: int, theirs_only: int) -> float:
    """Exact two-sided McNemar test: P(a split at least this uneven) of the discordant pairs under 50:50."""
    n, k = ours_only + theirs_only, min(ours_only, theirs_only)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


# snnhw's curves of bench/spikingjelly_compare.py compared here: key -> (per-channel λ, initial membrane, gate) ...
OURS = {"snnhw_99.9": (False, "zero", "count"), "snnhw_99.9_half": (False, "half", "count"),
        "snnhw_99.9_channel_half": (True, "half", "count"),
        # ... and one for analysis: the max-pool gate replaced by the ANN's own choice (float_snn's gate='ann'),
        # what no causal gate can beat. Whatever gap remains with it is not the gate's.
        "snnhw_99.9_half_ann_gate": (False, "half", "ann")}
LABELS = {"snnhw_99.9_half_ann_gate": "snnhw float SNN, p = 99.9, half-threshold init, *ideal* max-pool gate "
                                      "(the ANN's choice; analysis only, no hardware)"}
DIAGNOSTIC_PAIRS = {"half_ann_gate": ("snnhw_99.9_half_ann_gate", "sj_99.9")}


def correct_cached(kind: str, settings: dict, compute, n: int, label: str, snnhw_sources: bool = True) -> np.ndarray:
    """``compute()`` ((T, N) bool), stored bit-packed in the bench cache."""
    r = cached(kind, settings, lambda: dict(correct=np.packbits(compute(), axis=1)), label, snnhw_sources)
    return np.unpackbits(r["correct"], axis=1, count=n).astype(bool)


def correct_sj(shared, model, calib, x, y, steps, batch) -> np.ndarray:
    """(T, N) bool: SpikingJelly 99.9% right after each step."""
    snn, _ = sj.convert(shared, model, calib, "99.9%")
    return np.concatenate([sj.run(snn, x[s:s + batch], steps) == y[s:s + batch]
                           for s in range(0, len(x), batch)], axis=1)


def correct_snnhw(conv, x, y, steps, batch, v_init, per_channel=False, gate="count") -> np.ndarray:
    """(T, N) bool: snnhw's float SNN (p = 99.9) right after each step."""
    from snnhw.reference.float_snn import SnnConfig, run_float_snn

    cfg = SnnConfig(reset="subtract", input="analog", gate=gate, v_init=v_init)
    net = conv.normalized(99.9, per_channel)
    return np.concatenate([run_float_snn(net, to_float(x[s:s + batch]), steps, cfg) == y[s:s + batch]
                           for s in range(0, len(x), batch)], axis=1)


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """Per step: discordant counts, accuracy difference and McNemar p; the steps where ours is behind."""
    ours_only = (ours & ~theirs).sum(axis=1)
    theirs_only = (~ours & theirs).sum(axis=1)
    p = [mcnemar_p(int(a), int(b)) for a, b in zip(ours_only, theirs_only)]
    behind = [t + 1 for t in range(len(p)) if ours_only[t] < theirs_only[t]]
    return dict(ours_only=ours_only.tolist(), theirs_only=theirs_only.tolist(), mcnemar_p=p,
                diff_points=(100 * (ours_only - theirs_only) / ours.shape[1]).tolist(), behind_at_T=behind,
                smallest_p_where_behind=min((p[t - 1] for t in behind), default=None))


def run_model(args, model: str) -> dict:
    x, y, calib = load_data(args.shared, model, args.images, args.calib_size)
    conv = Converter(args.shared, model, calib)
    batch = args.batch_size or BATCH[model]
    steps = args.max_steps
    log(f"{model}: {len(x)} images, steps 1..{steps}")
    base = dict(model=model, calib=array_digest(calib), x=array_digest(x), y=array_digest(y), steps=steps)
    correct = {"sj_99.9": correct_cached("paired_sj", dict(base, mode="99.9%", spikingjelly=sj.version()),
                                         lambda: correct_sj(args.shared, model, calib, x, y, steps, batch), len(x),
                                         f"{model} SpikingJelly 99.9%", snnhw_sources=False)}
    for key, (per_channel, v_init, gate) in OURS.items():
        correct[key] = correct_cached("paired_float", dict(base, percentile=99.9, per_channel=per_channel,
                                                           v_init=v_init, gate=gate),
                                      lambda: correct_snnhw(conv, x, y, steps, batch, v_init, per_channel, gate),
                                      len(x), f"{model} {key}")
        log(f"  {key}: acc@T={steps} {100 * correct[key][-1].mean():.2f}%")
    pairs = {name: dict(ours=a, theirs=b, **compare(correct[a], correct[b]))
             for name, (a, b) in {**PAIRS, **DIAGNOSTIC_PAIRS}.items() if a in correct and b in correct}
    out = dict(model=model, images=len(x), max_steps=steps, spikingjelly=sj.version(),
               calib=f"{len(calib)} training images, fixed-seed (0) random subset (both tools)",
               accuracy={k: c.mean(axis=1).tolist() for k, c in correct.items()}, pairs=pairs, labels=LABELS,
               command=command_line(), environment=environment())
    write_json(args.out / f"paired_{model}.json", out)
    return out


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--max-steps", type=int, default=None, help="steps simulated (default 60; 6 with --quick)")
    args = ap.parse_args(argv)
    setup(args)
    reason = sj.available()
    if reason:
        print(f"SKIP: {reason}")
        return
    if args.quick:
        args.images = args.images or 12
        args.calib_size = min(args.calib_size, 200)
    args.max_steps = args.max_steps or (6 if args.quick else 60)
    for m in args.models:
        res = run_model(args, m)
        for name, p in res["pairs"].items():
            where = ", ".join(f"T={t} (p={p['mcnemar_p'][t - 1]:.2f})" for t in p["behind_at_T"]) or "nowhere"
            print(f"{m} {p['ours']} vs {p['theirs']}: behind at {where}")


if __name__ == "__main__":
    main()
