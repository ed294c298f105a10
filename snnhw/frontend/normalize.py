"""Parameter normalization (paper 3.2): scale every layer so its threshold is 1.

λ^l is the p-th percentile of layer l's positive activations on calibration
data (p = 100 is the max-norm of Diehl et al. 2015); then
W^l ← W^l · λ^{l−1} / λ^l and b^l ← b^l / λ^l. Per-channel λ is an option.
Pooling and flatten layers keep their input's λ.
"""
from __future__ import annotations

import copy

import numpy as np

from snnhw.errors import DataError
from snnhw.ir import AvgPool, Conv, Dense, Flatten, MaxPool, Network
from snnhw.reference.ann import run_ann


def _positive_percentile(values: np.ndarray, percentile: float) -> float:
    pos = values[values > 0]
    if pos.size == 0:
        return 1.0  # a dead layer: any scale keeps it silent
    return float(np.percentile(pos, percentile)) if percentile < 100 else float(pos.max())


def activation_lambdas(net: Network, x: np.ndarray, percentile: float = 99.9, per_channel: bool = False,
                       batch_size: int = 256) -> dict:
    """λ of every weight layer (index -> float, or per-channel array) from calibration inputs ``x``."""
    if not 0 < percentile <= 100:
        raise DataError(f"percentile must be in (0, 100], got {percentile}")
    if len(x) == 0:
        raise DataError("calibration data is empty")
    idx = [i for i, l in enumerate(net.layers) if isinstance(l, (Conv, Dense))]
    collected = {i: [] for i in idx}
    for start in range(0, len(x), batch_size):
        acts = run_ann(net, x[start:start + batch_size], return_activations=True)
        for i in idx:
            a = acts[i]
            # per channel: channel axis first, everything else flattened
            collected[i].append(np.moveaxis(a, 1, 0).reshape(a.shape[1], -1) if per_channel else a.reshape(-1))
    lambdas = {}
    output = idx[-1]  # one λ for the output layer: per-class scales would change its argmax
    for i in idx:
        if per_channel and i == output:
            lambdas[i] = _positive_percentile(np.concatenate([v.reshape(-1) for v in collected[i]]), percentile)
        elif per_channel:
            values = np.concatenate(collected[i], axis=1)
            lambdas[i] = np.array([_positive_percentile(v, percentile) for v in values])
        else:
            lambdas[i] = _positive_percentile(np.concatenate(collected[i]), percentile)
    return lambdas


def model_based_lambdas(net: Network) -> dict:
    """Data-free λ (Diehl et al. 2015's model-based bound): the largest input a
    neuron can receive when every input is at its maximum rate 1.

    Pessimistic, so the SNN fires slowly; normalization on data is better.
    """
    lambdas = {}
    prev = np.ones(net.input_shape[0])
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (Conv, Dense)):
            w = layer.weight * _input_scale_vector(layer, prev)
            pos = np.clip(w, 0, None).reshape(w.shape[0], -1).sum(axis=1) + np.clip(layer.bias, 0, None)
            lam = float(pos.max()) if pos.max() > 0 else 1.0
            lambdas[i] = lam
            prev = np.full(w.shape[0], lam)  # this layer's outputs are at most λ
        elif isinstance(layer, Flatten):
            prev = np.repeat(prev, int(np.prod(layer.in_shape[1:])) if len(layer.in_shape) == 3 else 1)
    return lambdas


def _input_scale_vector(layer, prev: np.ndarray) -> np.ndarray:
    """λ^{l−1} broadcast against the layer's weight (per input channel/feature)."""
    if isinstance(layer, Conv):
        return prev[None, :, None, None]
    fan_in = layer.weight.shape[1]
    if len(prev) != fan_in:  # a Dense reading a (C, H, W) map directly: λ per channel, repeated per pixel
        prev = np.repeat(prev, fan_in // len(prev))
    return prev[None, :]


def normalize(net: Network, lambdas: dict) -> Network:
    """Return a copy of canonical ``net`` with weights and biases normalized by ``lambdas``."""
    out = copy.deepcopy(net)
    prev = np.ones(net.input_shape[0])  # λ of the current activations, per channel/feature
    for i, layer in enumerate(out.layers):
        if isinstance(layer, (Conv, Dense)):
            lam = np.broadcast_to(np.asarray(lambdas[i], dtype=np.float64), (layer.weight.shape[0],))
            shape = (-1,) + (1,) * (layer.weight.ndim - 1)
            layer.weight = (layer.weight * _input_scale_vector(layer, prev) / lam.reshape(shape)).astype(np.float32)
            layer.bias = (layer.bias / lam).astype(np.float32)
            layer.lam = lambdas[i]
            prev = lam.copy()
        elif isinstance(layer, Flatten):
            if len(layer.in_shape) == 3:
                prev = np.repeat(prev, layer.in_shape[1] * layer.in_shape[2])
        elif not isinstance(layer, (MaxPool, AvgPool)):
            raise TypeError(f"normalize needs a canonical network, found {type(layer).__name__}")
    return out
