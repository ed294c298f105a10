"""Per-layer parallelism (dict / -P syntax) and the folding planner (-P auto --device)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import rtl_nets as R
from example_model import EXAMPLES
from snnhw.cli import main
from snnhw.codegen import generate_design
from snnhw.codegen.folding import bram_mixed, estimate_resources, parse_parallelism, plan_folding
from snnhw.codegen.cycles import cycle_model, engine_loads
from snnhw.codegen.layout import plan_design
from snnhw.errors import FitError, OptionError
from snnhw.reference.golden import run_golden


def _q():
    return R.qnet_of(R.design_conv_maxpool(), bits=8)  # conv0 (4 ch), maxpool1, conv2 (5 ch), flatten3, fc4 (4)


def test_parse_parallelism():
    assert parse_parallelism("16") == 16 and parse_parallelism("auto") == "auto" and parse_parallelism(" AUTO ") == "auto"
    assert parse_parallelism("/3/Conv=32,/7/Conv=32,/12/Gemm=8") == {"/3/Conv": 32, "/7/Conv": 32, "/12/Gemm": 8}
    assert parse_parallelism("8, 2=4, default=3".replace("default=3", "/x=3")) == {"default": 8, "2": 4, "/x": 3}
    assert parse_parallelism("default=2,a=3") == {"default": 2, "a": 3}
    assert parse_parallelism("16x3") == (16, 3) and parse_parallelism("16x1") == 16
    assert parse_parallelism("8x3,/3/Conv=32X3,/12/Gemm=4") == {"default": (8, 3), "/3/Conv": (32, 3), "/12/Gemm": 4}
    for bad in ("0", "65", "a=x", "a=1,a=2", "a=0", ",", "8x", "x3", "8x0", "8x3x3"):
        with pytest.raises(OptionError):
            parse_parallelism(bad)


def test_kernel_columns_where_the_kernel_is_that_wide():
    """A default of kernel columns applies to the spiking convs whose kernel is that wide with stride 1
    (conv0: 3x3 stride 1; not conv2, stride 2; not the dense output layer); a named layer must be one; the
    memories and the weight word follow."""
    q = _q()
    plan = plan_design(q, (2, 3))
    assert plan.columns == {0: 3, 2: 1, 4: 1} and plan.parallelism_spec == "2x3"
    c = next(b for b in plan.blocks if b.layer_index == 0)
    assert c.ctx["COLS"] == 3 and c.ctx["VDEPTH"] == c.ctx["G"] * c.ctx["H_OUT"] * -(-c.ctx["W_OUT"] // 3)
    names = [m["name"] for m in c.memories]
    assert [n for n in names if n.startswith(("membrane", "current"))] == [
        "membrane_c0", "current_c0", "membrane_c1", "current_c1", "membrane_c2", "current_c2"]
    w = next(m for m in c.memories if m["name"] == "weights")
    assert w["width"] == 3 * c.ctx["P"] * c.ctx["WB"] and w["depth"] == c.ctx["C_IN"] * 3 * c.ctx["G"]
    assert plan_design(q, {"conv0": (4, 3)}).parallelism_spec == "1,conv0=4x3"
    with pytest.raises(OptionError, match="fc4: 3 kernel columns per cycle is not possible: only a spiking conv"):
        plan_design(q, {"fc4": (1, 3)})
    with pytest.raises(OptionError, match="conv2: 3 kernel columns per cycle is not possible: only a spiking conv"):
        plan_design(q, {"conv2": (1, 3)})
    with pytest.raises(OptionError, match="conv0: 2 kernel columns per cycle is not possible: its kernel is 3 wide"):
        plan_design(q, {"conv0": (1, 2)})


def test_dict_parallelism_sets_each_engine():
    q = _q()
    plan = plan_design(q, {"conv0": 3, 2: 2, "default": 4})
    assert plan.lanes == {0: 3, 2: 2, 4: 4}
    assert plan.parallelism == 4 and plan.parallelism_spec == "4,conv0=3,conv2=2"
    by = {b.layer_index: b.ctx for b in plan.blocks if b.kind != "flatten"}
    assert (by[0]["P"], by[0]["G"]) == (3, 2) and (by[2]["P"], by[2]["G"]) == (2, 3) and by[4]["G"] == 1
    # index given as a digit string (the CLI), the rest default to 1, lanes clamped to C_out
    plan = plan_design(q, {"2": 64})
    assert plan.lanes == {0: 1, 2: 5, 4: 1} and plan.parallelism == 64
    assert plan_design(q, 3).lanes == {0: 3, 2: 3, 4: 3}


@pytest.mark.parametrize("spec,msg", [
    ({"nope": 2}, "no layer named 'nope'"), ({"maxpool1": 2}, "maxpool layer and has no lanes"),
    ({1: 2}, "index 1 is a maxpool layer"), ({9: 2}, "index 9 does not exist"),
    ({"conv0": 0}, "1..64"), ({"conv0": 2, 0: 3}, "given twice"), ({"default": 100}, "1..64")])
def test_dict_parallelism_errors_list_the_layers(spec, msg):
    with pytest.raises(OptionError) as e:
        plan_design(_q(), spec)
    assert msg in str(e.value)
    if "layer" in msg and "1..64" not in msg and "twice" not in msg:
        assert "0: conv0, 2: conv2, 4: fc4" in str(e.value)


def test_manifest_records_lanes_per_layer(tmp_path):
    q = _q()
    m = generate_design(q, tmp_path / "hw", parallelism={"conv0": 3, "conv2": 2, "default": 4}, timesteps=4,
                        test_images=R.images(q.input_shape, 2))
    rows = {r["name"]: r for r in m["layers"]}
    assert (rows["conv0"]["parallelism"], rows["conv2"]["parallelism"], rows["fc4"]["parallelism"]) == (3, 2, 4)
    params = {p["name"]: p["value"] for p in rows["conv2"]["parameters"]}
    assert params["LANES"] == "2"
    assert m["parallelism"] == 4 and m["parallelism_spec"] == "4,conv0=3,conv2=2" and "plan" not in m
    top = (tmp_path / "hw" / "rtl" / "snn_top.v").read_text()
    assert "parallelism=4,conv0=3,conv2=2" in top
    widths = {(x["layer"], x["name"]): x["width"] for x in m["memories"]}
    assert widths[("conv2", "weights")] == 2 * rows["conv2"]["weight_bits"]


def test_cycle_model_is_a_function_of_lanes():
    q = _q()
    imgs = R.images(q.input_shape, 3, seed=5)
    g = run_golden(q, imgs, 6, record_spikes=True)
    p1, p4 = plan_design(q, 1, timesteps=6), plan_design(q, 4, timesteps=6)
    loads = engine_loads(p1, q, g.spikes, imgs, 6)
    direct = cycle_model(p4, q, g.spikes, imgs, 6)
    what_if = cycle_model(p1, q, g.spikes, imgs, 6, lanes=p4.lanes, loads=loads)
    assert direct["layers"] == what_if["layers"]
    assert cycle_model(p1, q, g.spikes, imgs, 6)["layers"][0]["busy_cycles"] > direct["layers"][0]["busy_cycles"]


def test_bram_mixed_matches_the_measured_dense_rom():
    # mnist_paper's dense ROM at P = 8 (25088 x 64): Yosys packed 89 DP16KD (one geometry: 98)
    assert bram_mixed(25088, 64, "ecp5") == 89
    assert bram_mixed(1024, 18, "ecp5") == 1 and bram_mixed(0, 8, "ecp5") == 0


def test_planner_fails_naming_the_memory():
    q = R.qnet_of(R.design_wide_maxpool(), bits=8)
    imgs = R.images(q.input_shape, 2)
    g = run_golden(q, imgs, 4, record_spikes=True)
    loads = engine_loads(plan_design(q, 1, timesteps=4), q, g.spikes, imgs, 4)
    with pytest.raises(FitError) as e:
        plan_folding(q, loads, "iCE40-HX1K", timesteps=4)
    assert "iCE40-HX1K" in str(e.value) and "the largest memory, layer conv0 membrane" in str(e.value)
    fp = plan_folding(q, loads, "LFE5U-85F", timesteps=4)
    assert fp.brams <= fp.bram_budget and set(fp.lanes) == {0, 3}


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_auto_on_the_bundled_example(tmp_path):
    model, data = EXAMPLES / "mnist_small.onnx", EXAMPLES / "mnist_sample.npz"
    if not model.exists():
        pytest.skip("examples missing")
    out = tmp_path / "hw"
    r = _cli("generate", model, "--calib", data, "-T", 32, "--test-images", 4, "--test-steps", 6, "-P", "auto",
             "--device", "LFE5U-25F", "-o", out)
    assert r.exit_code == 0, r.output
    assert "Parallelism plan" in r.output and "bottleneck" in r.output
    m = json.loads((out / "manifest.json").read_text())
    plan = m["plan"]
    assert plan["device"] == "LFE5U-25F" and plan["brams"] <= plan["bram_budget"] < plan["bram_device"] == 56
    assert plan["dsps"] <= plan["dsp_budget"] and plan["luts"] <= plan["lut_budget"]
    lanes = {r["name"]: r["parallelism"] for r in m["layers"] if "parallelism" in r}
    assert {r["name"]: r["lanes"] for r in plan["rows"] if r.get("lanes")} == lanes
    assert m["parallelism"] == max(lanes.values()) and m["parallelism_spec"].startswith("auto (LFE5U-25F)")
    assert plan["throughput_cycles_per_image"] == pytest.approx(m["cycle_model"]["throughput_cycles_per_image"])
    assert "Parallelism plan" in (out / "report.md").read_text()


def test_cli_errors(tmp_path):
    model, data = EXAMPLES / "mnist_small.onnx", EXAMPLES / "mnist_sample.npz"
    if not model.exists():
        pytest.skip("examples missing")
    base = ("generate", model, "--calib", data, "-T", 8, "--test-images", 1, "--test-steps", 2, "-o", tmp_path / "x")
    r = CliRunner().invoke(main, [str(a) for a in base] + ["-P", "/4/Conv=4,/3/MaxPool=2"])
    assert r.exit_code != 0 and "/3/MaxPool" in r.output and "/4/Conv" in r.output and "/0/Conv" in r.output
    r = CliRunner().invoke(main, [str(a) for a in base] + ["-P", "auto"])
    assert r.exit_code != 0 and "--device" in r.output


@pytest.mark.shared
def test_planner_on_mnist_paper_beats_uniform_p8():
    """mnist_paper for the LFE5U-85F: the plan fits the block RAM estimate and its busiest engine is
    faster than uniform P = 8's (which the estimate puts at 197 of 208 DP16KD, one of them /7/Conv's deep
    input link)."""
    from conftest import shared_path
    from snnhw.data import load_split, to_nchw
    from snnhw.pipeline import compile_model

    model, data = shared_path("models", "mnist_paper.onnx"), shared_path("data", "mnist.npz")
    q = compile_model(model, load_split(data, "train", 1000)[0], bits=8, max_timesteps=300).qnet
    x = to_nchw(load_split(data, "test", 10)[0], q.input_shape)
    T = 10
    g = run_golden(q, x, T, record_spikes=True)
    p8 = plan_design(q, 8, timesteps=T)
    loads = engine_loads(p8, q, g.spikes, x, T)
    fp = plan_folding(q, loads, "LFE5U-85F", timesteps=T)
    assert fp.brams <= fp.bram_budget < 208 and fp.dsps <= 156 and fp.luts <= fp.lut_budget
    auto = plan_design(q, fp.parallelism(), timesteps=T)
    assert estimate_resources(auto, "LFE5U-85F")["brams"] == fp.brams
    uniform = cycle_model(p8, q, g.spikes, x, T, loads=loads)["throughput_cycles_per_image"]
    planned = cycle_model(auto, q, g.spikes, x, T, loads=loads)["throughput_cycles_per_image"]
    assert planned == pytest.approx(fp.throughput_cycles_per_image)
    assert planned < 0.9 * uniform, (planned, uniform, fp.lanes)
    assert estimate_resources(p8, "LFE5U-85F")["brams"] == 197
    assert [m["name"] for b in p8.blocks for m in b.memories if m["name"] == "input_fifo"] == ["input_fifo"]


def test_latency_objective_spends_the_rest_of_the_budget_on_the_other_engines():
    """With early exit (latency=True) the planner keeps the busiest engine's cycles and lowers the engines'
    sum with the budget left, without leaving the budget."""
    q = R.qnet_of(R.design_wide_maxpool(), bits=8)
    imgs = R.images(q.input_shape, 2)
    g = run_golden(q, imgs, 4, record_spikes=True)
    loads = engine_loads(plan_design(q, 1, timesteps=4), q, g.spikes, imgs, 4)
    fast = plan_folding(q, loads, "LFE5U-85F", timesteps=4)
    short = plan_folding(q, loads, "LFE5U-85F", timesteps=4, latency=True)

    def busy(fp):
        return [r["busy_cycles"] for r in fp.rows if r["lanes"] is not None]

    assert max(busy(short)) <= max(busy(fast)) and fast.objective != short.objective
    assert sum(busy(short)) < sum(busy(fast)), (fast.lanes, short.lanes)
    assert short.brams <= short.bram_budget and short.luts <= short.lut_budget and short.dsps <= short.dsp_budget
    assert "then (early exit: images do not overlap) the engines' sum" in "\n".join(short.table())
