"""Code generation: QNetwork -> Verilog build directory.

Public API: :func:`generate_design` (see :mod:`snnhw.codegen.generate`),
:func:`plan_design` (validation and layout only, writes nothing) and the
build directory's manifest (:mod:`snnhw.codegen.manifest`): :class:`Manifest`,
:func:`load_manifest`, :func:`write_manifest`.
"""
from snnhw.codegen.generate import generate_design
from snnhw.codegen.layout import plan_design
from snnhw.codegen.manifest import Manifest, load_manifest, write_manifest

__all__ = ["generate_design", "plan_design", "Manifest", "load_manifest", "write_manifest"]
