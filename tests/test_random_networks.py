"""Property test: random small CNNs -> generate -> RTL simulation == golden, bit for bit.

Hypothesis draws the geometry (kernels 1-5, strides 1-2, padding, channels,
max/avg pooling, dense sizes), the numeric options (bits 4-12, per-layer or
per-channel scales, both resets, both initial potentials), the parallelism
(odd values included: partial last channel groups) and kernel columns per
cycle (1, 2, 3 or 5: every stride-1 spiking conv of that kernel width gets
column-banked membranes), a few time steps and whether
the build exits early (margin 1 / min_steps 1: image aborts in every engine still
on an exited image; the taps then compare every layer's spikes up to each
image's exit step). Failing examples are printed with their reproduction blob.
"""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rtl_nets as R
from snnhw.codegen import generate_design
from snnhw.reference.conv import output_hw
from snnhw.reference.early_exit import ExitRule
from snnhw.sim import run_sim

_counter = itertools.count()


@st.composite
def networks(draw):
    c = draw(st.integers(1, 2))
    size = draw(st.integers(5, 10))
    seed = draw(st.integers(0, 2**16))
    b = R.NetBuilder((c, size, size), seed=seed, gain=draw(st.sampled_from([0.8, 1.5, 2.5])),
                     bias=draw(st.sampled_from([0.0, 0.1, 0.3])))
    desc = []

    def conv():
        _, h, w = b.shape
        k = draw(st.integers(1, min(5, h, w)))
        s = draw(st.integers(1, 2))
        p = draw(st.integers(0, k // 2))
        o = draw(st.integers(1, 4))
        if min(output_hw((h, w), (k, k), (s, s), (p, p, p, p))) < 1:
            return
        b.conv(o, k, s, p)
        desc.append(f"conv{o}k{k}s{s}p{p}")

    def pool():
        _, h, w = b.shape
        if min(h, w) < 2 or not draw(st.booleans()):
            return
        kind = draw(st.sampled_from(["max", "avg"]))
        k = draw(st.integers(2, min(3, h, w)))
        s = draw(st.integers(1, k))
        p = draw(st.integers(0, k // 2))
        b.pool(kind, k, s, p)
        desc.append(f"{kind}pool k{k}s{s}p{p}")

    conv()
    if not desc:
        b.conv(2, 1)
        desc.append("conv2k1")
    pool()
    if draw(st.booleans()):
        conv()
        pool()
    b.flatten()
    if draw(st.booleans()):
        m = draw(st.integers(2, 8))
        b.dense(m)
        desc.append(f"dense{m}")
    k = draw(st.integers(2, 5))
    b.dense(k, relu=False)
    desc.append(f"out{k}")
    opts = dict(bits=draw(st.integers(4, 12)), per_channel=draw(st.booleans()),
                reset=draw(st.sampled_from(["subtract", "zero"])), v_init=draw(st.sampled_from(["zero", "half"])),
                max_timesteps=16)
    P = (draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8])), draw(st.sampled_from([1, 2, 3, 5])))
    T = draw(st.integers(3, 8))
    exit_rule = ExitRule(1, 1) if draw(st.booleans()) else None
    return b, opts, P, T, exit_rule, " ".join(desc)


@settings(max_examples=8, deadline=None, print_blob=True, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=networks(), image_seed=st.integers(0, 1000))
def test_random_network_bit_exact(tmp_path_factory, case, image_seed):
    b, opts, P, T, exit_rule, desc = case
    q = R.qnet_of(b, **opts)
    out = tmp_path_factory.mktemp("rand") / f"net{next(_counter)}"
    imgs = R.images(q.input_shape, 2, seed=image_seed)
    thetas = {l.name: l.threshold.tolist() for l in q.layers if l.kind in ("conv", "dense") and l.role == "spiking"}
    print(f"network: {desc} | {opts} | P={P} T={T} | exit {exit_rule} | image seed {image_seed} | thresholds {thetas}")
    generate_design(q, out, parallelism=P, timesteps=T, test_images=imgs, source_note=desc, exit_rule=exit_rule)
    res = run_sim(out, taps=True, stalls=True, extra=True, seed=image_seed)
    assert res.passed, (f"{desc} {opts} P={P} T={T} exit {exit_rule}: {res.summary()} first tap mismatch: "
                        f"{res.first_tap_mismatch}")
