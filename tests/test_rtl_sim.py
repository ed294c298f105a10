"""Bit-exact RTL simulation (cocotb + Verilator) of hand-built networks covering
every block and option, and of the bundled example.

Every run compares every class of every step and the final output potentials
with ``==``; with taps also every layer's spikes of every step.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import rtl_nets as R
from example_model import EXAMPLES, example_qnet
from snnhw.codegen import generate_design
from snnhw.reference.golden import run_golden
from snnhw.sim import run_sim

# name: (network, quantization options, parallelism)
CASES = R.DESIGN_CASES


@pytest.mark.parametrize("name", sorted(CASES))
def test_bit_exact_with_taps(tmp_path, name):
    make, qargs, gen = CASES[name]
    q = R.qnet_of(make(), **qargs)
    imgs = R.images(q.input_shape, 3, seed=5)
    generate_design(q, tmp_path / name, timesteps=10, test_images=imgs, source_note=name, **gen)
    if qargs.get("per_channel"):
        lanes = assert_distinct_lane_thresholds(q, tmp_path / name)
        print("thresholds per theta word (used lanes):", lanes)
        # odd P with a partial last channel group whose lanes differ too; v_init half
        assert gen["parallelism"] % 2 == 1 and q.v_init == "half"
        assert any(len(w[-1]) < gen["parallelism"] and len(set(w[-1])) > 1 for w in lanes.values()), lanes
    deep = [m["layer"] for m in json.loads((tmp_path / name / "manifest.json").read_text())["memories"]
            if m["name"] == "input_fifo"]
    assert deep == (["conv3"] if name.startswith("deep_link") else []), deep
    res = run_sim(tmp_path / name, taps=True, stalls=True, extra=True, seed=1)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.first_tap_mismatch is None
    assert set(res.passes) == {"stalls", "back-to-back", "reset-mid-image"}
    assert res.cycles_pass == "back-to-back" and res.cycles_per_image == res.passes["back-to-back"]["cycles_per_image"]
    b2b = res.passes["back-to-back"]
    ends = b2b["image_end_cycles"]  # every image's last beat, rising, the last one ending the pass
    assert len(ends) == res.images and ends == sorted(ends) and ends[0] == b2b["latency_first_image"]
    assert ends[-1] == b2b["cycles_total"]
    spikes = np.load(tmp_path / name / "vectors" / "spikes.npz")
    assert all(spikes[k].sum() > 0 for k in spikes.files), "test network is silent: weak test"


def assert_distinct_lane_thresholds(q, build_dir):
    """The theta ROMs hold the per-channel thresholds, and every spiking conv/dense layer with more than
    one lane has a word whose lanes differ: the case cannot silently degrade to one threshold."""
    lanes = R.lane_thresholds(build_dir)
    for i, layer in enumerate(q.layers):
        if layer.kind not in ("conv", "dense") or layer.role != "spiking":
            continue
        words = lanes[i]
        assert [t for w in words for t in w] == [int(t) for t in layer.threshold], layer.name
        if max(len(w) for w in words) > 1:
            assert any(len(set(w)) > 1 for w in words), f"{layer.name}: one threshold per word {words}"
    return lanes


def test_taps_name_the_first_mismatching_layer(tmp_path):
    """A corrupted weight in layer 2 is reported at layer 2 (not before), with step and neuron."""
    q = R.qnet_of(R.design_conv_maxpool(), bits=8)
    imgs = R.images(q.input_shape, 2, seed=5)
    out = tmp_path / "bad"
    generate_design(q, out, parallelism=1, timesteps=10, test_images=imgs)
    hexfile = out / "mem" / "l2_weight.hex"
    lines = hexfile.read_text().split()
    lines = [format(int(v, 16) ^ 0x7F, f"0{len(v)}x") for v in lines]  # break every weight
    hexfile.write_text("\n".join(lines) + "\n")
    res = run_sim(out, taps=True, stalls=False, extra=False)
    assert not res.passed
    first = res.first_tap_mismatch
    assert first is not None and first["layer"] == 2, first
    assert first["step"] >= 1 and first["neuron"] is not None
    assert any("taps: first mismatch at layer 2" in m for m in res.mismatches)


def test_fewer_steps_than_built_at_run_time(tmp_path):
    """cfg_timesteps is a run-time input: a design built for 32 steps runs 3."""
    q = R.qnet_of(R.design_dense(), bits=8, max_timesteps=32)
    generate_design(q, tmp_path / "t3", parallelism=2, timesteps=3, test_images=R.images(q.input_shape, 2))
    res = run_sim(tmp_path / "t3", stalls=True, extra=False)
    assert res.passed, res.summary()


def test_example_mnist_bit_exact(tmp_path):
    """The bundled example at 8 bits, 20 test images, every step, with stalls (P = 16)."""
    q, x_test, y_test = example_qnet(bits=8)
    out = tmp_path / "mnist"
    generate_design(q, out, parallelism=16, timesteps=12, test_images=x_test[:20], test_labels=y_test[:20],
                    source_note="examples/mnist_small.onnx")
    res = run_sim(out, n_images=20, stalls=True, extra=False, seed=3)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.images == 20
    # the RTL's own final answers (what bench/rtl_cycles.py scores) are the golden model's
    golden = run_golden(q, x_test[:20], 12)
    assert res.final_classes == [int(c) for c in golden.classes[-1]]


def test_example_per_channel_half_bit_exact(tmp_path):
    """The recommended low-latency setting, through the command line: ``snnhw generate
    examples/mnist_small.onnx --per-channel --v-init half -P 9`` (distinct thresholds per lane; the
    16-channel conv in groups 9 + 7, the 8-channel one in 8 lanes). 4 test images x 8 steps (this
    setting fires a lot: ~55k cycles per image), every class of every step and the final potentials
    RTL == golden, with stalls, then back to back and with a reset mid-image."""
    from click.testing import CliRunner

    from snnhw.cli import main
    from snnhw.data import load_split
    from snnhw.pipeline import compile_model

    model, data = EXAMPLES / "mnist_small.onnx", EXAMPLES / "mnist_sample.npz"
    out, N, T = tmp_path / "hw", 4, 8
    r = CliRunner().invoke(main, [str(a) for a in (
        "generate", model, "--calib", data, "--per-channel", "--v-init", "half", "-T", 64, "--test-data", data,
        "--test-images", N, "--test-steps", T, "-P", 9, "-o", out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["numeric"]["v_init"] == "half" and manifest["numeric"]["reset"] == "subtract"
    # the same compilation as the command's: the thresholds in the theta ROMs are its per-channel ones
    q = compile_model(str(model), load_split(data, "train", 2000)[0], per_channel=True, v_init="half",
                      max_timesteps=64).qnet
    lanes = assert_distinct_lane_thresholds(q, out)
    assert [len(w) for w in lanes[0]] == [8] and [len(w) for w in lanes[2]] == [9, 7]
    res = run_sim(out, stalls=True, extra=True, seed=7)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.images == N and set(res.passes) == {"stalls", "back-to-back", "reset-mid-image"}
    x, _ = load_split(data, "test", N)
    golden = run_golden(q, x.reshape(-1, 1, 28, 28), T)
    assert res.final_classes == [int(c) for c in golden.classes[-1]]


@pytest.mark.shared
def test_mnist_paper_bit_exact(tmp_path):
    """../shared/models/mnist_paper.onnx at 8 bits: 20 MNIST test images, every step, RTL == golden."""
    from conftest import shared_path
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model

    model, data = shared_path("models", "mnist_paper.onnx"), shared_path("data", "mnist.npz")
    calib, _ = load_split(data, "train", 1000)
    q = compile_model(model, calib, bits=8, max_timesteps=300).qnet
    x, y = load_split(data, "test", 20)
    generate_design(q, tmp_path / "hw", parallelism=32, timesteps=8, test_images=to_nchw(x, q.input_shape),
                    test_labels=y, source_note="mnist_paper.onnx")
    res = run_sim(tmp_path / "hw", n_images=20, stalls=True, extra=False, seed=5)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.images == 20


@pytest.mark.shared
@pytest.mark.slow
def test_mnist_paper_per_channel_half_bit_exact(tmp_path):
    """../shared/models/mnist_paper.onnx with --per-channel --v-init half at 8 bits, P = 33 (the convs in
    16 / 32 lanes, the 128-neuron dense layer in groups 3 * 33 + 29): 2 MNIST test images x 4 steps,
    every step RTL == golden, with stalls, back to back and a reset mid-image (~100 s, most of it the
    Verilator build of this big design)."""
    from conftest import shared_path
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model

    model, data = shared_path("models", "mnist_paper.onnx"), shared_path("data", "mnist.npz")
    calib, _ = load_split(data, "train", 1000)
    q = compile_model(model, calib, bits=8, per_channel=True, v_init="half", max_timesteps=300).qnet
    x, y = load_split(data, "test", 2)
    generate_design(q, tmp_path / "hw", parallelism=33, timesteps=4, test_images=to_nchw(x, q.input_shape),
                    test_labels=y, source_note="mnist_paper.onnx --per-channel --v-init half")
    lanes = assert_distinct_lane_thresholds(q, tmp_path / "hw")
    assert [len(w) for w in lanes[max(lanes)]] == [33, 33, 33, 29]
    res = run_sim(tmp_path / "hw", stalls=True, extra=True, seed=5)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.images == 2 and set(res.passes) == {"stalls", "back-to-back", "reset-mid-image"}


def test_example_mixed_lanes_bit_exact(tmp_path):
    """The bundled example with a different number of lanes per engine, from the command line's syntax:
    the analog conv's 8 channels in 3 lanes (3 + 3 + 2), the conv's 16 in 16, the dense output's 10 in 4
    (4 + 4 + 2); 3 images x 6 steps, RTL == golden with stalls."""
    from snnhw.codegen.folding import parse_parallelism

    q, x_test, y_test = example_qnet(bits=8)
    out = tmp_path / "mixed"
    m = generate_design(q, out, parallelism=parse_parallelism("/0/Conv=3,/4/Conv=16,/9/Gemm=4"), timesteps=6,
                        test_images=x_test[:3], test_labels=y_test[:3])
    assert [r["parallelism"] for r in m["layers"] if "parallelism" in r] == [3, 16, 4]
    res = run_sim(out, stalls=True, extra=False, seed=2)
    print(res.summary())
    assert res.passed, res.summary()
    golden = run_golden(q, x_test[:3], 6)
    assert res.final_classes == [int(c) for c in golden.classes[-1]]


def test_example_kernel_columns_bit_exact(tmp_path):
    """The bundled example with its 3x3 convs' kernel columns in parallel (-P 4x3,/4/Conv=16x3,/9/Gemm=4:
    membranes in 3 column banks, an event's kernel row in one cycle) and early exit with image aborts:
    3 images x 6 steps, every layer's spikes (taps), classes and potentials == golden with stalls, back to
    back and a reset mid-image."""
    from snnhw.codegen.folding import parse_parallelism
    from snnhw.reference.early_exit import ExitRule

    q, x_test, y_test = example_qnet(bits=8)
    out = tmp_path / "cols"
    m = generate_design(q, out, parallelism=parse_parallelism("4x3,/4/Conv=16x3,/9/Gemm=4"), timesteps=6,
                        test_images=x_test[:3], test_labels=y_test[:3], exit_rule=ExitRule(1, 2))
    rows = [r for r in m["layers"] if "parallelism" in r]
    assert [(r["parallelism"], r["columns"]) for r in rows] == [(4, 3), (16, 3), (4, 1)]
    assert [r["cycles_per_event"] for r in m["cycle_model"]["layers"] if r["engine"] in ("analog", "conv")] == [6, 3]
    assert sum(mem["name"].startswith("membrane_c") for mem in m["memories"]) == 6
    res = run_sim(out, taps=True, stalls=True, extra=True, seed=5)
    print(res.summary())
    assert res.passed and res.first_tap_mismatch is None, res.summary()
    assert set(res.passes) == {"stalls", "back-to-back", "reset-mid-image"}


# ---------------------------------------------------------------------------
# early exit: the exit step (number of class beats), the classes up to it and the potentials after it
# == the golden model's (snnhw.reference.early_exit.exit_outputs), for every image

EXIT_CASES = ["dense_zero_p3_b4", "conv_maxpool_p1_b8", "avgpool_convout_half_p2_b12", "deep_link_p2_b8"]


def aborted_phases(res) -> dict:
    """Engine -> the phases (snnhw.sim.tb_snn) in which image aborts found it, over every pass of ``res``."""
    out = {}
    for rec in res.aborts.values():
        for engine, phases in rec["phases"].items():
            for phase, count in phases.items():
                out.setdefault(engine, {}).setdefault(phase, 0)
                out[engine][phase] += count
    return out


def assert_aborts(res) -> dict:
    """Image aborts happened, and some found an engine after layer 0 still on the exited image (it then dropped
    the rest of the image's work)."""
    assert sum(rec["images"] for rec in res.aborts.values()) > 0, res.aborts
    phases = aborted_phases(res)
    assert any(p != "done" for engine, ph in phases.items() if not engine.startswith("L0 ") for p in ph), phases
    return phases


@pytest.mark.parametrize("name", EXIT_CASES)
def test_early_exit_bit_exact(tmp_path, name):
    """Built with margin 1 / min_steps 1 (exits early almost always, often at step 0): taps, stalls,
    back-to-back and reset mid-image, with image aborts (every engine still on an exited image drops the rest
    of its work; the taps compare every layer's spikes up to the exit step); then, at run time, a margin no
    image can meet (== no exit: T class beats, the last step's potentials, no abort) and a different rule for
    consecutive images (switched on cfg_exit_* while the previous image runs)."""
    from snnhw.codegen.manifest import MANIFEST_VERSION
    from snnhw.reference.early_exit import ExitRule, exit_outputs

    make, qargs, gen = CASES[name]
    q = R.qnet_of(make(), **qargs)
    imgs = R.images(q.input_shape, 4, seed=5)
    T = 10
    out = tmp_path / name
    m = generate_design(q, out, timesteps=T, test_images=imgs, source_note=name, exit_rule=ExitRule(1, 1), **gen)
    assert m["version"] == MANIFEST_VERSION and (m["exit"]["margin"], m["exit"]["min_steps"]) == (1, 1)
    vec = np.load(out / "vectors" / "test_vectors.npz")
    gold_steps, _, _ = exit_outputs(vec["potentials"], ExitRule(1, 1))
    assert (vec["exit_steps"] == gold_steps).all()
    assert (gold_steps < T - 1).any() and (gold_steps == 0).any(), gold_steps  # early, and at step 0

    res = run_sim(out, taps=True, stalls=True, extra=True, seed=1)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.first_tap_mismatch is None
    assert set(res.passes) == {"stalls", "back-to-back", "reset-mid-image"}
    assert res.exit_steps == [int(s) for s in gold_steps]
    print("image aborts: engine phases", assert_aborts(res))

    # a margin no image can meet: the old behaviour (T class beats), at run time
    never = 1 << m["interface"]["potential_bits"]
    res = run_sim(out, stalls=True, extra=False, seed=2, exit_margin=never)
    assert res.passed, res.summary()
    assert res.exit_steps == [T - 1] * 4
    assert not any(rec["images"] for rec in res.aborts.values()), res.aborts
    # consecutive images with different rules (margin 1 / 1, 1 / 1, none, 3 / min_steps 2)
    res = run_sim(out, stalls=True, extra=False, seed=3, exit_vary=True)
    assert res.passed, res.summary()
    rules = [ExitRule(*r) for r in res.exit_rules]
    assert res.exit_steps == [int(exit_outputs(vec["potentials"], rules[n % 4])[0][n]) for n in range(4)]
    assert res.exit_steps[2] == T - 1


def test_early_exit_abort_slow_engine(tmp_path):
    """A fast analog conv ahead of a slow one (8 channels 5x5 in one lane: 200 cycles per input spike) runs
    steps ahead, so when an image exits (margin 1 / min_steps 1: at step 0 here) the slow conv is busy
    scattering a later step of it: the abort finds it mid-scatter, it drops the rest of the image and the
    next image starts clean. Taps (spikes up to the exit step), stalls, back-to-back, reset mid-image all
    == golden; back to back an image costs at most about two of the slow conv's steps (the exit step and
    the last step's initializing sweep), against ~T without the abort."""
    from snnhw.reference.early_exit import ExitRule, exit_outputs

    q = R.qnet_of(R.design_slow_conv(), bits=8)
    T, out = 10, tmp_path / "slow"
    imgs = R.images(q.input_shape, 4, seed=5)
    m = generate_design(q, out, parallelism=1, timesteps=T, test_images=imgs, source_note="slow conv",
                        exit_rule=ExitRule(1, 1))
    steps = exit_outputs(np.load(out / "vectors" / "test_vectors.npz")["potentials"], ExitRule(1, 1))[0]
    assert (steps < 2).all(), steps
    res = run_sim(out, taps=True, stalls=True, extra=True, seed=4)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.first_tap_mismatch is None and res.exit_steps == [int(s) for s in steps]
    phases = assert_aborts(res)
    print("image aborts: engine phases", phases)
    assert phases["L1 conv1"].get("scatter", 0) > 0, phases
    cm = m["cycle_model"]
    assert cm["bottleneck"] == "conv1"
    # the cycle model counts the steps each image runs (exit step + 1): the slow conv's mean cycles per step
    assert cm["mean_steps"] == steps.mean() + 1
    slow_step = cm["throughput_cycles_per_image"] / cm["mean_steps"]
    assert res.cycles_per_image < (steps.mean() + 2) * slow_step, (res.cycles_per_image, slow_step)
    assert res.cycles_per_image < T * slow_step / 4, (res.cycles_per_image, slow_step)  # vs ~T steps without abort


def test_example_early_exit_bit_exact(tmp_path):
    """The bundled example (P = 16, 8 bits, 20 test images, 12 steps) with an early-exit rule: every image's
    exit step, classes and potentials == golden with stalls, with image aborts (an engine still on an exited
    image drops the rest of its work). Then, on the same build, the rule margin 1 / min_steps 1 (exits at
    step 0 or 1) on 8 images with taps (every layer's spikes up to the exit step), stalls, back to back and a
    reset mid-image."""
    from snnhw.reference.early_exit import ExitRule, exit_outputs

    q, x_test, y_test = example_qnet(bits=8)
    T, N = 12, 20
    golden = run_golden(q, x_test[:N], T)
    rule = ExitRule(EXAMPLE_EXIT_MARGIN, 2)
    steps, classes, _ = exit_outputs(golden.potentials, rule)
    assert 0 < steps.mean() < T - 1
    out = tmp_path / "mnist"
    generate_design(q, out, parallelism=16, timesteps=T, test_images=x_test[:N], test_labels=y_test[:N],
                    source_note="examples/mnist_small.onnx", exit_rule=rule)
    res = run_sim(out, n_images=N, stalls=True, extra=False, seed=3)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.exit_steps == [int(s) for s in steps]
    assert res.final_classes == [int(c) for c in classes]
    print("image aborts: engine phases", assert_aborts(res))

    fast = ExitRule(1, 1)
    steps = exit_outputs(golden.potentials, fast)[0][:8]
    assert (steps <= 1).all() and (steps == 0).any(), steps
    res = run_sim(out, n_images=8, taps=True, stalls=True, extra=True, seed=4, exit_margin=1, exit_min_steps=1)
    print(res.summary())
    assert res.passed, res.summary()
    assert res.first_tap_mismatch is None and res.exit_steps == [int(s) for s in steps]
    print("image aborts (margin 1): engine phases", assert_aborts(res))


EXAMPLE_EXIT_MARGIN = 1000  # mean exit step 4.9 of 0..11 on these 20 images, accuracy as at step 11
