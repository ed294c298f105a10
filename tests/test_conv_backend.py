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
