"""Graphs through the front end and the reference models, one feature at a time.

Residual identity and projection shortcuts (BatchNorm on both branches),
depthwise and grouped convolutions, Concat along channels, global average
pooling (GlobalAveragePool, ReduceMean), ReLU6 (Clip(0, 6)). For each: the
float ANN equals onnxruntime, the float SNN agrees with the ANN after many
steps, the golden model runs and is deterministic, and every synapse input is
quantized on its layer's one scale. Also the .snn.npz versions; residual
(identity and projection shortcuts), Concat, grouped and depthwise networks in
RTL (== golden, and the bundled mnist_dws and mnist_res), and the code
generator's refusal of what it cannot map.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from click.testing import CliRunner

from netgen import OnnxBuilder
from snnhw import ir
from snnhw.codegen import generate_design
from snnhw.errors import UnsupportedModelError
from snnhw.frontend.normalize import activation_lambdas, model_based_lambdas, normalize
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize
from snnhw.frontend.qformat import load_qnet, save_qnet
from snnhw.frontend.quantize import quantize, weight_error
from snnhw.reference.ann import run_ann
from snnhw.reference.float_snn import run_float_snn
from snnhw.reference.golden import run_golden

TOL = dict(rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
def residual_model(projection: bool, seed: int = 1):
    """stem Conv-BN-ReLU; block: Conv-BN-ReLU, Conv-BN, + shortcut (identity, or 1x1 stride-2 Conv-BN), ReLU."""
    b = OnnxBuilder((1, 8, 8), seed)
    stem = b.relu(b.bn(b.conv("x", 4)))
    channels, stride = (6, 2) if projection else (4, 1)
    branch = b.bn(b.conv(b.relu(b.bn(b.conv(stem, channels, stride=stride))), channels))
    shortcut = b.bn(b.conv(stem, channels, k=1, stride=stride)) if projection else stem
    return b.model(b.gemm(b.flatten(b.relu(b.add(branch, shortcut))), 5))


def grouped_model(group: str, seed: int = 2):
    """Conv-ReLU (4 channels), then a depthwise (group = 4) or grouped (group = 2) Conv-BN-ReLU, pool, Gemm."""
    b = OnnxBuilder((2, 8, 8), seed)
    h = b.relu(b.conv("x", 4))
    h = b.relu(b.bn(b.conv(h, 8, group=4))) if group == "depthwise" else b.relu(b.conv(h, 6, group=2))
    return b.model(b.gemm(b.flatten(b.pool(h, "max")), 4))


def concat_model(seed: int = 3):
    """Two branches joined by a Concat that feeds a Conv, a max-pool then a depthwise Conv, and a flatten Gemm."""
    b = OnnxBuilder((1, 8, 8), seed)
    stem = b.relu(b.conv("x", 3))
    cat = b.concat(b.relu(b.conv(stem, 2, k=1)), b.relu(b.bn(b.conv(stem, 3))))
    joined = b.relu(b.conv(cat, 4))
    depthwise = b.relu(b.conv(b.pool(cat, "max"), 5, group=5))
    return b.model(b.gemm(b.flatten(b.concat(b.pool(joined, "avg"), depthwise)), 5))


def gap_model(how: str, opset: int = 13, seed: int = 4):
    b = OnnxBuilder((1, 8, 8), seed, opset=opset)
    h = b.relu(b.bn(b.conv(b.relu(b.conv("x", 4)), 6, stride=2)))
    if how == "global":
        h = b.flatten(b.global_avgpool(h))
    elif how == "mean_keepdims":
        h = b.flatten(b.reduce_mean(h, keepdims=1))
    else:
        h = b.reduce_mean(h, keepdims=0)
    return b.model(b.gemm(h, 4))


def relu6_model(opset: int = 13, gain: float = 1.0, seed: int = 5):
    """Conv-Clip(0,6), max-pool, depthwise Conv-BN-Clip(0,6), Gemm; ``gain`` scales the first conv."""
    b = OnnxBuilder((1, 8, 8), seed, opset=opset)
    h = b.conv("x", 4)
    if gain != 1.0:
        w = next(t for t in b.inits if t.name == b.nodes[-1].input[1])
        w.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(w) * np.float32(gain), w.name))
    h = b.pool(b.clip(h, 0.0, 6.0), "max")
    h = b.clip(b.bn(b.conv(h, 4, group=4)), 0.0, 6.0)
    return b.model(b.gemm(b.flatten(h), 4))


MODELS = {
    "residual_identity": lambda: residual_model(False),
    "residual_projection": lambda: residual_model(True),
    "depthwise": lambda: grouped_model("depthwise"),
    "grouped": lambda: grouped_model("grouped"),
    "concat": concat_model,
    "global_avgpool": lambda: gap_model("global"),
    "reduce_mean": lambda: gap_model("mean_keepdims", opset=18),
    "relu6": relu6_model,
}


def inputs(shape, n=40, seed=0):
    """uint8 images and the model input they stand for (pixel / 255)."""
    images = np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)
    return images, images / np.float32(255)


def imported(tmp_path, model):
    """(raw network, canonical network, images, model input, onnxruntime output), ANN == onnxruntime checked."""
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    net = load_onnx(path)
    images, x = inputs(net.input_shape)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})[0]
    assert np.allclose(run_ann(net, x), expected, **TOL)
    canon = canonicalize(net)
    assert np.allclose(run_ann(canon, x), expected, **TOL)
    return net, canon, images, x, expected


def kinds(net):
    return [type(l).__name__ for l in net.layers]


def sums(net):
    return [l for l in net.layers if isinstance(l, ir.Sum)]


def check_synapse_quantization(norm: ir.Network, qnet: ir.QNetwork, bits: int) -> None:
    """Every synapse input of a multi-input layer: integer weight × the layer's scale is the normalized
    weight within half a step, and the layer's largest weight uses the full range."""
    qmax = 2 ** (bits - 1) - 1
    qlayers = {q.name: q for q in qnet.layers}
    for layer in sums(norm):
        q = qlayers[layer.name]
        assert q.kind == "sum" and len(q.synapses) == len(layer.synapses)
        assert np.array_equal(q.threshold, np.maximum(1, np.rint(1 / q.scale)).astype(np.int64))
        for f, s in zip(layer.synapses, q.synapses):
            assert (f.source, tuple(f.stride), tuple(f.pads), f.group) == (s.source, s.stride, s.pads, s.group)
            sv = q.scale.reshape((-1,) + (1,) * (f.weight.ndim - 1))
            assert s.weight.dtype == np.int64 and np.abs(s.weight).max() <= qmax
            assert np.all(np.abs(s.weight * sv - f.weight) <= sv / 2 * (1 + 1e-9))
        assert max(np.abs(s.weight).max() for s in q.synapses) == qmax


def converted(canon, images, x, bits=8, percentile=100.0):
    norm = normalize(canon, activation_lambdas(canon, x, percentile))
    return norm, quantize(norm, bits, max_timesteps=300)


# --------------------------------------------------------------------------
# Every model: ANN == onnxruntime, float SNN ~ ANN, golden deterministic, synapse quantization
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_model_through_every_reference(tmp_path, name):
    _, canon, images, x, expected = imported(tmp_path, MODELS[name]())
    assert not any(isinstance(l, (ir.Add, ir.Concat, ir.Relu, ir.BatchNorm)) for l in canon.layers)
    norm, qnet = converted(canon, images, x)
    ann_class = expected.argmax(1)
    float_class = run_float_snn(norm, x, 300)[-1]
    assert (float_class == ann_class).mean() >= 0.85, (float_class == ann_class).mean()
    first = run_golden(qnet, images, 300, record_spikes=True)
    assert (first.classes[-1] == ann_class).mean() >= 0.8
    again = run_golden(qnet, images[:5], 300, record_spikes=True)
    assert np.array_equal(first.potentials[:, :5], again.potentials)
    assert all(np.array_equal(first.spikes[i][:, :5], again.spikes[i]) for i in again.spikes)
    assert first.synops.sum() > 0
    check_synapse_quantization(norm, qnet, 8)
    rows = weight_error(norm, qnet)
    assert [r["layer"] for r in rows] == [l.name for l in canon.weight_layers()]
    assert all(r["weight_rel_rms"] < 0.05 for r in rows)


# --------------------------------------------------------------------------
# Residual Adds
# --------------------------------------------------------------------------
def test_identity_shortcut_is_a_depthwise_synapse_input_of_weight_lambda_ratio(tmp_path):
    _, canon, images, x, _ = imported(tmp_path, residual_model(False))
    assert kinds(canon) == ["Conv", "Conv", "Sum", "Flatten", "Dense"]
    stem, inner, block = canon.layers[:3]
    main, shortcut = block.synapses
    # the branch's second conv (BN folded) reads the first one; the shortcut is the identity from the stem
    assert main.source == inner.name and main.kind == "conv" and main.kernel == (3, 3) and main.group == 1
    assert shortcut.source == stem.name and shortcut.group == 4 and shortcut.weight.shape == (4, 1, 1, 1)
    assert np.array_equal(shortcut.weight, np.ones((4, 1, 1, 1), np.float32)) and block.relu
    for per_channel in (False, True):
        lambdas = activation_lambdas(canon, x, 99.9, per_channel)
        norm = normalize(canon, lambdas)
        ratio = np.broadcast_to(np.asarray(lambdas[0], np.float64) / np.asarray(lambdas[2], np.float64), (4,))
        assert np.array_equal(norm.layers[2].synapses[1].weight.reshape(-1), ratio.astype(np.float32))
        # and the branch: λ_inner / λ_out per input channel
        expected = main.weight * (np.asarray(lambdas[1], np.float64) * np.ones(4))[None, :, None, None]
        expected /= np.broadcast_to(np.asarray(lambdas[2], np.float64), (4,))[:, None, None, None]
        assert np.array_equal(norm.layers[2].synapses[0].weight, expected.astype(np.float32))
        qnet = quantize(norm, 6, per_channel=per_channel)
        check_synapse_quantization(norm, qnet, 6)


def test_projection_shortcut_sums_both_folded_biases(tmp_path):
    raw, canon, _, x, _ = imported(tmp_path, residual_model(True))
    assert kinds(canon) == ["Conv", "Conv", "Sum", "Flatten", "Dense"]
    block = canon.layers[2]
    main, shortcut = block.synapses
    assert (main.source, main.kernel, main.stride) == (canon.layers[1].name, (3, 3), (1, 1))
    assert (shortcut.source, shortcut.kernel, shortcut.stride) == (canon.layers[0].name, (1, 1), (2, 2))
    assert block.out_shape == (6, 4, 4)
    # the bias is what the two BN-folded branch convs would add: the block output at zero synapse input
    from snnhw.frontend.passes import fold_batchnorm

    folded = fold_batchnorm(raw)
    branches = [l for l in folded.layers if isinstance(l, ir.Conv)
                and any(np.array_equal(l.weight, s.weight) for s in block.synapses)]
    assert len(branches) == 2 and np.allclose(block.bias, branches[0].bias + branches[1].bias, atol=1e-6)


def test_nested_adds_merge_into_one_layer(tmp_path):
    b = OnnxBuilder((1, 6, 6), 7)
    h = b.relu(b.conv("x", 3))
    three = b.relu(b.add(b.add(b.conv(h, 3), b.conv(h, 3, k=1)), h))
    model = b.model(b.gemm(b.flatten(three), 3))
    _, canon, images, x, _ = imported(tmp_path, model)
    assert kinds(canon) == ["Conv", "Sum", "Flatten", "Dense"]
    assert [s.kernel for s in canon.layers[1].synapses] == [(3, 3), (1, 1), (1, 1)]
    norm, qnet = converted(canon, images, x)
    check_synapse_quantization(norm, qnet, 8)


def test_add_as_the_output_layer(tmp_path):
    b = OnnxBuilder((4,), 8)
    h = b.relu(b.gemm("x", 6))
    model = b.model(b.add(b.gemm(h, 3), b.gemm(h, 3)))
    _, canon, images, x, expected = imported(tmp_path, model)
    assert kinds(canon) == ["Dense", "Sum"] and not canon.layers[1].relu
    norm, qnet = converted(canon, images, x)
    assert qnet.layers[-1].role == "output" and qnet.layers[-1].kind == "sum"
    golden = run_golden(qnet, images, 50)
    assert (golden.classes[-1] == expected.argmax(1)).mean() >= 0.85


# --------------------------------------------------------------------------
# Grouped and depthwise convolutions
# --------------------------------------------------------------------------
@pytest.mark.parametrize("group, layer_group, shape", [("depthwise", 4, (8, 1, 3, 3)), ("grouped", 2, (6, 2, 3, 3))])
def test_grouped_conv_keeps_its_groups(tmp_path, group, layer_group, shape):
    _, canon, images, x, _ = imported(tmp_path, grouped_model(group))
    conv = canon.layers[1]
    assert conv.group == layer_group and conv.weight.shape == shape
    lambdas = activation_lambdas(canon, x, 99.9, per_channel=True)
    norm = normalize(canon, lambdas)
    # output channel o reads the input channels of its group: λ_in of those channels over its own λ
    per_group = shape[1]
    outs = shape[0] // layer_group
    for o in range(shape[0]):
        read = lambdas[0][o // outs * per_group:(o // outs + 1) * per_group]
        expected = canon.layers[1].weight[o] * read[:, None, None] / lambdas[1][o]
        assert np.array_equal(norm.layers[1].weight[o], expected.astype(np.float32))
    qnet = quantize(norm, 8)
    assert qnet.layers[1].group == layer_group
    g = run_golden(qnet, images[:4], 20)
    # synaptic operations: every input spike of the grouped layer reaches only its group's outputs
    spikes = run_golden(qnet, images[:4], 20, record_spikes=True).spikes[0]
    per_step = spikes.reshape(20, 4, 4, 8, 8)
    from snnhw.reference.spike_ops import fan_out_counts

    fan = fan_out_counts("conv", qnet.layers[1], qnet.layers[1].in_shape)
    assert fan.max() == outs * 9
    assert np.array_equal(g.synops[:, 1], per_step.reshape(20, 4, -1).sum(axis=1) @ fan)


# --------------------------------------------------------------------------
# Concat
# --------------------------------------------------------------------------
def test_concat_consumers_get_one_synapse_input_per_source(tmp_path):
    raw, canon, images, x, _ = imported(tmp_path, concat_model())
    assert not any(isinstance(l, ir.Concat) for l in canon.layers)
    by_name = {l.name: l for l in canon.layers}
    joined, depthwise, out = sums(canon)
    # the Conv reading the Concat: its weight, sliced by the joined sources' channels
    original = next(l for l in raw.layers if l.name == joined.name).weight
    assert [s.weight.shape[1] for s in joined.synapses] == [2, 3]
    assert np.array_equal(np.concatenate([s.weight for s in joined.synapses], axis=1), original)
    # the max-pool of the Concat became one max-pool per source; the depthwise conv reading them is ungrouped
    assert all(isinstance(by_name[s.source], ir.MaxPool) for s in depthwise.synapses)
    assert [s.group for s in depthwise.synapses] == [1, 1] and [s.weight.shape[1] for s in depthwise.synapses] == [2, 3]
    dw = next(l for l in raw.layers if l.name == depthwise.name)
    full = np.concatenate([s.weight for s in depthwise.synapses], axis=1)
    assert np.array_equal(full[np.arange(5), np.arange(5)], dw.weight[:, 0])
    assert np.count_nonzero(full) == np.count_nonzero(dw.weight)
    # the Gemm on the flattened Concat: column blocks of its matrix, one per flattened source
    assert [s.kind for s in out.synapses] == ["dense", "dense"]
    assert [s.weight.shape[1] for s in out.synapses] == [4 * 16, 5 * 16]
    assert all(isinstance(by_name[s.source], ir.Flatten) for s in out.synapses)


def test_concat_as_a_shortcut_expands_into_identity_slices(tmp_path):
    b = OnnxBuilder((1, 6, 6), 9)
    h = b.relu(b.conv("x", 2))
    cat = b.concat(b.relu(b.conv(h, 2)), h)
    model = b.model(b.gemm(b.flatten(b.relu(b.add(b.conv(cat, 4), cat))), 3))
    _, canon, images, x, _ = imported(tmp_path, model)
    block = sums(canon)[0]
    assert [s.source for s in block.synapses] == [canon.layers[1].name, canon.layers[0].name] * 2
    identity = np.concatenate([s.weight for s in block.synapses[2:]], axis=1)
    assert np.array_equal(identity[:, :, 0, 0], np.eye(4, dtype=np.float32))
    norm, qnet = converted(canon, images, x)
    check_synapse_quantization(norm, qnet, 8)


# --------------------------------------------------------------------------
# Global average pooling
# --------------------------------------------------------------------------
@pytest.mark.parametrize("how, opset", [("global", 13), ("mean_keepdims", 13), ("mean_keepdims", 18),
                                        ("mean_flat", 13), ("mean_flat", 18)])
def test_global_average_pool_is_an_average_pool_over_the_map(tmp_path, how, opset):
    _, canon, images, x, _ = imported(tmp_path, gap_model(how, opset))
    pool = next(l for l in canon.layers if isinstance(l, ir.AvgPool))
    assert pool.kernel == (4, 4) and pool.out_shape == (6, 1, 1)
    qnet = quantize(normalize(canon, activation_lambdas(canon, x)), 8)
    q = next(l for l in qnet.layers if l.kind == "avgpool")
    assert q.threshold.tolist() == [16] * 6


# --------------------------------------------------------------------------
# ReLU6
# --------------------------------------------------------------------------
@pytest.mark.parametrize("opset", [10, 13])
def test_relu6_caps_the_layer_and_its_lambda(tmp_path, opset):
    _, canon, images, x, _ = imported(tmp_path, relu6_model(opset, gain=25.0))
    first, depthwise = canon.layers[0], canon.layers[2]
    assert (first.relu, first.cap, depthwise.relu, depthwise.cap) == (True, 6.0, True, 6.0)  # across the max-pool
    assert np.isclose(run_ann(canon, x, return_activations=True)[0].max(), 6.0)  # the clip is reached
    lambdas = activation_lambdas(canon, x, 100.0)
    assert lambdas[0] == 6.0  # saturating at rate 1 is exactly the clip
    assert all(lambdas[i] <= 6.0 for i in (0, 2))
    assert model_based_lambdas(canon)[0] == 6.0  # the data-free bound, capped


# --------------------------------------------------------------------------
# The .snn.npz file
# --------------------------------------------------------------------------
def test_chains_keep_file_version_1_and_graphs_use_version_2(tmp_path):
    from netgen import random_network

    chain = random_network(3)
    q = quantize(normalize(chain, {i: 1.0 for i, l in enumerate(chain.layers) if isinstance(l, (ir.Conv, ir.Dense))}))
    meta = json.loads(str(np.load(save_qnet(q, tmp_path / "chain.snn.npz"))["meta"]))
    assert meta["version"] == 1 and all("inputs" not in row and "group" not in row for row in meta["layers"])

    _, canon, images, x, _ = imported(tmp_path, concat_model())
    _, qnet = converted(canon, images, x)
    path = save_qnet(qnet, tmp_path / "graph.snn.npz")
    z = np.load(path)
    meta = json.loads(str(z["meta"]))
    assert meta["version"] == 2
    assert meta["layers"][0]["inputs"] == [ir.INPUT] and all(row["inputs"] for row in meta["layers"])
    rows = [row for row in meta["layers"] if row["kind"] == "sum"]
    assert rows and all(len(row["synapses"]) == len(row["inputs"]) for row in rows)
    back = load_qnet(path)
    assert repr(back.layers) == repr(qnet.layers)
    assert np.array_equal(run_golden(back, images[:3], 30).potentials, run_golden(qnet, images[:3], 30).potentials)


# --------------------------------------------------------------------------
# Graphs in hardware
# --------------------------------------------------------------------------
# (model, -P): an identity shortcut at 2 lanes (the depthwise shortcut built with 2 groups: one channel group
# word per event), a projection shortcut (1x1 stride 2) at 4 lanes of 6 channels (a partial channel group),
# Concat into a conv, a max-pooled Concat into a conv and a Concat into the output layer (dense synapses);
# the identity shortcut at 1 lane also with early exit (margin 1, min_steps 2: images abort mid-graph)
GRAPH_RTL = [("residual_identity", 2, None), ("residual_projection", 4, None), ("concat", 2, None),
             ("residual_identity", 1, (1, 2))]


@pytest.mark.parametrize("name, par, exit_rule", GRAPH_RTL,
                         ids=[f"{n}-{p}" + ("-exit" if e else "") for n, p, e in GRAPH_RTL])
def test_residual_and_concat_graphs_in_rtl_equal_golden(tmp_path, name, par, exit_rule):
    """Multi-input (sum) engines behind stream forks and event merges: lint clean, and every layer's spikes
    (taps), classes and potentials == golden with stalls, back to back and a reset mid-image (with early
    exit: every image's exit step too, the forks and merges passing the aborted images' tokens)."""
    from snnhw.reference.early_exit import ExitRule
    from snnhw.sim import run_sim
    from snnhw.sim.tools import lint

    _, canon, images, x, _ = imported(tmp_path, MODELS[name]())
    _, qnet = converted(canon, images, x)
    assert any(l.kind == "sum" for l in qnet.layers) and not ir.is_chain(qnet.layers)
    m = generate_design(qnet, tmp_path / "build", parallelism=par, timesteps=6, test_images=images[:3],
                        exit_rule=ExitRule(*exit_rule) if exit_rule else None)
    rows = {r["name"]: r for r in m["layers"]}
    for i, layer in enumerate(qnet.layers):
        if layer.kind == "sum":
            row = rows[layer.name]
            assert row["inputs"] == [qnet.layers[j].name for j in ir.source_indices(qnet.layers)[i]]
            assert [s["source"] for s in row["synapses"]] == row["inputs"] and row["columns"] == 1
            params = dict((p["name"], p["value"]) for p in row["parameters"])
            assert params["N_SYN"] == str(len(layer.synapses))
    top = (tmp_path / "build" / "rtl" / "snn_top.v").read_text()
    assert "snn_event_merge" in top and "snn_stream_fork" in top
    lint(tmp_path / "build")
    lint(tmp_path / "build", defines=("SNNHW_TAPS", "SNNHW_ASSERT"))
    res = run_sim(tmp_path / "build", taps=True, stalls=True, extra=True, seed=3)
    assert res.passed and res.first_tap_mismatch is None, res.summary()
    if exit_rule:
        assert res.exit_steps and max(res.exit_steps) < 5, res.summary()  # every image exited before T


def test_identity_shortcut_weights_are_one_word_per_event(tmp_path):
    """A depthwise identity shortcut (weight 1) at P lanes: built with C/P groups, so an event scatters one
    channel group word holding its own channel's 1 (zeros beside it)."""
    from snnhw.codegen.layout import plan_design, regroup, synapse_groups

    _, canon, images, x, _ = imported(tmp_path, MODELS["residual_identity"]())
    _, qnet = converted(canon, images, x)
    plan = plan_design(qnet, parallelism=2, timesteps=4)
    blk = next(b for b in plan.blocks if b.ctx["kind"] == "sum")
    shortcut = blk.ctx["syn"][1]
    assert (shortcut["GROUPS"], shortcut["WDEPTH"], shortcut["MH"] * shortcut["MW"]) == (2, 4, 1)
    assert synapse_groups(4, 4, 2) == 2 and synapse_groups(4, 4, 3) == 1 and synapse_groups(6, 12, 4) == 3
    w = np.arange(1, 9).reshape(4, 2, 1, 1)  # 2 groups of 2 inputs
    assert np.array_equal(regroup(w, 2, 1)[:, :, 0, 0], [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 5, 6], [0, 0, 7, 8]])


def test_generate_refuses_a_second_layer_reading_the_pixels(tmp_path):
    # two analog convs read the image; a Concat joins them for the output Gemm
    b = OnnxBuilder((1, 6, 6), 11)
    model = b.model(b.gemm(b.flatten(b.concat(b.relu(b.conv("x", 2)), b.relu(b.conv("x", 2, k=1)))), 3))
    _, canon, images, x, _ = imported(tmp_path, model)
    _, qnet = converted(canon, images, x)
    with pytest.raises(UnsupportedModelError, match="reads the network input, which only the first layer does"):
        generate_design(qnet, tmp_path / "build", timesteps=4)
    assert not (tmp_path / "build").exists()


def test_cli_generates_a_residual_network(tmp_path):
    from snnhw.cli import main

    model = tmp_path / "res.onnx"
    onnx.save(residual_model(False), str(model))
    out = tmp_path / "build"
    r = CliRunner().invoke(main, ["generate", str(model), "--bits", "8", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    sums = [row for row in m["layers"] if row["kind"] == "sum"]
    assert len(sums) == 1 and len(sums[0]["synapses"]) == 2 and sums[0]["synapses"][1]["group"] == 4
    # convert writes it (format version 2) and evaluate's reference models run it
    r = CliRunner().invoke(main, ["convert", str(model), "-o", str(tmp_path / "res.snn.npz")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert load_qnet(tmp_path / "res.snn.npz").layers[2].kind == "sum"


# (model, -P): depthwise with a channel multiplier of 2 (2 lanes per convolution group, and its kernel
# columns in parallel), a grouped conv of 3 outputs per group (the request of 2 lanes becomes 1, which
# divides 3), depthwise ReLU6 (multiplier 1)
GROUPED_RTL = [("depthwise", 2), ("depthwise", (2, 3)), ("grouped", 2), ("relu6", 4)]


@pytest.mark.parametrize("name, par", GROUPED_RTL, ids=[f"{n}-{p}" for n, p in GROUPED_RTL])
def test_grouped_convolutions_in_rtl_equal_golden(tmp_path, name, par):
    """Grouped and depthwise convolutions in hardware: every layer's spikes (taps), classes and potentials
    == golden with stalls, back to back and a reset mid-image."""
    from snnhw.sim import run_sim

    _, canon, images, x, _ = imported(tmp_path, MODELS[name]())
    _, qnet = converted(canon, images, x)
    grouped = [i for i, l in enumerate(qnet.layers) if l.kind == "conv" and l.group > 1]
    assert grouped
    m = generate_design(qnet, tmp_path / "build", parallelism=par, timesteps=6, test_images=images[:3])
    rows = {r["index"]: r for r in m["layers"]}
    for i in grouped:
        per_group = qnet.layers[i].out_shape[0] // qnet.layers[i].group
        assert per_group % rows[i]["parallelism"] == 0
    res = run_sim(tmp_path / "build", taps=True, stalls=True, extra=True, seed=3)
    assert res.passed and res.first_tap_mismatch is None, res.summary()


def test_an_activation_read_twice_and_a_branch_the_output_does_not_need(tmp_path):
    b = OnnxBuilder((1, 6, 6), 12)
    h = b.relu(b.conv("x", 3))
    b.relu(b.conv(h, 2))  # read, but nothing the output depends on: dropped at import
    model = b.model(b.gemm(b.flatten(b.add(b.pool(h, "max", 1, 1), b.pool(h, "avg", 1, 1))), 3))
    net, canon, images, x, _ = imported(tmp_path, model)
    assert kinds(net) == ["Conv", "Relu", "MaxPool", "AvgPool", "Add", "Flatten", "Dense"]
    assert kinds(canon) == ["Conv", "MaxPool", "AvgPool", "Sum", "Flatten", "Dense"]
    norm, qnet = converted(canon, images, x)
    assert qnet.sources(1) == qnet.sources(2) == (qnet.layers[0].name,)
    assert run_golden(qnet, images[:2], 20).potentials.shape == (20, 2, 3)


def test_castlike_reads_the_type_an_activation_was_cast_to(tmp_path):
    # x -> Cast(double) -> Cast(float) -> ...; CastLike(constant, the double tensor) is a double constant
    from onnx import TensorProto

    b = OnnxBuilder((1, 4, 4), 13, opset=15)
    half = b.node("Cast", ["x"], (1, 4, 4), to=TensorProto.DOUBLE)
    h = b.relu(b.conv(b.node("Cast", [half], (1, 4, 4), to=TensorProto.FLOAT), 2))
    bias = b.node("CastLike", [b.const(np.full((1, 2, 1, 1), 0.5, np.float32)), half], (2, 1, 1))
    pre = b.node("Add", [b.conv(h, 2, bias=False), b.node("Cast", [bias], (2, 1, 1), to=TensorProto.FLOAT)],
                 (2, 4, 4))
    _, canon, *_ = imported(tmp_path, b.model(b.gemm(b.flatten(b.relu(pre)), 3)))
    assert np.array_equal(canon.layers[1].bias, np.full(2, 0.5, np.float32))


@pytest.mark.parametrize("percentile, per_channel", [(100.0, False), (50.0, False), (100.0, True)])
def test_normalized_relu6_network_is_the_ann_divided_by_lambda(tmp_path, percentile, per_channel):
    """The clip moves into λ units (a / λ), so the normalized ANN is the ANN over λ, also where it clips."""
    _, canon, images, x, _ = imported(tmp_path, relu6_model(13, gain=25.0))
    lambdas = activation_lambdas(canon, x, percentile, per_channel)
    norm = normalize(canon, lambdas)
    before, after = run_ann(canon, x, return_activations=True), run_ann(norm, x, return_activations=True)
    assert before[0].max() == 6.0  # the first layer clips
    for i in (0, 2):
        lam = np.asarray(lambdas[i]).reshape((-1,) + (1,) * (before[i].ndim - 2))
        assert np.allclose(after[i], before[i] / lam, rtol=1e-5, atol=1e-6)
    assert canon.layers[0].cap == 6.0  # normalize leaves its argument alone


def test_bundled_depthwise_separable_network_in_rtl(tmp_path):
    """examples/mnist_dws.onnx (depthwise stride-2 / pointwise pairs, ReLU6, global average pooling) at
    8 bits per channel: 3 sample images x 4 steps, classes and potentials == golden with stalls."""
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model
    from snnhw.sim import run_sim

    root = Path(__file__).resolve().parents[1] / "examples"
    calib, _ = load_split(root / "mnist_sample.npz", "train", 500)
    q = compile_model(root / "mnist_dws.onnx", calib, bits=8, per_channel=True, max_timesteps=300).qnet
    assert sum(l.kind == "conv" and l.group > 1 for l in q.layers) == 2
    x, y = load_split(root / "mnist_sample.npz", "test", 3)
    generate_design(q, tmp_path / "dws", parallelism=8, timesteps=4, test_images=to_nchw(x, q.input_shape),
                    test_labels=y)
    res = run_sim(tmp_path / "dws", stalls=True, extra=False, seed=1)
    assert res.passed, res.summary()


def test_bundled_residual_network_in_rtl(tmp_path):
    """examples/mnist_res.onnx (stem conv, max-pool, an identity and a projection residual block, dense) at
    8 bits: 3 sample images x 4 steps, every layer's spikes (taps), classes and potentials == golden with
    stalls."""
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model
    from snnhw.sim import run_sim

    root = Path(__file__).resolve().parents[1] / "examples"
    calib, _ = load_split(root / "mnist_sample.npz", "train", 500)
    q = compile_model(root / "mnist_res.onnx", calib, bits=8, max_timesteps=300).qnet
    sums = [l for l in q.layers if l.kind == "sum"]
    assert len(sums) == 2 and sums[0].synapses[1].group == 8 and sums[1].synapses[1].stride == (2, 2)
    x, y = load_split(root / "mnist_sample.npz", "test", 3)
    generate_design(q, tmp_path / "res", parallelism=8, timesteps=4, test_images=to_nchw(x, q.input_shape),
                    test_labels=y)
    res = run_sim(tmp_path / "res", taps=True, stalls=True, extra=False, seed=1)
    assert res.passed and res.first_tap_mismatch is None, res.summary()
