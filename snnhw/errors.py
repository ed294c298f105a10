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


class ManifestError(SnnhwError):
    """A build directory's manifest.json is missing, unreadable, of another format or version, or lacks a field
    (or a file it lists is missing). The message names the file and the field."""

    def __init__(self, path, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        self.problem = message
        super().__init__(f"{path}: " + (f"field {field}: " if field else "") + message)

    def __reduce__(self):
        return self.__class__, (self.path, self.problem, self.field)


class BoardError(SnnhwError):
    """Talking to a board failed: the port cannot be opened, the board does not answer in time, answers with a
    bad frame or an ERROR frame, runs another design than the build directory's, or the programmer tool fails."""


class BoardRejectedError(BoardError):
    """The board answered a request with an ERROR frame (a frame it received was damaged or cut short)."""


class BoardMismatchError(BoardError):
    """A board's result differs from the golden model's (``snnhw run --check``): names the image, the step or
    class, and both values."""

    def __init__(self, message: str, image: int | None = None):
        self.image = image
        super().__init__(message)

    def __reduce__(self):
        return self.__class__, (str(self), self.image)


class BoardBuildError(ManifestError):
    """A build directory's board/board.json is missing, unreadable, of another format or version, or has a bad
    field. The message names the file and the field."""
