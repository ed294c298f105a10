"""MaxPool, AveragePool and their global forms -> ir.MaxPool / ir.AvgPool."""
from __future__ import annotations

from snnhw import ir
from .registry import register
from .windows import check_no_dilation, window_output_hw, window_pads, window_stride


def _pool_geometry(ctx):
    """(in_shape, kernel, stride, pads, out_shape) of a MaxPool/AveragePool node."""
    channels, height, width = ctx.feature_map_shape()
    kernel = tuple(int(k) for k in ctx.attr("kernel_shape", ()))
    if len(kernel) != 2:
        raise ctx.fail(f"kernel_shape {list(kernel)} is not 2-D")
    check_no_dilation(ctx)
    stride = window_stride(ctx)
    pads = window_pads(ctx, (height, width), kernel, stride)
    if any(p >= k for p, k in zip(pads, kernel + kernel)):
        raise ctx.fail(f"pads {list(pads)} are not smaller than the {kernel[0]}x{kernel[1]} kernel")
    out_hw = window_output_hw(ctx, (height, width), kernel, stride, pads)
    if ctx.attr("ceil_mode", 0):
        # ceil_mode only matters when it adds a partial window at the edge.
        ceil_hw = window_output_hw(ctx, (height, width), kernel, stride, pads, ceil_mode=True)
        if ceil_hw != out_hw:
            raise ctx.fail(
                f"ceil_mode=1 gives {ceil_hw[0]}x{ceil_hw[1]} outputs instead of {out_hw[0]}x{out_hw[1]} "
                "(partial windows at the edge); not supported"
            )
    return (channels, height, width), kernel, stride, pads, (channels, *out_hw)


@register("MaxPool")
def convert_maxpool(ctx) -> list:
    in_shape, kernel, stride, pads, out_shape = _pool_geometry(ctx)
    return [ir.MaxPool(ctx.name, kernel, stride, pads, in_shape=in_shape, out_shape=out_shape)]


@register("AveragePool")
def convert_avgpool(ctx) -> list:
    in_shape, kernel, stride, pads, out_shape = _pool_geometry(ctx)
    if any(pads) and not ctx.attr("count_include_pad", 0):
        # ir.AvgPool always divides by kh*kw; ONNX's default divides border
        # windows by the number of real inputs only.
        raise ctx.fail(
            "padded average pooling with count_include_pad=0 (border windows averaged over fewer "
            "inputs) is not supported; use count_include_pad=1 or no padding"
        )
    return [ir.AvgPool(ctx.name, kernel, stride, pads, in_shape=in_shape, out_shape=out_shape)]


def _global(ctx, layer_class) -> list:
    channels, height, width = ctx.feature_map_shape()
    # one window over the whole map; stride = kernel (any stride gives one output), so that an input event
    # reaches exactly one window position: one scatter cycle in hardware, not height * width
    return [
        layer_class(
            ctx.name, (height, width), (height, width), in_shape=(channels, height, width),
            out_shape=(channels, 1, 1)
        )
    ]


@register("GlobalAveragePool")
def convert_global_avgpool(ctx) -> list:
    return _global(ctx, ir.AvgPool)


@register("GlobalMaxPool")
def convert_global_maxpool(ctx) -> list:
    return _global(ctx, ir.MaxPool)
