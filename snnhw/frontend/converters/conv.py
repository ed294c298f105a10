"""Conv -> ir.Conv (2-D; group dividing the channels, depthwise included; dilation 1; any kernel/stride/padding)."""
from __future__ import annotations

import numpy as np

from snnhw import ir
from .registry import register
from .windows import check_no_dilation, window_output_hw, window_pads, window_stride


@register("Conv")
def convert_conv(ctx) -> list:
    if ctx.activation_index != 0:
        raise ctx.fail("the weights must be a constant (input 1), the activation input 0")
    channels, height, width = ctx.feature_map_shape()
    weight = ctx.weight(1, "weight")
    if weight.ndim != 4:
        raise ctx.fail(f"only 2-D convolutions are supported (weight has shape {weight.shape})")
    check_no_dilation(ctx)
    out_channels, in_channels, kh, kw = weight.shape
    kernel_shape = ctx.attr("kernel_shape")
    if kernel_shape is not None and tuple(kernel_shape) != (kh, kw):
        raise ctx.fail(f"kernel_shape {list(kernel_shape)} disagrees with the weight's {kh}x{kw}")
    group = int(ctx.attr("group", 1))
    if group < 1 or out_channels % group:
        raise ctx.fail(f"group={group} does not divide the {out_channels} output channels")
    if in_channels * group != channels:
        per_group = f" per group x {group} groups" if group != 1 else ""
        raise ctx.fail(f"weight expects {in_channels} input channels{per_group}, the input has {channels}")
    if ctx.has_input(2):
        bias = ctx.weight(2, "bias").reshape(-1)
        if bias.shape != (out_channels,):
            raise ctx.fail(f"bias has {bias.size} values for {out_channels} output channels")
    else:
        bias = np.zeros(out_channels, np.float32)
    stride = window_stride(ctx)
    pads = window_pads(ctx, (height, width), (kh, kw), stride)
    out_hw = window_output_hw(ctx, (height, width), (kh, kw), stride, pads)
    return [
        ir.Conv(
            ctx.name, weight, bias, stride=stride, pads=pads, group=group,
            in_shape=(channels, height, width), out_shape=(out_channels, *out_hw),
        )
    ]
