"""ONNX file -> float :class:`snnhw.ir.Network` (one layer per node, not yet canonical).

The importer walks the graph in topological order, keeping for every tensor
whether it is a constant or an activation (see ``converters.context``):

* nodes whose values are all constants are evaluated with NumPy (shape
  computations, Constant nodes). Inputs read only for their shape or type
  (``Shape``, ``Size``, the second input of ``CastLike``) count as constants:
  an activation's shape and type are known at import time;
* every other node is turned into ir layers by the converter registered for
  its op type and opset; its first layer names the layers that produced its
  activation inputs (``inputs``), so the network is a graph. Only converters
  that combine activations (``Add``, ``Sum``, ``Concat``) take several.

Layers that the graph output does not depend on are dropped. Then
:mod:`snnhw.frontend.passes` brings the network into canonical form.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from snnhw import ir
from snnhw.errors import ModelLoadError, UnsupportedModelError
from snnhw.frontend import graph
from snnhw.frontend.converters import (
    Activation, Const, NodeContext, Unavailable, find_converter, supported_op_types, takes_several_activations,
)
from snnhw.frontend.converters.constant_folding import CannotFold, can_fold, fold
from snnhw.frontend.converters.context import attributes, metadata_stand_in, node_error, node_label

# What a shape computation (Shape -> Gather -> ...) sees as the batch size when
# the model's batch is dynamic: a prime no real dimension will equal, so a
# Reshape converter can tell "the batch" from "a feature dimension".
BATCH_PROBE = 2**31 - 1

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}

# Why a node that combines activations cannot be mapped, by op type (ops
# whose converter takes several activations are not listed).
_MERGE_REASONS = {
    "Mul": "multiplying activations is not supported",
    "Div": "dividing activations is not supported",
    "Sub": "subtracting activations is not supported",
    "MatMul": "multiplying activations is not supported",
}

# Inputs an op reads only for their shape or type, never their values: an
# activation there is as good as a constant.
_METADATA_INPUTS = {"Shape": (0,), "Size": (0,), "CastLike": (1,)}


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
        self.uses: dict = {}  # tensor name -> how many nodes (and graph outputs) read its values
        self.tensors_of: dict = {}  # ir layer name -> the tensors that are its output
        self.layers: list = []
        self.layer_names: set = set()
        self.batch_probe = BATCH_PROBE

    def run(self) -> ir.Network:
        self._read_initializers()
        input_name, input_shape = self._network_input()
        self.values[input_name] = Activation(input_shape, layer=ir.INPUT, dtype=self.input_dtype)
        self.tensors_of[ir.INPUT] = [input_name]
        nodes = self._topological_order()
        self._count_uses(nodes)
        for node in nodes:
            self._import_node(node)
        layers = self._layers_for_output()
        self._check_against_shape_inference()
        return ir.Network(graph.compact(layers), input_shape, source=self.source, input_name=input_name)

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
        self.input_dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
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

    def _count_uses(self, nodes: list) -> None:
        for node in nodes:
            metadata = _METADATA_INPUTS.get(node.op_type, ())
            for i, name in enumerate(node.input):
                if name and i not in metadata:
                    self.uses[name] = self.uses.get(name, 0) + 1
        for output in self.graph.output:
            self.uses[output.name] = self.uses.get(output.name, 0) + 1

    def _input_value(self, node: onnx.NodeProto, name: str):
        if not name:
            return None  # an absent optional input
        value = self.values[name]
        if isinstance(value, Unavailable):
            raise node_error(self.source, node, f"reads {value.reason}, which snnhw does not model")
        return value

    def _read_alone(self, layer_name: str) -> bool:
        """Whether the node being converted is the only reader of layer ``layer_name``'s output.

        Its tensors (the layer's output and no-op aliases of it) must each be
        read once: every alias by the next one, the last by that node.
        """
        tensors = self.tensors_of.get(layer_name, [])
        return sum(self.uses.get(t, 0) for t in tensors) == len(tensors)

    # -- one node -----------------------------------------------------------
    def _import_node(self, node: onnx.NodeProto) -> None:
        if node.domain not in ("", "ai.onnx"):
            raise node_error(self.source, node, f"op type {node.domain}.{node.op_type} (custom domain) is not supported")
        inputs = [self._input_value(node, name) for name in node.input]
        metadata = _METADATA_INPUTS.get(node.op_type, ())
        activations = [i for i, v in enumerate(inputs) if isinstance(v, Activation) and i not in metadata]
        if not activations:
            stand_ins = [metadata_stand_in(v, self.batch_probe) if isinstance(v, Activation) else v for v in inputs]
            self._fold(node, stand_ins)
        else:
            self._convert(node, inputs, activations)

    def _fold(self, node: onnx.NodeProto, inputs: list) -> None:
        if not can_fold(node.op_type):
            if find_converter(node.op_type, self.opset) is None:
                raise self._unsupported_op(node)
            raise node_error(self.source, node, "computes on constants only, which snnhw cannot evaluate")
        arrays = [v.value if isinstance(v, Const) else v for v in inputs]
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

    def _convert(self, node: onnx.NodeProto, inputs: list, activations: list) -> None:
        several = len(activations) > 1
        if several and node.op_type in _MERGE_REASONS:
            raise node_error(self.source, node, _MERGE_REASONS[node.op_type])
        converter = find_converter(node.op_type, self.opset)
        if converter is None:
            raise self._unsupported_op(node)
        if several and not takes_several_activations(node.op_type, self.opset):
            raise node_error(self.source, node, f"combining {len(activations)} activations is not supported")
        sources = tuple(inputs[i].layer for i in activations)
        previous_name = sources[0]
        ctx = NodeContext(
            node=node,
            name=graph.unique_name(node_label(node), self.layer_names),
            opset=self.opset,
            source=self.source,
            inputs=inputs,
            activation_index=activations[0],
            activation_indices=tuple(activations),
            sources=sources,
            batch_probe=self.batch_probe,
            previous_layer=self._layer(previous_name),
            previous_read_alone=self._read_alone(previous_name),
            attrs=attributes(node),
        )
        layers = converter(ctx)
        if ctx.replacement_for_previous is not None:
            index = next(i for i, l in enumerate(self.layers) if l.name == previous_name)
            self.layers[index] = ctx.replacement_for_previous
        for k, layer in enumerate(layers):
            if k:  # the first layer's name is unique already; later ones read the one before
                layer.name = graph.unique_name(layer.name, self.layer_names)
        if layers and not layers[0].inputs:
            layers[0].inputs = sources[:1]
        self.layers.extend(layers)
        label = node_label(node)
        out_shape = layers[-1].out_shape if layers else ctx.in_shape
        out_layer = layers[-1].name if layers else previous_name
        dtype = inputs[activations[0]].dtype if ctx.out_dtype is None else ctx.out_dtype
        self.values[node.output[0]] = Activation(tuple(out_shape), label, layer=out_layer, dtype=dtype)
        self.tensors_of.setdefault(out_layer, []).append(node.output[0])
        for extra in node.output[1:]:
            if extra:
                self.values[extra] = Unavailable(f"output '{extra}' of node '{label}' ({node.op_type})")

    def _layer(self, name: str):
        return next((l for l in reversed(self.layers) if l.name == name), None)

    def _layers_for_output(self) -> list:
        """The imported layers the graph output depends on, with explicit edges."""
        outputs = list(self.graph.output)
        if len(outputs) != 1:
            raise UnsupportedModelError(
                f"{self.source}: the graph has {len(outputs)} outputs; snnhw maps networks with one output"
            )
        name = outputs[0].name
        value = self.values.get(name)
        if not isinstance(value, Activation) or value.layer == ir.INPUT:
            raise UnsupportedModelError(f"{self.source}: the graph output '{name}' does not depend on the input "
                                        "through any layer")
        layers = graph.explicit(list(self.layers))
        needed = graph.ancestors(layers, value.layer)
        # The output's layer comes last: every kept layer is one of its ancestors.
        return [l for l in layers if l.name in needed]

    # -- checks at the end --------------------------------------------------
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
