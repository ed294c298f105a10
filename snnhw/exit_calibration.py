"""Early exit on a data set: the accuracy and steps of an exit rule, margin sweeps, and choosing a rule.

Everything works on an :class:`ExitTrace` of one golden-model run: the top-2
margin and whether the class is right, per step and image. The rule only
post-processes these (docs/numeric_contract.md, "Early exit"), so any number
of rules are tried without simulating again.

Choosing a rule (:func:`calibrate`) uses held-out *training* images, disjoint
from the normalization calibration images; the test set is only reported on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnhw.errors import DataError, OptionError
from snnhw.reference.early_exit import ExitRule, exit_steps_from_margins, top2_margin
from snnhw.reference.golden import run_golden

SWEEP_POINTS = 24  # non-zero margins in a sweep (geometric from 1 to the largest useful margin)


@dataclass
class ExitTrace:
    margins: np.ndarray  # (T, N) int64: top-1 minus top-2 output potential after every step
    correct: np.ndarray  # (T, N) bool: class after every step == label

    @classmethod
    def from_potentials(cls, potentials: np.ndarray, labels: np.ndarray) -> "ExitTrace":
        p = np.asarray(potentials)
        return cls(margins=top2_margin(p), correct=p.argmax(axis=-1) == np.asarray(labels)[None, :])

    @classmethod
    def concat(cls, parts: list) -> "ExitTrace":
        return cls(margins=np.concatenate([p.margins for p in parts], axis=1),
                   correct=np.concatenate([p.correct for p in parts], axis=1))

    @property
    def timesteps(self) -> int:
        return self.margins.shape[0]

    @property
    def images(self) -> int:
        return self.margins.shape[1]


def golden_trace(qnet, x_u8: np.ndarray, y: np.ndarray, timesteps: int, batch_size: int = 250,
                 progress=None) -> ExitTrace:
    """One golden-model run of ``timesteps`` steps over ``x_u8`` in batches; ``progress(done)`` after each."""
    parts = []
    for start in range(0, len(x_u8), batch_size):
        g = run_golden(qnet, x_u8[start:start + batch_size], timesteps)
        parts.append(ExitTrace.from_potentials(g.potentials, y[start:start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(x_u8)))
    return ExitTrace.concat(parts)


def rule_outcome(trace: ExitTrace, rule: ExitRule) -> dict:
    """Accuracy and steps run (exit step, 1..T) of ``rule`` on ``trace``."""
    steps = exit_steps_from_margins(trace.margins, rule)
    hits = int(trace.correct[steps, np.arange(trace.images)].sum())
    run = steps + 1
    return dict(margin=rule.margin, min_steps=rule.min_steps, hits=hits, images=trace.images,
                accuracy=hits / trace.images, mean_steps=float(run.mean()), median_steps=float(np.median(run)),
                max_steps=int(run.max()), early=int((run < trace.timesteps).sum()))


def largest_useful_margin(trace: ExitTrace) -> int:
    """The largest margin any image reaches before its last step: a larger one never exits early."""
    if trace.timesteps < 2:
        return 0
    return max(0, int(trace.margins[:-1].max()))


def sweep_margins(trace: ExitTrace, points: int = SWEEP_POINTS) -> list:
    """0 (off) and a geometric series of integer margins from 1 up to the largest useful margin."""
    top = largest_useful_margin(trace)
    if top < 1:
        return [0]
    series = np.unique(np.rint(np.geomspace(1, top, points)).astype(np.int64))
    return [0] + [int(m) for m in series]


def sweep_min_steps(timesteps: int, points: int = 8) -> list:
    """1 and a geometric series up to T - 1 (holding back to T is the same as no early exit)."""
    if timesteps < 3:
        return [1]
    return sorted({1} | {int(s) for s in np.rint(np.geomspace(1, timesteps - 1, points))})


def sweep(trace: ExitTrace, margins: list, min_steps: list = (1,)) -> list:
    """:func:`rule_outcome` of every (margin, min_steps); margin 0 once (min_steps means nothing without exits)."""
    rows = [rule_outcome(trace, ExitRule(0, 1))] if 0 in margins else []
    for m in (m for m in margins if m > 0):
        rows += [rule_outcome(trace, ExitRule(m, s)) for s in min_steps]
    return rows


def required_hits(target: float, images: int) -> int:
    """Correct images needed for accuracy ``target`` (fraction), decided on counts, not floats."""
    return math.ceil(round(target * images, 6))


def choose(rows: list, target: float) -> dict:
    """The row with the fewest mean steps whose accuracy meets ``target`` (fraction); ties: more hits, then
    the smaller min_steps and margin. OptionError naming the best reachable accuracy when none does."""
    need = required_hits(target, rows[0]["images"])
    ok = [r for r in rows if r["hits"] >= need]
    if not ok:
        best = max(rows, key=lambda r: r["hits"])
        raise OptionError(f"target accuracy {100 * target:.2f}% is unreachable on the {best['images']} held-out "
                          f"images: the best rule reaches {100 * best['accuracy']:.2f}% (margin {best['margin']}, "
                          f"min steps {best['min_steps']})")
    return min(ok, key=lambda r: (r["mean_steps"], -r["hits"], r["min_steps"], r["margin"]))


def holdout_split(x_train: np.ndarray, y_train, calib_size: int, holdout: int, where: str):
    """(calibration images, held-out images, held-out labels): the first ``calib_size`` and the last
    ``holdout`` training images, which must not overlap."""
    if y_train is None:
        raise DataError(f"{where}: has no y_train labels for the held-out images")
    n = len(x_train)
    if calib_size + holdout > n:
        raise OptionError(f"{where}: x_train has {n} images, too few for --calib-size {calib_size} plus "
                          f"--holdout {holdout} disjoint ones (lower one of them)")
    return x_train[:calib_size], x_train[n - holdout:], np.asarray(y_train[n - holdout:])


def target_from(full_accuracy: float, target_accuracy: float | None, max_loss: float | None) -> float:
    """The held-out accuracy (fraction) to meet: --target-accuracy (percent) or full-T accuracy − --max-loss points."""
    if (target_accuracy is None) == (max_loss is None):
        raise OptionError("give exactly one of --target-accuracy PERCENT and --max-loss POINTS")
    if target_accuracy is not None:
        if not 0 < target_accuracy <= 100:
            raise OptionError(f"--target-accuracy must be a percentage in (0, 100], got {target_accuracy}")
        return target_accuracy / 100
    if max_loss < 0:
        raise OptionError(f"--max-loss must be >= 0 points, got {max_loss}")
    return full_accuracy - max_loss / 100


@dataclass
class Calibration:
    target: float  # held-out accuracy the rule had to meet (fraction)
    full: dict  # the held-out outcome of running all T steps
    chosen: dict  # the chosen row (held-out)
    candidates: list  # every (margin, min_steps) row on the held-out images

    @property
    def rule(self) -> ExitRule:
        return ExitRule(self.chosen["margin"], self.chosen["min_steps"])


def calibrate(trace: ExitTrace, target_accuracy: float | None = None, max_loss: float | None = None,
              points: int = SWEEP_POINTS) -> Calibration:
    """Try a grid of (margin, min_steps) on a held-out trace; keep the fewest mean steps meeting the target."""
    full = rule_outcome(trace, ExitRule(0, 1))
    target = target_from(full["accuracy"], target_accuracy, max_loss)
    rows = sweep(trace, sweep_margins(trace, points), sweep_min_steps(trace.timesteps))
    return Calibration(target=target, full=full, chosen=choose(rows, target), candidates=rows)


def pareto(rows: list) -> list:
    """The rows no other row beats on both fewer mean steps and more hits, by mean steps."""
    best, out = -1, []
    for r in sorted(rows, key=lambda r: (r["mean_steps"], -r["hits"])):
        if r["hits"] > best:
            out.append(r)
            best = r["hits"]
    return out


def format_rows(rows: list, timesteps: int) -> str:
    lines = [f"{'margin':>7} {'min':>4} {'accuracy':>9} {'mean':>6} {'median':>6} {'max':>4} {'early':>6}"]
    for r in rows:
        lines.append(f"{r['margin']:>7} {r['min_steps']:>4} {100 * r['accuracy']:8.2f}% {r['mean_steps']:6.2f} "
                     f"{r['median_steps']:6.1f} {r['max_steps']:>4} {r['early']:>6}")
    return "\n".join(lines) + f"\n(steps run out of T = {timesteps}; early = images that stopped before T)"


def plot_exit_curve(curves: dict, path, title: str = "", fixed: dict | None = None, marks: dict | None = None) -> None:
    """Accuracy against mean steps: one line per ``curves`` label (rows by mean steps); ``fixed`` label ->
    accuracy after every step without early exit (dashed); ``marks`` label -> one row to circle."""
    import os
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, rows) in enumerate(curves.items()):
        c = colors[i % len(colors)]
        rows = sorted(rows, key=lambda r: r["mean_steps"])
        ax.plot([r["mean_steps"] for r in rows], [100 * r["accuracy"] for r in rows], "o-", ms=3, color=c,
                label=label)
        if fixed and label in fixed:
            acc = fixed[label]
            ax.plot(np.arange(1, len(acc) + 1), 100 * np.asarray(acc), "--", color=c, lw=0.9, alpha=0.7,
                    label=f"{label}: no early exit, T = x")
        if marks and label in marks:
            m = marks[label]
            ax.plot([m["mean_steps"]], [100 * m["accuracy"]], "*", ms=12, color=c,
                    label=f"{label}: chosen margin {m['margin']}, min steps {m['min_steps']}")
    accs = [100 * r["accuracy"] for rows in curves.values() for r in rows]
    ax.set_ylim(max(0, min(accs) - 1), min(100, max(accs) + 0.5))
    ax.set_xlabel("mean steps per image")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or "early exit: accuracy vs mean steps")
    fig.tight_layout()
    tmp = Path(str(path) + ".partial.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
