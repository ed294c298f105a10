"""Which convolution backend snnhw's simulators use, for timing both (bench only).

snnhw's ``conv2d`` uses PyTorch's CPU convolution when torch is installed
(``snnhw.reference.conv.conv_backend``; exact for the golden model's integer
sums) and otherwise its NumPy im2col + BLAS path (``SNNHW_CONV=numpy``).
The accuracy scripts use the library's default; ``bench/speed.py`` times both
paths in the same process: ``disable()`` forces the NumPy path, ``enable()``
restores the library's default. (Before the library had the torch backend,
this module patched it in at run time; the results are identical.)
"""
from __future__ import annotations

import importlib

_SAVED = {}


def _conv():
    return importlib.import_module("snnhw.reference.conv")


def enable() -> None:
    """The library's default backend (torch when installed)."""
    conv = _conv()
    if "backend" in _SAVED:
        conv._BACKEND["torch"] = _SAVED.pop("backend")
    conv.conv_backend()


def disable() -> None:
    """Force snnhw's NumPy im2col path (as ``SNNHW_CONV=numpy`` does)."""
    conv = _conv()
    if "backend" not in _SAVED:
        _SAVED["backend"] = conv.conv_backend()
    conv._BACKEND["torch"] = None


def enabled() -> bool:
    return _conv().conv_backend() is not None
