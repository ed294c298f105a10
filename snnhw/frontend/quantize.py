"""Quantization of a normalized network into the fixed-point SNN (QNetwork).

See docs/numeric_contract.md, "Quantization": symmetric ``bits``-bit weights
with a per-layer (or per-output-channel) scale that the integer threshold
absorbs; bias, clamp and membrane widths follow from exact bounds. The
synapse inputs of a multi-input layer (``Sum``) share its neurons, so they
share one scale (per layer or per output channel), the largest any of them
needs.
"""
from __future__ import annotations

import numpy as np

from snnhw.errors import FitError, OptionError
from snnhw.ir import (INPUT, ROLE_OUTPUT, ROLE_SPIKING, AvgPool, Conv, Dense, Flatten, MaxPool, Network, QLayer,
                      QNetwork, Sum, Synapses, layer_sources)

MIN_BITS, MAX_BITS = 2, 16
MAX_MEM_BITS = 48  # widest membrane the golden model and RTL accept


def signed_bits(lo: int, hi: int) -> int:
    """Width of the smallest two's-complement type holding [lo, hi]."""
    return max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1


def _scales(w: np.ndarray, qmax: int, per_channel: bool) -> np.ndarray:
    mags = np.abs(w).reshape(w.shape[0], -1).max(axis=1) if per_channel else np.full(w.shape[0], np.abs(w).max())
    return np.where(mags > 0, mags / qmax, 1.0 / qmax)


def _weight_rows(q: QLayer) -> list:
    """Per synapse input, its integer weights as (O, fan-in) rows (avgpool: one row of ones)."""
    if q.kind == "sum":
        return [syn.weight.reshape(syn.weight.shape[0], -1) for syn in q.synapses]
    if q.weight is not None:
        return [q.weight.reshape(q.weight.shape[0], -1)]
    return [np.ones((1, q.kernel[0] * q.kernel[1]), dtype=np.int64)]


def _membrane_bits(q: QLayer, max_input: int, max_timesteps: int) -> int:
    rows = _weight_rows(q)  # one step integrates every synapse input: their sums add
    pos = sum(np.clip(w, 0, None).sum(axis=1) for w in rows) * max_input
    neg = sum(np.clip(-w, 0, None).sum(axis=1) for w in rows) * max_input
    b = q.bias
    if q.analog_input:  # the bias is part of the per-step current
        step_lo, step_hi = min(0, int((b - neg).min())), max(0, int((b + pos).max()))
    else:
        step_lo = -int(neg.max()) - max(0, -int(b.min()))
        step_hi = int(pos.max()) + max(0, int(b.max()))
    if q.role == ROLE_OUTPUT:
        lo, hi = max_timesteps * step_lo, max_timesteps * step_hi
    else:
        lo, hi = q.vmin + step_lo, q.vmax + step_hi
    return signed_bits(lo, hi)


MIN_HEADROOM, MAX_HEADROOM = 1, 16
DEFAULT_HEADROOM = 1


def _clamp_bounds(threshold: np.ndarray, headroom: int = DEFAULT_HEADROOM) -> tuple:
    """[vmin, vmax] = [−2^(k+h), 2^(k+h) − 1], k = bit_length(max θ): at least 2^h·θ either side."""
    k = int(threshold.max()).bit_length() + headroom
    return -(1 << k), (1 << k) - 1


def _finish(q: QLayer, max_input: int, max_timesteps: int, headroom: int = DEFAULT_HEADROOM) -> QLayer:
    if q.role != ROLE_OUTPUT:
        q.vmin, q.vmax = _clamp_bounds(q.threshold, headroom)
    q.bias_bits = max(2, signed_bits(int(q.bias.min()), int(q.bias.max())))
    q.mem_bits = _membrane_bits(q, max_input, max_timesteps)
    if q.mem_bits > MAX_MEM_BITS:
        raise FitError(f"layer {q.name}: membrane needs {q.mem_bits} bits (> {MAX_MEM_BITS}); "
                       f"use fewer --bits or fewer time steps")
    return q


def quantize(net: Network, bits: int = 8, per_channel: bool = False, reset: str = "subtract",
             input_scale: float = 1.0 / 255, v_init: str = "zero", max_timesteps: int = 1024,
             clamp_headroom: int = DEFAULT_HEADROOM) -> QNetwork:
    """Turn a normalized canonical network into a QNetwork (one QLayer per layer, same order and edges).

    ``clamp_headroom`` h sets the membrane clamp of the spiking layers to at least 2^h·θ either side
    (docs/numeric_contract.md); a layer whose one-step input can exceed that loses charge at the clamp.
    """
    if not MIN_BITS <= bits <= MAX_BITS:
        raise OptionError(f"--bits must be in {MIN_BITS}..{MAX_BITS}, got {bits}")
    if not MIN_HEADROOM <= clamp_headroom <= MAX_HEADROOM:
        raise OptionError(f"--clamp-headroom must be in {MIN_HEADROOM}..{MAX_HEADROOM}, got {clamp_headroom}")
    if reset not in ("subtract", "zero"):
        raise OptionError(f"--reset must be 'subtract' or 'zero', got {reset!r}")
    if v_init not in ("zero", "half"):
        raise OptionError(f"v_init must be 'zero' or 'half', got {v_init!r}")
    qmax = (1 << (bits - 1)) - 1
    last_weight = max(i for i, l in enumerate(net.layers) if isinstance(l, (Conv, Dense, Sum)))
    layers = []
    for i, layer in enumerate(net.layers):
        common = dict(name=layer.name, in_shape=tuple(layer.in_shape), out_shape=tuple(layer.out_shape),
                      inputs=tuple(layer.inputs))
        reads_image = layer_sources(net.layers, i) == (INPUT,)
        if isinstance(layer, (Conv, Dense)):
            analog = reads_image
            w = layer.weight.astype(np.float64) * (input_scale if analog else 1.0)
            # the output layer keeps one scale: per-class scales would change its argmax
            scale = _scales(w, qmax, per_channel and i != last_weight)
            sv = scale.reshape((-1,) + (1,) * (w.ndim - 1))
            q = QLayer(
                kind="conv" if isinstance(layer, Conv) else "dense", **common,
                role=ROLE_OUTPUT if i == last_weight else ROLE_SPIKING, analog_input=analog,
                weight=np.clip(np.rint(w / sv), -qmax, qmax).astype(np.int64),
                bias=np.rint(layer.bias.astype(np.float64) / scale).astype(np.int64),
                threshold=np.maximum(1, np.rint(1.0 / scale)).astype(np.int64),
                stride=tuple(getattr(layer, "stride", (1, 1))), pads=tuple(getattr(layer, "pads", (0, 0, 0, 0))),
                kernel=tuple(layer.weight.shape[2:]) if isinstance(layer, Conv) else (1, 1),
                weight_bits=bits, scale=scale, lam=layer.lam if layer.lam is not None else 1.0,
                group=getattr(layer, "group", 1),
            )
            layers.append(_finish(q, 255 if analog else 1, max_timesteps, clamp_headroom))
        elif isinstance(layer, Sum):
            if INPUT in layer.inputs:
                raise FitError(f"layer {layer.name}: a multi-input layer cannot read the network input")
            q = _quantize_sum(layer, common, qmax, per_channel and i != last_weight, bits)
            q.role = ROLE_OUTPUT if i == last_weight else ROLE_SPIKING
            layers.append(_finish(q, 1, max_timesteps, clamp_headroom))
        elif isinstance(layer, AvgPool):
            if reads_image:
                raise FitError(f"layer {layer.name}: a pooling layer cannot be the first layer")
            k = layer.kernel[0] * layer.kernel[1]
            c = layer.out_shape[0]
            q = QLayer(kind="avgpool", **common, kernel=tuple(layer.kernel), stride=tuple(layer.stride),
                       pads=tuple(layer.pads), bias=np.zeros(c, np.int64), threshold=np.full(c, k, np.int64),
                       weight_bits=1, scale=np.full(c, 1.0 / k))
            layers.append(_finish(q, 1, max_timesteps, clamp_headroom))
        elif isinstance(layer, MaxPool):
            if reads_image:
                raise FitError(f"layer {layer.name}: a pooling layer cannot be the first layer")
            layers.append(QLayer(kind="maxpool", **common, kernel=tuple(layer.kernel), stride=tuple(layer.stride),
                                 pads=tuple(layer.pads)))
        elif isinstance(layer, Flatten):
            layers.append(QLayer(kind="flatten", **common))
        else:
            raise TypeError(f"quantize needs a canonical network, found {type(layer).__name__}")
    return QNetwork(layers=layers, input_shape=tuple(net.input_shape), bits=bits, reset=reset,
                    input_scale=input_scale, source=net.source, v_init=v_init, max_timesteps=max_timesteps)


def _quantize_sum(layer: Sum, common: dict, qmax: int, per_channel: bool, bits: int) -> QLayer:
    """A multi-input layer: every synapse input on the one scale its neurons' threshold absorbs."""
    weights = [syn.weight.astype(np.float64) for syn in layer.synapses]
    o = layer.bias.shape[0]
    mags = np.max([np.abs(w).reshape(o, -1).max(axis=1) for w in weights], axis=0)
    if not per_channel:
        mags = np.full(o, mags.max())
    scale = np.where(mags > 0, mags / qmax, 1.0 / qmax)
    synapses = []
    for syn, w in zip(layer.synapses, weights):
        sv = scale.reshape((-1,) + (1,) * (w.ndim - 1))
        synapses.append(Synapses(syn.source, np.clip(np.rint(w / sv), -qmax, qmax).astype(np.int64),
                                 tuple(syn.stride), tuple(syn.pads), int(syn.group), tuple(syn.in_shape)))
    return QLayer(kind="sum", **dict(common, in_shape=()), synapses=tuple(synapses),
                  bias=np.rint(layer.bias.astype(np.float64) / scale).astype(np.int64),
                  threshold=np.maximum(1, np.rint(1.0 / scale)).astype(np.int64),
                  weight_bits=bits, scale=scale, lam=layer.lam if layer.lam is not None else 1.0)


def weight_error(net: Network, qnet: QNetwork, input_scale: float = 1.0 / 255) -> list:
    """Per weight layer: relative RMS error of the dequantized weights (of all its synapse inputs together)."""
    rows = []
    qlayers = {q.name: q for q in qnet.layers if q.kind in ("conv", "dense", "sum")}
    for layer in (l for l in net.layers if isinstance(l, (Conv, Dense, Sum))):
        q = qlayers[layer.name]
        pairs = zip(layer.synapses, q.synapses) if isinstance(layer, Sum) else [(layer, q)]
        err = ref = 0.0
        for float_layer, int_layer in pairs:
            w = float_layer.weight.astype(np.float64) * (input_scale if q.analog_input else 1.0)
            deq = int_layer.weight * q.scale.reshape((-1,) + (1,) * (w.ndim - 1))
            err += float(np.sum((deq - w) ** 2))
            ref += float(np.sum(w ** 2))
        size = sum(s.weight.size for s in q.synapses) if q.kind == "sum" else q.weight.size
        rel = float(np.sqrt(err / size) / max(np.sqrt(ref / size), 1e-30))
        rows.append(dict(layer=layer.name, weight_rel_rms=rel, theta_min=int(q.threshold.min()),
                         theta_max=int(q.threshold.max()), mem_bits=q.mem_bits, bias_bits=q.bias_bits))
    return rows
