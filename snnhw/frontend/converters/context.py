"""What a converter sees of one ONNX node, and the values flowing between nodes.

Every tensor of the graph is, at import time, one of:

* :class:`Const` — known now (an initializer, a Constant node, or a shape
  computation folded with NumPy);
* :class:`Activation` — computed from the network input at run time; only its
  batch-free shape is known;
* :class:`Unavailable` — an output snnhw does not model (Dropout's mask,
  MaxPool's indices); reading it is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import onnx

from snnhw.errors import ModelLoadError, UnsupportedModelError


@dataclass
class Const:
    value: np.ndarray
    tensor_name: str = ""


@dataclass
class Activation:
    shape: tuple  # batch-free
    producer: str = ""  # name of the node that made it ('' for the graph input)
    layer: str = ""  # name of the ir layer whose output it is (ir.INPUT for the graph input)
    dtype: object = np.float32  # its element type (what CastLike copies)


def metadata_stand_in(activation: Activation, batch: int) -> np.ndarray:
    """An array with the activation's shape (batch first) and type but no real values, for
    ops that read only those (Shape, Size, CastLike's second input). Its stride is 0, so
    even the batch-size probe costs no memory."""
    shape = (batch, *activation.shape)
    return np.lib.stride_tricks.as_strided(np.zeros(1, activation.dtype), shape=shape, strides=(0,) * len(shape),
                                           writeable=False)


@dataclass
class Unavailable:
    reason: str


def attributes(node: onnx.NodeProto) -> dict:
    """A node's attributes as Python values (strings decoded, lists as lists)."""
    out = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        out[a.name] = value
    return out


def node_label(node: onnx.NodeProto) -> str:
    """The name we use for a node: its own, else its first output's."""
    return node.name or (node.output[0] if node.output else node.op_type)


def node_error(source: str, node: onnx.NodeProto, message: str, cls=UnsupportedModelError):
    """The one-line error every import failure uses: file, node, op type, reason."""
    return cls(f"{source}: node '{node_label(node)}' ({node.op_type}): {message}")


@dataclass
class NodeContext:
    """One node being converted: its attributes, inputs and surroundings."""

    node: onnx.NodeProto
    name: str  # the ir layer name to use (unique in the network)
    opset: int
    source: str  # model file, for error messages
    inputs: list  # per ONNX input: Const | Activation | Unavailable | None (absent)
    activation_index: int  # which input carries the (first) activation
    batch_probe: int  # the value a shape computation sees for the batch size
    previous_layer: Optional[object] = None  # the ir layer that produced the (first) activation
    attrs: dict = field(default_factory=dict)
    activation_indices: tuple = ()  # every input that carries an activation (several: Add, Concat)
    sources: tuple = ()  # per activation input, the ir layer name that produced it (ir.INPUT: the input)
    previous_read_alone: bool = True  # this node is the only reader of previous_layer's output
    # A converter that merges the node into the previous layer (a bias Add)
    # sets this; the importer then replaces that layer.
    replacement_for_previous: Optional[object] = None
    out_dtype: Optional[object] = None  # a Cast's new element type (default: the input's)

    # -- inspection -------------------------------------------------------
    @property
    def op_type(self) -> str:
        return self.node.op_type

    @property
    def in_shape(self) -> tuple:
        return self.inputs[self.activation_index].shape

    def attr(self, name: str, default=None):
        return self.attrs.get(name, default)

    def has_input(self, index: int) -> bool:
        return index < len(self.inputs) and self.inputs[index] is not None

    def const(self, index: int, what: str) -> np.ndarray:
        """Input ``index`` as a NumPy array; it must be known at import time."""
        value = self.inputs[index] if index < len(self.inputs) else None
        if value is None:
            raise self.fail(f"the {what} (input {index}) is missing")
        if not isinstance(value, Const):
            raise self.fail(f"the {what} (input {index}) must be a constant, not computed from the input")
        return value.value

    def weight(self, index: int, what: str) -> np.ndarray:
        """A float parameter as float32, checked to be finite."""
        value = self.const(index, what)
        if not np.issubdtype(value.dtype, np.floating):
            raise self.fail(f"the {what} has type {value.dtype}; snnhw expects float weights")
        bad = ~np.isfinite(value)
        if bad.any():
            tensor = self.inputs[index].tensor_name or f"input {index}"
            kinds = " and ".join(k for k, m in (("NaN", np.isnan(value)), ("Inf", np.isinf(value))) if m.any())
            raise self.fail(
                f"{what} tensor '{tensor}' contains {int(bad.sum())} {kinds} value(s); the model is corrupt",
                ModelLoadError,
            )
        return value.astype(np.float32)

    # -- shapes -----------------------------------------------------------
    def feature_map_shape(self) -> tuple:
        """The input's (C, H, W); an error if the activation is not a feature map."""
        if len(self.in_shape) != 3:
            raise self.fail(f"expects a (C, H, W) feature map, got an input of shape {self.in_shape}")
        return self.in_shape

    def vector_length(self) -> int:
        """The input's length; an error if the activation is not a vector."""
        if len(self.in_shape) != 1:
            raise self.fail(f"expects a flat (features,) input, got shape {self.in_shape}; flatten it first")
        return self.in_shape[0]

    # -- errors -----------------------------------------------------------
    def fail(self, message: str, cls=UnsupportedModelError):
        """The error to raise for this node (the caller raises it)."""
        return node_error(self.source, self.node, message, cls)
