"""Batched operations on spike maps that the float and integer simulators share.

Every function is exact for integer-valued inputs as long as the results stay
below 2**24 (float32) or 2**53 (float64): :func:`exact_dtype` picks the
narrower type that is still exact, so BLAS can be used for integer sums.
"""
from __future__ import annotations

import numpy as np

from snnhw.reference.conv import conv2d, pad_nchw, pool_windows


def exact_dtype(bound: float):
    """Float dtype in which every integer of magnitude <= bound is exact."""
    if bound < 2**24:
        return np.float32
    if bound < 2**53:
        return np.float64
    raise OverflowError(f"sum bound {bound:.3g} exceeds float64's exact integer range")


def windows(x: np.ndarray, kernel, stride, pads, pad_value=0) -> np.ndarray:
    """(N, C, H, W) -> (N, C, Ho, Wo, kh*kw), windows in row-major (ky, kx) order."""
    v = pool_windows(x, kernel, stride, pads, pad_value)
    return v.reshape(*v.shape[:4], kernel[0] * kernel[1])


def weighted_sum(kind: str, layer, s: np.ndarray, dtype) -> np.ndarray:
    """Synaptic input of a neuron layer (or of one synapse input, ``ir.Synapses``) for a batch of input maps ``s``.

    ``layer`` needs ``weight`` (conv/dense), ``stride``/``pads``/``group`` (conv) or
    ``kernel``/``stride``/``pads`` (avgpool, every synapse weighs 1).
    """
    n = s.shape[0]
    if kind == "conv":
        return conv2d(s.astype(dtype, copy=False), layer.weight.astype(dtype, copy=False), layer.stride, layer.pads,
                      getattr(layer, "group", 1))
    if kind == "dense":
        return s.reshape(n, -1).astype(dtype, copy=False) @ layer.weight.astype(dtype, copy=False).T
    if kind == "avgpool":
        return window_sum(s, layer.kernel, layer.stride, layer.pads, dtype)
    raise ValueError(f"not a neuron layer: {kind}")


def _offset_slices(x: np.ndarray, kernel, stride, pads, pad_value):
    """Yield, in row-major (ky, kx) order, the (N, C, Ho, Wo) view of every window position."""
    kh, kw = kernel
    sh, sw = stride
    xp = pad_nchw(x, pads, pad_value)
    ho = (xp.shape[2] - kh) // sh + 1
    wo = (xp.shape[3] - kw) // sw + 1
    for ky in range(kh):
        for kx in range(kw):
            yield xp[:, :, ky:ky + sh * (ho - 1) + 1:sh, kx:kx + sw * (wo - 1) + 1:sw]


def window_sum(x: np.ndarray, kernel, stride, pads, dtype) -> np.ndarray:
    """Sum over every window (zero padding): average pooling without the division."""
    total = None
    for view in _offset_slices(x, kernel, stride, pads, 0):
        total = view.astype(dtype) if total is None else total + view
    return total


def gate(rate: np.ndarray, s: np.ndarray, kernel, stride, pads) -> np.ndarray:
    """Spiking max-pool: per window, the spike of the input with the highest rate estimate.

    Rates are never negative, so padded positions are never chosen; ties go to
    the first position in row-major window order. Integer rates (spike
    counts) take the fast path of :func:`gate_counts`, float rates (EWMA)
    are compared position by position.
    """
    if np.issubdtype(rate.dtype, np.integer):
        return gate_counts(rate, s, kernel, stride, pads)
    best = out = None
    for r, spk in zip(_offset_slices(rate, kernel, stride, pads, -1), _offset_slices(s, kernel, stride, pads, 0)):
        if best is None:
            best, out = r.copy(), spk.copy()
            continue
        better = r > best  # strict: the first of equal rates stays
        np.copyto(best, r, where=better)
        np.copyto(out, spk, where=better)
    return out


def gate_counts(counts: np.ndarray, s: np.ndarray, kernel, stride, pads) -> np.ndarray:
    """:func:`gate` for spike counts as one running maximum over a packed key.

    key = (count * k + (k - 1 - position)) * 2 + spike, with k positions per
    window, orders candidates by count, then by earlier position, and carries
    the spike in its lowest bit: the window's largest key is the winner and
    ``key & 1`` its spike. A maximum is several times faster than
    compare-and-select. Padding gets a key below every real one.

    ``counts`` are integers, in an integer dtype or in a float dtype (with
    float spikes ``s`` of the same dtype: the float simulator's path, which
    avoids float-to-integer casts over whole maps). A float key is exact
    while it stays below 2**24 (float32) or 2**53 (float64): the caller keeps
    ``(max count + 1) * 2k`` under that bound (:func:`exact_dtype`).
    """
    k = kernel[0] * kernel[1]
    if np.issubdtype(counts.dtype, np.floating):
        key = counts * counts.dtype.type(2 * k)
        key += s
        bonus = counts.dtype.type
    else:
        wide = (int(np.iinfo(counts.dtype).max) + 1) * 2 * k >= 2**31
        key = counts.astype(np.int64 if wide else np.int32) * (2 * k)
        np.add(key, s, out=key, casting="unsafe")
        bonus = int
    best = None
    for position, view in enumerate(_offset_slices(key, kernel, stride, pads, -2 * k)):
        candidate = view + bonus(2 * (k - 1 - position))
        best = candidate if best is None else np.maximum(best, candidate, out=best)
    if np.issubdtype(best.dtype, np.floating):
        best = best.astype(np.int64 if best.dtype == np.float64 else np.int32)
    return (best & 1).astype(s.dtype)


def fan_out_counts(kind: str, layer, in_shape) -> np.ndarray:
    """Number of synapses each input neuron drives (for synaptic-operation counts)."""
    if kind == "dense":
        return np.full(int(np.prod(in_shape)), layer.weight.shape[0], dtype=np.int64)
    # transpose of the layer's connectivity: count output neurons reading each input
    if kind == "conv":
        o, _, kh, kw = layer.weight.shape
        kernel, stride, pads = (kh, kw), layer.stride, layer.pads
        per_channel_out = o // getattr(layer, "group", 1)  # an input channel feeds its group's outputs only
    else:  # avgpool: each input feeds only its own channel
        kernel, stride, pads = layer.kernel, layer.stride, layer.pads
        per_channel_out = 1
    c, h, w = in_shape
    idx = np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w)
    win = windows(np.broadcast_to(idx, (1, 1, h, w)), kernel, stride, pads, pad_value=-1)
    flat = win.reshape(-1).astype(np.int64)
    counts = np.bincount(flat[flat >= 0], minlength=h * w)
    return np.tile(counts * per_channel_out, c)
