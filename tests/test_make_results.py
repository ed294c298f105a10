"""docs/results.md's bar verdicts are decided on image counts, not on float differences."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_results import _spans, loss_points  # noqa: E402


def test_a_loss_equal_to_the_bar_meets_it():
    assert 0.886 - 0.881 > 0.005  # the float trap the count-based check avoids
    assert loss_points(0.886, 0.881, 1000, 0.5) == (0.5, True)
    assert loss_points(0.993, 0.992, 1000, 0.1) == (0.1, True)


def test_one_image_more_misses_it():
    loss, met = loss_points(0.886, 0.880, 1000, 0.5)
    assert abs(loss - 0.6) < 1e-12 and not met
    assert loss_points(0.9936, 0.9925, 10000, 0.1)[1] is False


def test_spans_of_steps():
    assert _spans([3, 4, 5, 9]) == "3-5, 9"
    assert _spans([7]) == "7"
