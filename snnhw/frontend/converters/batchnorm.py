"""BatchNormalization (inference form) -> ir.BatchNorm, folded later by the passes."""
from __future__ import annotations

from snnhw import ir
from .registry import register


@register("BatchNormalization")
def convert_batchnorm(ctx) -> list:
    if ctx.activation_index != 0:
        raise ctx.fail("the statistics must be constants and the activation input 0")
    if ctx.attr("training_mode", 0):
        raise ctx.fail("training_mode=1 normalizes with batch statistics; export the model in eval mode")
    if ctx.attr("spatial", 1) != 1:  # opsets 7-8: per-activation statistics
        raise ctx.fail("spatial=0 (per-position statistics) is not supported")
    shape = ctx.in_shape
    if len(shape) not in (1, 3):
        raise ctx.fail(f"expects a (C, H, W) or (C,) input, got shape {shape}")
    channels = shape[0]
    params = {}
    for index, what in enumerate(("scale", "bias", "mean", "var"), start=1):
        value = ctx.weight(index, what).reshape(-1)
        if value.shape != (channels,):
            raise ctx.fail(f"{what} has {value.size} values for {channels} channels")
        params[what] = value
    if (params["var"] < 0).any():
        raise ctx.fail("running variance has negative values; the model is corrupt")
    return [
        ir.BatchNorm(
            ctx.name, eps=float(ctx.attr("epsilon", 1e-5)), in_shape=shape, out_shape=shape, **params
        )
    ]
