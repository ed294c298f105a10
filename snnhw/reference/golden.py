"""Integer golden model of the fixed-point SNN: the reference the RTL must equal.

It implements docs/numeric_contract.md and nothing else. Membranes are held in
the narrowest of int32/int64 that the compiler's width bound fits (a narrower
array is simply faster; :func:`check_range` still catches a wrong bound);
weighted sums go through BLAS in a float type that :func:`exact_dtype` proves
exact for the layer's bound, so they hold integers and convert back without
rounding.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from snnhw.ir import ROLE_OUTPUT, QLayer, QNetwork, source_indices
from snnhw.reference.spike_ops import exact_dtype, fan_out_counts, gate, weighted_sum


@dataclass
class GoldenResult:
    potentials: np.ndarray  # (T, N, K) int64: output-layer potentials after every step
    synops: np.ndarray  # (T, L) int64: synaptic operations per step and layer, summed over the batch
    spikes: Optional[dict] = None  # layer index -> (T, N, *out_shape) uint8 output spikes

    @property
    def classes(self) -> np.ndarray:
        """(T, N) class after every step; argmax ties go to the lowest index."""
        return self.potentials.argmax(axis=-1)


def channel_view(values: np.ndarray, shape) -> np.ndarray:
    """Per-output-channel vector broadcastable against a (N, *shape) batch."""
    return values.reshape((-1,) + (1,) * (len(shape) - 1))


def initial_potential(qnet: QNetwork, layer: QLayer) -> np.ndarray:
    if qnet.v_init == "half" and layer.role != ROLE_OUTPUT:
        return layer.threshold >> 1
    return np.zeros(layer.out_shape[0], dtype=np.int64)


def synaptic_bound(layer, max_input: int) -> int:
    """Largest |weighted sum| one step can produce: proves the float path exact.

    ``layer`` is a neuron layer or one synapse input (``ir.Synapses``); a
    ``sum`` layer's bound is the sum of its synapse inputs' bounds.
    """
    if layer.kind == "avgpool":
        return layer.kernel[0] * layer.kernel[1] * max_input
    if layer.kind == "sum":
        return sum(synaptic_bound(syn, max_input) for syn in layer.synapses)
    w = np.abs(layer.weight).reshape(layer.weight.shape[0], -1)
    return int(w.sum(axis=1).max()) * max_input


def membrane_dtype(layer: QLayer) -> type:
    """int32 when no single update can wrap it, else int64.

    The bound uses the synaptic and bias maxima from the weights, not the
    compiler's width alone, so a wrong width shows up in :func:`check_range`
    instead of being hidden by wrap-around.
    """
    max_input = 255 if layer.analog_input else 1
    bias = int(np.abs(layer.bias).max()) if layer.bias is not None and layer.bias.size else 0
    bound = 2 ** (layer.mem_bits - 1) + synaptic_bound(layer, max_input) + bias
    return np.int32 if bound < 2**31 else np.int64


def integer_sum(layer: QLayer, s: np.ndarray, max_input: int, out_dtype=np.int64) -> np.ndarray:
    """Exact integer weighted sum (the float sum already holds an exact integer)."""
    dtype = exact_dtype(synaptic_bound(layer, max_input))
    return weighted_sum(layer.kind, layer, s, dtype).astype(out_dtype)


def spike_counter_dtype(timesteps: int):
    """Max-pool rate counters count to ``timesteps``; the gate pads with -1, so signed."""
    return np.int16 if timesteps < 2**15 else np.int32


def check_range(layer: QLayer, v: np.ndarray) -> None:
    lim = 1 << (layer.mem_bits - 1)
    if v.size and (v.min() < -lim or v.max() >= lim):
        raise OverflowError(
            f"layer {layer.name}: membrane value outside its {layer.mem_bits}-bit range "
            f"[{v.min()}, {v.max()}]: the compiler's width bound is wrong"
        )


def _fan_outs(layer: QLayer) -> list:
    """Synapses driven per input neuron, one array per synapse input (for synaptic-operation counts)."""
    if layer.kind == "sum":
        return [fan_out_counts(syn.kind, syn, syn.in_shape) for syn in layer.synapses]
    return [fan_out_counts(layer.kind, layer, layer.in_shape)]


def _synapse_inputs(layer: QLayer) -> tuple:
    """What feeds a neuron layer's synapses, in the order of its sources: the layer itself or its ``synapses``."""
    return tuple(layer.synapses) if layer.kind == "sum" else (layer,)


def run_golden(qnet: QNetwork, images: np.ndarray, timesteps: int, record_spikes: bool = False) -> GoldenResult:
    """Simulate ``images`` (uint8, (N, C, H, W)) for ``timesteps`` steps.

    Layers run in list order (a topological order); each reads its sources'
    spikes of the same step, and a neuron layer with several synapse inputs
    integrates all of them before its fire phase.
    """
    if images.dtype != np.uint8:
        raise TypeError("golden model input must be uint8 pixels")
    n = images.shape[0]
    layers = qnet.layers
    sources = source_indices(layers)
    membrane = {}
    counters = {}
    for i, layer in enumerate(layers):
        if layer.is_neuron_layer:
            v0 = channel_view(initial_potential(qnet, layer), layer.out_shape)
            membrane[i] = np.broadcast_to(v0, (n, *layer.out_shape)).astype(membrane_dtype(layer))
        elif layer.kind == "maxpool":
            counters[i] = np.zeros((n, *layer.in_shape), dtype=spike_counter_dtype(timesteps))

    current = {i: (integer_sum(l, images, 255) + channel_view(l.bias, l.out_shape)).astype(membrane[i].dtype)
               for i, l in enumerate(layers) if l.analog_input}
    fan_out = {i: _fan_outs(l) for i, l in enumerate(layers) if l.is_neuron_layer and not l.analog_input}

    potentials = np.zeros((timesteps, n, qnet.num_classes), dtype=np.int64)
    synops = np.zeros((timesteps, len(layers)), dtype=np.int64)
    spikes = {i: np.zeros((timesteps, n, *l.out_shape), dtype=np.uint8)
              for i, l in enumerate(layers) if l.role != ROLE_OUTPUT} if record_spikes else None

    for t in range(timesteps):
        out = {}  # layer index -> its spikes of step t (the output layer: None)
        for i, layer in enumerate(layers):
            s_in = out.get(sources[i][0])
            if layer.kind == "flatten":
                s = None if s_in is None else s_in.reshape(n, -1)
            elif layer.kind == "maxpool":
                counters[i] += s_in
                s = gate(counters[i], s_in, layer.kernel, layer.stride, layer.pads)
            else:
                v = membrane[i]
                if layer.analog_input:
                    v += current[i]
                else:
                    for j, syn, fan in zip(sources[i], _synapse_inputs(layer), fan_out[i]):
                        synops[t, i] += out[j].reshape(n, -1).sum(axis=0, dtype=np.int64) @ fan
                        v += integer_sum(syn, out[j], 1, v.dtype)
                    check_range(layer, v)
                    v += channel_view(layer.bias, layer.out_shape).astype(v.dtype)
                check_range(layer, v)
                if layer.role == ROLE_OUTPUT:
                    potentials[t] = v.reshape(n, -1)
                    out[i] = None
                    continue
                theta = channel_view(layer.threshold, layer.out_shape)
                fired = v >= theta
                if qnet.reset == "subtract":
                    np.subtract(v, theta.astype(v.dtype), out=v, where=fired)
                else:
                    v[fired] = 0
                np.clip(v, layer.vmin, layer.vmax, out=v)
                s = fired.astype(np.uint8)
            out[i] = s
            if spikes is not None and i in spikes and s is not None:
                spikes[i][t] = s.reshape(n, *layer.out_shape)
    return GoldenResult(potentials=potentials, synops=synops, spikes=spikes)
