"""The integer golden model against an independent event-by-event implementation."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from event_reference import run_reference
from netgen import random_images, random_network
from snnhw.frontend.normalize import normalize
from snnhw.frontend.quantize import quantize
from snnhw.ir import Conv, Dense
from snnhw.reference.golden import run_golden


def random_qnet(seed, bits=8, reset="subtract", v_init="zero", per_channel=False, lam_range=(0.2, 1.5)):
    net = random_network(seed)
    rng = np.random.default_rng(seed + 7)
    lambdas = {i: float(rng.uniform(*lam_range)) for i, l in enumerate(net.layers) if isinstance(l, (Conv, Dense))}
    return quantize(normalize(net, lambdas), bits, per_channel=per_channel, reset=reset, v_init=v_init,
                    max_timesteps=64)


@settings(max_examples=25, deadline=None, print_blob=True)
@given(seed=st.integers(0, 10_000), bits=st.integers(2, 16), reset=st.sampled_from(["subtract", "zero"]),
       v_init=st.sampled_from(["zero", "half"]), per_channel=st.booleans())
def test_golden_equals_event_by_event_reference(seed, bits, reset, v_init, per_channel):
    qnet = random_qnet(seed, bits, reset, v_init, per_channel)
    images = random_images(seed, 2, qnet.input_shape)
    golden = run_golden(qnet, images, 12)
    for n in range(len(images)):
        ref = run_reference(qnet, images[n], 12, seed=seed)
        assert np.array_equal(golden.potentials[:, n], ref), f"image {n}, network seed {seed}"


@pytest.mark.parametrize("seed", range(6))
def test_membrane_widths_hold_under_maximal_drive(seed):
    # tiny λ → every neuron saturates; white images → largest analog current.
    # run_golden raises OverflowError if any value leaves its mem_bits range.
    qnet = random_qnet(seed, bits=8, lam_range=(0.01, 0.02))
    images = np.full((2, *qnet.input_shape), 255, np.uint8)
    images[1] = 0
    res = run_golden(qnet, images, 64, record_spikes=True)
    assert res.potentials.shape == (64, 2, qnet.num_classes)
    first = res.spikes[0]
    assert first[:, 0].any(), "maximal drive must make the first layer fire"


def test_reset_by_subtraction_rate_equals_clipped_activation():
    # paper eq. (4b): with a constant input current z (threshold 1), the spike
    # count after T steps is floor(T*z) for 0 <= z < 1: the ANN activation.
    rng = np.random.default_rng(3)
    from snnhw.ir import Network
    w = rng.uniform(-1, 1, (20, 16)).astype(np.float32)
    b = rng.uniform(-0.2, 0.4, 20).astype(np.float32)
    net = Network([Dense("d", w, b, True, (16,), (20,)), Dense("o", np.eye(3, 20, dtype=np.float32),
                   np.zeros(3, np.float32), False, (20,), (3,))], input_shape=(16,))
    qnet = quantize(net, 16, max_timesteps=400)
    x = rng.integers(0, 256, (4, 16), dtype=np.uint8)
    res = run_golden(qnet, x, 400, record_spikes=True)
    rate = res.spikes[0].sum(axis=0) / 400
    a = np.clip(x / 255.0 @ w.T + b, 0, 1)
    assert np.abs(rate - a).max() <= 1 / 400 + 2e-3  # one step of discretization + 16-bit rounding


def test_reset_to_zero_loses_the_residual():
    # the ablation: reset to zero discards V - θ, so rates fall below the activation
    rng = np.random.default_rng(4)
    from snnhw.ir import Network
    w = rng.uniform(0.1, 1, (8, 16)).astype(np.float32) / 8
    net = Network([Dense("d", w, np.zeros(8, np.float32), True, (16,), (8,)),
                   Dense("o", np.eye(2, 8, dtype=np.float32), np.zeros(2, np.float32), False, (8,), (2,))],
                  input_shape=(16,))
    x = rng.integers(0, 256, (3, 16), dtype=np.uint8)
    sub = run_golden(quantize(net, 12, reset="subtract"), x, 200, record_spikes=True).spikes[0].sum(0)
    zero = run_golden(quantize(net, 12, reset="zero"), x, 200, record_spikes=True).spikes[0].sum(0)
    assert (zero <= sub).all() and (zero < sub).any()


def test_golden_rejects_float_images():
    qnet = random_qnet(0)
    with pytest.raises(TypeError):
        run_golden(qnet, np.zeros((1, *qnet.input_shape), np.float32), 2)


def test_mlp_with_flattened_input_is_an_analog_dense_layer():
    # an exported MLP starts with Flatten; canonical form drops it so the first
    # Dense is the analog-input layer reading pixels in C-H-W order
    from snnhw.frontend.passes import canonicalize
    from snnhw.ir import Flatten, Network
    rng = np.random.default_rng(5)
    net = canonicalize(Network([
        Flatten("flat", (1, 4, 4), (16,)),
        Dense("fc1", rng.normal(0, 0.3, (6, 16)).astype(np.float32), np.full(6, 0.1, np.float32), True, (16,), (6,)),
        Dense("fc2", rng.normal(0, 0.3, (3, 6)).astype(np.float32), np.zeros(3, np.float32), False, (6,), (3,)),
    ], input_shape=(1, 4, 4)))
    assert [type(l).__name__ for l in net.layers] == ["Dense", "Dense"] and net.layers[0].in_shape == (1, 4, 4)
    qnet = quantize(normalize(net, {0: 0.5, 1: 1.0}), 8, max_timesteps=32)
    assert qnet.layers[0].analog_input
    images = random_images(5, 2, (1, 4, 4))
    golden = run_golden(qnet, images, 10)
    for n in range(2):
        assert np.array_equal(golden.potentials[:, n], run_reference(qnet, images[n], 10))
