"""Errors snnhw reports to its users.

Every error a user can cause (a model we cannot map, a bad data file, a bad
option) is an :class:`SnnhwError` with a one-line message that names the file
and the offending part, so the command line can print it without a traceback.
"""


class SnnhwError(Exception):
    """Base of every error snnhw reports to its user."""


class ModelLoadError(SnnhwError):
    """The model file is missing, unreadable, truncated, corrupt or not ONNX."""


class UnsupportedModelError(SnnhwError):
    """The model is valid ONNX but uses something snnhw cannot map to hardware."""


class DataError(SnnhwError):
    """A data set or input array has the wrong file format, shape or type."""


class OptionError(SnnhwError):
    """A command-line or API option is out of range or inconsistent."""


class FitError(SnnhwError):
    """The network does not fit the requested target (bits, memory, device)."""
