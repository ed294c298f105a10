"""Data loading: layouts accepted, and clear errors for everything else."""
import numpy as np
import pytest

from snnhw.data import load_split, to_nchw
from snnhw.errors import DataError


def test_layouts_become_nchw():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)  # NHWC
    nchw = to_nchw(x, (3, 4, 5))
    assert nchw.shape == (2, 3, 4, 5) and nchw[1, 2, 3, 4] == x[1, 3, 4, 2]
    assert to_nchw(nchw, (3, 4, 5)).shape == (2, 3, 4, 5)
    assert to_nchw(np.zeros((3, 28, 28), np.uint8), (1, 28, 28)).shape == (3, 1, 28, 28)


def test_wrong_shape_names_the_source():
    with pytest.raises(DataError, match=r"calib.npz: images of shape \(32, 32, 3\)"):
        to_nchw(np.zeros((2, 32, 32, 3), np.uint8), (1, 28, 28), "calib.npz")


def test_float_images_are_refused():
    with pytest.raises(DataError, match="uint8"):
        to_nchw(np.zeros((2, 28, 28), np.float32) + 0.5, (1, 28, 28))


def test_empty_and_missing(tmp_path):
    p = tmp_path / "empty.npz"
    np.savez(p, x_test=np.zeros((0, 28, 28), np.uint8), y_test=np.zeros(0, np.uint8))
    with pytest.raises(DataError, match="empty"):
        load_split(p, "test")
    with pytest.raises(DataError, match="x_train"):
        load_split(p, "train")
    with pytest.raises(DataError, match="no such"):
        load_split(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("hello")
    with pytest.raises(DataError, match="junk.npz"):
        load_split(junk)
