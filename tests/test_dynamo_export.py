"""A bias-free network exported by PyTorch's dynamo exporter imports and classifies as onnxruntime does.

The exporter writes a missing conv bias as Expand(CastLike(0, input), Shape(W)): CastLike reads the
graph input only for its type, so it must fold to a constant, not count as a second activation. The
fixture (tests/data/dynamo_bias_free.onnx, written by tests/data/make_dynamo_fixture.py) needs neither
torch nor onnxscript; with both installed, the network is exported afresh as well.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from snnhw import ir
from snnhw.frontend.normalize import activation_lambdas, normalize
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize
from snnhw.frontend.quantize import quantize
from snnhw.reference.ann import run_ann
from snnhw.reference.golden import run_golden

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "dynamo_bias_free.onnx"


def _script():
    spec = importlib.util.spec_from_file_location("make_dynamo_fixture", DATA / "make_dynamo_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_classifies_as_onnxruntime(path: Path) -> ir.Network:
    model = onnx.load(str(path))
    assert any(n.op_type == "CastLike" and model.graph.input[0].name in n.input for n in model.graph.node), \
        "the export no longer reads the input for its type only; the fixture would test nothing"
    x = np.random.default_rng(0).random((12, 1, 8, 8), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    expected = np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])  # batch 1
    net = load_onnx(path)
    assert np.allclose(run_ann(net, x), expected, rtol=1e-4, atol=1e-5)
    canon = canonicalize(net)
    got = run_ann(canon, x)
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert np.array_equal(got.argmax(1), expected.argmax(1))
    assert [type(l).__name__ for l in canon.layers] == ["Conv", "Conv", "Sum", "Conv", "AvgPool", "Flatten", "Dense"]
    assert canon.layers[3].group == 4 and canon.layers[3].cap == 6.0
    return canon


def test_fixture_imports_and_classifies_as_onnxruntime():
    canon = check_classifies_as_onnxruntime(FIXTURE)
    images = np.random.default_rng(1).integers(0, 256, (20, 1, 8, 8), dtype=np.uint8)
    qnet = quantize(normalize(canon, activation_lambdas(canon, images / np.float32(255))), 8)
    assert run_golden(qnet, images[:2], 10).potentials.shape == (10, 2, 3)


@pytest.mark.parametrize("optimize", [False, True])
def test_fresh_dynamo_export(tmp_path, optimize):
    pytest.importorskip("torch")
    pytest.importorskip("onnxscript")  # the dynamo exporter needs it (pip install onnxscript)
    path = _script().export(tmp_path / "bias_free.onnx", optimize=optimize)
    if optimize:  # the optimizer may fold the zero biases away: then only the classification is checked
        model = onnx.load(str(path))
        if not any(n.op_type == "CastLike" and model.graph.input[0].name in n.input for n in model.graph.node):
            x = np.random.default_rng(0).random((1, 1, 8, 8), dtype=np.float32)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            expected = session.run(None, {session.get_inputs()[0].name: x})[0]
            assert np.allclose(run_ann(canonicalize(load_onnx(path)), x), expected, rtol=1e-4, atol=1e-5)
            return
    check_classifies_as_onnxruntime(path)
