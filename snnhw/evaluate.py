"""Accuracy of the ANN, the float SNN and the fixed-point SNN against time step."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from snnhw.exit_calibration import ExitTrace, rule_outcome, sweep, sweep_margins
from snnhw.pipeline import Compiled, model_input
from snnhw.reference.ann import run_ann
from snnhw.reference.early_exit import ExitRule
from snnhw.reference.float_snn import SnnConfig, run_float_snn
from snnhw.reference.golden import run_golden


@dataclass
class EvalResult:
    images: int
    timesteps: int
    ann_accuracy: float
    float_snn: Optional[list] = None  # accuracy after each step 1..T
    fixed_snn: Optional[list] = None
    settings: dict = field(default_factory=dict)
    synops_per_image: Optional[list] = None  # per layer, golden model, whole run of T steps
    early_exit: Optional[dict] = None  # golden model with the exit rule: accuracy, mean/median/max steps run
    exit_sweep: Optional[list] = None  # the same for a sweep of margins (one golden run, post-processed)

    def first_step_within(self, curve: list, points: float) -> Optional[int]:
        """Smallest T (1-based) whose accuracy is within ``points`` % of the ANN, None if never."""
        for t, acc in enumerate(curve, 1):
            if round(100 * (self.ann_accuracy - acc), 9) <= points:  # rounding: 0.15 must equal 0.15
                return t
        return None


def evaluate(compiled: Compiled, x_u8: np.ndarray, y: np.ndarray, timesteps: int, cfg: SnnConfig,
             run_float: bool = True, run_fixed: bool = True, batch_size: int = 250, progress: bool = True,
             input_scale: float = 1.0 / 255, exit_rule: ExitRule | None = None,
             exit_sweep: bool = False) -> EvalResult:
    """``exit_rule`` (enabled) and ``exit_sweep`` post-process the golden run's potentials (see
    :mod:`snnhw.exit_calibration`); the sweep keeps ``exit_rule``'s min_steps."""
    n = len(x_u8)
    rule = exit_rule or ExitRule()
    keep_trace = run_fixed and (rule.enabled or exit_sweep)
    traces = []
    ann_hits = 0
    float_hits = np.zeros(timesteps, np.int64)
    fixed_hits = np.zeros(timesteps, np.int64)
    synops = None
    bar = tqdm(total=n, unit="img", desc="evaluate", disable=not progress, leave=False)
    for start in range(0, n, batch_size):
        xb, yb = x_u8[start:start + batch_size], y[start:start + batch_size]
        xf = model_input(xb, input_scale)
        ann_hits += int((run_ann(compiled.ann, xf).reshape(len(xb), -1).argmax(1) == yb).sum())
        if run_float:
            float_hits += (run_float_snn(compiled.normalized, xf, timesteps, cfg) == yb).sum(axis=1)
        if run_fixed:
            g = run_golden(compiled.qnet, xb, timesteps)
            fixed_hits += (g.classes == yb).sum(axis=1)
            if keep_trace:  # (T, N) margins and hits, not (T, N, K) potentials: all a rule needs
                traces.append(ExitTrace.from_potentials(g.potentials, yb))
            s = g.synops.sum(axis=0)
            synops = s if synops is None else synops + s
        bar.update(len(xb))
    bar.close()
    trace = ExitTrace.concat(traces) if traces else None
    return EvalResult(
        images=n, timesteps=timesteps, ann_accuracy=ann_hits / n,
        float_snn=(float_hits / n).tolist() if run_float else None,
        fixed_snn=(fixed_hits / n).tolist() if run_fixed else None,
        synops_per_image=(synops / n).tolist() if synops is not None else None,
        settings=dict(asdict(cfg), normalization=compiled.norm_method,
                      bits=compiled.qnet.bits if compiled.qnet else None),
        early_exit=rule_outcome(trace, rule) if trace is not None and rule.enabled else None,
        exit_sweep=sweep(trace, sweep_margins(trace), [rule.min_steps]) if trace is not None and exit_sweep
        else None,
    )


def format_exit(res: EvalResult) -> str:
    """One line on the exit rule's outcome next to the full-T accuracy."""
    e = res.early_exit
    return (f"early exit (margin {e['margin']}, min steps {e['min_steps']}): {100 * e['accuracy']:.2f}% "
            f"(all {res.timesteps} steps: {100 * res.fixed_snn[-1]:.2f}%); steps run mean {e['mean_steps']:.2f}, "
            f"median {e['median_steps']:g}, max {e['max_steps']}; {e['early']} of {e['images']} images stopped early")


def report_steps(timesteps: int) -> list:
    """Steps shown in the printed table: a few early ones, then evenly spaced, always the last."""
    marks = {1, 2, 5, 10, 20, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, timesteps}
    return sorted(t for t in marks if t <= timesteps)


def format_table(res: EvalResult) -> str:
    lines = [f"{'T':>6} {'ANN':>8} {'float SNN':>10} {'fixed SNN':>10}"]
    for t in report_steps(res.timesteps):
        f = f"{100 * res.float_snn[t - 1]:9.2f}%" if res.float_snn else f"{'-':>10}"
        q = f"{100 * res.fixed_snn[t - 1]:9.2f}%" if res.fixed_snn else f"{'-':>10}"
        lines.append(f"{t:>6} {100 * res.ann_accuracy:7.2f}% {f} {q}")
    return "\n".join(lines)


def write_json(res: EvalResult, path, extra: dict | None = None) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(dict(asdict(res), **(extra or {})), indent=1))
    os.replace(tmp, path)


def plot_accuracy(res: EvalResult, path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(1, res.timesteps + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    ax.axhline(100 * res.ann_accuracy, color="k", ls="--", lw=1, label=f"ANN {100 * res.ann_accuracy:.2f}%")
    if res.float_snn:
        ax.plot(steps, 100 * np.array(res.float_snn), label="float SNN")
    if res.fixed_snn:
        ax.plot(steps, 100 * np.array(res.fixed_snn), label=f"{res.settings.get('bits')}-bit SNN (golden model)")
    ax.set_xlabel("time step T")
    ax.set_ylabel("accuracy (%)")
    lo = min([100 * res.ann_accuracy] + [100 * min(c[len(c) // 10:]) for c in (res.float_snn, res.fixed_snn) if c])
    ax.set_ylim(max(0, lo - 5), 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title or f"{res.images} images, {res.settings.get('normalization')}")
    fig.tight_layout()
    tmp = Path(str(path) + ".partial.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
