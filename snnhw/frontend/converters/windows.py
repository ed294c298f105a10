"""Attributes shared by the window ops (Conv, MaxPool, AveragePool)."""
from __future__ import annotations

from snnhw.reference.conv import output_hw, same_pads


def window_stride(ctx) -> tuple:
    stride = tuple(int(s) for s in ctx.attr("strides", (1, 1)))
    if len(stride) != 2 or min(stride) < 1:
        raise ctx.fail(f"strides {list(stride)} are not two positive numbers")
    return stride


def check_no_dilation(ctx) -> None:
    dilations = list(ctx.attr("dilations", (1, 1)))
    if any(d != 1 for d in dilations):
        raise ctx.fail(f"dilations {dilations} are not supported (only 1)")


def window_pads(ctx, in_hw, kernel, stride) -> tuple:
    """(top, left, bottom, right) from ``pads`` or ``auto_pad``."""
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        return same_pads(in_hw, kernel, stride, upper=auto_pad == "SAME_UPPER")
    if auto_pad == "VALID":
        return (0, 0, 0, 0)
    if auto_pad != "NOTSET":
        raise ctx.fail(f"auto_pad {auto_pad!r} is not an ONNX value")
    pads = tuple(int(p) for p in ctx.attr("pads", (0, 0, 0, 0)))
    if len(pads) != 4:
        raise ctx.fail(f"pads {list(pads)} are not 2-D (top, left, bottom, right)")
    if min(pads) < 0:
        raise ctx.fail(f"negative pads {list(pads)} (cropping) are not supported")
    return pads


def window_output_hw(ctx, in_hw, kernel, stride, pads, ceil_mode=False) -> tuple:
    out = output_hw(in_hw, kernel, stride, pads, ceil_mode)
    if min(out) < 1:
        raise ctx.fail(f"a {kernel[0]}x{kernel[1]} window does not fit the padded {in_hw[0]}x{in_hw[1]} input")
    return out
