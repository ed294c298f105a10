"""The float SNN converges to the ANN (paper section 2) and every ablation option runs."""
import numpy as np
import pytest

from netgen import random_images, random_network
from snnhw.frontend.ann import run_ann
from snnhw.frontend.float_snn import SnnConfig, run_float_snn
from snnhw.frontend.golden import run_golden
from snnhw.frontend.normalize import activation_lambdas, normalize
from snnhw.frontend.quantize import quantize


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
    SnnConfig(output="softmax"), SnnConfig(v_init="half"),
])
def test_every_option_runs(cfg):
    _, norm, x = converted(5, n=8)
    classes = run_float_snn(norm, x, 30, cfg)
    assert classes.shape == (30, 8)
    assert classes.min() >= 0 and classes.max() < norm.output_shape[0]


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="reset"):
        SnnConfig(reset="soft")
