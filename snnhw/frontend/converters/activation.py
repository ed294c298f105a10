"""Relu, Clip(0, a) (ReLU6) and Softmax."""
from __future__ import annotations

import numpy as np

from snnhw import ir
from .registry import register


@register("Relu")
def convert_relu(ctx) -> list:
    return [ir.Relu(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]


def _clip(ctx, low, high) -> list:
    """Clip(0, a) is a ReLU capped at a; a spiking neuron's rate is never negative, so min must be 0."""
    low = -np.inf if low is None else float(low)
    high = np.inf if high is None else float(high)
    if low != 0:
        raise ctx.fail(f"Clip with min {low:g} is not supported (only min 0: ReLU, or ReLU6-like Clip(0, a))")
    if high <= 0:
        raise ctx.fail(f"Clip(0, {high:g}) is zero everywhere; not supported")
    cap = None if np.isinf(high) else high
    return [ir.Relu(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape, cap=cap)]


def _scalar(ctx, index: int, what: str):
    if not ctx.has_input(index):
        return None
    value = ctx.const(index, what)
    if value.size != 1:
        raise ctx.fail(f"the {what} of Clip has shape {value.shape}; only a scalar is supported")
    return value.reshape(-1)[0]


@register("Clip", until=11)
def convert_clip_attr(ctx) -> list:
    return _clip(ctx, ctx.attr("min"), ctx.attr("max"))


@register("Clip", since=11)
def convert_clip(ctx) -> list:
    return _clip(ctx, _scalar(ctx, 1, "min"), _scalar(ctx, 2, "max"))


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
