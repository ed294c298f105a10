"""Dropout, Identity and float-to-float Cast/CastLike -> ir.Identity (the passes remove them).

Dropout is the identity at inference; its optional mask output is marked
unavailable by the importer, so a graph that reads it is refused.
"""
from __future__ import annotations

import numpy as np
import onnx

from snnhw import ir
from .registry import register

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}


@register("Identity")
def convert_identity(ctx) -> list:
    return [ir.Identity(ctx.name, in_shape=ctx.in_shape, out_shape=ctx.in_shape)]


@register("Dropout")
def convert_dropout(ctx) -> list:
    # From opset 12, input 2 (training_mode) true makes the node really drop.
    if ctx.has_input(2) and bool(ctx.const(2, "training_mode").reshape(-1)[0]):
        raise ctx.fail("training_mode is true (random dropout); export the model in eval mode")
    return convert_identity(ctx)


@register("Cast")
def convert_cast(ctx) -> list:
    # Some exporters cast the float input to float; the float ANN ignores
    # precision changes, any other cast would change values.
    if ctx.attr("to") not in _FLOAT_TYPES:
        raise ctx.fail(f"a cast of an activation to {onnx.helper.tensor_dtype_to_np_dtype(ctx.attr('to'))} is not supported")
    ctx.out_dtype = onnx.helper.tensor_dtype_to_np_dtype(ctx.attr("to"))
    return convert_identity(ctx)


@register("CastLike")
def convert_cast_like(ctx) -> list:
    """An activation cast to the type of input 1 (a constant, or an activation read only for its type)."""
    if ctx.activation_index != 0:
        raise ctx.fail("the activation must be input 0")
    like = ctx.inputs[1]
    dtype = np.dtype(like.value.dtype if hasattr(like, "value") else like.dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ctx.fail(f"a cast of an activation to {dtype} is not supported")
    ctx.out_dtype = dtype
    return convert_identity(ctx)
