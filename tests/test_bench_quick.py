"""The benchmark scripts' quick variants run and write sane outputs (not fixed numbers).

Each runs in-process on tiny subsets of ../shared (skipped when absent);
all of them together take well under two minutes.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conftest import require_torch, shared_path  # noqa: E402


@pytest.fixture(scope="module")
def shared():
    shared_path("models", "mnist_paper.onnx")
    shared_path("data", "mnist.npz")
    return shared_path()


def _run(module, tmp_path, shared, *extra):
    import importlib

    mod = importlib.import_module(f"bench.{module}")
    mod.main(["--quick", "--shared", str(shared), "--out", str(tmp_path), *extra])
    return tmp_path


def _curve_ok(curve, steps):
    c = np.asarray(curve)
    return len(c) == steps and np.all((c >= 0) & (c <= 1))


def test_ablation(tmp_path, shared):
    _run("ablation", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "ablation_mnist_paper.json").read_text())
    assert res["complete"] and res["images"] == 10
    keys = [r["key"] for r in res["rows"]]
    assert keys == ["default", "maxnorm", "subtract", "analog", "p99.9", "golden8", "half", "golden8_half"]
    for r in res["rows"]:
        assert _curve_ok(r["curve"], res["timesteps"])
    rows = {r["key"]: r for r in res["rows"]}
    assert rows["golden8"]["accuracy"] >= 0.5  # the 8-bit golden model classifies MNIST
    assert [r["key"] for r in res["rows"] if r["beyond_paper"]] == ["half", "golden8_half"]
    assert (tmp_path / "ablation.png").stat().st_size > 1000

    # a larger run of some rows replaces them and keeps the others, each with its own image count
    _run("ablation", tmp_path, shared, "--models", "mnist_paper", "--images", "12", "--rows", "p99.9")
    res = json.loads((tmp_path / "ablation_mnist_paper.json").read_text())
    assert not res["complete"] and res["images"] == 12
    assert {r["key"]: r["images"] for r in res["rows"]} == dict.fromkeys(keys, 10) | {"p99.9": 12}
    from bench import make_results

    lines = []
    make_results.ablation(tmp_path, lines)
    text = "\n".join(lines)
    assert "(first 10 images)" in text and "kept from an earlier run" in text
    assert "no ordering verdict" in text


def test_latency(tmp_path, shared):
    _run("latency", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "latency_mnist_paper.json").read_text())
    assert {"p99", "p99.9", "p99.99", "p100", "p99.9_half", "p99.9_channel"} <= set(res["curves"])
    for c in res["curves"].values():
        assert _curve_ok(c["curve"], res["timesteps"])
        assert c["t99_of_final"] is None or 1 <= c["t99_of_final"] <= res["timesteps"]
    assert (tmp_path / "latency.png").exists()


def test_bits(tmp_path, shared):
    _run("bits", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "bits_mnist_paper.json").read_text())
    assert {(r["bits"], r["scales"]) for r in res["rows"]} == {(b, s) for b in (4, 8, 16) for s in ("layer", "channel")}
    assert all(r["accuracy"] is not None for r in res["rows"] if r["bits"] >= 8)
    assert (tmp_path / "bits.png").exists()


def test_synops(tmp_path, shared):
    _run("synops", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "synops_mnist_paper.json").read_text())
    assert res["ann_macs_per_image"] > 5e6  # mnist_paper: 5.7 M MACs
    cum = np.array(res["snn_ops_cumulative"])
    assert np.all(np.diff(cum) >= 0) and cum[0] >= res["first_layer_macs"]


def test_activations(tmp_path, shared):
    _run("activations", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "activations.json").read_text())["models"][0]
    assert 0 < res["p99_9"] <= res["max"] and sum(res["hist_counts"]) == res["nonzero"]
    assert (tmp_path / "activations.png").exists()


def test_spikingjelly_and_speed(tmp_path, shared):
    pytest.importorskip("spikingjelly", reason="spikingjelly 2.0 not installed (pip install spikingjelly==2.0.0)")
    _run("spikingjelly_compare", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "spikingjelly_mnist_paper.json").read_text())
    assert {"sj_99.9", "sj_100", "snnhw_99.9", "snnhw_100", "snnhw_99.9_nogate", "snnhw_99.9_half",
            "snnhw_99.9_channel_half"} == set(res["curves"])
    for pair in res["pairs"].values():  # the every-T verdict agrees with the curves it summarizes
        diff = np.array(res["curves"][pair["ours"]]["curve"]) - np.array(res["curves"][pair["theirs"]]["curve"])
        assert pair["ge_every_T"] == bool((diff >= 0).all()) and pair["min_diff"] == diff.min()
    assert res["curves"]["sj_99.9"]["accuracy"] >= 0.5  # SpikingJelly's conversion of the same weights works
    assert all(v["us_per_image_step"] > 0 for v in res["timing"]["runs"].values())
    _run("spikingjelly_compare", tmp_path, shared, "--models", "mnist_paper", "--keep-timing")
    again = json.loads((tmp_path / "spikingjelly_mnist_paper.json").read_text())
    assert again["timing"] == res["timing"]
    assert {k: c["curve"] for k, c in again["curves"].items()} == {k: c["curve"] for k, c in res["curves"].items()}
    _run("speed", tmp_path, shared)
    sp = json.loads((tmp_path / "speed_mnist_paper.json").read_text())
    assert set(sp["ratio_vs_spikingjelly"]) == {"snnhw_float_numpy", "snnhw_golden_numpy", "snnhw_float_accel",
                                                "snnhw_golden_accel"}


def test_make_results(tmp_path, shared):
    _run("ablation", tmp_path, shared, "--models", "mnist_paper")
    from bench import make_results

    out = tmp_path / "results.md"
    make_results.main(["--figures", str(tmp_path), "--output", str(out)])
    text = out.read_text()
    assert "Fig. 2a" in text and "bench/ablation.py" in text and "*Not run yet*" in text


def test_accel_is_bit_exact(shared):
    """The torch conv backend leaves the golden model bit-identical to the NumPy path (and the float SNN's classes)."""
    require_torch()  # without torch only the NumPy path exists (skip), but CI must compare the two
    from bench import accel
    from bench.common import Converter, load_data, to_float
    from snnhw.reference.float_snn import SnnConfig, run_float_snn
    from snnhw.reference.golden import run_golden

    x, _, calib = load_data(shared, "mnist_paper", 16, 100)
    conv = Converter(shared, "mnist_paper", calib)
    qnet = conv.qnet(99.9, bits=8)
    net = conv.normalized(99.9)
    assert accel.enabled() or os.environ.get("SNNHW_CONV") == "numpy"
    accel.disable()
    try:
        ref = run_golden(qnet, x, 12)
        ref_f = run_float_snn(net, to_float(x), 12, SnnConfig())
    finally:
        accel.enable()  # the library's default again for the rest of this test process
    fast = run_golden(qnet, x, 12)
    fast_f = run_float_snn(net, to_float(x), 12, SnnConfig())
    assert np.array_equal(ref.potentials, fast.potentials)
    assert np.array_equal(ref.synops, fast.synops)
    assert (ref_f == fast_f).mean() >= 0.95  # float32 summation order may flip a rare exact-threshold tie


def test_paired(tmp_path, shared):
    pytest.importorskip("spikingjelly")
    _run("paired", tmp_path, shared, "--models", "mnist_paper")
    res = json.loads((tmp_path / "paired_mnist_paper.json").read_text())
    assert set(res["pairs"]) == {"99.9", "half", "channel_half", "half_ann_gate"} and res["max_steps"] == 6
    for p in res["pairs"].values():
        ours, theirs = np.array(res["accuracy"][p["ours"]]), np.array(res["accuracy"][p["theirs"]])
        a, b = np.array(p["ours_only"]), np.array(p["theirs_only"])
        # the discordant pairs are the whole accuracy difference, image by image
        np.testing.assert_allclose((ours - theirs) * res["images"], a - b, atol=1e-9)
        assert p["behind_at_T"] == [t + 1 for t in range(len(a)) if a[t] < b[t]]
    from bench import make_results

    lines = []
    make_results.paired(tmp_path, "mnist_paper", {}, lines)
    assert len(lines) == 4 and all("Image by image" in line for line in lines)
    assert "ideal" in lines[-1]


def test_mcnemar_exact_p():
    from bench.paired import mcnemar_p

    assert mcnemar_p(0, 0) == 1.0 and mcnemar_p(3, 3) == 1.0
    assert mcnemar_p(0, 10) == mcnemar_p(10, 0) == 2 / 1024
    assert abs(mcnemar_p(2, 8) - 2 * (1 + 10 + 45) / 1024) < 1e-15


def test_early_exit(tmp_path):
    """On the bundled example (no ../shared needed): the rule is chosen on held-out training images."""
    from bench import early_exit

    res = early_exit.main(["--quick", "--out", str(tmp_path), "--timesteps", "4", "8"])
    saved = json.loads((tmp_path / "early_exit.json").read_text())
    assert saved["model"] == "mnist_small" and saved["images"] == 200 and [r["timesteps"] for r in saved["runs"]] == [4, 8]
    assert saved["holdout_images"] == "x_train[-200:]" and saved["normalization_images"] == "x_train[:100]"
    assert "examples/mnist_sample.npz" in saved["data"] and not saved["data"].startswith("/")  # portable paths
    for r in res["runs"]:
        T, ch = r["timesteps"], r["chosen_holdout"]
        assert ch["hits"] >= round(r["target"] * ch["images"], 6) and 1 <= r["chosen_test"]["mean_steps"] <= T
        assert r["test_full"]["mean_steps"] == T and r["test_full"]["accuracy"] == r["no_exit_test_curve"][-1]
        assert {(0, 1)} <= {(c["rule"]["margin"], c["rule"]["min_steps"]) for c in r["candidates"]}
        assert any(c["holdout_front"] for c in r["candidates"])
    assert (tmp_path / "early_exit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_throughput_plot_front_and_borrowed_fmax(tmp_path, capsys):
    """bench/throughput_plot.py: a run without synthesis borrows the reference run's median Fmax (marked ¹),
    and the Pareto front keeps exactly the runs no other run beats in both images/s and accuracy."""
    from bench import throughput_plot

    def run(name, cycles, acc, fmax=None, margin=702):
        r = dict(model="m.onnx", options=dict(timesteps=10, exit_margin=margin, exit_min_steps=1, parallelism="8"),
                 cycles_per_image=cycles, accuracy_golden=acc, fmax_mhz_median=fmax,
                 images_per_s=fmax * 1e6 / cycles if fmax else None,
                 fmax_source="this build, nextpnr seeds 1 2 3" if fmax else None, bound_cycles=cycles / 2,
                 bound_engine="/3/Conv", cycles_over_bound=2.0, mean_steps=1.5, accuracy_images=10000,
                 rtl_images=20, rtl_equals_golden=True)
        (tmp_path / f"{name}.json").write_text(json.dumps(r))
        return tmp_path / f"{name}.json"

    ref = run("main", 20000, 0.992, fmax=80.0)
    paths = [ref, run("fast", 10000, 0.990, margin=300), run("slow_worse", 40000, 0.991, margin=0),
             run("accurate", 100000, 0.993, margin=0)]
    rows = [json.loads(p.read_text()) for p in paths]
    for r in rows[1:]:
        r.update(images_per_s=80.0e6 / r["cycles_per_image"])
    front = throughput_plot.pareto_front(rows)
    assert [r["cycles_per_image"] for r in front] == [10000, 20000, 100000]  # by accuracy; slow_worse is beaten

    assert throughput_plot.main([*map(str, paths), "--out", str(tmp_path / "p.png"), "--fmax-from", str(ref)]) == 0
    table = capsys.readouterr().out
    assert "| 8,000 ¹ | 80.0 ¹ | 10,000 |" in table and "| 4,000 |" in table.replace(" ¹", "")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_throughput_image_intervals():
    """bench/throughput.py: each image's cycles (between consecutive last beats; the first from its first
    pixel) grouped by the steps it ran (exit step + 1)."""
    from bench.throughput import image_intervals

    got = image_intervals([100, 250, 300, 520], [0, 1, 0, 2])
    assert got == {"1": dict(images=2, mean_cycles=75.0), "2": dict(images=1, mean_cycles=150.0),
                   "3": dict(images=1, mean_cycles=220.0)}
    assert image_intervals(None, [0]) is None


def test_throughput_same_design(tmp_path):
    """bench/throughput.py --reuse-synth keeps a seed's result only when its copy has the build's RTL and
    memory files, byte for byte."""
    from bench.throughput import same_design

    build, copy = tmp_path / "b", tmp_path / "c"
    for d in (build, copy):
        (d / "rtl").mkdir(parents=True)
        (d / "mem").mkdir()
        (d / "rtl" / "snn_top.v").write_text("module snn_top; endmodule\n")
        (d / "mem" / "w.mem").write_text("00\n")
    (copy / "synth").mkdir()  # results beside the design do not count
    assert same_design(build, copy)
    (copy / "mem" / "w.mem").write_text("01\n")
    assert not same_design(build, copy)
    (copy / "mem" / "w.mem").write_text("00\n")
    (copy / "rtl" / "extra.v").write_text("\n")
    assert not same_design(build, copy)


def test_throughput_later_seeds_start_after_yosys(tmp_path):
    """bench/throughput.py: a later seed waits for the first seed's netlist (its nextpnr has started), not
    for the first seed's whole place and route; it stops waiting when the first run ends without one."""
    import threading
    from concurrent.futures import Future

    from bench.throughput import wait_for_netlist

    first, run = tmp_path / "seed1", Future()
    waiter = threading.Thread(target=wait_for_netlist, args=(first, run, 0.01))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # Yosys still running
    (first / "synth" / "ecp5").mkdir(parents=True)
    (first / "synth" / "ecp5" / "nextpnr.log").write_text("Info: Program finished normally.\n")
    waiter.join(5)
    assert not waiter.is_alive()

    waiter = threading.Thread(target=wait_for_netlist, args=(tmp_path / "failed", run, 0.01))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()
    run.set_result({})  # the first run ended (Yosys failed): the later seed's own run reports it
    waiter.join(5)
    assert not waiter.is_alive()


def test_synth_table_median_fmax():
    """bench/synth_table.py reports the median of the seeds' Fmax, a seed that did not route counting as 0."""
    from bench.synth_table import median_fmax

    assert median_fmax({1: 94.6, 2: 101.3, 3: 84.0}) == 94.6
    assert median_fmax({1: 90.0, 2: None, 3: 80.0}) == 80.0
    assert median_fmax({1: None}) is None
