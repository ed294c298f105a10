"""The front end end to end: ONNX file → canonical ANN → normalized → fixed point.

This is what the CLI commands call; each stage lives in its own module of
:mod:`snnhw.frontend`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnhw.data import to_nchw
from snnhw.errors import DataError
from snnhw.frontend.normalize import activation_lambdas, model_based_lambdas, normalize
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize
from snnhw.frontend.quantize import DEFAULT_HEADROOM, quantize, weight_error
from snnhw.ir import AvgPool, Conv, Dense, Network, QNetwork, ROLE_OUTPUT, Sum

DEFAULT_INPUT_SCALE = 1.0 / 255


@dataclass
class Compiled:
    ann: Network  # canonical float ANN
    normalized: Network  # thresholds 1, λ filled in
    lambdas: dict  # layer index -> λ (float or per-channel array)
    norm_method: str  # 'percentile p=…' or 'model-based (data-free)'
    qnet: QNetwork = None
    weight_report: list = field(default_factory=list)


def import_model(path) -> Network:
    return canonicalize(load_onnx(path))


def model_input(images_u8: np.ndarray, input_scale: float = DEFAULT_INPUT_SCALE) -> np.ndarray:
    return images_u8.astype(np.float32) * np.float32(input_scale)


def compile_model(path_or_net, calib=None, *, bits: int = 8, percentile: float = 99.9, per_channel: bool = False,
                  reset: str = "subtract", v_init: str = "zero", max_timesteps: int = 1024,
                  input_scale: float = DEFAULT_INPUT_SCALE, quantized: bool = True, calib_where: str = "calib",
                  clamp_headroom: int = DEFAULT_HEADROOM) -> Compiled:
    """Import (unless given a Network), normalize on ``calib`` uint8 images (data-free if None), quantize."""
    ann = path_or_net if isinstance(path_or_net, Network) else import_model(path_or_net)
    if calib is None:
        lambdas, method = model_based_lambdas(ann), "model-based (data-free)"
    else:
        x = to_nchw(calib, ann.input_shape, calib_where)
        if len(x) == 0:
            raise DataError(f"{calib_where}: calibration set is empty")
        lambdas = activation_lambdas(ann, model_input(x, input_scale), percentile, per_channel)
        method = f"percentile p={percentile:g}" + (" per channel" if per_channel else "")
    normalized = normalize(ann, lambdas)
    out = Compiled(ann=ann, normalized=normalized, lambdas=lambdas, norm_method=method)
    if quantized:
        out.qnet = quantize(normalized, bits, per_channel=per_channel, reset=reset, input_scale=input_scale,
                            v_init=v_init, max_timesteps=max_timesteps, clamp_headroom=clamp_headroom)
        out.qnet.meta.update(normalization=method, percentile=percentile if calib is not None else None)
        if clamp_headroom != DEFAULT_HEADROOM:  # only then: a default conversion's file stays as it was
            out.qnet.meta.update(clamp_headroom=clamp_headroom)
        out.weight_report = weight_error(normalized, out.qnet, input_scale)
    return out


def layer_table(net: Network) -> list:
    """Rows for ``snnhw inspect``: name, type, shapes, parameters, MACs per image."""
    rows = []
    for layer in net.layers:
        params = macs = 0
        if isinstance(layer, (Conv, Dense, Sum)):
            weights = [s.weight for s in layer.synapses] if isinstance(layer, Sum) else [layer.weight]
            params = sum(w.size for w in weights) + layer.bias.size
            macs = sum(int(np.prod(layer.out_shape)) * int(np.prod(w.shape[1:])) for w in weights)
        elif isinstance(layer, AvgPool):
            macs = int(np.prod(layer.out_shape)) * layer.kernel[0] * layer.kernel[1]
        kind = type(layer).__name__ + (f"[{len(layer.synapses)}]" if isinstance(layer, Sum) else "")
        cap = getattr(layer, "cap", None)
        kind += (f"+Clip(0,{cap:g})" if cap is not None and np.ndim(cap) == 0
                 else "+Clip(0,per-ch)" if cap is not None
                 else "+ReLU" if getattr(layer, "relu", False) else "")
        if getattr(layer, "group", 1) != 1:
            kind += f" group={layer.group}"
        rows.append(dict(name=layer.name, type=kind, in_shape=tuple(layer.in_shape),
                         out_shape=tuple(layer.out_shape), params=int(params), macs=int(macs)))
    return rows


def qnet_layer_table(qnet: QNetwork) -> list:
    """Rows for ``snnhw inspect FILE.snn.npz``: :func:`layer_table`'s columns, plus the threshold range and
    membrane bits of the neuron layers (``theta``, ``mem_bits``; None for the others)."""
    rows = []
    for layer in qnet.layers:
        weights = ([s.weight for s in layer.synapses] if layer.kind == "sum"
                   else [layer.weight] if layer.weight is not None else [])
        n_out = int(np.prod(layer.out_shape))
        params = sum(int(w.size) for w in weights) + (int(layer.bias.size) if layer.bias is not None else 0)
        macs = sum(n_out * int(np.prod(w.shape[1:])) for w in weights)
        if layer.kind == "avgpool":
            macs = n_out * layer.kernel[0] * layer.kernel[1]
        kind = layer.kind + (f"[{len(layer.synapses)}]" if layer.kind == "sum" else "")
        kind += f" group={layer.group}" if layer.group != 1 else ""
        kind += " (output)" if layer.role == ROLE_OUTPUT else ""
        theta = None
        if layer.threshold is not None:
            lo, hi = int(np.min(layer.threshold)), int(np.max(layer.threshold))
            theta = str(lo) if lo == hi else f"{lo}..{hi}"
        rows.append(dict(name=layer.name, type=kind, in_shape=tuple(layer.in_shape),
                         out_shape=tuple(layer.out_shape), params=params, macs=int(macs), theta=theta,
                         mem_bits=layer.mem_bits if layer.is_neuron_layer else None))
    return rows
