"""Fully connected layers: Gemm, MatMul, and a constant Add as the bias of the layer before.

PyTorch's ``nn.Linear`` exports as ``Gemm``; other exporters (and PyTorch
for inputs of rank > 2) write ``MatMul`` followed by ``Add`` of the bias.
``MatMul`` becomes a Dense with zero bias and the ``Add`` is folded into it
(:func:`fold_bias_add`, called by the ``Add`` converter in ``add.py``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from snnhw import ir
from .registry import register


def _dense(ctx, weight: np.ndarray, bias: np.ndarray) -> list:
    n_in = ctx.vector_length()
    n_out = weight.shape[0]
    if weight.shape[1] != n_in:
        raise ctx.fail(f"weight expects {weight.shape[1]} inputs, the input has {n_in}")
    return [ir.Dense(ctx.name, weight, bias, in_shape=(n_in,), out_shape=(n_out,))]


@register("Gemm")
def convert_gemm(ctx) -> list:
    """Y = alpha * A' B' + beta * C with A the activation, B and C constants."""
    if ctx.activation_index != 0:
        raise ctx.fail("only activation @ constant weights is supported (input A must be the activation)")
    if ctx.attr("transA", 0):
        raise ctx.fail("transA=1 would transpose the batch with the features; not supported")
    b = ctx.weight(1, "weight")
    if b.ndim != 2:
        raise ctx.fail(f"weight has shape {b.shape}, expected a matrix")
    weight = (b if ctx.attr("transB", 0) else b.T) * np.float32(ctx.attr("alpha", 1.0))
    n_out = weight.shape[0]
    bias = np.zeros(n_out, np.float32)
    if ctx.has_input(2):
        c = ctx.weight(2, "bias")
        # C broadcasts against (batch, n_out); only a per-output bias is batch-independent.
        if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1) or c.size not in (1, n_out):
            raise ctx.fail(f"bias C of shape {c.shape} is not a per-output bias of {n_out} values")
        bias = np.broadcast_to(c.reshape(-1), (n_out,)) * np.float32(ctx.attr("beta", 1.0))
    return _dense(ctx, np.ascontiguousarray(weight, np.float32), np.array(bias, np.float32))


@register("MatMul")
def convert_matmul(ctx) -> list:
    """x @ W with a constant matrix W: a Dense without bias (an Add may follow)."""
    if ctx.activation_index != 0:
        raise ctx.fail("only activation @ constant weights is supported")
    w = ctx.weight(1, "weight")
    if w.ndim != 2:
        raise ctx.fail(f"weight has shape {w.shape}; only a matrix (features x outputs) is supported")
    return _dense(ctx, np.ascontiguousarray(w.T), np.zeros(w.shape[1], np.float32))


def fold_bias_add(ctx) -> list:
    """activation + constant: the bias of the Conv/Dense right before."""
    previous = ctx.previous_layer
    if not isinstance(previous, ir.WEIGHT_LAYERS) or previous.relu:
        raise ctx.fail(
            "adding a constant is only supported as the bias of the Conv/Gemm/MatMul right before it"
        )
    if not ctx.previous_read_alone:
        raise ctx.fail(
            f"adds a constant to the output of '{previous.name}', which other nodes also read; "
            "only a bias that only this Add reads can be folded into its layer"
        )
    constant = ctx.weight(1 - ctx.activation_index, "bias")
    shape = ctx.in_shape
    # The constant must broadcast to the activation without changing its shape.
    if constant.ndim > len(shape) + 1 or (constant.ndim == len(shape) + 1 and constant.shape[0] != 1):
        raise ctx.fail(f"a constant of shape {constant.shape} would change the activation shape {shape}")
    if constant.ndim == len(shape) + 1:
        constant = constant[0]  # the (size 1) batch axis
    try:
        full = np.broadcast_to(constant, shape)
    except ValueError:
        raise ctx.fail(f"a constant of shape {constant.shape} does not broadcast to {shape}") from None
    per_channel = full.reshape(shape[0], -1)[:, 0]
    if not np.array_equal(full, np.broadcast_to(per_channel.reshape((-1,) + (1,) * (len(shape) - 1)), shape)):
        raise ctx.fail(f"a constant of shape {constant.shape} varies within a channel; only a per-channel bias is supported")
    ctx.replacement_for_previous = dataclasses.replace(previous, bias=(previous.bias + per_channel).astype(np.float32))
    return []
