"""Add and Sum: a constant bias, or the sum of activations (a residual connection) -> ir.Add.

An ir.Add is merged with the weight layers that feed it into one multi-input
neuron layer (ir.Sum) by :mod:`snnhw.frontend.merge`.
"""
from __future__ import annotations

from snnhw import ir
from .context import Const
from .linear import fold_bias_add
from .registry import register


def _sum_of_activations(ctx) -> list:
    if any(isinstance(ctx.inputs[i], Const) for i in range(len(ctx.inputs))):
        raise ctx.fail("a sum of activations and a constant is not supported")
    shapes = [tuple(ctx.inputs[i].shape) for i in ctx.activation_indices]
    if len(set(shapes)) != 1:
        shown = " and ".join(f"({', '.join(map(str, s))})" for s in dict.fromkeys(shapes))
        raise ctx.fail(f"adds activations of shapes {shown} (broadcasting); only activations of one shape can be added")
    if len(shapes) == 1:  # a one-input Sum
        return [ir.Identity(ctx.name, in_shape=shapes[0], out_shape=shapes[0])]
    return [ir.Add(ctx.name, inputs=ctx.sources, in_shape=shapes[0], out_shape=shapes[0])]


@register("Add", several_activations=True)
def convert_add(ctx) -> list:
    if len(ctx.activation_indices) == 1:
        return fold_bias_add(ctx)
    return _sum_of_activations(ctx)


@register("Sum", several_activations=True)
def convert_sum(ctx) -> list:
    return _sum_of_activations(ctx)
