"""Concat of activations along the channel axis -> ir.Concat.

Only axis 1 (channels of a (C, H, W) map, features of a vector) can be
mapped: the consumers of an ir.Concat get one synapse input per joined source
(:mod:`snnhw.frontend.merge`), which needs each source to own whole channels.
"""
from __future__ import annotations

from snnhw import ir
from .context import Const
from .registry import register


@register("Concat", several_activations=True)
def convert_concat(ctx) -> list:
    if any(isinstance(ctx.inputs[i], Const) for i in range(len(ctx.inputs))):
        raise ctx.fail("concatenating activations with a constant is not supported")
    shapes = [tuple(ctx.inputs[i].shape) for i in ctx.activation_indices]
    rank = len(shapes[0]) + 1  # with the batch axis
    axis = int(ctx.attr("axis", 1))
    if not -rank <= axis < rank:
        raise ctx.fail(f"axis {axis} is out of range for rank {rank}")
    if axis % rank != 1:
        raise ctx.fail(f"Concat on axis {axis} is not supported (only the channel axis 1)")
    if len(shapes) == 1:
        return [ir.Identity(ctx.name, in_shape=shapes[0], out_shape=shapes[0])]
    out_shape = (sum(s[0] for s in shapes), *shapes[0][1:])
    return [ir.Concat(ctx.name, inputs=ctx.sources, in_shapes=tuple(shapes), out_shape=out_shape)]
