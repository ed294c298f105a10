"""ONNX file -> float :class:`snnhw.ir.Network` (one layer per node, not yet canonical).

The importer walks the graph in topological order, keeping for every tensor
whether it is a constant or an activation (see ``converters.context``):

* nodes whose inputs are all constants are evaluated with NumPy (shape
  computations, Constant nodes);
* every other node must take exactly one activation, the one the previous
  node produced (snnhw maps feed-forward chains), and is turned into ir
  layers by the converter registered for its op type and opset.

Then :mod:`snnhw.frontend.passes` brings the network into canonical form.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from snnhw import ir
from snnhw.errors import ModelLoadError, UnsupportedModelError
from snnhw.frontend.converters import (
    Activation, Const, NodeContext, Unavailable, find_converter, supported_op_types,
)
from snnhw.frontend.converters.constant_folding import CannotFold, can_fold, fold, shape_value
from snnhw.frontend.converters.context import attributes, node_error, node_label

# What a shape computation (Shape -> Gather -> ...) sees as the batch size when
# the model's batch is dynamic: a prime no real dimension will equal, so a
# Reshape converter can tell "the batch" from "a feature dimension".
BATCH_PROBE = 2**31 - 1

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}

# Why a node that combines activations cannot be mapped, by op type.
_MERGE_REASONS = {
    "Add": "adding two activations (residual connection) is not supported",
    "Sum": "adding activations (residual connection) is not supported",
    "Concat": "concatenating activations (branches joined) is not supported",
    "Mul": "multiplying activations is not supported",
}

# Ops that read only an activation's shape, not its values.
_SHAPE_READERS = ("Shape", "Size")


def load_onnx(path) -> ir.Network:
    """Read an ONNX model into a float Network (not yet canonical).

    Raises ModelLoadError for a missing, unreadable or corrupt file and
    UnsupportedModelError for a valid model snnhw cannot map.
    """
    path = Path(path)
    model = read_model(path)
    return _GraphImporter(model, str(path)).run()


# --------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------
def read_model(path: Path) -> onnx.ModelProto:
    """The parsed model with its external weights loaded; ModelLoadError if impossible."""
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file")
    if not path.is_file():
        raise ModelLoadError(f"{path}: not a file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf raises DecodeError, RuntimeWarning, ...
        raise ModelLoadError(f"{path}: not a readable ONNX file ({_first_line(e)})") from None
    # Protobuf parses many non-ONNX byte strings (an empty file, text) into an
    # empty or partial message, so check that the essentials are there.
    if not model.HasField("graph") or not model.graph.node or not model.graph.output:
        raise ModelLoadError(f"{path}: no ONNX graph found (not an ONNX model, or truncated)")
    if default_opset(model) is None:
        raise ModelLoadError(f"{path}: declares no ONNX opset (not an ONNX model, or truncated)")
    _load_external_data(model, path)
    return model


def _load_external_data(model: onnx.ModelProto, path: Path) -> None:
    locations = sorted({
        external_data_helper.ExternalDataInfo(t).location
        for t in model.graph.initializer
        if external_data_helper.uses_external_data(t)
    })
    try:
        external_data_helper.load_external_data_for_model(model, str(path.parent))
    except Exception as e:
        raise ModelLoadError(
            f"{path}: cannot read its external weights {', '.join(locations)} beside it ({_first_line(e)})"
        ) from None


def default_opset(model: onnx.ModelProto):
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            return int(op.version)
    return None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


# --------------------------------------------------------------------------
# Walking the graph
# --------------------------------------------------------------------------
class _GraphImporter:
    def __init__(self, model: onnx.ModelProto, source: str):
        self.model = model
        self.graph = model.graph
        self.source = source
        self.opset = default_opset(model)
        self.values: dict = {}  # tensor name -> Const | Activation | Unavailable
        self.consumer: dict = {}  # activation tensor -> label of the node that read it
        self.head = ""  # the activation at the end of the chain so far
        self.layers: list = []
        self.layer_names: set = set()
        self.batch_probe = BATCH_PROBE

    def run(self) -> ir.Network:
        self._read_initializers()
        input_name, input_shape = self._network_input()
        self.values[input_name] = Activation(input_shape)
        self.head = input_name
        nodes = self._topological_order()
        self._reject_merges(nodes, input_name)
        for node in nodes:
            self._import_node(node)
        self._check_output()
        self._check_against_shape_inference()
        return ir.Network(list(self.layers), input_shape, source=self.source, input_name=input_name)

    # -- inputs -------------------------------------------------------------
    def _read_initializers(self) -> None:
        for tensor in self.graph.initializer:
            try:
                self.values[tensor.name] = Const(numpy_helper.to_array(tensor), tensor.name)
            except Exception as e:
                raise ModelLoadError(f"{self.source}: initializer '{tensor.name}' cannot be read ({_first_line(e)})") from None

    def _network_input(self) -> tuple:
        """(name, batch-free shape) of the one real graph input."""
        # Old exporters list initializers among the inputs too: those are constants.
        inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(inputs) != 1:
            names = ", ".join(f"'{i.name}'" for i in inputs) or "none"
            raise UnsupportedModelError(
                f"{self.source}: the graph has {len(inputs)} inputs ({names}); snnhw maps networks with one input"
            )
        value_info = inputs[0]
        where = f"{self.source}: input '{value_info.name}'"
        tensor_type = value_info.type.tensor_type
        if not value_info.type.HasField("tensor_type") or tensor_type.elem_type not in _FLOAT_TYPES:
            raise UnsupportedModelError(f"{where} is not a float tensor; snnhw expects float input (pixels scaled by the model's input scale)")
        if not tensor_type.HasField("shape"):
            raise UnsupportedModelError(f"{where} has no declared shape; snnhw needs [N, C, H, W] or [N, F]")
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in tensor_type.shape.dim]
        shown = "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"
        if len(dims) not in (2, 4):
            raise UnsupportedModelError(f"{where} has shape {shown}; snnhw needs [N, C, H, W] or [N, F]")
        if dims[0] not in (None, 1):
            raise UnsupportedModelError(f"{where} has a fixed batch size {dims[0]}; snnhw needs a dynamic batch or 1")
        if None in dims[1:]:
            raise UnsupportedModelError(f"{where} has shape {shown}; every dimension but the batch must be fixed")
        if dims[0] == 1:
            self.batch_probe = 1  # shape computations see the real batch size
        return value_info.name, tuple(dims[1:])

    # -- order and structure ------------------------------------------------
    def _topological_order(self) -> list:
        """Nodes in an order where every input is available before it is read."""
        available = set(self.values) | {""}
        pending = list(self.graph.node)
        order = []
        while pending:
            for i, node in enumerate(pending):
                if all(name in available for name in node.input):
                    order.append(pending.pop(i))
                    available.update(node.output)
                    break
            else:
                node = pending[0]
                missing = next(n for n in node.input if n not in available)
                raise node_error(
                    self.source, node,
                    f"reads tensor '{missing}', which no node, initializer or input provides "
                    "(a truncated or corrupt file, or a cycle)",
                    ModelLoadError,
                )
        return order

    def _reject_merges(self, nodes: list, input_name: str) -> None:
        """Refuse nodes that combine activations (residual Add, Concat) up
        front, so a residual block is reported as such rather than as the
        branch that feeds it."""
        activations = {input_name}
        for node in nodes:
            count = sum(1 for name in node.input if name in activations)
            if count > 1:
                reason = _MERGE_REASONS.get(node.op_type, f"combining {count} activations is not supported")
                raise node_error(self.source, node, f"{reason}; snnhw maps feed-forward chains")
            if count and node.op_type not in _SHAPE_READERS:
                activations.update(node.output)

    def _input_value(self, node: onnx.NodeProto, name: str):
        if not name:
            return None  # an absent optional input
        value = self.values[name]
        if isinstance(value, Unavailable):
            raise node_error(self.source, node, f"reads {value.reason}, which snnhw does not model")
        return value

    def _consume(self, node: onnx.NodeProto, tensor: str) -> None:
        """Record that ``node`` reads activation ``tensor``; it must be the chain's end."""
        if tensor != self.head:
            first = self.consumer.get(tensor, "another node")
            raise node_error(
                self.source, node,
                f"reads tensor '{tensor}', which node '{first}' also reads: the graph branches; "
                "snnhw maps feed-forward chains",
            )
        self.consumer[tensor] = node_label(node)

    # -- one node -----------------------------------------------------------
    def _import_node(self, node: onnx.NodeProto) -> None:
        if node.domain not in ("", "ai.onnx"):
            raise node_error(self.source, node, f"op type {node.domain}.{node.op_type} (custom domain) is not supported")
        inputs = [self._input_value(node, name) for name in node.input]
        activations = [i for i, v in enumerate(inputs) if isinstance(v, Activation)]
        if not activations:
            self._fold(node, inputs)
        elif node.op_type in _SHAPE_READERS:
            self._read_shape(node, inputs[0])
        else:
            self._convert(node, inputs, activations[0])

    def _read_shape(self, node: onnx.NodeProto, activation: Activation) -> None:
        full_shape = (self.batch_probe, *activation.shape)
        if node.op_type == "Shape":
            value = shape_value(full_shape, attributes(node))
        else:
            value = np.array(int(np.prod(full_shape)), np.int64)
        self._set_outputs(node, [value])

    def _fold(self, node: onnx.NodeProto, inputs: list) -> None:
        if not can_fold(node.op_type):
            if find_converter(node.op_type, self.opset) is None:
                raise self._unsupported_op(node)
            raise node_error(self.source, node, "computes on constants only, which snnhw cannot evaluate")
        arrays = [v.value if v is not None else None for v in inputs]
        try:
            outputs = fold(node.op_type, attributes(node), arrays, self.opset)
        except CannotFold as e:
            raise node_error(self.source, node, str(e)) from None
        except Exception as e:
            raise node_error(self.source, node, f"cannot be evaluated on its constant inputs ({_first_line(e)})") from None
        self._set_outputs(node, outputs)

    def _set_outputs(self, node: onnx.NodeProto, arrays: list) -> None:
        for i, name in enumerate(node.output):
            if not name:
                continue
            if i < len(arrays):
                self.values[name] = Const(arrays[i], name)
            else:
                self.values[name] = Unavailable(f"output '{name}' of node '{node_label(node)}' ({node.op_type})")

    def _unsupported_op(self, node: onnx.NodeProto) -> UnsupportedModelError:
        if node.op_type in supported_op_types():
            return node_error(self.source, node, f"op type {node.op_type} is not supported at opset {self.opset}")
        return node_error(
            self.source, node,
            f"op type {node.op_type} is not supported (supported: {', '.join(supported_op_types())})",
        )

    def _convert(self, node: onnx.NodeProto, inputs: list, activation_index: int) -> None:
        converter = find_converter(node.op_type, self.opset)
        if converter is None:
            raise self._unsupported_op(node)
        self._consume(node, node.input[activation_index])
        ctx = NodeContext(
            node=node,
            name=self._unique_name(node_label(node)),
            opset=self.opset,
            source=self.source,
            inputs=inputs,
            activation_index=activation_index,
            batch_probe=self.batch_probe,
            previous_layer=self.layers[-1] if self.layers else None,
            attrs=attributes(node),
        )
        layers = converter(ctx)
        if ctx.replacement_for_previous is not None:
            self.layers[-1] = ctx.replacement_for_previous
        for layer in layers:
            self.layer_names.add(layer.name)
        self.layers.extend(layers)
        out_shape = layers[-1].out_shape if layers else ctx.in_shape
        label = node_label(node)
        self.values[node.output[0]] = Activation(tuple(out_shape), label)
        for extra in node.output[1:]:
            if extra:
                self.values[extra] = Unavailable(f"output '{extra}' of node '{label}' ({node.op_type})")
        self.head = node.output[0]

    def _unique_name(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.layer_names:
            n += 1
            candidate = f"{name}_{n}"
        return candidate

    # -- checks at the end --------------------------------------------------
    def _check_output(self) -> None:
        outputs = list(self.graph.output)
        if len(outputs) != 1:
            raise UnsupportedModelError(
                f"{self.source}: the graph has {len(outputs)} outputs; snnhw maps networks with one output"
            )
        name = outputs[0].name
        if not isinstance(self.values.get(name), Activation):
            raise UnsupportedModelError(f"{self.source}: the graph output '{name}' does not depend on the input")
        if name != self.head:
            raise UnsupportedModelError(
                f"{self.source}: the graph output '{name}' is not the end of the chain (node "
                f"'{self.consumer.get(name, '?')}' reads it further); snnhw maps feed-forward chains"
            )

    def _check_against_shape_inference(self) -> None:
        """Our batch-free shapes must agree with ONNX's own shape inference."""
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model).graph
        except Exception:
            return  # inference is a cross-check only; our shapes stand on their own
        for info in list(inferred.value_info) + list(inferred.output):
            ours = self.values.get(info.name)
            if not isinstance(ours, Activation) or not info.type.tensor_type.HasField("shape"):
                continue
            theirs = [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]
            mismatch = len(theirs) != len(ours.shape) + 1 or any(
                t is not None and t != o for t, o in zip(theirs[1:], ours.shape)
            )
            if mismatch:
                shown = ", ".join("?" if d is None else str(d) for d in theirs[1:])
                raise ModelLoadError(
                    f"{self.source}: tensor '{info.name}' (from node '{ours.producer}'): snnhw computes the "
                    f"shape (N, {', '.join(map(str, ours.shape))}) but the model declares or infers (N, {shown})"
                )
