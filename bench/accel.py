"""Run-time acceleration of snnhw's simulators for the long accuracy runs (bench only).

``enable()`` swaps, for this process only, the hot spot of the library's
numpy simulators for a faster equivalent with identical semantics:
``conv2d`` (im2col + one matmul) → ``torch.nn.functional.conv2d``. The
float simulators sum in float32 either way (only the summation order
differs); the golden model calls it only with integer data in a float type
that ``exact_dtype`` proved exact, so every order gives the same integer.

Nothing in ``snnhw/`` is edited. ``tests/test_bench_quick.py`` checks that the
golden model's potentials are bit-identical with and without it, and
``bench/speed.py`` times the library's own unpatched path.
"""
from __future__ import annotations

import importlib

import numpy as np

_ENABLED = False
_SAVED = []  # (module, attribute, original) to undo enable()


def _fast_conv(original):
    import torch
    import torch.nn.functional as F

    def conv2d(x, w, stride=(1, 1), pads=(0, 0, 0, 0)):
        if x.dtype == np.bool_:
            x = x.astype(w.dtype)
        if x.dtype not in (np.float32, np.float64):
            return original(x, w, stride, pads)
        t, l, b, r = pads
        xt = torch.from_numpy(np.ascontiguousarray(x))
        padding = (t, l)
        if t != b or l != r:
            xt = F.pad(xt, (l, r, t, b))
            padding = (0, 0)
        wt = torch.from_numpy(np.ascontiguousarray(w.astype(x.dtype, copy=False)))
        with torch.no_grad():
            return F.conv2d(xt, wt, stride=tuple(stride), padding=padding).numpy()

    return conv2d


def enable() -> None:
    global _ENABLED
    if _ENABLED:
        return
    conv_mod = importlib.import_module("snnhw.frontend.conv")
    ops = importlib.import_module("snnhw.frontend.spike_ops")
    conv = _fast_conv(conv_mod.conv2d)
    for name in ("snnhw.frontend.conv", "snnhw.frontend.spike_ops", "snnhw.frontend.ann",
                 "snnhw.frontend.float_snn", "snnhw.frontend.golden"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        for attr, new in (("conv2d", conv),):
            if getattr(mod, attr, None) is conv_mod.conv2d:
                _SAVED.append((mod, attr, getattr(mod, attr)))
                setattr(mod, attr, new)
    _ENABLED = True


def disable() -> None:
    """Restore the library's own functions."""
    global _ENABLED
    while _SAVED:
        mod, attr, original = _SAVED.pop()
        setattr(mod, attr, original)
    _ENABLED = False


def enabled() -> bool:
    return _ENABLED
