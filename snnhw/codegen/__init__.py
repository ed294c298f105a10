"""Code generation: QNetwork -> Verilog build directory.

Public API: :func:`generate_design` (see :mod:`snnhw.codegen.generate`) and
:func:`plan_design` (validation and layout only, writes nothing).
"""
from snnhw.codegen.generate import generate_design
from snnhw.codegen.layout import plan_design

__all__ = ["generate_design", "plan_design"]
