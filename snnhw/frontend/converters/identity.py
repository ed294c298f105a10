"""Dropout and Identity -> ir.Identity (the passes remove them).

Dropout is the identity at inference; its optional mask output is marked
unavailable by the importer, so a graph that reads it is refused.
"""
from __future__ import annotations

from snnhw import ir
from .registry import register


@register("Identity")
@register("Dropout")
def convert_identity(ctx) -> list:
    return [ir.Identity(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]
