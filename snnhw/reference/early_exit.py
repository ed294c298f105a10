"""Early exit: the step at which an image's classification ends, from its output potentials.

Rule (margin rule): an image exits after the first step ``t`` (0-based) with
``t + 1 >= min_steps`` at which the largest output potential exceeds the
second largest by at least ``margin`` (integer potential units); when no step
qualifies it runs the ``T`` steps it was given. ``margin = 0`` disables the
rule. The reported class and potentials are those after the exit step.

Exiting never changes the steps before it, so the exit step is a function of
the full-length potentials: ``exit_steps(run_golden(...).potentials, rule)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ExitRule:
    margin: int = 0  # 0: no early exit
    min_steps: int = 1

    def __post_init__(self):
        if self.margin < 0:
            raise ValueError(f"exit margin must be >= 0, got {self.margin}")
        if self.min_steps < 1:
            raise ValueError(f"exit min_steps must be >= 1, got {self.min_steps}")

    @property
    def enabled(self) -> bool:
        return self.margin > 0


def top2_margin(potentials: np.ndarray) -> np.ndarray:
    """Largest minus second-largest potential along the last axis (0 for a tie; the largest for K = 1)."""
    p = np.asarray(potentials, dtype=np.int64)
    if p.shape[-1] == 1:
        return p[..., 0]
    part = np.partition(p, p.shape[-1] - 2, axis=-1)
    return part[..., -1] - part[..., -2]


def exit_steps(potentials: np.ndarray, rule: ExitRule) -> np.ndarray:
    """(N,) 0-based exit step of every image from (T, N, K) potentials."""
    return exit_steps_from_margins(top2_margin(np.asarray(potentials)), rule)


def exit_steps_from_margins(margins: np.ndarray, rule: ExitRule) -> np.ndarray:
    """(N,) 0-based exit step from (T, N) top-2 margins (:func:`top2_margin`).

    The rule needs only the margins, so an evaluation can keep (T, N) of them
    instead of (T, N, K) potentials and try many rules on one run.
    """
    m = np.asarray(margins)
    T, n = m.shape[0], m.shape[1]
    if not rule.enabled:
        return np.full(n, T - 1, dtype=np.int64)
    ok = m >= rule.margin  # (T, N)
    ok[: min(rule.min_steps, T) - 1] = False
    first = np.where(ok.any(axis=0), ok.argmax(axis=0), T - 1)
    return first.astype(np.int64)


def exit_outputs(potentials: np.ndarray, rule: ExitRule):
    """(exit step (N,), class after the exit step (N,), potentials after the exit step (N, K))."""
    p = np.asarray(potentials)
    steps = exit_steps(p, rule)
    idx = np.arange(p.shape[1])
    final = p[steps, idx]
    return steps, final.argmax(axis=-1), final
