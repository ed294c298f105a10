"""The PyTorch convolution path (used when torch is installed) equals the NumPy path exactly
on integer data, which is what the golden model relies on."""
import numpy as np
import pytest

from conftest import require_torch
from snnhw.reference import conv


@pytest.fixture
def torch_conv(monkeypatch):
    require_torch()  # skips without torch, but fails in CI
    monkeypatch.delenv("SNNHW_CONV", raising=False)  # the torch path even where the user disabled it
    fast = conv._torch_conv()
    assert fast is not None
    return fast


@pytest.mark.parametrize("seed", range(8))
def test_integer_sums_are_identical(torch_conv, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    k, s, p = int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(0, 3))
    c, o, h = int(rng.integers(1, 33)), int(rng.integers(1, 33)), int(rng.integers(k, 20))
    x = (rng.random((3, c, h, h)) < 0.3).astype(np.float32)  # spikes
    # 16-bit weights: sums up to ~2**23, just inside float32's exact range
    w = rng.integers(-32767, 32768, (o, c, k, k)).astype(np.float32)
    assert np.abs(w).reshape(o, -1).sum(1).max() < 2 ** 24
    pads = (p, p, p + 1, p) if seed % 2 else (p, p, p, p)
    monkeypatch.setitem(conv._BACKEND, "torch", None)
    reference = conv.conv2d(x, w, (s, s), pads)
    fast = torch_conv(x, w, (s, s), pads)
    assert reference.dtype == fast.dtype and np.array_equal(reference, fast)


@pytest.mark.parametrize("seed", range(4))
def test_grouped_integer_sums_are_identical(torch_conv, seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    group = int(rng.choice([2, 3, 4]))
    c, o = group * int(rng.integers(1, 4)), group * int(rng.integers(1, 4))
    k, h = int(rng.integers(1, 4)), int(rng.integers(4, 10))
    x = (rng.random((2, c, h, h)) < 0.3).astype(np.float32)
    w = rng.integers(-32767, 32768, (o, c // group, k, k)).astype(np.float32)
    pads = (1, 0, 1, 1) if seed % 2 else (k // 2,) * 4
    monkeypatch.setitem(conv._BACKEND, "torch", None)
    reference = conv.conv2d(x, w, (1, 1), pads, group)
    # group by group, the ungrouped convolution of that group's channels
    og, cg = o // group, c // group
    for g in range(group):
        part = conv.conv2d(x[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og], (1, 1), pads)
        assert np.array_equal(reference[:, g * og:(g + 1) * og], part)
    assert np.array_equal(reference, torch_conv(x, w, (1, 1), pads, group))
