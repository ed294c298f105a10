"""The early-exit margin rule (snnhw/reference/early_exit.py) on hand-made potentials and against a naive loop."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from snnhw.reference.early_exit import ExitRule, exit_outputs, exit_steps, exit_steps_from_margins, top2_margin


def pots(*steps):
    """(T, 1, K) potentials of one image from its per-step lists."""
    return np.array(steps, dtype=np.int64)[:, None, :]


def test_exits_at_the_first_step_with_enough_margin():
    p = pots([1, 0, 0], [3, 1, 0], [9, 2, 0], [20, 2, 0])
    assert exit_steps(p, ExitRule(margin=2)).tolist() == [1]  # 3 - 1 = 2 >= 2 at step index 1
    assert exit_steps(p, ExitRule(margin=7)).tolist() == [2]
    steps, classes, final = exit_outputs(p, ExitRule(margin=7))
    assert classes.tolist() == [0] and final.tolist() == [[9, 2, 0]]  # the potentials after the exit step


def test_a_tie_has_margin_zero_and_never_exits():
    p = pots([5, 5, 1], [6, 6, 0], [7, 7, 0])
    assert top2_margin(p).ravel().tolist() == [0, 0, 0]
    assert exit_steps(p, ExitRule(margin=1)).tolist() == [2]  # runs to T
    steps, classes, _ = exit_outputs(p, ExitRule(margin=1))
    assert classes.tolist() == [0]  # argmax ties to the lowest index, as the golden model


def test_negative_potentials_and_the_runner_up_matter_not_the_rest():
    p = pots([-10, -3, -50], [-2, -8, -9])
    assert top2_margin(p).ravel().tolist() == [7, 6]
    assert exit_steps(p, ExitRule(margin=7)).tolist() == [0]


def test_one_class_margin_is_the_potential_itself():
    p = pots([-1], [0], [4], [9])
    assert top2_margin(p).ravel().tolist() == [-1, 0, 4, 9]
    assert exit_steps(p, ExitRule(margin=4)).tolist() == [2]
    assert exit_steps(p, ExitRule(margin=100)).tolist() == [3]


def test_min_steps_holds_the_exit_back():
    p = pots([9, 0], [9, 0], [9, 0], [9, 0])
    assert exit_steps(p, ExitRule(margin=1, min_steps=1)).tolist() == [0]
    assert exit_steps(p, ExitRule(margin=1, min_steps=3)).tolist() == [2]  # t + 1 >= 3
    assert exit_steps(p, ExitRule(margin=1, min_steps=4)).tolist() == [3]


def test_min_steps_beyond_T_runs_T_steps():
    p = pots([9, 0], [9, 0])
    assert exit_steps(p, ExitRule(margin=1, min_steps=5)).tolist() == [1]


def test_margin_zero_is_off_even_when_every_margin_is_large():
    p = pots([100, 0], [200, 0], [300, 0])
    assert not ExitRule(margin=0).enabled
    assert exit_steps(p, ExitRule(margin=0)).tolist() == [2]
    steps, classes, final = exit_outputs(p, ExitRule())
    assert final.tolist() == [[300, 0]]


def test_images_exit_independently():
    p = np.array([[[3, 0], [0, 0]], [[3, 0], [5, 0]], [[3, 0], [5, 0]]])  # (T=3, N=2, K=2)
    assert exit_steps(p, ExitRule(margin=4)).tolist() == [2, 1]


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="margin"):
        ExitRule(margin=-1)
    with pytest.raises(ValueError, match="min_steps"):
        ExitRule(margin=1, min_steps=0)


def naive_exit(p: np.ndarray, margin: int, min_steps: int) -> list:
    """The rule as written in docs/numeric_contract.md, one image and one step at a time."""
    T, n, k = p.shape
    out = []
    for i in range(n):
        step = T - 1
        if margin > 0:
            for t in range(T):
                ordered = sorted(p[t, i].tolist(), reverse=True)
                gap = ordered[0] - ordered[1] if k > 1 else ordered[0]
                if t + 1 >= min_steps and gap >= margin:
                    step = t
                    break
        out.append(step)
    return out


@settings(max_examples=200, deadline=None)
@given(data=st.data(), T=st.integers(1, 8), n=st.integers(1, 5), k=st.integers(1, 5),
       margin=st.integers(0, 40), min_steps=st.integers(1, 10))
def test_matches_a_naive_loop(data, T, n, k, margin, min_steps):
    p = data.draw(hnp.arrays(np.int64, (T, n, k), elements=st.integers(-30, 30)))
    rule = ExitRule(margin=margin, min_steps=min_steps)
    want = naive_exit(p, margin, min_steps)
    assert exit_steps(p, rule).tolist() == want
    assert exit_steps_from_margins(top2_margin(p), rule).tolist() == want
    steps, classes, final = exit_outputs(p, rule)
    idx = np.arange(n)
    assert np.array_equal(final, p[want, idx]) and np.array_equal(classes, p[want, idx].argmax(-1))
    # a truncated run (fewer steps) agrees wherever the full run exited inside it: exiting changes no earlier step
    cut = data.draw(st.integers(1, T))
    short = exit_steps(p[:cut], rule)
    inside = np.array(want) < cut
    assert np.array_equal(short[inside], np.array(want)[inside])


# ---------------------------------------------------------------------------
# snnhw/exit_calibration.py: outcomes, sweeps and the choice, on one run's trace

from snnhw.errors import OptionError  # noqa: E402
from snnhw.exit_calibration import (ExitTrace, calibrate, choose, pareto, rule_outcome, sweep,  # noqa: E402
                                    sweep_margins, sweep_min_steps)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), T=st.integers(1, 6), n=st.integers(1, 6), k=st.integers(1, 4),
       margin=st.integers(0, 20), min_steps=st.integers(1, 7))
def test_trace_outcome_equals_exit_outputs(data, T, n, k, margin, min_steps):
    p = data.draw(hnp.arrays(np.int64, (T, n, k), elements=st.integers(-10, 10)))
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    rule = ExitRule(margin, min_steps)
    steps, classes, _ = exit_outputs(p, rule)
    halves = [ExitTrace.from_potentials(p[:, :1], y[:1]), ExitTrace.from_potentials(p[:, 1:], y[1:])]
    out = rule_outcome(ExitTrace.concat(halves), rule)
    assert out["hits"] == int((classes == y).sum()) and out["mean_steps"] == pytest.approx((steps + 1).mean())
    assert out["max_steps"] == steps.max() + 1 and out["early"] == int((steps < T - 1).sum())


def trace(*per_image):
    """Trace of images given as (margins per step, correct per step)."""
    m = np.array([im[0] for im in per_image]).T
    c = np.array([im[1] for im in per_image], bool).T
    return ExitTrace(margins=m, correct=c)


def test_sweep_margins_reach_the_largest_useful_margin_only():
    tr = trace(([1, 50, 900], [0, 1, 1]), ([3, 8, 9], [1, 1, 1]))
    ms = sweep_margins(tr)
    assert ms[0] == 0 and ms[1] == 1 and ms[-1] == 50  # 900 is at the last step: exiting there saves nothing
    assert sweep_margins(trace(([5], [1]),)) == [0]  # T = 1: no early exit possible
    assert sweep_min_steps(16)[0] == 1 and sweep_min_steps(16)[-1] == 15 and sweep_min_steps(2) == [1]


def test_choose_takes_the_fewest_steps_that_meet_the_target():
    # image 0 is decided early and right; image 1 is right only at the last step
    tr = trace(([9, 9, 9, 9], [1, 1, 1, 1]), ([2, 5, 6, 7], [0, 0, 0, 1]))
    rows = sweep(tr, [0, 1, 5, 9], [1, 2])
    assert rows[0]["margin"] == 0 and rows[0]["hits"] == 2 and rows[0]["mean_steps"] == 4
    c = choose(rows, 1.0)
    assert c["hits"] == 2 and c["margin"] == 9 and c["min_steps"] == 1 and c["mean_steps"] == 2.5
    assert choose(rows, 0.5)["mean_steps"] == 1.0  # margin 1: both exit at step 1, image 0 right
    cal = calibrate(tr, max_loss=0)
    assert cal.full["hits"] == 2 and cal.chosen["hits"] == 2 and cal.rule.margin == 7  # 7: image 1 only at its last step
    with pytest.raises(OptionError, match="best rule reaches 100.00%"):
        choose(rows, 1.01)


def test_pareto_keeps_only_undominated_rows():
    rows = [dict(mean_steps=s, hits=h) for s, h in [(1, 5), (2, 5), (2, 7), (3, 6), (4, 9)]]
    assert [(r["mean_steps"], r["hits"]) for r in pareto(rows)] == [(1, 5), (2, 7), (4, 9)]
