"""A small NumPy evaluator for nodes whose inputs are all known at import time.

Exporters compute shapes inside the graph: the torch.export ("dynamo")
exporter writes ``Constant -> Concat -> Reshape``, the legacy exporter
``Shape -> Gather -> Unsqueeze -> Concat -> Reshape`` for ``x.view(x.size(0), -1)``.
Folding these chains to constants lets the Reshape converter see its target.

Each folder takes the node's attributes, its input arrays (None for an
absent optional input) and the opset, and returns its output arrays.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import onnx
from onnx import numpy_helper

Folder = Callable[[dict, list, int], list]
_FOLDERS: dict[str, Folder] = {}

# Ops that create tensors from a shape refuse to make one bigger than this:
# such a tensor is no shape computation, and a shape derived from the batch
# size probe (see onnx_import) would be huge.
MAX_CREATED_ELEMENTS = 1 << 22


class CannotFold(Exception):
    """The node cannot be evaluated here (the message says why)."""


def folds(*op_types: str):
    def decorate(fn: Folder) -> Folder:
        for op in op_types:
            _FOLDERS[op] = fn
        return fn

    return decorate


def can_fold(op_type: str) -> bool:
    return op_type in _FOLDERS


def fold(op_type: str, attrs: dict, inputs: list, opset: int) -> list:
    """Evaluate one node on constant inputs; returns its outputs."""
    return [np.asarray(o) for o in _FOLDERS[op_type](attrs, inputs, opset)]


def _check_created_size(shape) -> None:
    if int(np.prod(shape)) > MAX_CREATED_ELEMENTS:
        raise CannotFold(f"folding would create a tensor of shape {tuple(shape)}, too big for a shape computation")


def shape_value(full_shape: tuple, attrs: dict) -> np.ndarray:
    """ONNX Shape: the (sliced, from opset 15) shape as int64."""
    shape = np.array(full_shape, np.int64)
    start, end = attrs.get("start", 0), attrs.get("end", None)
    return shape[slice(start, end)]


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------
@folds("Constant")
def _constant(attrs, inputs, opset):
    if "value" in attrs:
        return [numpy_helper.to_array(attrs["value"])]
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return [np.array(attrs[key], dtype)]
    raise CannotFold(f"Constant with attributes {sorted(attrs)} is not supported")


@folds("ConstantOfShape")
def _constant_of_shape(attrs, inputs, opset):
    shape = [int(d) for d in inputs[0].reshape(-1)]
    _check_created_size(shape)
    value = numpy_helper.to_array(attrs["value"]).reshape(-1) if "value" in attrs else np.zeros(1, np.float32)
    return [np.full(shape, value[0], value.dtype)]


@folds("Shape")
def _shape(attrs, inputs, opset):
    return [shape_value(inputs[0].shape, attrs)]


@folds("Size")
def _size(attrs, inputs, opset):
    return [np.array(inputs[0].size, np.int64)]


# --------------------------------------------------------------------------
# Indexing and shaping
# --------------------------------------------------------------------------
@folds("Identity", "Dropout")
def _identity(attrs, inputs, opset):
    return [inputs[0]]


@folds("Cast")
def _cast(attrs, inputs, opset):
    return [inputs[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))]


@folds("CastLike")
def _cast_like(attrs, inputs, opset):
    # Input 1 gives only the type (it may stand in for an activation).
    return [inputs[0].astype(inputs[1].dtype)]


@folds("Gather")
def _gather(attrs, inputs, opset):
    data, indices = inputs[0], inputs[1].astype(np.int64)
    axis = attrs.get("axis", 0)
    size = data.shape[axis]
    return [np.take(data, np.where(indices < 0, indices + size, indices), axis=axis)]


@folds("Concat")
def _concat(attrs, inputs, opset):
    return [np.concatenate([i for i in inputs if i is not None], axis=attrs["axis"])]


def _axes_of(attrs, inputs, opset, since_input=13) -> Optional[list]:
    if opset >= since_input:
        return inputs[1].reshape(-1).tolist() if len(inputs) > 1 and inputs[1] is not None else None
    return attrs.get("axes")


@folds("Unsqueeze")
def _unsqueeze(attrs, inputs, opset):
    axes = _axes_of(attrs, inputs, opset)
    rank = inputs[0].ndim + len(axes)
    out = inputs[0]
    for a in sorted(a % rank for a in axes):
        out = np.expand_dims(out, a)
    return [out]


@folds("Squeeze")
def _squeeze(attrs, inputs, opset):
    axes = _axes_of(attrs, inputs, opset)
    data = inputs[0]
    return [np.squeeze(data) if axes is None else np.squeeze(data, tuple(a % data.ndim for a in axes))]


@folds("Slice")
def _slice(attrs, inputs, opset):
    data = inputs[0]
    if opset < 10:
        starts, ends = attrs["starts"], attrs["ends"]
        axes, steps = attrs.get("axes"), None
    else:
        starts, ends = inputs[1].tolist(), inputs[2].tolist()
        axes = inputs[3].tolist() if len(inputs) > 3 and inputs[3] is not None else None
        steps = inputs[4].tolist() if len(inputs) > 4 and inputs[4] is not None else None
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * data.ndim
    # Python slices clamp out-of-range bounds the same way ONNX does.
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[axis % data.ndim] = slice(int(start), int(end), int(step))
    return [data[tuple(index)]]


@folds("Reshape")
def _reshape(attrs, inputs, opset):
    data = inputs[0]
    shape = attrs["shape"] if opset < 5 else inputs[1].reshape(-1).tolist()
    if not attrs.get("allowzero", 0):
        shape = [data.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return [data.reshape(shape)]


@folds("Flatten")
def _flatten(attrs, inputs, opset):
    data = inputs[0]
    axis = attrs.get("axis", 1)
    axis = axis + data.ndim if axis < 0 else axis
    return [data.reshape(int(np.prod(data.shape[:axis])), -1)]


@folds("Transpose")
def _transpose(attrs, inputs, opset):
    return [np.transpose(inputs[0], attrs.get("perm"))]


@folds("Expand")
def _expand(attrs, inputs, opset):
    data = inputs[0]
    shape = np.broadcast_shapes(data.shape, tuple(int(d) for d in inputs[1]))
    _check_created_size(shape)
    return [np.broadcast_to(data, shape).copy()]


@folds("Range")
def _range(attrs, inputs, opset):
    start, limit, delta = (i.reshape(()) for i in inputs[:3])
    _check_created_size((max(0, int(np.ceil((limit - start) / delta))),))
    return [np.arange(start, limit, delta, dtype=inputs[0].dtype)]


# --------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------
def _integer_divide(a, b):
    """ONNX (like C) integer division truncates toward zero; NumPy floors."""
    q = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -q, q).astype(np.result_type(a, b))


def _divide(a, b):
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return _integer_divide(a, b)
    return np.true_divide(a, b).astype(np.result_type(a, b))


_BINARY = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": _divide,
    "Equal": np.equal, "Less": np.less, "Greater": np.greater,
    "And": np.logical_and, "Or": np.logical_or, "Pow": np.power,
}
_UNARY = {
    "Neg": np.negative, "Abs": np.abs, "Not": np.logical_not, "Floor": np.floor,
    "Ceil": np.ceil, "Sqrt": np.sqrt, "Reciprocal": np.reciprocal,
}


def _binary(op):
    def evaluate(attrs, inputs, opset):
        a, b = inputs[0], inputs[1]
        out = _BINARY[op](a, b)
        # Keep the ONNX element type (NumPy would promote int64 + int32 etc.).
        return [out if out.dtype == np.bool_ else out.astype(a.dtype)]

    return evaluate


def _unary(op):
    return lambda attrs, inputs, opset: [_UNARY[op](inputs[0])]


for _op in _BINARY:
    folds(_op)(_binary(_op))
for _op in _UNARY:
    folds(_op)(_unary(_op))


@folds("Min")
def _min(attrs, inputs, opset):
    return [np.minimum.reduce(np.broadcast_arrays(*inputs))]


@folds("Max")
def _max(attrs, inputs, opset):
    return [np.maximum.reduce(np.broadcast_arrays(*inputs))]


@folds("Where")
def _where(attrs, inputs, opset):
    return [np.where(inputs[0], inputs[1], inputs[2])]


def _reduce(reduction, axes_input_since: int) -> Folder:
    def evaluate(attrs, inputs, opset):
        data = inputs[0]
        if opset >= axes_input_since:
            axes = inputs[1].reshape(-1).tolist() if len(inputs) > 1 and inputs[1] is not None else None
        else:
            axes = attrs.get("axes")
        if not axes and attrs.get("noop_with_empty_axes", 0):
            return [data]
        axis = tuple(a % data.ndim for a in axes) if axes else None
        return [np.asarray(reduction(data, axis=axis, keepdims=bool(attrs.get("keepdims", 1)))).astype(data.dtype)]

    return evaluate


folds("ReduceSum")(_reduce(np.sum, 13))
folds("ReduceProd")(_reduce(np.prod, 18))
