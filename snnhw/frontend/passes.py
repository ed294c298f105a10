"""Small named rewrites that bring an imported Network into canonical form.

Canonical form (see ``snnhw.ir``): only Conv/Dense (ReLU fused), MaxPool,
AvgPool and Flatten; every hidden Conv/Dense has ReLU; the network ends with
its output Conv/Dense, possibly followed by Flatten; a final softmax is
recorded in ``net.softmax`` instead of being a layer.

Each pass is a function ``Network -> Network`` that returns a new network
and leaves its argument untouched, so each can be tested alone;
:func:`canonicalize` applies them in order.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from snnhw import ir
from snnhw.errors import UnsupportedModelError

CANONICAL_LAYERS = (ir.Conv, ir.Dense, ir.MaxPool, ir.AvgPool, ir.Flatten)


def _layer_error(net: ir.Network, layer, message: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"{net.source or 'network'}: layer '{layer.name}' ({type(layer).__name__}): {message}")


def _with_layers(net: ir.Network, layers: list, **changes) -> ir.Network:
    return dataclasses.replace(net, layers=layers, **changes)


def _copied_layers(net: ir.Network) -> list:
    # Passes edit their own copy so that the input network never changes.
    return copy.deepcopy(net.layers)


# --------------------------------------------------------------------------
# Passes
# --------------------------------------------------------------------------
def drop_identity(net: ir.Network) -> ir.Network:
    """Remove Identity layers (Dropout, Identity: no-ops at inference)."""
    return _with_layers(net, [l for l in _copied_layers(net) if not isinstance(l, ir.Identity)])


def fold_batchnorm(net: ir.Network) -> ir.Network:
    """Fold every BatchNorm into the Conv/Dense right before it (paper 3.3).

    With sigma = sqrt(var + eps): W' = gamma/sigma * W and
    b' = gamma/sigma * (b - mu) + beta, per output channel.
    """
    layers = []
    for layer in _copied_layers(net):
        if not isinstance(layer, ir.BatchNorm):
            layers.append(layer)
            continue
        previous = layers[-1] if layers else None
        if not isinstance(previous, ir.WEIGHT_LAYERS):
            after = f"after '{previous.name}' ({type(previous).__name__})" if previous else "on the network input"
            raise _layer_error(net, layer, f"a BatchNorm {after} cannot be folded; it must follow a Conv/Dense directly")
        if previous.relu:
            raise _layer_error(net, layer, f"a BatchNorm after the ReLU of '{previous.name}' cannot be folded")
        layers[-1] = _folded(net, previous, layer)
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
    """Fuse each Relu into the Conv/Dense that feeds it (``relu=True``).

    Looking back from the Relu across MaxPool, AvgPool and Flatten:
    * if the values are already non-negative (a ReLU'd layer or a Relu
      feeds them), the Relu is a no-op and is dropped;
    * else, across MaxPool/Flatten only, the Relu moves onto the Conv/Dense:
      relu(maxpool(x)) == maxpool(relu(x)) since both are monotone
      (an average pool does not commute with ReLU, so it stops the search);
    * otherwise the Relu stays, and check_canonical reports it.
    """
    layers = []
    for layer in _copied_layers(net):
        if isinstance(layer, ir.Relu) and _absorb_relu(layers):
            continue
        layers.append(layer)
    return _with_layers(net, layers)


def _absorb_relu(layers: list) -> bool:
    """Make the Relu that follows ``layers`` redundant; False if impossible."""
    i = len(layers) - 1
    crossed_avgpool = False
    while i >= 0 and isinstance(layers[i], (ir.MaxPool, ir.AvgPool, ir.Flatten)):
        crossed_avgpool |= isinstance(layers[i], ir.AvgPool)
        i -= 1
    if i < 0:
        return False  # the network input may be negative
    source = layers[i]
    if isinstance(source, ir.Relu) or (isinstance(source, ir.WEIGHT_LAYERS) and source.relu):
        return True  # pools and flatten keep non-negative values non-negative
    if isinstance(source, ir.WEIGHT_LAYERS) and not crossed_avgpool:
        layers[i] = dataclasses.replace(source, relu=True)
        return True
    return False


def canonical_flatten(net: ir.Network) -> ir.Network:
    """Remove Flattens of values that are already flat (1-D), and a Flatten of
    the network input: a first Dense reads the image in C-H-W order anyway, and
    this keeps the first neuron layer first (it is the analog-input layer)."""
    layers = [l for l in _copied_layers(net) if not (isinstance(l, ir.Flatten) and len(l.in_shape) == 1)]
    if len(layers) > 1 and isinstance(layers[0], ir.Flatten) and isinstance(layers[1], ir.Dense):
        layers[1].in_shape = layers[0].in_shape
        layers = layers[1:]
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
    for layer in net.layers:
        if not isinstance(layer, CANONICAL_LAYERS):
            reason = _LEFTOVER_REASONS.get(type(layer), "a layer type outside canonical form")
            raise _layer_error(net, layer, f"{reason} is not supported")
    weight_indices = [i for i, l in enumerate(net.layers) if isinstance(l, ir.WEIGHT_LAYERS)]
    if not weight_indices:
        raise UnsupportedModelError(f"{net.source or 'network'}: the network has no Conv or Dense layer")
    output = net.layers[weight_indices[-1]]
    for layer in net.layers[weight_indices[-1] + 1:]:
        if not isinstance(layer, ir.Flatten):
            raise _layer_error(
                net, layer, f"follows the output layer '{output.name}'; the network must end with its output Conv/Dense"
            )
    for i in weight_indices[:-1]:
        layer = net.layers[i]
        if not layer.relu:
            raise _layer_error(
                net, layer,
                "hidden layer without ReLU is not supported (hidden layers become IF neurons, which "
                "approximate ReLU activations)",
            )
    _check_shape_chain(net)
    return net


def _check_shape_chain(net: ir.Network) -> None:
    shape = tuple(net.input_shape)
    for layer in net.layers:
        if tuple(layer.in_shape) != shape:
            raise _layer_error(net, layer, f"expects input shape {tuple(layer.in_shape)} but receives {shape}")
        shape = tuple(layer.out_shape)


PASSES = (drop_identity, fold_batchnorm, fuse_relu, canonical_flatten, strip_softmax, check_canonical)


def canonicalize(net: ir.Network) -> ir.Network:
    """Apply every pass in order; the result is canonical or an error is raised."""
    for rewrite in PASSES:
        net = rewrite(net)
    return net
