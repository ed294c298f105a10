"""Small named rewrites that bring an imported Network into canonical form.

Canonical form (see ``snnhw.ir``): only Conv/Dense/Sum (ReLU fused, with an
optional Clip cap), MaxPool, AvgPool and Flatten; every hidden Conv/Dense/Sum
has ReLU; the network ends with its output Conv/Dense/Sum, possibly followed
by Flatten; a final softmax is recorded in ``net.softmax`` instead of being a
layer. Residual Adds and Concats are merged into multi-input ``Sum`` layers
by :mod:`snnhw.frontend.merge`.

Each pass is a function ``Network -> Network`` that returns a new network
and leaves its argument untouched, so each can be tested alone;
:func:`canonicalize` applies them in order. Passes work on explicit edges
(:mod:`snnhw.frontend.graph`) and hand back the compact form.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from snnhw import ir
from snnhw.errors import UnsupportedModelError
from snnhw.frontend import graph
from snnhw.frontend.merge import merge_adds, resolve_concats

CANONICAL_LAYERS = (ir.Conv, ir.Dense, ir.Sum, ir.MaxPool, ir.AvgPool, ir.Flatten)
# Layers with a ReLU/Clip flag: where a ReLU can be fused.
_ACTIVATED = (ir.Conv, ir.Dense, ir.Sum, ir.Add)


def _layer_error(net: ir.Network, layer, message: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"{net.source or 'network'}: layer '{layer.name}' ({type(layer).__name__}): {message}")


def _with_layers(net: ir.Network, layers: list, **changes) -> ir.Network:
    return dataclasses.replace(net, layers=graph.compact(layers), **changes)


def _copied_layers(net: ir.Network) -> list:
    # Passes edit their own copy so that the input network never changes.
    return graph.explicit(copy.deepcopy(net.layers))


# --------------------------------------------------------------------------
# Passes
# --------------------------------------------------------------------------
def drop_identity(net: ir.Network) -> ir.Network:
    """Remove Identity layers (Dropout, Identity: no-ops at inference)."""
    layers = _copied_layers(net)
    for layer in [l for l in layers if isinstance(l, ir.Identity)]:
        layers = graph.bypass(layers, layer)
    return _with_layers(net, layers)


def fold_batchnorm(net: ir.Network) -> ir.Network:
    """Fold every BatchNorm into the Conv/Dense it reads (paper 3.3).

    With sigma = sqrt(var + eps): W' = gamma/sigma * W and
    b' = gamma/sigma * (b - mu) + beta, per output channel. The Conv/Dense
    must have no other reader (they would see the folded values).
    """
    layers = _copied_layers(net)
    for bn in [l for l in layers if isinstance(l, ir.BatchNorm)]:
        index = graph.by_name(layers)
        (source,) = bn.inputs
        previous = index.get(source)
        if not isinstance(previous, ir.WEIGHT_LAYERS):
            after = f"after '{previous.name}' ({type(previous).__name__})" if previous else "on the network input"
            raise _layer_error(net, bn, f"a BatchNorm {after} cannot be folded; it must follow a Conv/Dense directly")
        if previous.relu:
            raise _layer_error(net, bn, f"a BatchNorm after the ReLU of '{previous.name}' cannot be folded")
        others = [r.name for r in graph.readers(layers)[source] if r is not bn]
        if others:
            raise _layer_error(net, bn, f"cannot be folded into '{source}', which '{others[0]}' also reads")
        layers = [_folded(net, l, bn) if l is previous else l for l in layers]
        layers = graph.bypass(layers, bn)
    return _with_layers(net, layers)


def _folded(net: ir.Network, layer, bn: ir.BatchNorm):
    channels = layer.weight.shape[0]
    if bn.scale.size != channels:
        raise _layer_error(net, bn, f"has {bn.scale.size} channels, '{layer.name}' outputs {channels}")
    # Fold in float64 so the folded float32 weights are correctly rounded.
    gain = bn.scale.astype(np.float64) / np.sqrt(bn.var.astype(np.float64) + bn.eps)
    weight = layer.weight.astype(np.float64) * gain.reshape((-1,) + (1,) * (layer.weight.ndim - 1))
    bias = gain * (layer.bias.astype(np.float64) - bn.mean) + bn.bias
    return dataclasses.replace(layer, weight=weight.astype(np.float32), bias=bias.astype(np.float32))


def fuse_relu(net: ir.Network) -> ir.Network:
    """Fuse each Relu (or Clip(0, a), a Relu with ``cap``) into the layer that feeds it.

    Looking back from the Relu across MaxPool, Flatten and Concat:
    * values that are already non-negative (a ReLU'd layer or a Relu feeds
      them) make a Relu a no-op, which is dropped (a cap still has to move);
    * else the Relu moves onto the Conv/Dense/Add (``relu=True``, ``cap``):
      relu(maxpool(x)) == maxpool(relu(x)) since both are monotone, and a
      Concat's sources each take the Relu (it acts per channel). An average
      pool does not commute with ReLU, so it stops the search;
    * a layer whose values change may have no other reader;
    * otherwise the Relu stays, and check_canonical reports it.
    """
    layers = _copied_layers(net)
    for relu in [l for l in layers if isinstance(l, ir.Relu)]:
        (source,) = relu.inputs
        edits = _absorb(graph.by_name(layers), graph.readers(layers), source, relu.cap)
        if edits is None:
            continue
        for name in edits:
            layer = graph.by_name(layers)[name]
            layer.relu = True
            if relu.cap is not None:
                layer.cap = relu.cap if layer.cap is None else min(layer.cap, relu.cap)
        layers = graph.bypass(layers, relu)
    return _with_layers(net, layers)


def _absorb(index: dict, readers: dict, name: str, cap):
    """Names of the layers that must take the ReLU (with ``cap``) so that layer
    ``name`` outputs relu(its value) (clipped at ``cap``); None if impossible."""
    layer = index.get(name)
    if layer is None:
        return None  # the network input may be negative
    alone = len(readers[name]) == 1
    if isinstance(layer, _ACTIVATED):
        if layer.relu and (cap is None or (layer.cap is not None and layer.cap <= cap)):
            return []
        return [name] if alone else None
    if isinstance(layer, ir.Relu):
        return [] if cap is None or (layer.cap is not None and layer.cap <= cap) else None
    if isinstance(layer, (ir.MaxPool, ir.Flatten, ir.Concat)):
        edits = []
        for source in dict.fromkeys(layer.inputs):
            below = _absorb(index, readers, source, cap)
            if below is None:
                return None
            edits += below
        return edits if not edits or alone else None
    if isinstance(layer, ir.AvgPool):  # the average of non-negative values is, but no ReLU or clip moves through it
        return [] if cap is None and _absorb(index, readers, layer.inputs[0], None) == [] else None
    return None


def canonical_flatten(net: ir.Network) -> ir.Network:
    """Remove Flattens of values that are already flat (1-D), and a Flatten of
    the network input that only Dense layers read: a Dense reads the image in
    C-H-W order anyway, and this keeps the first neuron layer reading the
    input (it is the analog-input layer)."""
    layers = _copied_layers(net)
    for layer in [l for l in layers if isinstance(l, ir.Flatten) and len(l.in_shape) == 1]:
        layers = graph.bypass(layers, layer)
    for layer in [l for l in layers if isinstance(l, ir.Flatten) and l.inputs == (ir.INPUT,)]:
        readers = graph.readers(layers)[layer.name]
        if readers and all(isinstance(r, ir.Dense) for r in readers):
            for reader in readers:
                reader.in_shape = layer.in_shape
            layers = graph.bypass(layers, layer)
    return _with_layers(net, layers)


def strip_softmax(net: ir.Network) -> ir.Network:
    """Remove a final Softmax and record it in ``net.softmax``: the SNN's
    class is the argmax of the output layer, which softmax does not change."""
    layers = _copied_layers(net)
    if layers and isinstance(layers[-1], ir.Softmax):
        return _with_layers(net, layers[:-1], softmax=True)
    return _with_layers(net, layers)


_LEFTOVER_REASONS = {
    ir.BatchNorm: "a BatchNorm that was not folded into a Conv/Dense",
    ir.Relu: "a ReLU that could not be fused into a Conv/Dense (e.g. after an average pool "
    "of a linear layer, or on the network input)",
    ir.Softmax: "a softmax inside the network (only a final softmax is supported)",
    ir.Identity: "an Identity left in the network",
}


def check_canonical(net: ir.Network) -> ir.Network:
    """Check canonical form; returns the network unchanged or raises
    UnsupportedModelError naming the first offending layer."""
    layers = graph.explicit(copy.copy([copy.copy(l) for l in net.layers]))
    readers = graph.readers(layers)
    for layer in layers:
        if not isinstance(layer, CANONICAL_LAYERS + (ir.Concat,)):
            reason = _LEFTOVER_REASONS.get(type(layer), "a layer type outside canonical form")
            raise _layer_error(net, layer, f"{reason} is not supported")
    for layer in layers:  # after the others: a Concat is left over when its reader is
        if isinstance(layer, ir.Concat):
            raise _layer_error(net, layer, _concat_reason(layer, readers[layer.name]))
    weight_indices = [i for i, l in enumerate(layers) if isinstance(l, ir.NEURON_WEIGHT_LAYERS)]
    if not weight_indices:
        raise UnsupportedModelError(f"{net.source or 'network'}: the network has no Conv or Dense layer")
    output = layers[weight_indices[-1]]
    for i, layer in enumerate(layers[weight_indices[-1] + 1:], weight_indices[-1] + 1):
        if not isinstance(layer, ir.Flatten) or layer.inputs != (layers[i - 1].name,):
            raise _layer_error(
                net, layer, f"follows the output layer '{output.name}'; the network must end with its output Conv/Dense"
            )
    for i in weight_indices[:-1]:
        layer = layers[i]
        if not layer.relu:
            raise _layer_error(
                net, layer,
                "hidden layer without ReLU is not supported (hidden layers become IF neurons, which "
                "approximate ReLU activations)",
            )
    for layer in layers:
        _check_sources(net, layer, output)
    _check_shapes(net, layers)
    return net


def _concat_reason(concat: ir.Concat, readers: list) -> str:
    if not readers:
        return ("a Concat as the network output is not supported (the output layer must be one "
                "Conv/Gemm/MatMul, or an Add of them)")
    reader = readers[0]
    return (f"a Concat read by '{reader.name}' ({type(reader).__name__}) is not supported (a Concat may feed "
            "Conv, Gemm/MatMul, Add, MaxPool/AveragePool, Flatten, Relu/Clip or another Concat)")


def _check_sources(net: ir.Network, layer, output) -> None:
    sources = layer.inputs
    if output.name in sources and not isinstance(layer, ir.Flatten):
        raise _layer_error(net, layer, f"reads the output layer '{output.name}', whose neurons never fire")
    if ir.INPUT in sources and isinstance(layer, ir.Sum):
        raise _layer_error(
            net, layer,
            "adds the network input to other values (a shortcut or Concat from the image); not supported: "
            "only a Conv/Dense may read the image (the analog-input layer)",
        )


def _check_shapes(net: ir.Network, layers: list) -> None:
    shapes = {ir.INPUT: tuple(net.input_shape)}
    for layer in layers:
        if isinstance(layer, ir.Sum):
            for syn in layer.synapses:
                if tuple(syn.in_shape) != shapes[syn.source]:
                    raise _layer_error(net, layer, f"synapse input from '{syn.source}' expects shape "
                                                   f"{tuple(syn.in_shape)} but receives {shapes[syn.source]}")
        else:
            received = shapes[layer.inputs[0]]
            if tuple(layer.in_shape) != received:
                raise _layer_error(net, layer, f"expects input shape {tuple(layer.in_shape)} but receives {received}")
        shapes[layer.name] = tuple(layer.out_shape)


PASSES = (drop_identity, fold_batchnorm, fuse_relu, canonical_flatten, strip_softmax, merge_adds, resolve_concats,
          check_canonical)


def canonicalize(net: ir.Network) -> ir.Network:
    """Apply every pass in order; the result is canonical or an error is raised."""
    for rewrite in PASSES:
        net = rewrite(net)
    return net
