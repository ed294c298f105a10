"""Relu and Softmax."""
from __future__ import annotations

from snnhw import ir
from .registry import register


@register("Relu")
def convert_relu(ctx) -> list:
    return [ir.Relu(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]


def _softmax(ctx, normalized_axes: range) -> list:
    """ir.Softmax normalizes over all features; that matches ONNX only when
    every axis outside the normalized ones has size 1."""
    shape = ctx.in_shape
    if 0 in normalized_axes:
        raise ctx.fail("softmax over the batch axis is not supported")
    outside = [shape[a - 1] for a in range(1, len(shape) + 1) if a not in normalized_axes]
    if any(size != 1 for size in outside):
        raise ctx.fail(
            f"softmax over axis {ctx.attr('axis')} of shape {shape} normalizes groups of features "
            "separately; snnhw supports a softmax over all features only"
        )
    return [ir.Softmax(ctx.name, in_shape=shape, out_shape=shape)]


def _axis(ctx, default: int) -> int:
    rank = len(ctx.in_shape) + 1  # with the batch axis
    axis = int(ctx.attr("axis", default))
    if not -rank <= axis < rank:
        raise ctx.fail(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


@register("Softmax", until=13)
def convert_softmax_legacy(ctx) -> list:
    """Before opset 13 the input is coerced to 2-D at ``axis`` (default 1):
    the softmax covers every axis from ``axis`` on."""
    axis = _axis(ctx, 1)
    return _softmax(ctx, range(axis, len(ctx.in_shape) + 1))


@register("Softmax", since=13)
def convert_softmax(ctx) -> list:
    """From opset 13 the softmax covers the single ``axis`` (default -1)."""
    axis = _axis(ctx, -1)
    return _softmax(ctx, range(axis, axis + 1))
