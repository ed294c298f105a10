"""Property tests on random small DAGs (residual, depthwise, grouped, Concat, pooling, ReLU6, global pooling).

* the importer's float ANN equals onnxruntime, before and after canonicalization;
* the vectorized golden model equals a naive per-step integer reference written
  here: plain Python integers, every neuron's input gathered synapse by synapse.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from hypothesis import HealthCheck, given, settings, strategies as st

from netgen import random_dag_model
from snnhw.frontend.normalize import activation_lambdas, normalize
from snnhw.frontend.onnx_import import load_onnx
from snnhw.frontend.passes import canonicalize
from snnhw.frontend.quantize import quantize
from snnhw.ir import INPUT, ROLE_OUTPUT
from snnhw.reference.ann import run_ann
from snnhw.reference.golden import run_golden

SETTINGS = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _import(tmp_path, model):
    path = tmp_path / "dag.onnx"
    onnx.save(model, str(path))
    return load_onnx(path)


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 100_000), size=st.integers(4, 8), channels=st.integers(1, 2))
def test_random_dag_ann_equals_onnxruntime(tmp_path, seed, size, channels):
    model, drawn = random_dag_model(seed, size=size, in_channels=channels)
    x = np.random.default_rng(seed).random((3, channels, size, size), dtype=np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x})[0]
    net = _import(tmp_path, model)
    assert np.allclose(run_ann(net, x), expected, rtol=1e-4, atol=1e-5), drawn
    canon = canonicalize(net)
    assert np.allclose(run_ann(canon, x), expected, rtol=1e-4, atol=1e-5), drawn


# --------------------------------------------------------------------------
# The naive reference: docs/numeric_contract.md, one neuron at a time
# --------------------------------------------------------------------------
def _gathered(kind, layer, s, in_shape, out_shape, o, y, x):
    """Input current of output neuron (o, y, x) from input values ``s`` (nested lists, C-H-W)."""
    if kind == "dense":
        flat = np.asarray(s).reshape(-1).tolist()
        return sum(int(w) * v for w, v in zip(layer.weight[o].tolist(), flat))
    c_in, h, w = in_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    top, left = layer.pads[0], layer.pads[1]
    if kind == "avgpool":
        channels, weights = [o], None
    else:
        group = layer.group
        per_group, outs = c_in // group, out_shape[0] // group
        channels = [o // outs * per_group + ci for ci in range(per_group)]
        weights = layer.weight[o].tolist()
    total = 0
    for ci, c in enumerate(channels):
        for ky in range(kh):
            for kx in range(kw):
                iy, ix = y * sh - top + ky, x * sw - left + kx
                if 0 <= iy < h and 0 <= ix < w and s[c][iy][ix]:
                    total += s[c][iy][ix] * (1 if weights is None else weights[ci][ky][kx])
    return total


def _positions(shape):
    if len(shape) == 1:
        return [(o, 0, 0) for o in range(shape[0])]
    return [(o, y, x) for o in range(shape[0]) for y in range(shape[1]) for x in range(shape[2])]


def _as_maps(values, shape):
    return np.asarray(values, dtype=np.int64).reshape(shape).tolist()


def _gate(layer, counts, spikes):
    c, h, w = layer.in_shape
    out = []
    for ch, oy, ox in _positions(layer.out_shape):
        best = best_spike = None
        for ky in range(layer.kernel[0]):
            for kx in range(layer.kernel[1]):
                y, x = oy * layer.stride[0] - layer.pads[0] + ky, ox * layer.stride[1] - layer.pads[1] + kx
                if 0 <= y < h and 0 <= x < w and (best is None or counts[ch][y][x] > best):
                    best, best_spike = counts[ch][y][x], spikes[ch][y][x]
        out.append(best_spike)
    return out


def naive_golden(qnet, image, timesteps):
    """Output potentials (T, K) of one uint8 image."""
    layers = qnet.layers
    position = {INPUT: -1}
    sources = []
    for i, layer in enumerate(layers):
        sources.append([position[name] for name in qnet.sources(i)])
        position[layer.name] = i
    shape_of = {-1: tuple(qnet.input_shape)}
    for i, layer in enumerate(layers):
        shape_of[i] = tuple(layer.out_shape)
    v, counts, current = {}, {}, {}
    for i, layer in enumerate(layers):
        if layer.is_neuron_layer:
            half = qnet.v_init == "half" and layer.role != ROLE_OUTPUT
            v[i] = [int(layer.threshold[o]) >> 1 if half else 0 for o, _, _ in _positions(layer.out_shape)]
        if layer.kind == "maxpool":
            counts[i] = np.zeros(layer.in_shape, np.int64).tolist()
        if layer.analog_input:
            pixels = image.astype(np.int64).tolist()
            current[i] = [_gathered(layer.kind, layer, pixels, layer.in_shape, layer.out_shape, *p)
                          + int(layer.bias[p[0]]) for p in _positions(layer.out_shape)]
    history = []
    for _ in range(timesteps):
        out = {}
        for i, layer in enumerate(layers):
            if layer.kind == "flatten":
                out[i] = None if out[sources[i][0]] is None else np.asarray(out[sources[i][0]]).reshape(-1).tolist()
                continue
            if layer.kind == "maxpool":
                s = out[sources[i][0]]
                counts[i] = (np.asarray(counts[i]) + np.asarray(s)).tolist()
                out[i] = _as_maps(_gate(layer, counts[i], s), layer.out_shape)
                continue
            inputs = list(layer.synapses) if layer.kind == "sum" else [layer]
            for n, p in enumerate(_positions(layer.out_shape)):
                if layer.analog_input:
                    v[i][n] += current[i][n]
                    continue
                for syn, j in zip(inputs, sources[i]):
                    kind = syn.kind
                    v[i][n] += _gathered(kind, syn, out[j], shape_of[j], layer.out_shape, *p)
                v[i][n] += int(layer.bias[p[0]])
            if layer.role == ROLE_OUTPUT:
                history.append(list(v[i]))
                out[i] = None
                continue
            fired = []
            for n, (o, _, _) in enumerate(_positions(layer.out_shape)):
                theta = int(layer.threshold[o])
                spike = v[i][n] >= theta
                if spike:
                    v[i][n] = v[i][n] - theta if qnet.reset == "subtract" else 0
                v[i][n] = min(max(v[i][n], layer.vmin), layer.vmax)
                fired.append(int(spike))
            out[i] = _as_maps(fired, layer.out_shape)
    return np.array(history, dtype=np.int64)


@settings(max_examples=12, **SETTINGS)
@given(seed=st.integers(0, 100_000), bits=st.integers(3, 10), reset=st.sampled_from(["subtract", "zero"]),
       v_init=st.sampled_from(["zero", "half"]), per_channel=st.booleans(), percentile=st.sampled_from([99.0, 100.0]))
def test_random_dag_golden_equals_naive_reference(tmp_path, seed, bits, reset, v_init, per_channel, percentile):
    model, drawn = random_dag_model(seed, size=5)
    net = canonicalize(_import(tmp_path, model))
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (8, 1, 5, 5), dtype=np.uint8)
    lambdas = activation_lambdas(net, images / np.float32(255), percentile, per_channel)
    qnet = quantize(normalize(net, lambdas), bits, per_channel=per_channel, reset=reset, v_init=v_init,
                    max_timesteps=16)
    golden = run_golden(qnet, images[:2], 6)
    for n in range(2):
        assert np.array_equal(golden.potentials[:, n], naive_golden(qnet, images[n], 6)), (drawn, n)


# --------------------------------------------------------------------------
# In hardware: the generated RTL equals the golden model
# --------------------------------------------------------------------------
@settings(max_examples=2, **SETTINGS)
@given(seed=st.integers(0, 100_000), lanes=st.sampled_from([1, 2, 3]), reset=st.sampled_from(["subtract", "zero"]),
       v_init=st.sampled_from(["zero", "half"]))
def test_random_dag_rtl_equals_golden(tmp_path, seed, lanes, reset, v_init):
    """A random DAG (residual identity / projection blocks, Concat, depthwise, grouped, pooling) in RTL:
    lint clean, and every layer's spikes, classes and potentials == golden with stalls."""
    from snnhw.codegen import generate_design
    from snnhw.sim import run_sim
    from snnhw.sim.tools import lint

    blocks = list(np.random.default_rng(seed).choice(["identity", "projection", "concat", "depthwise", "pool"],
                                                     size=2, replace=False))
    if "identity" not in blocks and "projection" not in blocks:
        blocks[0] = "identity"
    model, drawn = random_dag_model(seed, size=6, blocks=blocks)
    net = canonicalize(_import(tmp_path, model))
    images = np.random.default_rng(seed).integers(0, 256, (8, 1, 6, 6), dtype=np.uint8)
    lambdas = activation_lambdas(net, images / np.float32(255), 99.0)
    qnet = quantize(normalize(net, lambdas), 8, reset=reset, v_init=v_init, max_timesteps=16)
    build = tmp_path / f"build{seed}"
    generate_design(qnet, build, parallelism=lanes, timesteps=4, test_images=images[:2])
    lint(build)
    res = run_sim(build, taps=True, stalls=True, extra=False, seed=seed)
    assert res.passed and res.first_tap_mismatch is None, (drawn, res.summary())
