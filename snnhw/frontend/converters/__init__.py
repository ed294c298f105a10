"""ONNX node converters, one small module per op (family), in a registry.

Importing this package registers every converter; the importer then looks
them up with :func:`find_converter` by op type and opset.
"""
from .registry import find_converter, register, supported_op_types, takes_several_activations
from .context import Activation, Const, NodeContext, Unavailable

# Modules register their converters on import.
from . import activation, add, batchnorm, concat, conv, identity, linear, pooling, reduce, reshape  # noqa: F401,E402

__all__ = [
    "Activation", "Const", "NodeContext", "Unavailable",
    "find_converter", "register", "supported_op_types", "takes_several_activations",
]
