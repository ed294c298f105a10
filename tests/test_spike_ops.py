"""The spiking max-pool gate: its fast integer path equals the plain compare-and-select path."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw.reference.spike_ops import gate, gate_counts


@st.composite
def gate_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    top, left = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    bottom, right = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    h, w = draw(st.integers(kh, 9)), draw(st.integers(kw, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    max_count = draw(st.sampled_from([1, 3, 300, 32767]))
    return (kh, kw), (sh, sw), (top, left, bottom, right), (h, w), seed, max_count


@settings(max_examples=200, deadline=None)
@given(gate_cases())
def test_integer_gate_equals_compare_path(case):
    kernel, stride, pads, (h, w), seed, max_count = case
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, max_count + 1, (3, 2, h, w)).astype(np.int16)  # many ties when max_count is small
    spikes = (rng.random(counts.shape) < 0.5).astype(np.uint8)
    fast = gate(counts, spikes, kernel, stride, pads)
    plain = gate(counts.astype(np.float64), spikes, kernel, stride, pads)  # float rates: compare path
    assert fast.dtype == spikes.dtype
    np.testing.assert_array_equal(fast, plain)
    # the float simulator's path: the same counts and spikes held in floats
    for dtype in (np.float32, np.float64):
        in_floats = gate_counts(counts.astype(dtype), spikes.astype(dtype), kernel, stride, pads)
        assert in_floats.dtype == dtype
        np.testing.assert_array_equal(in_floats, plain)


def test_ties_go_to_the_first_position_and_padding_never_wins():
    counts = np.array([[[[2, 2], [2, 1]]]], dtype=np.int16)
    spikes = np.array([[[[0, 1], [1, 1]]]], dtype=np.uint8)
    assert gate(counts, spikes, (2, 2), (2, 2), (0, 0, 0, 0))[0, 0, 0, 0] == 0  # first of the tied 2s
    zero = np.zeros((1, 1, 1, 1), np.int16)
    one = np.ones((1, 1, 1, 1), np.uint8)
    assert gate(zero, one, (3, 3), (1, 1), (1, 1, 1, 1))[0, 0, 0, 0] == 1  # count 0 still beats padding
