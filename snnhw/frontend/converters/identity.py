"""Dropout and Identity -> ir.Identity (the passes remove them).

Dropout is the identity at inference; its optional mask output is marked
unavailable by the importer, so a graph that reads it is refused.
"""
from __future__ import annotations

from snnhw import ir
from .registry import register


@register("Identity")
def convert_identity(ctx) -> list:
    return [ir.Identity(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]


@register("Dropout")
def convert_dropout(ctx) -> list:
    # From opset 12, input 2 (training_mode) true makes the node really drop.
    if ctx.has_input(2) and bool(ctx.const(2, "training_mode").reshape(-1)[0]):
        raise ctx.fail("training_mode is true (random dropout); export the model in eval mode")
    return convert_identity(ctx)
