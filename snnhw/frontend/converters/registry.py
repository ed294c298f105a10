"""The converter registry: one function per ONNX op type (and opset range).

Modelled on onnx2torch's ``node_converters``: a module per op (family)
registers its converter with ``@register("Conv")``; where an op's semantics
changed between opsets it registers one converter per range, e.g.
``@register("Softmax", until=13)`` and ``@register("Softmax", since=13)``.
The importer asks :func:`find_converter` for the converter valid at the
model's opset; an op without one is reported as unsupported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

# A converter takes a NodeContext and returns the list of ir layers the node
# becomes (empty for a no-op), each with in_shape/out_shape filled in.
Converter = Callable[..., list]


@dataclass(frozen=True)
class _Entry:
    since: int  # first opset this converter handles
    until: Optional[int]  # first opset it no longer handles (None: open)
    convert: Converter
    several_activations: bool = False  # it combines activations (Add, Concat)


_CONVERTERS: dict[str, list[_Entry]] = {}


def register(op_type: str, since: int = 1, until: Optional[int] = None, several_activations: bool = False):
    """Decorator: ``fn`` converts ``op_type`` nodes for opsets ``since <= v < until``.

    Only a converter registered with ``several_activations`` is given a node
    with more than one activation input; for any other the importer refuses it.
    """

    def decorate(fn: Converter) -> Converter:
        entries = _CONVERTERS.setdefault(op_type, [])
        for e in entries:
            overlap = (until is None or e.since < until) and (e.until is None or since < e.until)
            if overlap:
                raise ValueError(f"two converters for {op_type} overlap in opset range")
        entries.append(_Entry(since, until, fn, several_activations))
        return fn

    return decorate


def _entry(op_type: str, opset: int) -> Optional[_Entry]:
    for e in _CONVERTERS.get(op_type, ()):
        if e.since <= opset and (e.until is None or opset < e.until):
            return e
    return None


def find_converter(op_type: str, opset: int) -> Optional[Converter]:
    """The converter for ``op_type`` at ``opset``, or None if there is none."""
    e = _entry(op_type, opset)
    return e.convert if e else None


def takes_several_activations(op_type: str, opset: int) -> bool:
    e = _entry(op_type, opset)
    return bool(e and e.several_activations)


def supported_op_types() -> list[str]:
    """Op types that have a converter at some opset, sorted (for error messages)."""
    return sorted(_CONVERTERS)
