"""The bundled example (examples/mnist_small.onnx) as a QNetwork, for RTL tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_qnet(bits=8, max_timesteps=64, calib=200):
    onnx_path = EXAMPLES / "mnist_small.onnx"
    data_path = EXAMPLES / "mnist_sample.npz"
    if not onnx_path.exists() or not data_path.exists():
        pytest.skip("examples/mnist_small.onnx or mnist_sample.npz missing")
    from snnhw.frontend.normalize import activation_lambdas, normalize
    from snnhw.frontend.onnx_import import load_onnx
    from snnhw.frontend.passes import canonicalize
    from snnhw.frontend.quantize import quantize
    from snnhw.pipeline import model_input

    d = np.load(data_path)
    x_train = d["x_train"].reshape(-1, 1, 28, 28)
    x_test = d["x_test"].reshape(-1, 1, 28, 28)
    net = canonicalize(load_onnx(onnx_path))
    lam = activation_lambdas(net, model_input(x_train[:calib]))
    q = quantize(normalize(net, lam), bits=bits, max_timesteps=max_timesteps)
    return q, x_test, d["y_test"]
