"""Shape-only ops on activations: Flatten, Reshape, Squeeze, Unsqueeze.

The IR can express only two of them: nothing (the shape does not change) and
flattening to a vector in C-H-W order (ir.Flatten). Any other target shape
(splitting channels, moving the batch, ...) is refused.
"""
from __future__ import annotations

import numpy as np

from snnhw import ir
from .registry import register


def reshape_to(ctx, target: tuple) -> list:
    """The layers that turn the activation into batch-free shape ``target``."""
    shape = ctx.in_shape
    target = tuple(int(d) for d in target)
    if int(np.prod(target)) != int(np.prod(shape)):
        raise ctx.fail(f"cannot reshape {shape} to {target}: the sizes differ")
    if target == shape:
        return []  # a no-op
    if len(target) == 1:
        return [ir.Flatten(ctx.name, in_shape=shape, out_shape=target)]
    raise ctx.fail(
        f"reshaping {shape} to {target} is not supported (only flattening to a vector in C-H-W order)"
    )


@register("Flatten")
def convert_flatten(ctx) -> list:
    shape = ctx.in_shape
    rank = len(shape) + 1
    axis = int(ctx.attr("axis", 1))
    axis = axis + rank if axis < 0 else axis
    # Everything before `axis` becomes the new batch; that is the batch only
    # if the other leading dimensions are all 1.
    if axis == 0 or int(np.prod(shape[: axis - 1])) != 1:
        raise ctx.fail(f"Flatten with axis {ctx.attr('axis', 1)} would merge features into the batch")
    return [ir.Flatten(ctx.name, in_shape=shape, out_shape=(int(np.prod(shape)),))]


def resolve_target(ctx, target, allowzero: bool) -> tuple:
    """ONNX Reshape target (with batch, 0 and -1 entries) -> batch-free shape.

    The first entry must stay the batch: -1, 0 (copy), 1, or the value a
    shape computation produced from the batch size (``ctx.batch_probe``).
    """
    shape = ctx.in_shape
    dims = [int(d) for d in np.asarray(target).reshape(-1)]
    if not dims:
        raise ctx.fail("reshape to a scalar is not supported")
    full_in = (ctx.batch_probe, *shape)
    if not allowzero:
        for i, d in enumerate(dims):
            if d == 0:
                if i >= len(full_in):
                    raise ctx.fail(f"target {dims}: 0 at position {i} copies a dimension the input lacks")
                dims[i] = full_in[i]
    elif 0 in dims:
        raise ctx.fail(f"target {dims} has a zero-size dimension")
    if dims.count(-1) > 1 or min(dims) < -1:
        raise ctx.fail(f"target {dims} is not a valid ONNX shape")
    size = int(np.prod(shape))
    batch, rest = dims[0], dims[1:]
    known = int(np.prod([d for d in rest if d != -1]))
    if batch == -1:
        ok = -1 not in rest and known == size
    elif batch in (ctx.batch_probe, 1):
        if -1 in rest and known > 0 and size % known == 0:
            rest[rest.index(-1)] = size // known
        ok = -1 not in rest and int(np.prod(rest)) == size
    else:
        ok = False
    if not ok:
        shown = ["N" if d == ctx.batch_probe else d for d in np.asarray(target).reshape(-1).tolist()]
        raise ctx.fail(f"reshaping (N, {', '.join(map(str, shape))}) to {shown} does not keep the batch as the first dimension")
    return tuple(rest)


@register("Reshape", until=5)
def convert_reshape_attr(ctx) -> list:
    return reshape_to(ctx, resolve_target(ctx, ctx.attr("shape", ()), allowzero=False))


@register("Reshape", since=5)
def convert_reshape(ctx) -> list:
    if ctx.activation_index != 0:
        raise ctx.fail("the target shape must be a constant")
    target = ctx.const(1, "target shape")
    return reshape_to(ctx, resolve_target(ctx, target, bool(ctx.attr("allowzero", 0))))


def _normalized_axes(ctx, axes, rank: int) -> list:
    if axes is None:
        raise ctx.fail("no axes given; snnhw needs explicit axes to keep the batch dimension")
    axes = [int(a) for a in axes]
    out = sorted(a + rank if a < 0 else a for a in axes)
    if any(not 0 <= a < rank for a in out) or len(set(out)) != len(out):
        raise ctx.fail(f"axes {axes} are out of range for rank {rank}")
    if 0 in out:
        raise ctx.fail("squeezing or unsqueezing the batch axis is not supported")
    return out


def _axes_input(ctx):
    """From opset 13, Squeeze/Unsqueeze take their axes as (constant) input 1."""
    return ctx.const(1, "axes").reshape(-1).tolist() if ctx.has_input(1) else None


def _squeeze(ctx, axes) -> list:
    full = (None, *ctx.in_shape)  # None: the batch
    axes = _normalized_axes(ctx, axes, len(full))
    if any(full[a] != 1 for a in axes):
        raise ctx.fail(f"cannot squeeze axes {axes} of shape {ctx.in_shape}: not all have size 1")
    return reshape_to(ctx, tuple(d for a, d in enumerate(full) if a not in axes and a != 0))


def _unsqueeze(ctx, axes) -> list:
    full = [None, *ctx.in_shape]
    # Unsqueeze axes index the output, whose rank grows by len(axes).
    for a in _normalized_axes(ctx, axes, len(full) + len(axes or ())):
        full.insert(a, 1)
    return reshape_to(ctx, tuple(full[1:]))


@register("Squeeze", until=13)
def convert_squeeze_attr(ctx) -> list:
    return _squeeze(ctx, ctx.attr("axes"))


@register("Squeeze", since=13)
def convert_squeeze(ctx) -> list:
    return _squeeze(ctx, _axes_input(ctx))


@register("Unsqueeze", until=13)
def convert_unsqueeze_attr(ctx) -> list:
    return _unsqueeze(ctx, ctx.attr("axes"))


@register("Unsqueeze", since=13)
def convert_unsqueeze(ctx) -> list:
    return _unsqueeze(ctx, _axes_input(ctx))
