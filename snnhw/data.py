"""Loading image data sets: ``.npz`` with ``x_test``/``y_test`` (and ``x_train``).

Images are uint8 pixels in NHWC, NCHW or (N, H, W) for one channel; they
come out as (N, C, H, W) uint8 matching the model's input shape, or a
:class:`DataError` that names the file and what is wrong.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from snnhw.errors import DataError


def load_split(path, split: str = "test", limit: int | None = None):
    """(x, y) of ``split`` ('test' or 'train') from an npz; y is None when absent."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such data file")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"{path}: not a NumPy .npz archive ({exc})") from exc
    with z:
        key = f"x_{split}"
        if key not in z.files:
            raise DataError(f"{path}: has no '{key}' array (found: {', '.join(z.files)})")
        x = z[key][:limit]
        y = z[f"y_{split}"][:limit] if f"y_{split}" in z.files else None
    if len(x) == 0:
        raise DataError(f"{path}: '{key}' is empty")
    if y is not None and len(y) != len(x):
        raise DataError(f"{path}: {len(x)} images but {len(y)} labels in the {split} split")
    return x, (None if y is None else np.asarray(y).astype(np.int64))


def to_nchw(x: np.ndarray, input_shape, where: str = "data") -> np.ndarray:
    """Pixels in any of the accepted layouts -> uint8 (N, C, H, W) for a model input (C, H, W)."""
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.integer) or x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(f"{where}: images must be uint8 pixels 0..255, got dtype {x.dtype}")
        x = x.astype(np.uint8)
    if len(x) == 0:
        raise DataError(f"{where}: no images")
    shape = tuple(input_shape)
    if len(shape) == 1:  # an MLP: any image layout flattened in C-H-W order
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != shape[0]:
            raise DataError(f"{where}: images of {flat.shape[1]} pixels do not match the model's input {shape}")
        return flat
    c, h, w = shape
    got = x.shape[1:]
    if got == (c, h, w):
        return np.ascontiguousarray(x)
    if got == (h, w, c):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    if c == 1 and got == (h, w):
        return np.ascontiguousarray(x[:, None])
    raise DataError(f"{where}: images of shape {got} do not match the model input (C, H, W) = {shape} "
                    f"(accepted: NCHW, NHWC, or (N, H, W) for one channel)")
