"""Sliding-window arithmetic shared by every simulator: convolution and pooling.

All functions work on NCHW batches and are vectorized over the batch. Pads are
``(top, left, bottom, right)``, the order of ``ir.Conv.pads`` (and of ONNX's
``[x1_begin, x2_begin, x1_end, x2_end]`` for 2-D).

The float ANN executor, the float SNN and the integer golden model all use
:func:`conv2d`, so one im2col implementation defines what a convolution is.
"""
from __future__ import annotations

import os

import numpy as np


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------
def output_hw(in_hw, kernel, stride, pads, ceil_mode: bool = False) -> tuple:
    """Output (H, W) of a window op; ONNX's formula, floor unless ``ceil_mode``."""
    out = []
    for size, k, s, before, after in zip(in_hw, kernel, stride, pads[:2], pads[2:]):
        span = size + before + after - k
        if ceil_mode:
            n = -(-span // s) + 1
            # ONNX/PyTorch: the last window must start inside the input or left pad.
            if (n - 1) * s >= size + before:
                n -= 1
        else:
            n = span // s + 1
        out.append(n)
    return tuple(out)


def same_pads(in_hw, kernel, stride, upper: bool = True) -> tuple:
    """Pads of ONNX ``auto_pad=SAME_UPPER`` (odd extra at the end) or ``SAME_LOWER``."""
    before, after = [], []
    for size, k, s in zip(in_hw, kernel, stride):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        small, large = total // 2, total - total // 2
        before.append(small if upper else large)
        after.append(large if upper else small)
    return (before[0], before[1], after[0], after[1])


# --------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------
def pad_nchw(x: np.ndarray, pads, value=0) -> np.ndarray:
    """``x`` with ``pads = (top, left, bottom, right)`` of ``value`` around H and W."""
    t, l, b, r = pads
    if not (t or l or b or r):
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), mode="constant", constant_values=value)


def window_views(x: np.ndarray, kernel, stride, pads=(0, 0, 0, 0), pad_value=0):
    """Yield ((ky, kx), view): for each kernel offset, the (N, C, Ho, Wo) strided
    view of the padded input holding that offset's element of every window.

    Reducing over kh*kw such views is much faster than reducing a 6-D
    window view, whose innermost axes are strided.
    """
    kh, kw = kernel
    sh, sw = stride
    ho, wo = output_hw(x.shape[2:], kernel, stride, pads)
    xp = pad_nchw(x, pads, pad_value)
    for ky in range(kh):
        for kx in range(kw):
            yield (ky, kx), xp[:, :, ky:ky + sh * (ho - 1) + 1:sh, kx:kx + sw * (wo - 1) + 1:sw]


def pool_windows(x: np.ndarray, kernel, stride, pads=(0, 0, 0, 0), pad_value=0) -> np.ndarray:
    """Every window of ``x``: a read-only view of shape (N, C, Ho, Wo, kh, kw)."""
    kh, kw = kernel
    sh, sw = stride
    xp = pad_nchw(x, pads, pad_value)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return windows[:, :, ::sh, ::sw]


def _lowest(dtype) -> object:
    """The value a max-pool pads with: never selected."""
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    if dtype == np.bool_:
        return False
    return np.iinfo(dtype).min


def max_pool2d(x: np.ndarray, kernel, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Max pooling; padded positions never win (as in ONNX)."""
    out = None
    for _, view in window_views(x, kernel, stride, pads, _lowest(x.dtype)):
        out = view.copy() if out is None else np.maximum(out, view, out=out)
    return out


def avg_pool2d(x: np.ndarray, kernel, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Average pooling with divisor kh*kw: zero padding counts (``ir.AvgPool``)."""
    total = None
    for _, view in window_views(x, kernel, stride, pads, 0):
        total = view.copy() if total is None else np.add(total, view, out=total)
    return total / x.dtype.type(kernel[0] * kernel[1])


# --------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------
def im2col(x: np.ndarray, kernel, stride, pads=(0, 0, 0, 0)) -> np.ndarray:
    """Patches of ``x`` as columns: (C*kh*kw, N*Ho*Wo).

    Rows are in (c, ky, kx) order, the order of ``w.reshape(O, -1)``; columns
    in (n, y, x) order. One column per output position of the whole batch
    makes the convolution a single large matrix product, which BLAS runs far
    better than one small product per image.
    """
    n, c = x.shape[:2]
    kh, kw = kernel
    ho, wo = output_hw(x.shape[2:], kernel, stride, pads)
    cols = np.empty((c, kh, kw, n, ho, wo), x.dtype)
    for (ky, kx), view in window_views(x, kernel, stride, pads, 0):
        cols[:, ky, kx] = view.transpose(1, 0, 2, 3)
    return cols.reshape(c * kh * kw, n * ho * wo)


def _torch_conv():
    """PyTorch's CPU convolution when torch is installed and not disabled, else None.

    It is several times faster than im2col + BLAS. For the golden model it is
    still exact: its inputs are integers held in a float type whose every
    partial sum ``spike_ops.exact_dtype`` proved exact, and oneDNN's direct and
    GEMM algorithms only multiply and add them (no Winograd/FFT transforms),
    so any summation order gives the same integers
    (tests/test_conv_backend.py checks it against the NumPy path).
    ``SNNHW_CONV=numpy`` forces the NumPy path.
    """
    if os.environ.get("SNNHW_CONV", "auto") == "numpy":
        return None
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None

    def conv(x, w, stride, pads, group=1):
        top, left, bottom, right = pads
        xt = torch.from_numpy(np.ascontiguousarray(x))
        if (top, left) != (bottom, right):
            xt, padding = F.pad(xt, (left, right, top, bottom)), (0, 0)
        else:
            padding = (top, left)
        with torch.no_grad():
            return F.conv2d(xt, torch.from_numpy(np.ascontiguousarray(w)), stride=tuple(stride),
                            padding=padding, groups=group).numpy()

    return conv


_BACKEND = {}


def conv_backend():
    if "torch" not in _BACKEND:
        _BACKEND["torch"] = _torch_conv()
    return _BACKEND["torch"]


def conv2d(x: np.ndarray, w: np.ndarray, stride=(1, 1), pads=(0, 0, 0, 0), group: int = 1) -> np.ndarray:
    """Cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C/group, kh, kw), no bias.

    With ``group`` g, input channels [k·C/g, (k+1)·C/g) feed only output
    channels [k·O/g, (k+1)·O/g) (ONNX/PyTorch grouped convolution).
    Returns (N, O, Ho, Wo) in the dtype of ``x`` (the weights are cast to it:
    integer inputs give exact integer sums). A boolean ``x`` (spikes) is
    computed in the weights' dtype. Float inputs go to PyTorch when it is
    installed (:func:`_torch_conv`), otherwise to im2col and one matrix product
    per group.
    """
    if x.dtype == np.bool_:
        x = x.astype(w.dtype)
    n, c = x.shape[:2]
    o, wc, kh, kw = w.shape
    if wc * group != c or o % group:
        raise ValueError(f"conv2d: input has {c} channels, weights expect {wc} x {group} groups for {o} outputs")
    fast = conv_backend()
    if fast is not None and x.dtype in (np.float32, np.float64):
        return fast(x, w.astype(x.dtype, copy=False), stride, pads, group)
    ho, wo = output_hw(x.shape[2:], (kh, kw), stride, pads)
    og = o // group
    parts = [w[g * og:(g + 1) * og].reshape(og, wc * kh * kw).astype(x.dtype, copy=False)
             @ im2col(x[:, g * wc:(g + 1) * wc], (kh, kw), stride, pads) for g in range(group)]
    out = parts[0] if group == 1 else np.concatenate(parts)
    return np.ascontiguousarray(out.reshape(o, n, ho, wo).transpose(1, 0, 2, 3))
