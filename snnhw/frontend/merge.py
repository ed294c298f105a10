"""The passes that turn residual Adds and Concats into multi-input neuron layers (ir.Sum).

* :func:`merge_adds`: an Add becomes one ``Sum`` (with ReLU if the Add had one,
  or if everything it adds is non-negative already) whose synapse inputs are the
  weights of the Conv/Dense layers feeding it without a ReLU (pre-activation
  values, BatchNorm already folded; their biases add up), and, for an input
  that is already a spiking value (a ReLU'd layer, a pool), an identity
  synapse input: a depthwise 1x1 convolution of weight 1 (a dense identity
  matrix for vectors). Normalization later scales each synapse input by
  λ_source/λ_out, so the identity's weight becomes that ratio.
* :func:`resolve_concats`: a Concat has no neurons. Pools and Flattens
  reading one act per channel, so they move onto each joined source (and
  nested Concats are joined into one); a Conv/Dense (or a synapse input of
  a Sum) reading a Concat gets one synapse input per joined source, each
  with the slice of its weights over that source's channels (features).

Both work on explicit edges (:mod:`snnhw.frontend.graph`).
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from snnhw import ir
from snnhw.frontend import graph


def _copied(net: ir.Network) -> list:
    return graph.explicit(copy.deepcopy(net.layers))


def _done(net: ir.Network, layers: list) -> ir.Network:
    return dataclasses.replace(net, layers=graph.compact(layers))


# --------------------------------------------------------------------------
# Add -> Sum
# --------------------------------------------------------------------------
def merge_adds(net: ir.Network) -> ir.Network:
    """Every Add -> a Sum of the synapse inputs of what it adds (see the module)."""
    layers = _copied(net)
    index = graph.by_name(layers)
    inlined = set()
    for i, layer in enumerate(layers):
        if not isinstance(layer, ir.Add):
            continue
        synapses, bias = [], np.zeros(layer.out_shape[0], np.float64)
        for source in layer.inputs:
            terms, term_bias = _linear_terms(index.get(source), source, tuple(layer.out_shape))
            synapses += terms
            bias += term_bias
            if terms and terms[0].source != source:
                inlined.add(source)
        # A sum of values that are all non-negative already is its own ReLU: its neurons can be hidden ones.
        relu = layer.relu or all(_non_negative(index, source) for source in layer.inputs)
        layers[i] = index[layer.name] = ir.Sum(layer.name, synapses, bias.astype(np.float32), relu=relu,
                                              cap=layer.cap, out_shape=tuple(layer.out_shape))
    readers = graph.readers(layers)
    # An inlined layer that something else still reads stays (check_canonical then says why it cannot map).
    return _done(net, [l for l in layers if not (l.name in inlined and not readers[l.name])])


def _linear_terms(layer, source: str, shape: tuple) -> tuple:
    """(synapse inputs, bias) whose sum is the value of layer ``source``."""
    if isinstance(layer, ir.WEIGHT_LAYERS) and not layer.relu:
        return [own_synapses(layer)], layer.bias.astype(np.float64)
    if isinstance(layer, ir.Sum) and not layer.relu:
        return copy.deepcopy(layer.synapses), layer.bias.astype(np.float64)
    return [identity_synapses(source, shape)], 0.0


def _non_negative(index: dict, name: str) -> bool:
    """Whether layer ``name``'s values are never negative (a ReLU'd layer, or pools/Concats of such)."""
    layer = index.get(name)
    if isinstance(layer, (ir.Relu, *ir.NEURON_WEIGHT_LAYERS, ir.Add)):
        return isinstance(layer, ir.Relu) or layer.relu
    if isinstance(layer, (ir.MaxPool, ir.AvgPool, ir.Flatten, ir.Concat)):
        return all(_non_negative(index, source) for source in layer.inputs)
    return False  # the image, or anything else


def own_synapses(layer) -> ir.Synapses:
    """A Conv/Dense layer's weights as a synapse input from the layer it reads."""
    return ir.Synapses(layer.inputs[0], layer.weight, tuple(getattr(layer, "stride", (1, 1))),
                       tuple(getattr(layer, "pads", (0, 0, 0, 0))), getattr(layer, "group", 1), tuple(layer.in_shape))


def identity_synapses(source: str, shape: tuple) -> ir.Synapses:
    """Synapses passing ``source`` (of ``shape``) through unchanged: depthwise 1x1 of weight 1, or I for vectors."""
    if len(shape) == 3:
        channels = shape[0]
        return ir.Synapses(source, np.ones((channels, 1, 1, 1), np.float32), group=channels, in_shape=shape)
    return ir.Synapses(source, np.eye(shape[0], dtype=np.float32), in_shape=shape)


# --------------------------------------------------------------------------
# Concat -> synapse inputs per source
# --------------------------------------------------------------------------
def resolve_concats(net: ir.Network) -> ir.Network:
    """Move per-channel layers through Concats, then split every weight layer that reads one (see the module)."""
    layers = _copied(net)
    layers = _through_concats(layers)
    index = graph.by_name(layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, ir.WEIGHT_LAYERS) and isinstance(index.get(layer.inputs[0]), ir.Concat):
            whole = own_synapses(layer)
            layers[i] = ir.Sum(layer.name, split_synapses(whole, index[whole.source]), layer.bias, relu=layer.relu,
                               cap=layer.cap, out_shape=tuple(layer.out_shape), lam=layer.lam)
        elif isinstance(layer, ir.Sum) and any(isinstance(index.get(s), ir.Concat) for s in layer.inputs):
            layer.synapses = [piece for syn in layer.synapses for piece in (
                split_synapses(syn, index[syn.source]) if isinstance(index.get(syn.source), ir.Concat) else [syn])]
    return _done(net, _without_unread_concats(layers))


def _through_concats(layers: list) -> list:
    """Pools and Flattens of a Concat -> a Concat of per-source pools/Flattens; nested Concats joined."""
    taken = {l.name for l in layers}
    out = []
    for layer in layers:
        index = graph.by_name(out)
        source = index.get(layer.inputs[0]) if layer.inputs and not isinstance(layer, ir.Sum) else None
        if isinstance(layer, (ir.MaxPool, ir.AvgPool, ir.Flatten)) and isinstance(source, ir.Concat):
            parts = [_per_source(layer, name, shape, graph.unique_name(f"{layer.name}/{k}", taken))
                     for k, (name, shape) in enumerate(zip(source.inputs, source.in_shapes))]
            out += parts
            layer = ir.Concat(layer.name, inputs=tuple(p.name for p in parts),
                              in_shapes=tuple(tuple(p.out_shape) for p in parts), out_shape=tuple(layer.out_shape))
        if isinstance(layer, ir.Concat):
            inputs, shapes = [], []
            for name, shape in zip(layer.inputs, layer.in_shapes):
                inner = index.get(name)
                if isinstance(inner, ir.Concat):
                    inputs += inner.inputs
                    shapes += inner.in_shapes
                else:
                    inputs.append(name)
                    shapes.append(shape)
            layer.inputs, layer.in_shapes = tuple(inputs), tuple(shapes)
        out.append(layer)
    return out


def _per_source(layer, source: str, shape: tuple, name: str):
    if isinstance(layer, ir.Flatten):
        out_shape = (int(np.prod(shape)),)
    else:
        out_shape = (shape[0], *layer.out_shape[1:])  # pools act per channel
    return dataclasses.replace(layer, name=name, inputs=(source,), in_shape=tuple(shape), out_shape=out_shape)


def split_synapses(syn: ir.Synapses, concat: ir.Concat) -> list:
    """One synapse input per source of ``concat``, each with the slice of ``syn``'s weights over its channels.

    A dense synapse input reads the Concat flattened in C-H-W order, where each
    source is one contiguous block of features. A grouped convolution is first
    written as an ordinary one (zero weights between groups): a source's
    channels need not line up with the groups.
    """
    pieces, offset = [], 0
    weight = ungrouped(syn.weight, syn.group) if syn.kind == "conv" else syn.weight
    for source, shape in zip(concat.inputs, concat.in_shapes):
        width = shape[0] if syn.kind == "conv" else int(np.prod(shape))
        part = np.ascontiguousarray(weight[:, offset:offset + width])
        pieces.append(dataclasses.replace(syn, source=source, weight=part, group=1, in_shape=tuple(shape)))
        offset += width
    return pieces


def ungrouped(weight: np.ndarray, group: int) -> np.ndarray:
    """A grouped conv weight (O, C/group, kh, kw) as the equivalent (O, C, kh, kw) one."""
    if group == 1:
        return weight
    o, per_group = weight.shape[:2]
    full = np.zeros((o, per_group * group, *weight.shape[2:]), weight.dtype)
    outs = o // group
    for g in range(group):
        full[g * outs:(g + 1) * outs, g * per_group:(g + 1) * per_group] = weight[g * outs:(g + 1) * outs]
    return full


def _without_unread_concats(layers: list) -> list:
    while True:
        readers = graph.readers(layers)
        unread = {id(l) for l in layers if isinstance(l, ir.Concat) and not readers[l.name] and l is not layers[-1]}
        if not unread:
            return layers
        layers = [l for l in layers if id(l) not in unread]
