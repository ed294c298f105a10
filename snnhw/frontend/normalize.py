"""Parameter normalization (paper 3.2): scale every layer so its threshold is 1.

λ^l is the p-th percentile of layer l's positive activations on calibration
data (p = 100 is the max-norm of Diehl et al. 2015); then
W^l ← W^l · λ^{l−1} / λ^l and b^l ← b^l / λ^l. Per-channel λ is an option.
Pooling and flatten layers keep their input's λ.

In a graph, λ^{l−1} is the λ of the layer a weight reads: each synapse input
of a multi-input layer (``Sum``) is scaled by λ_source / λ_out, so an identity
shortcut gets the weight λ_source / λ_out and every input's contribution is
in units of the output's λ. A layer with a Clip(0, a) activation (``cap``,
ReLU6) has λ ≤ a: its activations never exceed a, so their percentile never
does either, and the data-free bound is capped at a. Its neurons saturate at
rate 1 = λ, which is exactly the clip when λ = a and a lower clip, as robust
normalization makes for every layer, when λ < a. The normalized network keeps
the clip in its own units, a / λ (per channel with per-channel λ), so that
the normalized ANN computes the original activations divided by λ.
"""
from __future__ import annotations

import copy

import numpy as np

from snnhw.errors import DataError
from snnhw.ir import AvgPool, Conv, Dense, Flatten, MaxPool, Network, Sum, source_indices
from snnhw.reference.ann import run_ann

_WEIGHTED = (Conv, Dense, Sum)


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
    idx = [i for i, l in enumerate(net.layers) if isinstance(l, _WEIGHTED)]
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
    neuron can receive when every input is at its maximum rate 1 (at most the
    layer's Clip cap).

    Pessimistic, so the SNN fires slowly; normalization on data is better.
    """
    lambdas = {}
    scales = _source_scales(net)
    for i, layer, synapses in _weighted(net):
        pos = np.clip(layer.bias, 0, None).astype(np.float64)
        for syn, prev in zip(synapses, scales(i)):
            w = syn.weight * _input_scale_vector(syn, prev)
            pos = np.clip(w, 0, None).reshape(w.shape[0], -1).sum(axis=1) + pos
        lam = float(pos.max()) if pos.max() > 0 else 1.0
        if layer.cap is not None:
            lam = min(lam, float(layer.cap))
        lambdas[i] = lam
        scales.set(i, np.full(layer.bias.shape[0], lam))  # this layer's outputs are at most λ
    return lambdas


def normalize(net: Network, lambdas: dict) -> Network:
    """Return a copy of canonical ``net`` with weights and biases normalized by ``lambdas``."""
    out = copy.deepcopy(net)
    scales = _source_scales(out)
    for i, layer, synapses in _weighted(out):
        lam = np.broadcast_to(np.asarray(lambdas[i], dtype=np.float64), (layer.bias.shape[0],))
        for syn, prev in zip(synapses, scales(i)):
            shape = (-1,) + (1,) * (syn.weight.ndim - 1)
            syn.weight = (syn.weight * _input_scale_vector(syn, prev) / lam.reshape(shape)).astype(np.float32)
        layer.bias = (layer.bias / lam).astype(np.float32)
        if layer.cap is not None:  # the clip in units of λ: a per-channel λ gives a per-channel cap
            cap = layer.cap / np.asarray(lambdas[i], dtype=np.float64)
            layer.cap = float(cap) if cap.ndim == 0 else cap
        layer.lam = lambdas[i]
        scales.set(i, lam.copy())
    return out


class _source_scales:
    """λ of every layer's output, per channel (per feature once flattened), filled in layer order.

    Calling it with a layer index gives the λ vectors of the layer's sources;
    pools and flatten layers take their input's.
    """

    def __init__(self, net: Network):
        self.net = net
        self.sources = source_indices(net.layers)
        self.lam = {-1: np.ones(net.input_shape[0])}

    def __call__(self, i: int) -> list:
        self._fill(i)
        return [self.lam[j] for j in self.sources[i]]

    def set(self, i: int, lam: np.ndarray) -> None:
        self.lam[i] = lam

    def _fill(self, upto: int) -> None:
        for j in range(upto):
            if j in self.lam:
                continue
            layer, prev = self.net.layers[j], self.lam.get(self.sources[j][0])
            if isinstance(layer, Flatten):
                flat_3d = len(layer.in_shape) == 3
                self.lam[j] = np.repeat(prev, layer.in_shape[1] * layer.in_shape[2]) if flat_3d else prev
            elif isinstance(layer, (MaxPool, AvgPool)):
                self.lam[j] = prev
            elif not isinstance(layer, _WEIGHTED):
                raise TypeError(f"normalize needs a canonical network, found {type(layer).__name__}")


def _weighted(net: Network):
    """(index, layer, its synapse inputs) of every weight layer; a Conv/Dense is its own single input."""
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Sum):
            yield i, layer, layer.synapses
        elif isinstance(layer, (Conv, Dense)):
            yield i, layer, [layer]
        elif not isinstance(layer, (MaxPool, AvgPool, Flatten)):
            raise TypeError(f"normalize needs a canonical network, found {type(layer).__name__}")


def _input_scale_vector(layer, prev: np.ndarray) -> np.ndarray:
    """λ^{l−1} broadcast against the layer's weight (per input channel/feature)."""
    if layer.weight.ndim == 4:
        group = getattr(layer, "group", 1)
        if group == 1:
            return prev[None, :, None, None]
        # output channel o reads input channels [g·I', (g+1)·I') of its group g = o // (O/group)
        o, per_group = layer.weight.shape[:2]
        channels = (np.arange(o) // (o // group))[:, None] * per_group + np.arange(per_group)[None, :]
        return prev[channels][:, :, None, None]
    fan_in = layer.weight.shape[1]
    if len(prev) != fan_in:  # a Dense reading a (C, H, W) map directly: λ per channel, repeated per pixel
        prev = np.repeat(prev, fan_in // len(prev))
    return prev[None, :]
