"""ONNX import + float ANN executor against onnxruntime.

Models are built here with onnx.helper (no torch); the real exported models
in ../shared/models are checked too when that directory exists.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper

from snnhw import ir
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize
from snnhw.reference.ann import run_ann
from snnhw.reference.conv import avg_pool2d, conv2d, max_pool2d, output_hw, same_pads

TOLERANCE = 1e-4
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------
# Building and running models
# --------------------------------------------------------------------------
def tensor(name: str, array) -> onnx.TensorProto:
    array = np.asarray(array)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return numpy_helper.from_array(array, name)


def randn(*shape, scale=0.5) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def make_model(nodes, initializers, in_shape=("N", 1, 8, 8), opset=13, output="y",
               initializers_as_inputs=False) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))]
    if initializers_as_inputs:  # as old exporters did
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in initializers]
    graph = helper.make_graph(
        nodes, "test", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], initializers
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="snnhw-tests")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    return model


def save(model: onnx.ModelProto, tmp_path: Path, name="model.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def ort_run(model, x: np.ndarray) -> np.ndarray:
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def canonical_output(net: ir.Network, x: np.ndarray) -> np.ndarray:
    """The canonical network's output, with the stripped softmax re-applied."""
    y = run_ann(net, x)
    if net.softmax:
        flat = y.reshape(len(y), -1)
        e = np.exp(flat - flat.max(axis=1, keepdims=True))
        y = (e / e.sum(axis=1, keepdims=True)).reshape(y.shape)
    return y


def check_model(tmp_path, model, x, canonical=True) -> ir.Network:
    """Import, run raw (and canonical) and compare with onnxruntime."""
    path = save(model, tmp_path)
    expected = ort_run(model, x)
    net = load_onnx(path)
    got = run_ann(net, x)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= TOLERANCE
    for layer in net.layers:
        assert layer.in_shape and layer.out_shape, layer
    if canonical:
        canon = canonicalize(net)
        assert np.abs(canonical_output(canon, x) - expected).max() <= TOLERANCE
        return canon
    return net


def images(n=3, shape=(1, 8, 8)) -> np.ndarray:
    return RNG.random((n, *shape), dtype=np.float32)


def conv_block(prefix, c_in, c_out, k=3, pads=(1, 1, 1, 1), inp="x", batchnorm=True):
    """Nodes and initializers of Conv -> BatchNormalization -> Relu (output f"{prefix}.relu")."""
    inits = [
        tensor(f"{prefix}.w", randn(c_out, c_in, k, k)),
        tensor(f"{prefix}.b", randn(c_out)),
        tensor(f"{prefix}.gamma", RNG.uniform(0.5, 1.5, c_out)),
        tensor(f"{prefix}.beta", randn(c_out)),
        tensor(f"{prefix}.mean", randn(c_out)),
        tensor(f"{prefix}.var", RNG.uniform(0.5, 2.0, c_out)),
    ]
    nodes = [
        helper.make_node("Conv", [inp, f"{prefix}.w", f"{prefix}.b"], [f"{prefix}.conv"], name=f"{prefix}/Conv",
                         kernel_shape=[k, k], pads=list(pads)),
        helper.make_node("BatchNormalization", [f"{prefix}.conv", f"{prefix}.gamma", f"{prefix}.beta",
                                                f"{prefix}.mean", f"{prefix}.var"], [f"{prefix}.bn"],
                         name=f"{prefix}/BN", epsilon=1e-3),
        helper.make_node("Relu", [f"{prefix}.bn"], [f"{prefix}.relu"], name=f"{prefix}/Relu"),
    ]
    if not batchnorm:
        nodes = [nodes[0], helper.make_node("Relu", [f"{prefix}.conv"], [f"{prefix}.relu"], name=f"{prefix}/Relu")]
        inits = inits[:2]
    return nodes, inits


def dense(name, inp, out, n_in, n_out, trans_b=1):
    w = randn(n_out, n_in) if trans_b else randn(n_in, n_out)
    node = helper.make_node("Gemm", [inp, f"{name}.w", f"{name}.b"], [out], name=name, transB=trans_b)
    return node, [tensor(f"{name}.w", w), tensor(f"{name}.b", randn(n_out))]


def lenet(opset: int) -> onnx.ModelProto:
    """Conv-BN-ReLU-MaxPool, Conv-ReLU-AvgPool, Flatten, Gemm-ReLU-Dropout, Gemm, Softmax."""
    nodes, inits = conv_block("c1", 1, 4)
    nodes.append(helper.make_node("MaxPool", ["c1.relu"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]))
    more, more_inits = conv_block("c2", 4, 6, inp="p1", batchnorm=False)
    nodes += more
    inits += more_inits
    nodes.append(helper.make_node("AveragePool", ["c2.relu"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["p2"], ["flat"], name="flatten", axis=1))
    fc1, fc1_inits = dense("fc1", "flat", "fc1.out", 24, 12)
    nodes += [fc1, helper.make_node("Relu", ["fc1.out"], ["fc1.relu"], name="fc1/Relu")]
    if opset < 12:
        nodes.append(helper.make_node("Dropout", ["fc1.relu"], ["drop"], name="dropout", ratio=0.3))
    else:
        inits.append(tensor("ratio", np.array(0.3, np.float32)))
        nodes.append(helper.make_node("Dropout", ["fc1.relu", "ratio"], ["drop"], name="dropout"))
    fc2, fc2_inits = dense("fc2", "drop", "logits", 12, 5, trans_b=0)
    nodes += [fc2, helper.make_node("Softmax", ["logits"], ["y"], name="softmax")]
    return make_model(nodes, inits + fc1_inits + fc2_inits, opset=opset)


# --------------------------------------------------------------------------
# A small CNN at every opset
# --------------------------------------------------------------------------
@pytest.mark.parametrize("opset", range(11, 21))
def test_lenet_matches_onnxruntime_at_every_opset(tmp_path, opset):
    net = check_model(tmp_path, lenet(opset), images(4))
    kinds = [type(l).__name__ for l in net.layers]
    assert kinds == ["Conv", "MaxPool", "Conv", "AvgPool", "Flatten", "Dense", "Dense"]
    assert [l.relu for l in net.weight_layers()] == [True, True, True, False]
    assert net.softmax
    assert net.output_shape == (5,)


def test_layer_shapes_and_names(tmp_path):
    net = load_onnx(save(lenet(13), tmp_path))
    shapes = [(l.name, l.in_shape, l.out_shape) for l in net.layers]
    assert shapes[:4] == [
        ("c1/Conv", (1, 8, 8), (4, 8, 8)),
        ("c1/BN", (4, 8, 8), (4, 8, 8)),
        ("c1/Relu", (4, 8, 8), (4, 8, 8)),
        ("pool1", (4, 8, 8), (4, 4, 4)),
    ]
    assert net.input_shape == (1, 8, 8) and net.input_name == "x"
    assert net.source == str(tmp_path / "model.onnx")
    assert all(layer.weight.dtype == np.float32 for layer in net.weight_layers())


def test_batch_of_one_and_many_give_the_same(tmp_path):
    net = canonicalize(load_onnx(save(lenet(13), tmp_path)))
    x = images(10)
    whole = run_ann(net, x)
    one_by_one = np.concatenate([run_ann(net, x[i:i + 1]) for i in range(10)])
    assert np.allclose(whole, one_by_one, atol=1e-6)
    assert np.allclose(run_ann(net, x, batch_size=3), whole, atol=1e-6)


def test_return_activations_lists_every_layer(tmp_path):
    net = load_onnx(save(lenet(13), tmp_path))
    x = images(5)
    acts = run_ann(net, x, return_activations=True, batch_size=2)
    assert len(acts) == len(net.layers)
    for layer, a in zip(net.layers, acts):
        assert a.shape == (5, *layer.out_shape)
    assert np.allclose(acts[-1], run_ann(net, x), atol=1e-6)  # BLAS rounding may depend on the batch


# --------------------------------------------------------------------------
# Single ops and patterns
# --------------------------------------------------------------------------
@pytest.mark.parametrize("trans_b, alpha, beta, c_shape", [
    (1, 1.0, 1.0, (7,)), (0, 1.0, 1.0, (7,)), (1, 0.5, 2.0, (1, 7)), (0, 2.0, 0.25, ()), (1, 1.0, 1.0, None),
])
def test_gemm_attributes(tmp_path, trans_b, alpha, beta, c_shape):
    w = randn(7, 5) if trans_b else randn(5, 7)
    inits = [tensor("w", w)]
    inputs = ["x", "w"]
    if c_shape is not None:
        inits.append(tensor("c", randn(*c_shape) if c_shape else np.array(0.7, np.float32)))
        inputs.append("c")
    node = helper.make_node("Gemm", inputs, ["y"], name="gemm", transB=trans_b, alpha=alpha, beta=beta)
    net = check_model(tmp_path, make_model([node], inits, in_shape=("N", 5)), RNG.random((3, 5), dtype=np.float32))
    assert net.input_shape == (5,) and isinstance(net.layers[0], ir.Dense)


@pytest.mark.parametrize("bias_first", [False, True])
def test_matmul_add_becomes_dense(tmp_path, bias_first):
    nodes, inits = conv_block("c", 1, 2, pads=(0, 0, 0, 0))
    add_inputs = ["bias", "mm"] if bias_first else ["mm", "bias"]
    nodes += [
        helper.make_node("Flatten", ["c.relu"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "w"], ["mm"], name="matmul"),
        helper.make_node("Add", add_inputs, ["y"], name="add"),
    ]
    inits += [tensor("w", randn(72, 3)), tensor("bias", randn(3))]
    net = check_model(tmp_path, make_model(nodes, inits), images(3))
    assert [type(l).__name__ for l in net.layers] == ["Conv", "Flatten", "Dense"]
    assert not np.allclose(net.layers[-1].bias, 0)


def test_conv_bias_as_separate_add(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["conv"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Add", ["conv", "b"], ["y"], name="bias"),
    ]
    inits = [tensor("w", randn(3, 1, 3, 3)), tensor("b", randn(1, 3, 1, 1))]
    net = check_model(tmp_path, make_model(nodes, inits), images(2), canonical=False)
    assert len(net.layers) == 1
    assert np.array_equal(net.layers[0].bias, numpy_helper.to_array(inits[1]).reshape(-1))


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_global_average_pool_and_squeeze(tmp_path, opset):
    nodes, inits = conv_block("c", 1, 4)
    nodes.append(helper.make_node("GlobalAveragePool", ["c.relu"], ["gap"], name="gap"))
    if opset < 13:
        nodes.append(helper.make_node("Squeeze", ["gap"], ["sq"], name="squeeze", axes=[2, 3]))
    else:
        inits.append(tensor("axes", np.array([-1, -2], np.int64)))
        nodes.append(helper.make_node("Squeeze", ["gap", "axes"], ["sq"], name="squeeze"))
    fc, fc_inits = dense("fc", "sq", "y", 4, 3)
    net = check_model(tmp_path, make_model(nodes + [fc], inits + fc_inits, opset=opset), images(3))
    assert [type(l).__name__ for l in net.layers] == ["Conv", "AvgPool", "Flatten", "Dense"]
    assert net.layers[1].kernel == (8, 8)


def test_global_max_pool(tmp_path):
    nodes, inits = conv_block("c", 1, 4)
    nodes += [
        helper.make_node("GlobalMaxPool", ["c.relu"], ["gmp"], name="gmp"),
        helper.make_node("Conv", ["gmp", "w2"], ["y"], name="out", kernel_shape=[1, 1]),
    ]
    inits.append(tensor("w2", randn(3, 4, 1, 1)))
    check_model(tmp_path, make_model(nodes, inits), images(3))


def _flatten_via_shape_chain(opset: int):
    """Legacy exporter for x.view(x.size(0), -1): Shape-Gather-Unsqueeze-Concat-Reshape."""
    nodes = [
        helper.make_node("Shape", ["c.relu"], ["shape"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="const0", value=tensor("zero_v", np.array(0, np.int64))),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="gather", axis=0),
    ]
    inits = []
    if opset < 13:
        nodes.append(helper.make_node("Unsqueeze", ["batch"], ["batch1"], name="unsq", axes=[0]))
    else:
        inits.append(tensor("axes0", np.array([0], np.int64)))
        nodes.append(helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="unsq"))
    nodes += [
        helper.make_node("Constant", [], ["minus1"], name="const1", value=tensor("m1", np.array([-1], np.int64))),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c.relu", "target"], ["flat"], name="reshape"),
    ]
    return nodes, inits


def _flatten_via_dynamo_constants(opset: int):
    """torch.export: Constant(value_ints) - Concat - Reshape(allowzero=1)."""
    nodes = [
        helper.make_node("Constant", [], ["a"], name="ca", value_ints=[1]),
        helper.make_node("Constant", [], ["b"], name="cb", value_ints=[2 * 8 * 8]),
        helper.make_node("Concat", ["a", "b"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c.relu", "target"], ["flat"], name="reshape",
                         **({"allowzero": 1} if opset >= 14 else {})),
    ]
    return nodes, []


def _flatten_via_slice_and_prod(opset: int):
    """Shape - Slice(1:) - ReduceProd - Concat([-1]) - Reshape (x.view(-1, prod(x.shape[1:])))."""
    nodes = [
        helper.make_node("Shape", ["c.relu"], ["shape"], name="shape"),
        helper.make_node("Slice", ["shape", "start", "end"], ["tail"], name="slice"),
    ]
    inits = [tensor("start", np.array([1], np.int64)), tensor("end", np.array([2**62], np.int64)),
             tensor("minus1", np.array([-1], np.int64))]
    if opset < 18:
        nodes.append(helper.make_node("ReduceProd", ["tail"], ["size"], name="prod", keepdims=1))
    else:
        inits.append(tensor("axes", np.array([0], np.int64)))
        nodes.append(helper.make_node("ReduceProd", ["tail", "axes"], ["size"], name="prod", keepdims=1))
    nodes += [
        helper.make_node("Concat", ["minus1", "size"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c.relu", "target"], ["flat"], name="reshape"),
    ]
    return nodes, inits


@pytest.mark.parametrize("batch", ["N", 1])
@pytest.mark.parametrize("opset", [11, 13, 20])
@pytest.mark.parametrize("chain", [_flatten_via_shape_chain, _flatten_via_dynamo_constants, _flatten_via_slice_and_prod])
def test_reshape_from_folded_shape_computation(tmp_path, chain, opset, batch):
    nodes, inits = conv_block("c", 1, 2)
    more, more_inits = chain(opset)
    fc, fc_inits = dense("fc", "flat", "y", 128, 4)
    model = make_model(nodes + more + [fc], inits + more_inits + fc_inits, in_shape=(batch, 1, 8, 8), opset=opset)
    n = 1 if chain is _flatten_via_dynamo_constants or batch == 1 else 3
    net = check_model(tmp_path, model, images(n))
    assert [type(l).__name__ for l in net.layers] == ["Conv", "Flatten", "Dense"]
    # The importer's Flatten works for any batch size, even where the model
    # hard-coded a batch of 1.
    assert run_ann(net, images(3)).shape == (3, 4)


@pytest.mark.parametrize("target", [[0, -1], [-1, 128], [1, 128], [0, 2, 8, 8], [-1, 2, 8, 8], [0, 0, 0, 0]])
def test_reshape_with_constant_target(tmp_path, target):
    nodes, inits = conv_block("c", 1, 2)
    nodes.append(helper.make_node("Reshape", ["c.relu", "target"], ["flat"], name="reshape"))
    inits.append(tensor("target", np.array(target, np.int64)))
    if len(target) == 2:
        fc, fc_inits = dense("fc", "flat", "y", 128, 4)
    else:
        fc = helper.make_node("Conv", ["flat", "w2"], ["y"], name="out", kernel_shape=[1, 1])
        fc_inits = [tensor("w2", randn(3, 2, 1, 1))]
    n = 1 if target[0] == 1 else 3
    net = check_model(tmp_path, make_model(nodes + [fc], inits + fc_inits), images(n))
    assert ("Flatten" in [type(l).__name__ for l in net.layers]) == (len(target) == 2)


def test_initializers_listed_as_inputs(tmp_path):
    model = lenet(11)
    legacy = make_model(list(model.graph.node), list(model.graph.initializer), opset=11, initializers_as_inputs=True)
    check_model(tmp_path, legacy, images(2))


def test_mlp_with_flat_input(tmp_path):
    fc1, i1 = dense("fc1", "x", "h", 10, 16)
    fc2, i2 = dense("fc2", "hr", "y", 16, 3)
    nodes = [fc1, helper.make_node("Relu", ["h"], ["hr"], name="relu"), fc2]
    net = check_model(tmp_path, make_model(nodes, i1 + i2, in_shape=("batch", 10)), RNG.random((4, 10), dtype=np.float32))
    assert net.input_shape == (10,) and len(net.layers) == 2


def test_identity_cast_flatten_flatten_and_fixed_batch(tmp_path):
    nodes, inits = conv_block("c", 1, 2)
    nodes += [
        helper.make_node("Cast", ["c.relu"], ["c1"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Identity", ["c1"], ["i1"], name="id"),
        helper.make_node("Flatten", ["i1"], ["f1"], name="flatten1"),
        helper.make_node("Flatten", ["f1"], ["f2"], name="flatten2"),
    ]
    fc, fc_inits = dense("fc", "f2", "y", 128, 4)
    net = check_model(tmp_path, make_model(nodes + [fc], inits + fc_inits, in_shape=(1, 1, 8, 8)), images(1))
    assert [type(l).__name__ for l in net.layers] == ["Conv", "Flatten", "Dense"]


def test_maxpool_relu_after_linear_conv_commutes(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["conv"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["conv"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Relu", ["pool"], ["relu"], name="relu"),
        helper.make_node("Flatten", ["relu"], ["flat"], name="flatten"),
    ]
    fc, fc_inits = dense("fc", "flat", "y", 48, 4)
    net = check_model(tmp_path, make_model(nodes + [fc], [tensor("w", randn(3, 1, 3, 3))] + fc_inits), images(4))
    assert net.layers[0].relu and [type(l).__name__ for l in net.layers] == ["Conv", "MaxPool", "Flatten", "Dense"]


@pytest.mark.parametrize("opset, axis, shape", [(11, 1, (10, 1, 1)), (13, 1, (10, 1, 1)), (13, -1, (10,)), (11, -1, (10,))])
def test_softmax_axis_semantics(tmp_path, opset, axis, shape):
    nodes = [helper.make_node("Conv", ["x", "w"], ["conv"], name="conv", kernel_shape=[8, 8])]
    last = "conv"
    if len(shape) == 1:
        nodes.append(helper.make_node("Flatten", ["conv"], ["flat"], name="flatten"))
        last = "flat"
    nodes.append(helper.make_node("Softmax", [last], ["y"], name="softmax", axis=axis))
    net = check_model(tmp_path, make_model(nodes, [tensor("w", randn(10, 1, 8, 8))], opset=opset), images(3))
    assert net.softmax


def test_padded_average_pool_counting_the_padding(tmp_path):
    nodes = [helper.make_node("AveragePool", ["x"], ["pool"], name="pool", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                              count_include_pad=1),
             helper.make_node("Conv", ["pool", "w"], ["y"], name="conv", kernel_shape=[1, 1])]
    check_model(tmp_path, make_model(nodes, [tensor("w", randn(2, 1, 1, 1))]), images(2), canonical=False)


def test_maxpool_ceil_mode_with_the_same_shape(tmp_path):
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)]
    net = check_model(tmp_path, make_model(nodes, []), images(2), canonical=False)
    assert net.layers[0].out_shape == (1, 4, 4)


def test_external_data_is_loaded(tmp_path):
    model, x = lenet(13), images(3)
    expected = ort_run(model, x)
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="model.onnx.data", size_threshold=0)
    assert (tmp_path / "model.onnx.data").exists()
    assert np.abs(run_ann(load_onnx(path), x) - expected).max() <= TOLERANCE


# --------------------------------------------------------------------------
# Random geometry (hypothesis) against onnxruntime
# --------------------------------------------------------------------------
@st.composite
def conv_pool_models(draw):
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    pads = [draw(st.integers(0, 2)) for _ in range(4)]
    attrs = {"kernel_shape": [kh, kw], "strides": stride}
    if auto_pad == "NOTSET":
        attrs["pads"] = pads
    else:
        attrs["auto_pad"] = auto_pad
        pads = list(same_pads((h, w), (kh, kw), stride, auto_pad == "SAME_UPPER")) if auto_pad != "VALID" else [0] * 4
    ho, wo = output_hw((h, w), (kh, kw), stride, pads)
    assume(ho >= 1 and wo >= 1)
    inits = [tensor("w", randn(c_out, c_in, kh, kw)), tensor("b", randn(c_out))]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv"], name="conv", **attrs)]
    pool = draw(st.sampled_from([None, "MaxPool", "AveragePool"]))
    out = "conv"
    if pool:
        pk = [draw(st.integers(1, min(3, ho))), draw(st.integers(1, min(3, wo)))]
        ps = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        pp = [draw(st.integers(0, pk[0] - 1)), draw(st.integers(0, pk[1] - 1)),
              draw(st.integers(0, pk[0] - 1)), draw(st.integers(0, pk[1] - 1))]
        extra = {"count_include_pad": 1} if pool == "AveragePool" else {}
        nodes.append(helper.make_node(pool, ["conv"], ["pool"], name="pool", kernel_shape=pk, strides=ps, pads=pp, **extra))
        out = "pool"
    nodes.append(helper.make_node("Relu", [out], ["y"], name="relu"))
    opset = draw(st.sampled_from([11, 13, 17, 19]))
    return make_model(nodes, inits, in_shape=("N", c_in, h, w), opset=opset), (c_in, h, w)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conv_pool_models())
def test_random_conv_pool_geometry_matches_onnxruntime(tmp_path, case):
    model, shape = case
    x = RNG.standard_normal((2, *shape)).astype(np.float32)
    check_model(tmp_path, model, x, canonical=False)


def test_conv2d_is_the_direct_sum_and_exact_for_integers():
    x = RNG.integers(-5, 6, (2, 3, 6, 7)).astype(np.int64)
    w = RNG.integers(-4, 5, (4, 3, 3, 2)).astype(np.int64)
    stride, pads = (2, 1), (1, 0, 2, 1)
    got = conv2d(x, w, stride, pads)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (0, 1)))
    ho, wo = output_hw((6, 7), (3, 2), stride, pads)
    expected = np.zeros((2, 4, ho, wo), np.int64)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, 2 * i:2 * i + 3, j:j + 2]
            expected[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    assert np.array_equal(conv2d(x > 0, w.astype(np.float32)), conv2d((x > 0).astype(np.float32), w.astype(np.float32)))


def test_pools_match_direct_windows():
    x = RNG.standard_normal((2, 3, 7, 6)).astype(np.float32)
    out = max_pool2d(x, (3, 2), (2, 2), (1, 1, 1, 0))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 0)), constant_values=-np.inf)
    assert out.shape == (2, 3, 4, 3)
    assert out[1, 2, 1, 2] == xp[1, 2, 2:5, 4:6].max()
    avg = avg_pool2d(x, (2, 2), (2, 2), (1, 1, 1, 1))
    xz = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert np.isclose(avg[0, 1, 0, 0], xz[0, 1, 0:2, 0:2].sum() / 4)


# --------------------------------------------------------------------------
# The real exported models
# --------------------------------------------------------------------------
REAL_MODELS = [
    "mnist_paper.onnx", "mnist_paper.fused.onnx", "mnist_paper.dynamo.onnx",
    "cifar10_paper.onnx", "cifar10_paper.fused.onnx", "cifar10_paper.dynamo.onnx",
]


def _shared_model(name: str) -> Path:
    path = SHARED / "models" / name
    if not path.exists():
        pytest.skip(f"{path} not found (the shared models directory is absent)")
    return path


def _test_images(name: str, n: int) -> np.ndarray:
    if name.startswith("mnist"):
        return np.load(SHARED / "data" / "mnist.npz")["x_test"][:n, None].astype(np.float32) / 255
    return np.load(SHARED / "data" / "cifar10.npz")["x_test"][:n].transpose(0, 3, 1, 2).astype(np.float32) / 255


def _without_final_softmax(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same model with its output taken before the final Softmax (logits)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    softmax = model.graph.node[-1]
    assert softmax.op_type == "Softmax"
    logits = softmax.input[0]
    del model.graph.node[-1]
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info(logits, TensorProto.FLOAT, None))
    return model


@pytest.mark.shared
@pytest.mark.parametrize("name", REAL_MODELS)
def test_real_model_matches_onnxruntime(name):
    path = _shared_model(name)
    x = _test_images(name, 8)
    model = onnx.load(str(path))  # with its external data
    batch_fixed = "dynamo" in name
    logits_model = _without_final_softmax(model)

    def ort_batch(m):
        if batch_fixed:  # the dynamo export has batch size 1
            return np.concatenate([ort_run(m, x[i:i + 1]) for i in range(len(x))])
        return ort_run(m, x)

    net = load_onnx(path)
    assert np.abs(run_ann(net, x) - ort_batch(model)).max() <= TOLERANCE
    canon = canonicalize(net)
    assert np.abs(run_ann(canon, x) - ort_batch(logits_model)).max() <= TOLERANCE
    assert canon.softmax


@pytest.mark.shared
@pytest.mark.parametrize("stem, kinds, input_shape", [
    ("mnist_paper", ["Conv", "Conv", "MaxPool", "Conv", "MaxPool", "Flatten", "Dense", "Dense"], (1, 28, 28)),
    ("cifar10_paper", ["Conv", "Conv", "MaxPool", "Conv", "Conv", "MaxPool", "Flatten", "Dense", "Dense"], (3, 32, 32)),
])
def test_real_model_variants_give_the_same_canonical_network(stem, kinds, input_shape):
    nets = [canonicalize(load_onnx(_shared_model(f"{stem}{variant}.onnx"))) for variant in ("", ".fused", ".dynamo")]
    for net in nets:
        assert [type(l).__name__ for l in net.layers] == kinds
        assert [l.relu for l in net.weight_layers()][-1] is False
        assert all(l.relu for l in net.weight_layers()[:-1])
        assert net.input_shape == input_shape and net.output_shape == (10,)
    reference = nets[0]
    for net in nets[1:]:
        for a, b in zip(reference.weight_layers(), net.weight_layers()):
            assert np.allclose(a.weight, b.weight, atol=1e-5) and np.allclose(a.bias, b.bias, atol=1e-5)


@pytest.mark.shared
def test_real_mnist_accuracy():
    net = canonicalize(load_onnx(_shared_model("mnist_paper.onnx")))
    data = np.load(SHARED / "data" / "mnist.npz")
    x = data["x_test"][:1000, None].astype(np.float32) / 255
    accuracy = (run_ann(net, x).argmax(axis=1) == data["y_test"][:1000]).mean()
    assert accuracy >= 0.98


# --------------------------------------------------------------------------
# The constant folder against onnxruntime, op by op
# --------------------------------------------------------------------------
I64 = lambda *v: np.array(v, np.int64)  # noqa: E731

FOLD_CASES = [
    ("Gather", {"axis": 0}, [I64(5, 6, 7, 8), I64(-1, 0)], 13),
    ("Concat", {"axis": 0}, [I64(1), I64(2, 3)], 13),
    ("Unsqueeze", {}, [I64(4, 5), I64(0)], 13),
    ("Unsqueeze", {"axes": [1]}, [I64(4, 5)], 11),
    ("Squeeze", {}, [I64(4, 5).reshape(1, 2), I64(0)], 13),
    ("Slice", {}, [I64(1, 2, 3, 4, 5), I64(-4), I64(2**62), I64(0), I64(2)], 13),
    ("Slice", {}, [I64(1, 2, 3, 4, 5), I64(-1), I64(-2**62), I64(0), I64(-2)], 13),
    ("Cast", {"to": TensorProto.FLOAT}, [I64(3, -2)], 13),
    ("Div", {}, [I64(7, -7, 2**31 - 1), I64(2, 2, 3)], 13),
    ("Div", {}, [np.array([1.0, -3.0], np.float32), np.array([4.0, 2.0], np.float32)], 13),
    ("Mul", {}, [I64(3, 4), I64(5)], 13),
    ("Sub", {}, [I64(3, 4), I64(5)], 13),
    ("Equal", {}, [I64(3, 4), I64(4)], 13),
    ("Where", {}, [np.array([True, False]), I64(1, 2), I64(3, 4)], 13),
    ("Expand", {}, [I64(7), I64(2, 3)], 13),
    ("Range", {}, [I64(2), I64(11), I64(3)], 13),
    ("ConstantOfShape", {"value": tensor("v", np.array([5], np.int64))}, [I64(2, 2)], 13),
    ("ReduceProd", {"keepdims": 0}, [I64(2, 3, 4)], 13),
    ("Transpose", {"perm": [1, 0]}, [I64(1, 2, 3, 4, 5, 6).reshape(2, 3)], 13),
    ("Reshape", {}, [I64(1, 2, 3, 4, 5, 6), I64(0, -1) + I64(2, 0)], 13),
    ("Shape", {"start": 1, "end": -1}, [np.zeros((2, 3, 4, 5), np.float32)], 15),
]


@pytest.mark.parametrize("op, attrs, inputs, opset", FOLD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(FOLD_CASES)])
def test_constant_folder_matches_onnxruntime(op, attrs, inputs, opset):
    from snnhw.frontend.converters.constant_folding import fold

    names = [f"in{i}" for i in range(len(inputs))]
    node = helper.make_node(op, names, ["out"], **attrs)
    graph = helper.make_graph(
        [node], "fold",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)) for n, a in zip(names, inputs)],
        [onnx.ValueInfoProto(name="out")],  # type left to onnxruntime
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, dict(zip(names, inputs)))[0]
    (got,) = fold(op, attrs, inputs, opset)
    assert got.dtype == expected.dtype and got.shape == expected.shape and np.array_equal(got, expected)
