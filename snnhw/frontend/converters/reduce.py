"""ReduceMean over H and W (global average pooling) -> ir.AvgPool [+ ir.Flatten]."""
from __future__ import annotations

from snnhw import ir
from .registry import register


def _global_mean(ctx, axes) -> list:
    shape = ctx.in_shape
    rank = len(shape) + 1
    if axes is None or len(shape) != 3:
        raise ctx.fail(f"ReduceMean over {'all axes' if axes is None else f'axes {list(axes)}'} of shape "
                       f"{shape} is not supported (only over H and W of a (C, H, W) map: global average pooling)")
    normalized = sorted(int(a) % rank for a in axes)
    if normalized != [2, 3]:
        raise ctx.fail(f"ReduceMean over axes {list(axes)} is not supported "
                       "(only over H and W, axes 2 and 3: global average pooling)")
    channels, height, width = shape
    pooled = (channels, 1, 1)
    layers = [ir.AvgPool(ctx.name, (height, width), (1, 1), in_shape=shape, out_shape=pooled)]
    if not ctx.attr("keepdims", 1):
        layers.append(ir.Flatten(f"{ctx.name}/flatten", in_shape=pooled, out_shape=(channels,)))
    return layers


@register("ReduceMean", until=18)
def convert_reduce_mean_attr(ctx) -> list:
    return _global_mean(ctx, ctx.attr("axes"))


@register("ReduceMean", since=18)
def convert_reduce_mean(ctx) -> list:
    if ctx.has_input(1):
        return _global_mean(ctx, ctx.const(1, "axes").reshape(-1).tolist())
    if ctx.attr("noop_with_empty_axes", 0):
        return [ir.Identity(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]
    return _global_mean(ctx, None)
