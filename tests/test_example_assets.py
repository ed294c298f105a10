"""The bundled default example in examples/: a small MNIST CNN (ONNX) and an MNIST sample.

Checks that the committed assets exist and are what examples/README.md says;
they are made by examples/train_mnist.py.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"
MODEL = EXAMPLES / "mnist_small.onnx"
META = EXAMPLES / "mnist_small.json"
SAMPLE = EXAMPLES / "mnist_sample.npz"
SCRIPT = EXAMPLES / "train_mnist.py"
README = EXAMPLES / "README.md"
SHARED_MNIST = REPO_ROOT.parent / "shared" / "data" / "mnist.npz"

SAMPLE_SHAPES = {
    "x_train": (500, 28, 28),
    "y_train": (500,),
    "x_test": (200, 28, 28),
    "y_test": (200,),
}


def _sample() -> dict[str, np.ndarray]:
    with np.load(SAMPLE, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _to_input(x: np.ndarray) -> np.ndarray:
    return (x.astype(np.float32) / 255.0)[:, None, :, :]


@pytest.mark.parametrize("path", [MODEL, META, SAMPLE, SCRIPT, README], ids=lambda p: p.name)
def test_asset_exists(path):
    assert path.is_file(), f"{path} is missing"
    assert path.stat().st_size > 0


def test_sample_npz_keys_dtypes_shapes_size():
    assert SAMPLE.stat().st_size < 1_000_000
    s = _sample()
    assert set(s) == set(SAMPLE_SHAPES)
    for key, shape in SAMPLE_SHAPES.items():
        assert s[key].dtype == np.uint8, key
        assert s[key].shape == shape, key
    assert s["y_train"].max() <= 9 and s["y_test"].max() <= 9
    # class-balanced training cut: 50 of each digit
    assert np.bincount(s["y_train"], minlength=10).tolist() == [50] * 10


def test_metadata():
    meta = json.loads(META.read_text())
    assert {"model", "data", "test_accuracy", "epochs", "opset", "seed"} <= set(meta)
    assert meta["model"] == MODEL.name
    assert meta["opset"] == 13
    assert meta["test_accuracy"] >= 0.98


def test_onnx_graph_shape():
    model = onnx.load(str(MODEL))
    onnx.checker.check_model(model)
    assert {o.domain: o.version for o in model.opset_import}.get("", None) == 13
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Conv", "BatchNormalization", "Relu", "MaxPool",
                   "Conv", "BatchNormalization", "Relu", "MaxPool",
                   "Flatten", "Gemm"]
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["logits"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [1, 28, 28]


def test_onnx_accuracy_on_sample():
    ort = pytest.importorskip("onnxruntime")
    s = _sample()
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    logits = sess.run(["logits"], {"input": _to_input(s["x_test"])})[0]
    assert logits.shape == (200, 10)
    acc = float((logits.argmax(1) == s["y_test"]).mean())
    assert acc >= 0.95, acc


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_MNIST.is_file(), reason="../shared/data/mnist.npz not present")
def test_sample_is_reproducible(tmp_path):
    """train_mnist.py --sample-only (without torch) remakes the committed sample exactly."""
    spec = importlib.util.spec_from_file_location("train_mnist", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    remade = mod.make_sample(mod.load_mnist(SHARED_MNIST), tmp_path / "sample.npz")
    committed = _sample()
    for key in SAMPLE_SHAPES:
        np.testing.assert_array_equal(remade[key], committed[key], err_msg=key)
