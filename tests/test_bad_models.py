"""Models snnhw must refuse, each with a clear one-line error naming the file and node."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from snnhw.errors import ModelLoadError, SnnhwError, UnsupportedModelError
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RNG = np.random.default_rng(99)


def tensor(name, array):
    array = np.asarray(array)
    return numpy_helper.from_array(array.astype(np.float32) if array.dtype == np.float64 else array, name)


def make_model(nodes, initializers, inputs=None, outputs=("y",), opset=13, in_shape=("N", 2, 8, 8)):
    if inputs is None:
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))]
    graph = helper.make_graph(
        nodes, "bad", inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = helper.find_min_ir_version_for(opsets)
    return model


def conv_node(name="conv", inp="x", out="c", c_out=3, **attrs):
    return helper.make_node("Conv", [inp, f"{name}.w", f"{name}.b"], [out], name=name,
                            kernel_shape=[3, 3], pads=[1, 1, 1, 1], **attrs)


def conv_weights(name="conv", c_in=2, c_out=3):
    return [tensor(f"{name}.w", RNG.standard_normal((c_out, c_in, 3, 3))), tensor(f"{name}.b", RNG.standard_normal(c_out))]


def good_model():
    nodes = [conv_node(), helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1)]
    inits = conv_weights() + [tensor("fc.w", RNG.standard_normal((4, 192))), tensor("fc.b", np.zeros(4))]
    return make_model(nodes, inits)


def save(model, tmp_path, name="model.onnx") -> Path:
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def refuse(tmp_path, model, error=UnsupportedModelError, canonical=False) -> str:
    path = save(model, tmp_path)
    with pytest.raises(error) as info:
        net = load_onnx(path)
        if canonical:
            canonicalize(net)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


def test_good_model_loads(tmp_path):
    assert len(canonicalize(load_onnx(save(good_model(), tmp_path))).layers) == 3


# --------------------------------------------------------------------------
# Not a model at all
# --------------------------------------------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "nope.onnx"
    with pytest.raises(ModelLoadError, match=re.escape(f"{path}: no such file")):
        load_onnx(path)


def test_directory(tmp_path):
    with pytest.raises(ModelLoadError, match="not a file"):
        load_onnx(tmp_path)


@pytest.mark.parametrize("content", [
    b"", b"hello, this is not a model\n", bytes(RNG.integers(0, 256, 4096, dtype=np.uint8)),
    b"PK\x03\x04" + bytes(200), b"\x08\x07\x12\x07pytorch",  # a few leading ModelProto fields, no graph
], ids=["empty", "text", "random", "zip", "header-only"])
def test_not_an_onnx_file(tmp_path, content):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=re.escape(str(path))):
        load_onnx(path)


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98, 0.995])
def test_truncated_file(tmp_path, fraction):
    data = good_model().SerializeToString()
    path = tmp_path / "model.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelLoadError, match=re.escape(str(path))):
        load_onnx(path)


@pytest.mark.shared
def test_truncated_real_model(tmp_path):
    source = SHARED / "models" / "mnist_paper.onnx"
    if not source.exists():
        pytest.skip(f"{source} not found (the shared models directory is absent)")
    data = source.read_bytes()
    for fraction in (0.25, 0.75, 0.999):
        path = tmp_path / f"cut{fraction}.onnx"
        path.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(ModelLoadError, match=re.escape(str(path))):
            load_onnx(path)


def test_missing_external_data(tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(good_model(), str(path), save_as_external_data=True, location="model.onnx.data", size_threshold=0)
    (tmp_path / "model.onnx.data").unlink()
    with pytest.raises(ModelLoadError, match="model.onnx.data"):
        load_onnx(path)


def test_truncated_external_data(tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(good_model(), str(path), save_as_external_data=True, location="model.onnx.data", size_threshold=0)
    data = tmp_path / "model.onnx.data"
    data.write_bytes(data.read_bytes()[:500])
    with pytest.raises(ModelLoadError, match=re.escape(str(path))):
        load_onnx(path)


def test_no_opset_import(tmp_path):
    # What a file cut right after its graph looks like (opset_import comes next).
    model = good_model()
    del model.opset_import[:]
    assert "declares no ONNX opset" in refuse(tmp_path, model, ModelLoadError)


def test_declared_shape_disagreeing_with_ours(tmp_path):
    model = good_model()
    model.graph.value_info.append(helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N", 3, 7, 8]))
    message = refuse(tmp_path, model, ModelLoadError)
    assert "tensor 'c' (from node 'conv'): snnhw computes the shape (N, 3, 8, 8)" in message
    assert "(N, 3, 7, 8)" in message


def test_dangling_tensor_reference(tmp_path):
    model = good_model()
    model.graph.node[1].input[0] = "nowhere"
    message = refuse(tmp_path, model, ModelLoadError)
    assert "node 'relu' (Relu): reads tensor 'nowhere'" in message


# --------------------------------------------------------------------------
# Unsupported ops and structures
# --------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["Sigmoid", "Tanh", "LeakyRelu", "FooBar"])
def test_unsupported_activation_op(tmp_path, op):
    model = good_model()
    model.graph.node[1].op_type = op
    if op == "FooBar":
        model.graph.node[1].name = "mystery"
    message = refuse(tmp_path, model)
    name = "mystery" if op == "FooBar" else "relu"
    assert f"node '{name}' ({op}): op type {op} is not supported (supported: " in message
    assert "Conv" in message and "Gemm" in message


def test_custom_domain_op(tmp_path):
    model = good_model()
    model.graph.node[1].domain = "com.example"
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    assert "op type com.example.Relu (custom domain) is not supported" in refuse(tmp_path, model)


def test_residual_add_of_the_image(tmp_path):
    # The shortcut adds the network input (pixels, not spikes) to a conv branch.
    nodes = [conv_node("c1", out="a", c_out=2), helper.make_node("Relu", ["a"], ["ar"], name="/layer1/relu"),
             conv_node("c2", inp="ar", out="b", c_out=2),
             helper.make_node("Add", ["b", "x"], ["s"], name="/layer1/Add"),
             helper.make_node("Relu", ["s"], ["y"], name="/layer1/relu2")]
    message = refuse(tmp_path, make_model(nodes, conv_weights("c1", 2, 2) + conv_weights("c2", 2, 2)), canonical=True)
    assert message.endswith(
        "layer '/layer1/Add' (Sum): adds the network input to other values (a shortcut or Concat from the image); "
        "not supported: only a Conv/Dense may read the image (the analog-input layer)"
    )


def test_residual_add_with_both_branches_on_the_image(tmp_path):
    nodes = [conv_node("c1", out="a"), conv_node("down", out="d"), helper.make_node("Add", ["a", "d"], ["y"], name="add")]
    message = refuse(tmp_path, make_model(nodes, conv_weights("c1") + conv_weights("down")), canonical=True)
    assert "layer 'add' (Sum): adds the network input to other values" in message


def test_concat_as_the_network_output(tmp_path):
    nodes = [conv_node("c1", out="a"), helper.make_node("Relu", ["a"], ["ar"], name="r1"), conv_node("c2", out="b"),
             helper.make_node("Relu", ["b"], ["br"], name="r2"),
             helper.make_node("Concat", ["ar", "br"], ["y"], name="cat", axis=1)]
    message = refuse(tmp_path, make_model(nodes, conv_weights("c1") + conv_weights("c2")), canonical=True)
    assert message.endswith("layer 'cat' (Concat): a Concat as the network output is not supported (the output "
                            "layer must be one Conv/Gemm/MatMul, or an Add of them)")


def test_two_outputs(tmp_path):
    nodes = [conv_node(), helper.make_node("Relu", ["c"], ["y"], name="relu")]
    assert "2 outputs" in refuse(tmp_path, make_model(nodes, conv_weights(), outputs=("y", "c")))


@pytest.mark.parametrize("inputs, expected", [
    ([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 8, 8]),
      helper.make_tensor_value_info("x2", TensorProto.FLOAT, ["N", 2, 8, 8])], "2 inputs"),
    ([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 8])], "has shape [?, 8, 8]"),
    ([helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 2, 8, 8])], "fixed batch size 8"),
    ([helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, "H", 8])], "every dimension but the batch"),
    ([helper.make_tensor_value_info("x", TensorProto.UINT8, ["N", 2, 8, 8])], "not a float tensor"),
])
def test_bad_graph_input(tmp_path, inputs, expected):
    nodes = [conv_node(), helper.make_node("Relu", ["c"], ["y"], name="relu")]
    assert expected in refuse(tmp_path, make_model(nodes, conv_weights(), inputs=inputs))


# --------------------------------------------------------------------------
# Corrupt weights
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_conv_weight(tmp_path, bad):
    model = good_model()
    w = numpy_helper.to_array(model.graph.initializer[0]).copy()
    w[1, 0, 2, 2] = bad
    model.graph.initializer[0].CopyFrom(tensor("conv.w", w))
    message = refuse(tmp_path, model, ModelLoadError)
    kind = "NaN" if np.isnan(bad) else "Inf"
    assert f"node 'conv' (Conv): weight tensor 'conv.w' contains 1 {kind} value(s)" in message


def test_non_finite_dense_bias(tmp_path):
    model = good_model()
    model.graph.initializer[3].CopyFrom(tensor("fc.b", np.array([0, np.nan, np.inf, 0], np.float32)))
    assert "node 'fc' (Gemm): bias tensor 'fc.b' contains 2 NaN and Inf value(s)" in refuse(tmp_path, model, ModelLoadError)


def test_non_finite_batchnorm_variance(tmp_path):
    nodes = [conv_node(), helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"], name="bn")]
    inits = conv_weights() + [tensor("g", np.ones(3)), tensor("b", np.zeros(3)), tensor("m", np.zeros(3)),
                              tensor("v", np.array([1, np.nan, 1], np.float32))]
    assert "node 'bn' (BatchNormalization): var tensor 'v' contains 1 NaN" in refuse(tmp_path, make_model(nodes, inits), ModelLoadError)


# --------------------------------------------------------------------------
# Supported ops used in ways snnhw cannot map
# --------------------------------------------------------------------------
def _single(node, inits=(), **kw):
    return make_model([node], list(inits), **kw)


@pytest.mark.parametrize("model, expected", [
    (_single(helper.make_node("Conv", ["x", "w"], ["y"], name="n", group=3, kernel_shape=[3, 3]),
             [tensor("w", np.ones((2, 1, 3, 3)))]), "group=3 does not divide the 2 output channels"),
    (_single(helper.make_node("Conv", ["x", "w"], ["y"], name="n", group=2, kernel_shape=[3, 3]),
             [tensor("w", np.ones((4, 2, 3, 3)))]), "weight expects 2 input channels per group x 2 groups, the input has 2"),
    (_single(helper.make_node("Conv", ["x", "w"], ["y"], name="n", dilations=[2, 2], kernel_shape=[3, 3]),
             [tensor("w", np.ones((2, 2, 3, 3)))]), "dilations [2, 2]"),
    (_single(helper.make_node("MaxPool", ["x"], ["y"], name="n", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
     "ceil_mode=1 gives 4x4 outputs instead of 3x3"),
    (_single(helper.make_node("MaxPool", ["x"], ["y"], name="n", kernel_shape=[2, 2], dilations=[2, 2])), "dilations"),
    (_single(helper.make_node("AveragePool", ["x"], ["y"], name="n", kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
     "count_include_pad=0"),
    (_single(helper.make_node("Flatten", ["x"], ["y"], name="n", axis=2)), "merge features into the batch"),
    (_single(helper.make_node("Flatten", ["x"], ["y"], name="n", axis=0)), "merge features into the batch"),
    (_single(helper.make_node("Reshape", ["x", "s"], ["y"], name="n"), [tensor("s", np.array([0, 16, 8], np.int64))]),
     "reshaping (2, 8, 8) to (16, 8) is not supported"),
    (_single(helper.make_node("Reshape", ["x", "s"], ["y"], name="n"), [tensor("s", np.array([-1], np.int64))]),
     "does not keep the batch"),
    (_single(helper.make_node("Reshape", ["x", "s"], ["y"], name="n"), [tensor("s", np.array([2, -1], np.int64))]),
     "does not keep the batch"),
    (_single(helper.make_node("Unsqueeze", ["x", "a"], ["y"], name="n"), [tensor("a", np.array([4], np.int64))]),
     "reshaping (2, 8, 8) to (2, 8, 8, 1)"),
    (_single(helper.make_node("Softmax", ["x"], ["y"], name="n", axis=1)), "softmax over all features only"),
    (_single(helper.make_node("Softmax", ["x"], ["y"], name="n", axis=0)), "batch axis"),
    (_single(helper.make_node("Gemm", ["x", "w"], ["y"], name="n", transA=1), [tensor("w", np.ones((3, 4)))],
             in_shape=("N", 3)), "transA=1"),
    (_single(helper.make_node("Gemm", ["w", "x"], ["y"], name="n"), [tensor("w", np.ones((3, 4)))],
             in_shape=("N", 4)), "input A must be the activation"),
    (_single(helper.make_node("Gemm", ["x", "w"], ["y"], name="n"), [tensor("w", np.ones((3, 4)))]),
     "expects a flat (features,) input"),
    (_single(helper.make_node("Add", ["x", "b"], ["y"], name="n"), [tensor("b", np.ones(1))]),
     "only supported as the bias"),
    (_single(helper.make_node("Mul", ["x", "b"], ["y"], name="n"), [tensor("b", np.ones(1))]),
     "op type Mul is not supported"),
    (_single(helper.make_node("BatchNormalization", ["x", "s", "s", "s", "s"], ["y"], name="n", training_mode=1),
             [tensor("s", np.ones(2))], opset=15), "training_mode=1"),
    (_single(helper.make_node("Dropout", ["x", "r", "t"], ["y"], name="n"),
             [tensor("r", np.array(0.5, np.float32)), tensor("t", np.array(True))]), "training_mode is true"),
    (_single(helper.make_node("Cast", ["x"], ["y"], name="n", to=TensorProto.INT32)), "cast of an activation"),
    (_single(helper.make_node("Squeeze", ["x"], ["y"], name="n")), "no axes given"),
    (_single(helper.make_node("Squeeze", ["x"], ["y"], name="n", axes=[2]), opset=11), "not all have size 1"),
])
def test_supported_op_used_unsupported_way(tmp_path, model, expected):
    message = refuse(tmp_path, model)
    assert "node 'n' (" in message and expected in message, message


def test_conv_bias_add_varying_within_channel(tmp_path):
    nodes = [conv_node(), helper.make_node("Add", ["c", "bias"], ["y"], name="add")]
    inits = conv_weights() + [tensor("bias", RNG.standard_normal((3, 8, 8)))]
    assert "varies within a channel" in refuse(tmp_path, make_model(nodes, inits))


def test_errors_are_snnhw_errors():
    assert issubclass(ModelLoadError, SnnhwError) and issubclass(UnsupportedModelError, SnnhwError)


# --------------------------------------------------------------------------
# Imports fine, but not canonical
# --------------------------------------------------------------------------
def test_hidden_linear_layer_without_relu(tmp_path):
    nodes = [conv_node(), helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc.w"], ["y"], name="fc", transB=1)]
    inits = conv_weights() + [tensor("fc.w", np.ones((4, 192)))]
    message = refuse(tmp_path, make_model(nodes, inits), canonical=True)
    assert "layer 'conv' (Conv): hidden layer without ReLU" in message


def test_batchnorm_after_pool(tmp_path):
    nodes = [conv_node(), helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("BatchNormalization", ["p", "s", "z", "z", "s"], ["y"], name="bn")]
    inits = conv_weights() + [tensor("s", np.ones(3)), tensor("z", np.zeros(3))]
    message = refuse(tmp_path, make_model(nodes, inits), canonical=True)
    assert "layer 'bn' (BatchNorm): a BatchNorm after 'pool' (MaxPool) cannot be folded" in message


# --------------------------------------------------------------------------
# Graphs: what the DAG front end refuses, and where
# --------------------------------------------------------------------------
def _relu_conv(name, inp="x", c_out=3):
    return [conv_node(name, inp=inp, out=f"{name}.c", c_out=c_out),
            helper.make_node("Relu", [f"{name}.c"], [f"{name}.r"], name=f"{name}/relu")]


def _head(inp, n_in, nodes, inits):
    nodes += [helper.make_node("Flatten", [inp], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", "fc.w"], ["y"], name="fc", transB=1)]
    inits.append(tensor("fc.w", RNG.standard_normal((4, n_in))))
    return make_model(nodes, inits)


def _clip_model(low, high):
    nodes = [conv_node(), helper.make_node("Clip", ["c", "lo", "hi"], ["r"], name="n")]
    return _head("r", 192, nodes, conv_weights() + [tensor("lo", np.array(low, np.float32)),
                                                   tensor("hi", np.array(high, np.float32))])


def _two_branches(join):
    """Two ReLU'd convs of the input joined by ``join(nodes, inits)``, which returns (tensor, size)."""
    nodes = _relu_conv("a") + _relu_conv("b")
    inits = conv_weights("a") + conv_weights("b")
    out, size = join(nodes, inits)
    return _head(out, size, nodes, inits)


def _concat_axis2(nodes, inits):
    nodes.append(helper.make_node("Concat", ["a.r", "b.r"], ["j"], name="n", axis=2))
    return "j", 384


def _concat_constant(nodes, inits):
    inits.append(tensor("k", np.ones((1, 1, 8, 8))))
    nodes.append(helper.make_node("Concat", ["a.r", "k"], ["j"], name="n", axis=1))
    return "j", 256


def _broadcast_add(nodes, inits):
    nodes += [helper.make_node("GlobalAveragePool", ["b.r"], ["g"], name="gap"),
              helper.make_node("Add", ["a.r", "g"], ["j"], name="n")]
    return "j", 192


def _multiply(nodes, inits):
    nodes.append(helper.make_node("Mul", ["a.r", "b.r"], ["j"], name="n"))
    return "j", 192


def _reduce_channels(nodes, inits):
    nodes.append(helper.make_node("ReduceMean", ["a.r"], ["j"], name="n", axes=[1], keepdims=1))
    return "j", 64


@pytest.mark.parametrize("model, expected", [
    (_clip_model(-1.0, 1.0),
     "node 'n' (Clip): Clip with min -1 is not supported (only min 0: ReLU, or ReLU6-like Clip(0, a))"),
    (_clip_model(0.0, 0.0), "node 'n' (Clip): Clip(0, 0) is zero everywhere; not supported"),
    (_two_branches(_concat_axis2), "node 'n' (Concat): Concat on axis 2 is not supported (only the channel axis 1)"),
    (_two_branches(_concat_constant), "node 'n' (Concat): concatenating activations with a constant is not supported"),
    (_two_branches(_broadcast_add),
     "node 'n' (Add): adds activations of shapes (3, 8, 8) and (3, 1, 1) (broadcasting); "
     "only activations of one shape can be added"),
    (_two_branches(_multiply), "node 'n' (Mul): multiplying activations is not supported"),
    (_two_branches(_reduce_channels), "node 'n' (ReduceMean): ReduceMean over axes [1] is not supported (only over H "
                                      "and W, axes 2 and 3: global average pooling)"),
], ids=["clip-min", "clip-zero", "concat-axis", "concat-constant", "add-broadcast", "mul", "reduce-channels"])
def test_graph_node_refused_at_import(tmp_path, model, expected):
    assert refuse(tmp_path, model).endswith(expected)


def test_linear_bottleneck_add_without_relu(tmp_path):
    # MobileNetV2-style: the Add's result feeds a conv with no activation in between
    nodes = _relu_conv("a") + [conv_node("p", inp="a.r", out="p.c"),
                               helper.make_node("Add", ["p.c", "a.r"], ["s"], name="add")] + _relu_conv("n", inp="s")
    model = _head("n.r", 192, nodes, conv_weights("a", 2) + conv_weights("p", 3) + conv_weights("n", 3))
    message = refuse(tmp_path, model, canonical=True)
    assert message.endswith("layer 'add' (Sum): hidden layer without ReLU is not supported (hidden layers become IF "
                            "neurons, which approximate ReLU activations)")


def test_batchnorm_on_a_conv_that_another_node_reads(tmp_path):
    nodes = [conv_node(), helper.make_node("BatchNormalization", ["c", "s", "z", "z", "s"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["r1"], name="r1"), helper.make_node("Relu", ["c"], ["r2"], name="r2"),
             helper.make_node("Add", ["r1", "r2"], ["j"], name="add")]
    model = _head("j", 192, nodes, conv_weights() + [tensor("s", np.ones(3)), tensor("z", np.zeros(3))])
    assert "layer 'bn' (BatchNorm): cannot be folded into 'conv', which 'r2' also reads" in refuse(
        tmp_path, model, canonical=True)


def test_bias_add_on_a_conv_that_another_node_reads(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "conv.w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "bias"], ["n"], name="bias"),
             helper.make_node("Relu", ["n"], ["r1"], name="r1"), helper.make_node("Relu", ["c"], ["r2"], name="r2"),
             helper.make_node("Add", ["r1", "r2"], ["j"], name="add")]
    model = _head("j", 192, nodes, conv_weights()[:1] + [tensor("bias", np.ones((1, 3, 1, 1)))])
    assert refuse(tmp_path, model).endswith(
        "node 'bias' (Add): adds a constant to the output of 'conv', which other nodes also read; only a bias that "
        "only this Add reads can be folded into its layer")


def test_relu6_after_an_average_pool_of_a_linear_conv(tmp_path):
    nodes = [conv_node(),
             helper.make_node("AveragePool", ["c"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Clip", ["p", "lo", "hi"], ["r"], name="relu6")]
    model = _head("r", 48, nodes, conv_weights() + [tensor("lo", np.array(0, np.float32)),
                                                     tensor("hi", np.array(6, np.float32))])
    assert "layer 'relu6' (Relu): a ReLU that could not be fused" in refuse(tmp_path, model, canonical=True)
