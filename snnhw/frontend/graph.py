"""Editing the graph of a layer list: explicit edges, readers, removing and renaming layers.

A pass makes every edge explicit (:func:`explicit`: each layer names its
sources), edits by name, and compacts at the end (:func:`compact`: an edge to
the layer right before becomes implicit again), so a chain leaves every pass
in the implicit form (``inputs=()``) it came in.
"""
from __future__ import annotations

import dataclasses

from snnhw import ir


def explicit(layers: list) -> list:
    """``layers`` (edited in place) with every single-input layer's ``inputs`` spelled out."""
    names = [ir.INPUT] + [layer.name for layer in layers]
    for i, (layer, srcs) in enumerate(zip(layers, ir.source_indices(layers))):
        if not isinstance(layer, ir.Sum):
            layer.inputs = tuple(names[j + 1] for j in srcs)
    return layers


def compact(layers: list) -> list:
    """``layers`` (edited in place) with an edge to the layer right before written implicitly."""
    previous = ir.INPUT
    for layer in layers:
        if not isinstance(layer, ir.Sum) and tuple(layer.inputs) == (previous,):
            layer.inputs = ()
        previous = layer.name
    return layers


def readers(layers: list) -> dict:
    """Layer name (or ir.INPUT) -> the layers that read it, in list order (needs explicit edges)."""
    out = {ir.INPUT: []}
    for layer in layers:
        out.setdefault(layer.name, [])
    for layer in layers:
        for name in dict.fromkeys(layer.inputs):  # a layer reading a source twice counts once
            out[name].append(layer)
    return out


def by_name(layers: list) -> dict:
    return {layer.name: layer for layer in layers}


def rename_source(layer, old: str, new: str):
    """``layer`` reading ``new`` wherever it read ``old`` (edited in place; needs explicit edges)."""
    if isinstance(layer, ir.Sum):
        for syn in layer.synapses:
            if syn.source == old:
                syn.source = new
    else:
        layer.inputs = tuple(new if name == old else name for name in layer.inputs)
    return layer


def bypass(layers: list, layer) -> list:
    """``layers`` without single-input ``layer``; its readers read its source instead."""
    (source,) = layer.inputs
    kept = [other for other in layers if other is not layer]
    for other in kept:
        rename_source(other, layer.name, source)
    return kept


def replace(layer, **changes):
    """dataclasses.replace that also works for ir.Sum (whose inputs come from its synapses)."""
    if isinstance(layer, ir.Sum):
        changes.pop("inputs", None)
    return dataclasses.replace(layer, **changes)


def unique_name(wanted: str, taken: set) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``, ... if taken; the result is added to ``taken``."""
    candidate, n = wanted, 1
    while candidate in taken or candidate == ir.INPUT:
        n += 1
        candidate = f"{wanted}_{n}"
    taken.add(candidate)
    return candidate


def ancestors(layers: list, name: str) -> set:
    """Names of ``name`` and every layer it depends on (needs explicit edges)."""
    index = by_name(layers)
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen or current == ir.INPUT:
            continue
        seen.add(current)
        todo.extend(index[current].inputs)
    return seen
