"""Quantization: ranges, widths, options, and the .snn.npz round trip."""
import numpy as np
import pytest

from netgen import random_images, random_network
from snnhw.errors import ModelLoadError, OptionError
from snnhw.frontend.normalize import normalize
from snnhw.frontend.qformat import load_qnet, save_qnet
from snnhw.frontend.quantize import quantize, signed_bits, weight_error
from snnhw.ir import Conv, Dense, Network
from snnhw.reference.golden import run_golden


def normalized(seed):
    net = random_network(seed)
    return normalize(net, {i: 1.0 for i, l in enumerate(net.layers) if isinstance(l, (Conv, Dense))})


@pytest.mark.parametrize("bits", [2, 4, 8, 12, 16])
@pytest.mark.parametrize("per_channel", [False, True])
def test_weights_fill_the_symmetric_range(bits, per_channel):
    q = quantize(normalized(1), bits, per_channel=per_channel)
    qmax = 2 ** (bits - 1) - 1
    for layer in q.layers:
        if layer.weight is None:
            continue
        mags = np.abs(layer.weight).reshape(layer.weight.shape[0], -1).max(axis=1)
        assert mags.max() <= qmax
        if per_channel and layer.role != "output":  # the output layer keeps one scale
            assert (mags[mags > 0] == qmax).all()  # every channel uses its full range
        else:
            assert mags.max() == qmax
        assert (layer.threshold >= 1).all()


def test_weight_error_shrinks_with_bits():
    net = normalized(2)
    errors = [np.mean([r["weight_rel_rms"] for r in weight_error(net, quantize(net, b))]) for b in (3, 6, 10, 14)]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-3


@pytest.mark.parametrize("bits", [0, 1, 17, 32])
def test_bits_out_of_range_is_an_option_error(bits):
    with pytest.raises(OptionError, match="--bits"):
        quantize(normalized(0), bits)


def test_signed_bits():
    assert signed_bits(-1, 0) == 1
    assert signed_bits(-128, 127) == 8
    assert signed_bits(-129, 127) == 9
    assert signed_bits(0, 128) == 9


def test_qnet_file_round_trip(tmp_path):
    q = quantize(normalized(3), 6, per_channel=True, reset="zero", v_init="half", max_timesteps=100)
    path = save_qnet(q, tmp_path / "net.snn.npz")
    assert not list(tmp_path.glob("*.partial"))
    r = load_qnet(path)
    assert (r.bits, r.reset, r.v_init, r.max_timesteps, r.input_shape) == (6, "zero", "half", 100, q.input_shape)
    for a, b in zip(q.layers, r.layers):
        assert (a.kind, a.name, a.in_shape, a.out_shape, a.mem_bits, a.kernel, a.pads) == \
            (b.kind, b.name, b.in_shape, b.out_shape, b.mem_bits, b.kernel, b.pads)
    x = random_images(3, 2, q.input_shape)
    assert np.array_equal(run_golden(q, x, 10).potentials, run_golden(r, x, 10).potentials)


def test_loading_a_non_qnet_file_names_it(tmp_path):
    bad = tmp_path / "junk.snn.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match="junk.snn.npz"):
        load_qnet(bad)


def test_per_channel_keeps_one_scale_for_the_output_layer():
    # per-class scales would rescale each logit differently and change the argmax
    from snnhw.reference.ann import run_ann
    from snnhw.frontend.normalize import activation_lambdas

    net = random_network(9)
    x = random_images(9, 30, net.input_shape).astype(np.float32) / 255
    lambdas = activation_lambdas(net, x, 99.9, per_channel=True)
    last = max(lambdas)
    assert np.ndim(lambdas[last]) == 0 and any(np.ndim(v) == 1 for v in lambdas.values())
    norm = normalize(net, lambdas)
    assert np.array_equal(run_ann(norm, x).argmax(1), run_ann(net, x).argmax(1))
    q = quantize(norm, 8, per_channel=True)
    assert np.unique(q.layers[-1].scale).size == 1


def _burst_network(gain: float) -> Network:
    """pixel → Dense (fires every 16 steps at 255) → Dense (a spike is ``gain`` thresholds) → output."""
    def dense(name, w, relu, in_shape=(1,)):
        return Dense(name, np.array([[w]], np.float32), np.zeros(1, np.float32), relu, in_shape, (1,))

    return Network(layers=[dense("slow", 1 / 16, True, (1, 1, 1)), dense("burst", gain, True),
                           dense("out", 1.0, False)], input_shape=(1, 1, 1))


def test_clamp_headroom_widens_the_clamp_and_keeps_a_bursts_charge():
    """A spike worth 8 thresholds: the default clamp (at least 2θ) drops most of it, headroom 3 (8θ) keeps it,
    so the layer fires at the float SNN's rate 8/16."""
    net, steps = _burst_network(8.0), 160
    pixel = np.full((1, 1, 1, 1), 255, np.uint8)
    counts = {}
    for h in (1, 3):
        q = quantize(net, 8, max_timesteps=steps, clamp_headroom=h)
        burst = q.layers[1]
        k = int(burst.threshold.max()).bit_length()
        assert (burst.vmin, burst.vmax) == (-(1 << (k + h)), (1 << (k + h)) - 1)
        counts[h] = int(run_golden(q, pixel, steps, record_spikes=True).spikes[1].sum())
    # the first 9 of the 10 input spikes (steps 16, 32, ..., 144) are 9 x 127 / 16 = 71.4 thresholds
    assert counts[3] >= 71 and counts[1] < 50, counts
    assert quantize(net, 8).layers[1].vmax == quantize(net, 8, clamp_headroom=1).layers[1].vmax


@pytest.mark.parametrize("h", [0, 17])
def test_clamp_headroom_out_of_range_is_an_option_error(h):
    with pytest.raises(OptionError, match="clamp-headroom"):
        quantize(_burst_network(1.0), 8, clamp_headroom=h)
