"""The float SNN converges to the ANN (paper section 2) and every ablation option runs."""
import numpy as np
import pytest

from netgen import random_images, random_network
from snnhw.frontend.normalize import activation_lambdas, normalize
from snnhw.frontend.quantize import quantize
from snnhw.reference.ann import run_ann
from snnhw.reference.float_snn import SnnConfig, run_float_snn
from snnhw.reference.golden import run_golden


def converted(seed, n=40, percentile=100.0):
    net = random_network(seed, max_channels=6, size=10)
    x = random_images(seed, n, net.input_shape).astype(np.float32) / 255
    return net, normalize(net, activation_lambdas(net, x, percentile)), x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_float_snn_agrees_with_the_ann_after_many_steps(seed):
    net, norm, x = converted(seed)
    ann_class = run_ann(net, x).reshape(len(x), -1).argmax(1)
    snn_class = run_float_snn(norm, x, 300)
    agree = (snn_class == ann_class).mean(axis=1)
    assert agree[-1] >= 0.85, agree[-1]
    assert agree[-1] >= agree[4]  # more steps, better approximation


def test_fixed_point_tracks_float_at_high_precision():
    net, norm, x = converted(4)
    images = (x * 255).round().astype(np.uint8)
    f = run_float_snn(norm, images / np.float32(255), 200)
    g = run_golden(quantize(norm, 16, max_timesteps=200), images, 200).classes
    assert (f[-1] == g[-1]).mean() >= 0.9


@pytest.mark.parametrize("cfg", [
    SnnConfig(reset="zero"), SnnConfig(input="poisson", seed=3), SnnConfig(gate="ewma"), SnnConfig(gate="none"),
    SnnConfig(output="softmax"), SnnConfig(v_init="half"), SnnConfig(gate="ann"),
])
def test_every_option_runs(cfg):
    _, norm, x = converted(5, n=8)
    classes = run_float_snn(norm, x, 30, cfg)
    assert classes.shape == (30, 8)
    assert classes.min() >= 0 and classes.max() < norm.output_shape[0]


def _tie_network():
    """1x2 image -> identity 1x1 conv (IF) -> 1x2 max-pool -> output 0 sums the pooled spikes, output 1 gets 5/8 per step."""
    from snnhw.ir import Conv, Dense, Flatten, MaxPool, Network

    one = np.ones((1, 1, 1, 1), np.float32)
    return Network(layers=[
        Conv("c", one, np.zeros(1, np.float32), relu=True, in_shape=(1, 1, 2), out_shape=(1, 1, 2)),
        MaxPool("p", (1, 2), (1, 2), in_shape=(1, 1, 2), out_shape=(1, 1, 1)),
        Flatten("f", (1, 1, 1), (1,)),
        Dense("o", np.array([[1.0], [0.0]], np.float32), np.array([0.0, 0.625], np.float32), False, (1,), (2,)),
    ], input_shape=(1, 1, 2))


def test_ann_gate_follows_the_larger_activation_where_counts_tie():
    """Inputs at rates 1/2 (first position) and 5/8: at step 6 the slower one catches up to 3 spikes and
    fires alone. The count gate takes the tie's first position and passes its spike (4 pooled spikes, more
    than the 3.75 of output 1); the ANN gate keeps the faster input, which did not fire (3 spikes)."""
    x = np.array([[[[0.5, 0.625]]]], np.float32)
    count = run_float_snn(_tie_network(), x, 6, SnnConfig(gate="count"))[:, 0]
    ann = run_float_snn(_tie_network(), x, 6, SnnConfig(gate="ann"))[:, 0]
    assert count[4] == ann[4] == 1  # step 5: 3 pooled spikes either way, output 1 at 3.125
    assert (count[5], ann[5]) == (0, 1)


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="reset"):
        SnnConfig(reset="soft")
