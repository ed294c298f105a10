"""Early exit: accuracy against mean steps of the 8-bit golden model with the margin rule, for a few caps T,
the rule chosen on held-out training images as ``snnhw calibrate-exit`` does (the test set only reports).

mnist_paper, per-channel normalization and scales, half-threshold initial membrane (the settings that
reach the ANN in the fewest steps). As in ``snnhw calibrate-exit``: normalization on the first
``--calib-size`` training images, the rule chosen on the last ``--holdout`` ones (disjoint), one golden
run of T steps per image set; every (margin, min steps) is a post-processing of that run.

    python bench/early_exit.py                  # all 10,000 test images, T = 8, 10, 16
    python bench/early_exit.py --images 1000
    python bench/early_exit.py --quick          # examples/mnist_small.onnx + examples/mnist_sample.npz (seconds)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import accel  # noqa: E402
from bench.common import (REPO, array_digest, binomial_se, cached, command_line, environment, log,  # noqa: E402
                          model_path, parser, plt, savefig, setup, write_json)

TIMESTEPS = [8, 10, 16]
EXAMPLE_MODEL = REPO / "examples" / "mnist_small.onnx"
EXAMPLE_DATA = REPO / "examples" / "mnist_sample.npz"


def load(args):
    """(model path, data path, x_train, y_train, x_test, y_test) as ``snnhw calibrate-exit`` reads them."""
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import import_model

    if args.quick:
        model, data = EXAMPLE_MODEL, EXAMPLE_DATA
    else:
        model, data = model_path(args.shared, "mnist_paper"), Path(args.shared) / "data" / "mnist.npz"
    shape = import_model(model).input_shape
    x_train, y_train = load_split(data, "train")
    x_test, y_test = load_split(data, "test", args.images)
    return (model, data, to_nchw(x_train, shape, f"{data} (x_train)"), y_train,
            to_nchw(x_test, shape, f"{data} (x_test)"), y_test)


def trace_of(qnet, x, y, T: int, batch: int, settings: dict, label: str):
    """The golden run's exit trace (margins, hits per step and image), cached by settings and images."""
    from snnhw.exit_calibration import ExitTrace, golden_trace

    def compute():
        tr = golden_trace(qnet, x, y, T, batch, progress=lambda done: log(f"  {label}: {done}/{len(x)}"))
        return dict(margins=tr.margins, correct=tr.correct)

    r = cached("exit_trace", dict(settings, timesteps=T, x=array_digest(x), y=array_digest(y)), compute, label)
    return ExitTrace(margins=r["margins"], correct=r["correct"].astype(bool))


def run_T(args, T: int, model, x_calib, x_hold, y_hold, x_test, y_test) -> dict:
    from snnhw.exit_calibration import calibrate, pareto, rule_outcome
    from snnhw.pipeline import compile_model
    from snnhw.reference.early_exit import ExitRule

    c = compile_model(model, x_calib, bits=args.bits, per_channel=True, v_init="half", max_timesteps=T)
    settings = dict(model=Path(model).name, calib=array_digest(x_calib), bits=args.bits, per_channel=True,
                    v_init="half", percentile=99.9)
    held = trace_of(c.qnet, x_hold, y_hold, T, args.batch_size, settings, f"T={T} held-out")
    test = trace_of(c.qnet, x_test, y_test, T, args.batch_size, settings, f"T={T} test")
    cal = calibrate(held, max_loss=args.max_loss)
    on_test = [rule_outcome(test, ExitRule(r["margin"], r["min_steps"])) for r in cal.candidates]
    front = {(r["margin"], r["min_steps"]) for r in pareto(cal.candidates)}
    chosen = rule_outcome(test, cal.rule)
    no_exit = test.correct.mean(axis=1)  # accuracy after t steps: just running fewer steps, for comparison
    return dict(timesteps=T, normalization=c.norm_method, holdout_full=cal.full, target=cal.target,
                chosen_holdout=cal.chosen, chosen_test=chosen, chosen_test_se=binomial_se(chosen["accuracy"],
                                                                                          test.images),
                test_full=rule_outcome(test, ExitRule()), no_exit_test_curve=no_exit.tolist(),
                candidates=[dict(rule=dict(margin=h["margin"], min_steps=h["min_steps"]),
                                 holdout_front=(h["margin"], h["min_steps"]) in front,
                                 holdout={k: h[k] for k in ("hits", "accuracy", "mean_steps")},
                                 test={k: t[k] for k in ("hits", "accuracy", "mean_steps", "median_steps",
                                                         "max_steps")})
                            for h, t in zip(cal.candidates, on_test)])


def plot(res: dict, path: Path) -> None:
    """Test accuracy against mean steps of the held-out Pareto front's rules, one curve per T; dashed: the
    same T without early exit run for fewer steps; star: the chosen rule."""
    p = plt()
    fig, ax = p.subplots(figsize=(6.6, 4.4), dpi=120)
    colors = p.rcParams["axes.prop_cycle"].by_key()["color"]
    shown = []  # every accuracy drawn, for the y range
    for i, r in enumerate(res["runs"]):
        col = colors[i % len(colors)]
        pts = sorted((c["test"]["mean_steps"], 100 * c["test"]["accuracy"]) for c in r["candidates"]
                     if c["holdout_front"])
        ax.plot(*zip(*pts), "o-", ms=3, color=col, label=f"T = {r['timesteps']}: margin rule (held-out front)")
        curve = 100 * np.asarray(r["no_exit_test_curve"])
        shown += [a for _, a in pts] + curve.tolist()
        ax.plot(np.arange(1, len(curve) + 1), curve, ":", color=col, lw=1)
        ch = r["chosen_test"]
        ax.plot([ch["mean_steps"]], [100 * ch["accuracy"]], "*", ms=13, color=col, mec="k", mew=0.5,
                label=f"T = {r['timesteps']}: chosen margin {ch['margin']}, min {ch['min_steps']}: "
                      f"{100 * ch['accuracy']:.2f}% at {ch['mean_steps']:.2f}")
        full = r["test_full"]
        ax.plot([r["timesteps"]], [100 * full["accuracy"]], "s", ms=5, mfc="none", color=col)
    ax.plot([], [], "k:", lw=1, label="no early exit, run fewer steps (square: all T steps)")
    ax.set_ylim(max(0, min(shown) - 0.3), min(100, max(shown) + 0.3))
    ax.set_xlabel("mean steps per image")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="lower right")
    ax.set_title(f"early exit: {res['model']}, {res['bits']}-bit golden, {res['images']} test images", fontsize=9)
    fig.tight_layout()
    savefig(fig, path)


def main(argv=None):
    ap = parser(__doc__.splitlines()[0])
    ap.set_defaults(models=["mnist_paper"], batch_size=250)
    ap.add_argument("--timesteps", type=int, nargs="+", default=TIMESTEPS)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--holdout", type=int, default=2000, help="held-out training images (the last N)")
    ap.add_argument("--max-loss", type=float, default=0.1,
                    help="points below the full-T held-out accuracy the chosen rule may lose (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.quick:
        args.models = []  # the bundled example, not ../shared
        args.calib_size, args.holdout = min(args.calib_size, 100), min(args.holdout, 200)
    out = setup(args)
    accel.enable()
    from snnhw.exit_calibration import holdout_split

    model, data, x_train, y_train, x_test, y_test = load(args)
    x_calib, x_hold, y_hold = holdout_split(x_train, y_train, args.calib_size, args.holdout, str(data))
    res = dict(model=Path(model).stem, data=str(data), images=len(x_test), bits=args.bits,
               normalization_images=f"x_train[:{args.calib_size}]", holdout_images=f"x_train[-{args.holdout}:]",
               max_loss_points=args.max_loss, command=command_line(), environment=environment(), runs=[])
    for T in args.timesteps:
        r = run_T(args, T, model, x_calib, x_hold, y_hold, x_test, y_test)
        res["runs"].append(r)
        ch, full = r["chosen_test"], r["test_full"]
        print(f"T = {T}: held-out {100 * r['holdout_full']['accuracy']:.2f}% -> margin {ch['margin']}, min steps "
              f"{ch['min_steps']}; test {100 * ch['accuracy']:.2f}% at {ch['mean_steps']:.2f} mean steps "
              f"(median {ch['median_steps']:g}, max {ch['max_steps']}) vs {100 * full['accuracy']:.2f}% at {T}")
        write_json(out / "early_exit.json", res)
    plot(res, out / "early_exit.png")
    return res


if __name__ == "__main__":
    main()
