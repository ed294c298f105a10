"""Each pass of snnhw.frontend.passes alone, on hand-built networks."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from snnhw import ir
from snnhw.errors import UnsupportedModelError
from snnhw.frontend.passes import (
    PASSES, canonical_flatten, canonicalize, check_canonical, drop_identity, fold_batchnorm, fuse_relu,
    strip_softmax,
)
from snnhw.reference.ann import run_ann

RNG = np.random.default_rng(7)
INPUT = (2, 6, 6)


def randn(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def conv(name="conv", c_in=2, c_out=3, hw=(6, 6), relu=False) -> ir.Conv:
    return ir.Conv(name, randn(c_out, c_in, 3, 3), randn(c_out), pads=(1, 1, 1, 1), relu=relu,
                   in_shape=(c_in, *hw), out_shape=(c_out, *hw))


def dense(name="fc", n_in=27, n_out=4, relu=False) -> ir.Dense:
    return ir.Dense(name, randn(n_out, n_in), randn(n_out), relu=relu, in_shape=(n_in,), out_shape=(n_out,))


def batchnorm(name="bn", shape=(3, 6, 6)) -> ir.BatchNorm:
    c = shape[0]
    return ir.BatchNorm(name, RNG.uniform(0.5, 2, c).astype(np.float32), randn(c), randn(c),
                        RNG.uniform(0.2, 3, c).astype(np.float32), eps=1e-3, in_shape=shape, out_shape=shape)


def same_shape(cls, name, shape):
    return cls(name, in_shape=shape, out_shape=shape)


def maxpool(name="pool", shape=(3, 6, 6)) -> ir.MaxPool:
    c, h, w = shape
    return ir.MaxPool(name, (2, 2), (2, 2), in_shape=shape, out_shape=(c, h // 2, w // 2))


def avgpool(name="avg", shape=(3, 6, 6)) -> ir.AvgPool:
    c, h, w = shape
    return ir.AvgPool(name, (2, 2), (2, 2), in_shape=shape, out_shape=(c, h // 2, w // 2))


def flatten(name="flatten", shape=(3, 3, 3)) -> ir.Flatten:
    return ir.Flatten(name, in_shape=shape, out_shape=(int(np.prod(shape)),))


def network(*layers, input_shape=INPUT) -> ir.Network:
    return ir.Network(list(layers), input_shape, source="test.onnx")


def kinds(net):
    return [type(l).__name__ for l in net.layers]


def x_batch(n=4, shape=INPUT):
    return RNG.standard_normal((n, *shape)).astype(np.float32)


def assert_same_function(before, after, atol=1e-5):
    """Same outputs on random input (float32 rounding allowed, relative to the size)."""
    x = x_batch()
    a, b = run_ann(before, x), run_ann(after, x)
    assert np.allclose(a, b, rtol=atol, atol=atol), np.abs(a - b).max()


def typical_network() -> ir.Network:
    """Conv BN Relu MaxPool Dropout Flatten Dense Relu Dense Softmax."""
    return network(
        conv(), batchnorm(), same_shape(ir.Relu, "relu1", (3, 6, 6)), maxpool(),
        same_shape(ir.Identity, "dropout", (3, 3, 3)), flatten(), dense(),
        same_shape(ir.Relu, "relu2", (4,)), dense("out", 4, 2), same_shape(ir.Softmax, "softmax", (2,)),
    )


# --------------------------------------------------------------------------
# Every pass leaves its input alone
# --------------------------------------------------------------------------
@pytest.mark.parametrize("rewrite", [p for p in PASSES if p is not check_canonical] + [canonicalize])
def test_passes_do_not_mutate_their_input(rewrite):
    net = typical_network()
    snapshot = copy.deepcopy(net)
    result = rewrite(net)
    assert result is not net
    assert repr(net) == repr(snapshot)
    for a, b in zip(net.layers, snapshot.layers):
        for field in ("weight", "bias"):
            if hasattr(a, field):
                assert np.array_equal(getattr(a, field), getattr(b, field))
    # The result shares no layer objects with the input.
    assert not {id(l) for l in result.layers} & {id(l) for l in net.layers}


def test_canonicalize_typical_network_and_is_idempotent():
    net = typical_network()
    canon = canonicalize(net)
    assert kinds(canon) == ["Conv", "MaxPool", "Flatten", "Dense", "Dense"]
    assert [l.relu for l in canon.weight_layers()] == [True, True, False]
    assert canon.softmax and not net.softmax
    again = canonicalize(canon)
    assert repr(again) == repr(canon)
    # Same function as the original up to the final softmax.
    x = x_batch()
    logits = run_ann(canon, x)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert np.abs(e / e.sum(axis=1, keepdims=True) - run_ann(net, x)).max() <= 1e-5


# --------------------------------------------------------------------------
# drop_identity
# --------------------------------------------------------------------------
def test_drop_identity():
    net = network(same_shape(ir.Identity, "id0", INPUT), conv(), same_shape(ir.Identity, "id1", (3, 6, 6)))
    out = drop_identity(net)
    assert kinds(out) == ["Conv"]
    assert_same_function(net, out, 0)


# --------------------------------------------------------------------------
# fold_batchnorm
# --------------------------------------------------------------------------
def test_fold_batchnorm_into_conv_follows_the_paper():
    c, bn = conv(), batchnorm()
    net = network(c, bn)
    out = fold_batchnorm(net)
    assert kinds(out) == ["Conv"]
    sigma = np.sqrt(bn.var.astype(np.float64) + bn.eps)
    gain = bn.scale / sigma
    assert np.allclose(out.layers[0].weight, c.weight * gain[:, None, None, None], atol=1e-6)
    assert np.allclose(out.layers[0].bias, gain * (c.bias - bn.mean) + bn.bias, atol=1e-6)
    assert out.layers[0].weight.dtype == np.float32
    assert_same_function(net, out)


def test_fold_batchnorm_into_dense():
    net = network(flatten(shape=INPUT), dense(n_in=72), batchnorm(shape=(4,)))
    out = fold_batchnorm(net)
    assert kinds(out) == ["Flatten", "Dense"]
    assert_same_function(net, out)


@pytest.mark.parametrize("layers, where", [
    ([batchnorm(shape=INPUT)], "on the network input"),
    ([conv(relu=True), maxpool(), batchnorm(shape=(3, 3, 3))], "after 'pool'"),
    ([conv(relu=True), batchnorm()], "after the ReLU"),
])
def test_fold_batchnorm_refuses_a_batchnorm_without_conv_before(layers, where):
    with pytest.raises(UnsupportedModelError, match=f"test.onnx: layer 'bn' \\(BatchNorm\\): .*{where}"):
        fold_batchnorm(network(*layers))


# --------------------------------------------------------------------------
# fuse_relu
# --------------------------------------------------------------------------
def test_fuse_relu_into_conv():
    net = network(conv(), same_shape(ir.Relu, "relu", (3, 6, 6)))
    out = fuse_relu(net)
    assert kinds(out) == ["Conv"] and out.layers[0].relu
    assert_same_function(net, out, 0)


@pytest.mark.parametrize("pool", [maxpool, avgpool])
def test_relu_after_pool_of_non_negative_values_is_dropped(pool):
    net = network(conv(relu=True), pool(), same_shape(ir.Relu, "relu", (3, 3, 3)))
    out = fuse_relu(net)
    assert kinds(out) == ["Conv", type(pool()).__name__]
    assert_same_function(net, out, 0)


def test_relu_commutes_with_maxpool_and_flatten():
    net = network(conv(), maxpool(), flatten(), same_shape(ir.Relu, "relu", (27,)), dense())
    out = fuse_relu(net)
    assert kinds(out) == ["Conv", "MaxPool", "Flatten", "Dense"] and out.layers[0].relu
    assert_same_function(net, out)


def test_relu_does_not_commute_with_avgpool():
    net = network(conv(), avgpool(), same_shape(ir.Relu, "relu", (3, 3, 3)), flatten(), dense())
    out = fuse_relu(net)
    assert kinds(out) == ["Conv", "AvgPool", "Relu", "Flatten", "Dense"] and not out.layers[0].relu
    with pytest.raises(UnsupportedModelError, match="layer 'relu' \\(Relu\\): a ReLU that could not be fused"):
        check_canonical(out)


def test_double_relu_and_relu_on_input():
    net = network(same_shape(ir.Relu, "r0", INPUT), conv(), same_shape(ir.Relu, "r1", (3, 6, 6)),
                  same_shape(ir.Relu, "r2", (3, 6, 6)))
    out = fuse_relu(net)
    assert kinds(out) == ["Relu", "Conv"] and out.layers[1].relu  # the input may be negative
    assert_same_function(net, out, 0)


# --------------------------------------------------------------------------
# canonical_flatten and strip_softmax
# --------------------------------------------------------------------------
def test_canonical_flatten_removes_flattens_of_flat_values():
    net = network(conv(relu=True), flatten(shape=(3, 6, 6)), flatten("again", shape=(108,)), dense(n_in=108),
                  flatten("of_vector", shape=(4,)))
    out = canonical_flatten(net)
    assert [l.name for l in out.layers] == ["conv", "flatten", "fc"]
    assert_same_function(net, out, 0)


def test_strip_softmax_only_at_the_end():
    net = network(flatten(shape=INPUT), dense(n_in=72), same_shape(ir.Softmax, "softmax", (4,)))
    out = strip_softmax(net)
    assert kinds(out) == ["Flatten", "Dense"] and out.softmax
    inner = network(flatten(shape=INPUT), dense(n_in=72), same_shape(ir.Softmax, "sm", (4,)), dense("out", 4, 2))
    assert not strip_softmax(inner).softmax
    with pytest.raises(UnsupportedModelError, match="layer 'sm' \\(Softmax\\): a softmax inside the network"):
        canonicalize(inner)


# --------------------------------------------------------------------------
# check_canonical
# --------------------------------------------------------------------------
def test_check_canonical_accepts_output_conv_followed_by_flatten():
    net = network(conv(relu=True), ir.Conv("out", randn(2, 3, 6, 6), randn(2), in_shape=(3, 6, 6), out_shape=(2, 1, 1)),
                  flatten(shape=(2, 1, 1)))
    assert check_canonical(net) is net


def test_check_canonical_refuses_a_hidden_layer_without_relu():
    net = network(conv("hidden"), flatten(shape=(3, 6, 6)), dense(n_in=108))
    with pytest.raises(UnsupportedModelError, match="test.onnx: layer 'hidden' \\(Conv\\): hidden layer without ReLU"):
        check_canonical(net)


def test_check_canonical_refuses_layers_after_the_output_layer():
    net = network(conv(), maxpool())
    with pytest.raises(UnsupportedModelError, match="layer 'pool' \\(MaxPool\\): follows the output layer 'conv'"):
        check_canonical(net)


@pytest.mark.parametrize("net, message", [
    (network(conv(), batchnorm()), "layer 'bn' \\(BatchNorm\\): a BatchNorm that was not folded"),
    (network(same_shape(ir.Identity, "id", INPUT), conv()), "layer 'id' \\(Identity\\)"),
    (network(maxpool(shape=INPUT)), "no Conv or Dense layer"),
    (network(conv(relu=True), dense(n_in=27)), "layer 'fc' \\(Dense\\): expects input shape \\(27,\\) but receives \\(3, 6, 6\\)"),
])
def test_check_canonical_refuses(net, message):
    with pytest.raises(UnsupportedModelError, match=message):
        check_canonical(net)
