"""NumPy float executor of an ir.Network (the ANN), vectorized over a batch.

It runs any Network, canonical or not (BatchNorm, Relu, Softmax, Identity,
Add and Concat included), so it checks the importer against onnxruntime
before the passes and the passes against the importer after. Normalization
uses its per-layer activations (``return_activations=True``).
"""
from __future__ import annotations

import numpy as np

from snnhw import ir
from snnhw.errors import DataError
from snnhw.reference.conv import avg_pool2d, conv2d, max_pool2d


def run_ann(net: ir.Network, x: np.ndarray, return_activations: bool = False, batch_size: int = 64):
    """Run ``net`` on a batch ``x`` of shape (N, *net.input_shape) (model input, already scaled).

    Returns the network output (N, *net.output_shape); with
    ``return_activations`` the list of every layer's output instead, one
    array per entry of ``net.layers``. The batch is processed ``batch_size``
    images at a time to bound the memory of im2col.
    """
    x = _check_input(net, x)
    chunks = []
    for start in range(0, max(len(x), 1), batch_size):
        chunks.append(forward(net.layers, x[start:start + batch_size], keep_all=return_activations))
    if not return_activations:
        return np.concatenate([c[-1] for c in chunks])
    return [np.concatenate([c[i] for c in chunks]) for i in range(len(net.layers))]


def forward(layers: list, x: np.ndarray, keep_all: bool = False) -> list:
    """Outputs of ``layers`` (in topological order, edges as in ``ir``) on ``x``: every one, or just the last."""
    sources = ir.source_indices(layers)
    last_read = {}
    for i, srcs in enumerate(sources):
        for j in srcs:
            last_read[j] = i
    values = {-1: x}
    for i, layer in enumerate(layers):
        values[i] = apply_layer(layer, *(values[j] for j in sources[i]))
        if not keep_all:  # drop what no later layer reads
            for j in set(sources[i]):
                if last_read[j] == i:
                    del values[j]
    return [values[i] for i in range(len(layers))] if keep_all else [values[len(layers) - 1]]


def apply_layer(layer, *inputs: np.ndarray) -> np.ndarray:
    """One layer on a batch (one array per source); computed in the dtype of the inputs."""
    try:
        fn = _LAYER_FUNCTIONS[type(layer)]
    except KeyError:
        raise TypeError(f"run_ann: no executor for layer type {type(layer).__name__}") from None
    return fn(layer, *inputs)


def _check_input(net: ir.Network, x) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    if tuple(x.shape[1:]) != tuple(net.input_shape):
        raise DataError(
            f"input batch has shape {x.shape}; the network expects (N, {', '.join(map(str, net.input_shape))})"
        )
    return x


def _cast(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype(x.dtype, copy=False)


def _flat(x: np.ndarray) -> np.ndarray:
    """(N, ...) -> (N, features) in C-H-W order (also for an empty batch)."""
    return x.reshape(len(x), int(np.prod(x.shape[1:])))


def _activation(layer, y: np.ndarray) -> np.ndarray:
    """ReLU if the layer has one, then its Clip(0, cap) (a normalized network's cap may be per channel)."""
    if layer.relu:
        np.maximum(y, 0, out=y)
        if layer.cap is not None:
            np.minimum(y, _channel_bias(layer.cap, y) if np.ndim(layer.cap) else y.dtype.type(layer.cap), out=y)
    return y


def _channel_bias(bias: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _cast(bias, y).reshape((-1,) + (1,) * (y.ndim - 2))


def _synapses(syn, x):
    """One synapse input (a conv or dense layer's weights) on its source ``x``, no bias."""
    if syn.weight.ndim == 4:
        return conv2d(x, _cast(syn.weight, x), syn.stride, syn.pads, syn.group)
    return _flat(x) @ _cast(syn.weight, x).T


def _conv(layer: ir.Conv, x):
    y = conv2d(x, _cast(layer.weight, x), layer.stride, layer.pads, layer.group)
    y += _cast(layer.bias, x)[:, None, None]
    return _activation(layer, y)


def _dense(layer: ir.Dense, x):
    # Dense acts on its input flattened in C-H-W order (ir convention).
    y = _flat(x) @ _cast(layer.weight, x).T + _cast(layer.bias, x)
    return _activation(layer, y)


def _sum(layer: ir.Sum, *xs):
    y = None
    for syn, x in zip(layer.synapses, xs):
        part = _synapses(syn, x).reshape(len(x), *layer.out_shape)
        y = part if y is None else y + part
    y += _channel_bias(layer.bias, y)
    return _activation(layer, y)


def _add(layer: ir.Add, *xs):
    y = xs[0].copy()
    for x in xs[1:]:
        y += x
    return _activation(layer, y)


def _batchnorm(layer: ir.BatchNorm, x):
    channel_shape = (-1,) + (1,) * (x.ndim - 2)  # broadcast over H, W
    gain = _cast(layer.scale, x) / np.sqrt(_cast(layer.var, x) + x.dtype.type(layer.eps))
    shift = _cast(layer.bias, x) - _cast(layer.mean, x) * gain
    return x * gain.reshape(channel_shape) + shift.reshape(channel_shape)


def _relu(layer: ir.Relu, x):
    y = np.maximum(x, 0)
    return y if layer.cap is None else np.minimum(y, x.dtype.type(layer.cap), out=y)


def _softmax(layer: ir.Softmax, x):
    # Over all features of an image (the importer only admits such softmaxes).
    flat = _flat(x)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)


_LAYER_FUNCTIONS = {
    ir.Conv: _conv,
    ir.Dense: _dense,
    ir.Sum: _sum,
    ir.Add: _add,
    ir.Concat: lambda layer, *xs: np.concatenate(xs, axis=1),
    ir.BatchNorm: _batchnorm,
    ir.Relu: _relu,
    ir.MaxPool: lambda layer, x: max_pool2d(x, layer.kernel, layer.stride, layer.pads),
    ir.AvgPool: lambda layer, x: avg_pool2d(x, layer.kernel, layer.stride, layer.pads),
    ir.Flatten: lambda layer, x: _flat(x),
    ir.Softmax: _softmax,
    ir.Identity: lambda layer, x: x,
}
