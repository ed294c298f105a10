"""The snnhw command line: happy paths on the bundled example, and one-line errors."""
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from snnhw.cli import main
from snnhw.codegen.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(ROOT / "examples" / "mnist_small.onnx")
DATA = str(ROOT / "examples" / "mnist_sample.npz")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("snnhw: error:"), result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_inspect_lists_layers_and_macs():
    r = run("inspect", MODEL)
    assert r.exit_code == 0, r.output
    assert "Conv+ReLU" in r.output and "MaxPool" in r.output and "290,080" in r.output


def test_convert_writes_a_loadable_network(tmp_path):
    out = tmp_path / "net.snn.npz"
    r = run("convert", MODEL, "--calib", DATA, "--bits", 6, "-o", out)
    assert r.exit_code == 0, r.output
    from snnhw.frontend.qformat import load_qnet

    q = load_qnet(out)
    assert q.bits == 6 and [l.kind for l in q.layers] == ["conv", "maxpool", "conv", "maxpool", "flatten", "dense"]


def test_evaluate_writes_table_json_and_plot(tmp_path):
    js, png = tmp_path / "e.json", tmp_path / "e.png"
    r = run("evaluate", MODEL, "--data", DATA, "-T", 20, "--limit", 40, "--json", js, "--plot", png,
            "--within", 100, "--within", 0.5)
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["images"] == 40 and len(res["float_snn"]) == 20 and len(res["fixed_snn"]) == 20
    assert 0.9 <= res["ann_accuracy"] <= 1.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "float SNN" in r.output
    # every --within gets its first step, in the output and in the JSON; 100 points is reached at T = 1
    assert res["first_within"]["float_snn"]["100"] == 1 and res["first_within"]["fixed_snn"]["100"] == 1
    assert set(res["first_within"]["fixed_snn"]) == {"100", "0.5"}
    # how to rerun it: every option spelled out
    assert res["command"].startswith("snnhw evaluate ") and " --timesteps 20 " in res["command"] and "--bits 8" in res["command"]
    assert "first within 100 points at T=1" in r.output


def sigmoid_model(path):
    w = numpy_helper.from_array(np.ones((2, 4), np.float32), "w")
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
         helper.make_node("Sigmoid", ["h"], ["y"], name="squash")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_bad_inputs_give_one_line_errors(tmp_path):
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes(Path(MODEL).read_bytes()[:777])
    assert_one_line_error(run("inspect", trunc), "trunc.onnx")
    assert_one_line_error(run("inspect", tmp_path / "missing.onnx"), "missing.onnx")
    assert_one_line_error(run("inspect", sigmoid_model(tmp_path / "sig.onnx")), "squash", "Sigmoid")
    assert_one_line_error(run("convert", MODEL, "--bits", 17, "-o", tmp_path / "a.npz"), "--bits")
    assert_one_line_error(run("convert", MODEL, "--bits", 1, "-o", tmp_path / "a.npz"), "--bits")
    assert_one_line_error(run("evaluate", MODEL, "--data", DATA, "--percentile", 0), "--percentile")
    wrong = tmp_path / "rgb.npz"
    np.savez(wrong, x_train=np.zeros((4, 32, 32, 3), np.uint8), x_test=np.zeros((4, 32, 32, 3), np.uint8),
             y_test=np.zeros(4, np.uint8))
    out = tmp_path / "never.snn.npz"
    assert_one_line_error(run("convert", MODEL, "--calib", wrong, "-o", out), "rgb.npz", "(32, 32, 3)")
    empty = tmp_path / "empty.npz"
    np.savez(empty, x_train=np.zeros((0, 28, 28), np.uint8), x_test=np.zeros((0, 28, 28), np.uint8),
             y_test=np.zeros(0, np.uint8))
    assert_one_line_error(run("convert", MODEL, "--calib", empty, "-o", out), "empty.npz", "empty")
    assert_one_line_error(run("evaluate", MODEL, "--data", empty), "empty.npz", "empty")
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_nan_weights_are_refused(tmp_path):
    m = onnx.load(MODEL)
    init = m.graph.initializer[0]
    arr = numpy_helper.to_array(init).copy()
    arr.flat[0] = np.nan
    init.CopyFrom(numpy_helper.from_array(arr, init.name))
    bad = tmp_path / "nan.onnx"
    onnx.save(m, bad)
    assert_one_line_error(run("convert", bad, "-o", tmp_path / "n.npz"), "nan.onnx")


def test_generate_writes_a_complete_build_directory(tmp_path):
    out = tmp_path / "hw"
    r = run("generate", MODEL, "--bits", 6, "--calib", DATA, "-T", 50, "--test-images", 2, "--test-steps", 3,
            "-P", 4, "-o", out)
    assert r.exit_code == 0, r.output
    assert load_manifest(out).parallelism == 4
    assert (out / "report.md").exists() and list((out / "rtl").glob("*.v")) and list((out / "mem").glob("*.hex"))
    assert list(out.glob("*.core")), "every build directory carries a FuseSoC core file"
    header = (out / "rtl" / "snn_top.v").read_text().splitlines()[:6]
    assert any("snnhw" in line for line in header) and any("mnist_small.onnx" in line for line in header)


def test_generate_without_calibration_says_data_is_better(tmp_path):
    r = run("generate", MODEL, "--test-images", 1, "--test-steps", 2, "-o", tmp_path / "hw")
    assert r.exit_code == 0, r.output
    assert "model-based" in r.output and "percentile normalization" in r.output


def test_unmappable_network_writes_nothing(tmp_path):
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    g = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], name="only", transB=1)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w])
    model = tmp_path / "single.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    out = tmp_path / "hw"
    r = run("generate", model, "-o", out)
    assert r.exit_code == 2 and "snnhw: error:" in r.output, r.output
    assert not out.exists()


# ---------------------------------------------------------------------------
# early exit: snnhw evaluate --exit-*, snnhw calibrate-exit

def test_evaluate_early_exit_and_sweep(tmp_path):
    js, png = tmp_path / "e.json", tmp_path / "e.png"
    r = run("evaluate", MODEL, "--data", DATA, "-T", 8, "--limit", 40, "--exit-margin", 700,
            "--exit-min-steps", 2, "--exit-sweep", "--json", js, "--plot", png)
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    e = res["early_exit"]
    assert (e["margin"], e["min_steps"], e["images"]) == (700, 2, 40)
    assert 2 <= e["median_steps"] <= e["max_steps"] <= 8 and 2 <= e["mean_steps"] <= 8
    assert "early exit (margin 700, min steps 2)" in r.output and "--exit-margin 700" in res["command"]
    sweep = res["exit_sweep"]
    # margin 0 first and equal to the full run; the margins grow and all keep --exit-min-steps
    assert sweep[0]["margin"] == 0 and sweep[0]["accuracy"] == res["fixed_snn"][-1] and sweep[0]["mean_steps"] == 8
    assert [s["margin"] for s in sweep] == sorted({s["margin"] for s in sweep})
    assert all(s["min_steps"] == 2 for s in sweep[1:]) and all(s["mean_steps"] >= 2 for s in sweep)
    assert (tmp_path / "e_exit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_exit_margin_zero_reports_nothing_extra(tmp_path):
    js = tmp_path / "e.json"
    r = run("evaluate", MODEL, "--data", DATA, "-T", 3, "--limit", 10, "--json", js)
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["early_exit"] is None and res["exit_sweep"] is None and "early exit" not in r.output


def test_evaluate_exit_option_errors():
    assert_one_line_error(run("evaluate", MODEL, "--data", DATA, "--exit-margin", -1), "--exit-margin")
    assert_one_line_error(run("evaluate", MODEL, "--data", DATA, "--exit-min-steps", 0), "--exit-min-steps")
    assert_one_line_error(run("evaluate", MODEL, "--data", DATA, "--exit-margin", 5, "--no-fixed"),
                          "--exit-margin", "--no-fixed")


def test_calibrate_exit_chooses_on_held_out_training_images(tmp_path):
    js, png = tmp_path / "c.json", tmp_path / "c.png"
    r = run("calibrate-exit", MODEL, "--data", DATA, "-T", 8, "--calib-size", 100, "--holdout", 200,
            "--limit", 50, "--max-loss", 1, "--json", js, "--plot", png)
    assert r.exit_code == 0, r.output
    res = json.loads(js.read_text())
    assert res["holdout_images"] == "x_train[-200:]" and res["calib_images"] == "x_train[:100]"
    ch, full = res["chosen"], res["holdout_full"]
    assert ch["images"] == 200 and res["test_chosen"]["images"] == 50
    assert ch["hits"] >= full["hits"] - 2  # 1 point of 200 images
    # nothing meeting the target runs fewer mean steps than the choice
    ok = [c for c in res["candidates"] if c["hits"] >= full["hits"] - 2]
    assert ch in ok and ch["mean_steps"] == min(c["mean_steps"] for c in ok)
    assert {(c["margin"], c["min_steps"]) for c in res["candidates"]} >= {(0, 1), (ch["margin"], ch["min_steps"])}
    assert f"--exit-margin {ch['margin']} --exit-min-steps {ch['min_steps']}" in r.output
    assert "test images (50, reporting only)" in r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_exit_errors(tmp_path):
    base = ("calibrate-exit", MODEL, "--data", DATA, "-T", 4, "--calib-size", 100, "--holdout", 100)
    assert_one_line_error(run(*base), "--target-accuracy", "--max-loss")
    assert_one_line_error(run(*base, "--target-accuracy", 90, "--max-loss", 1), "exactly one")
    assert_one_line_error(run(*base, "--target-accuracy", 100.5), "--target-accuracy")
    r = run(*base, "--target-accuracy", 100)  # after the simulation: the progress line on stderr comes first
    last = r.output.strip().splitlines()[-1]
    assert r.exit_code == 2 and last.startswith("snnhw: error:") and "unreachable" in last, r.output
    assert "held-out" in last and "the best rule reaches" in last
    assert_one_line_error(run("calibrate-exit", MODEL, "--data", DATA, "--calib-size", 400, "--holdout", 200,
                              "--max-loss", 1), "mnist_sample.npz", "--holdout")
    wrong = tmp_path / "rgb.npz"
    np.savez(wrong, x_train=np.zeros((8, 32, 32, 3), np.uint8), y_train=np.zeros(8, np.uint8),
             x_test=np.zeros((4, 32, 32, 3), np.uint8), y_test=np.zeros(4, np.uint8))
    assert_one_line_error(run("calibrate-exit", MODEL, "--data", wrong, "--max-loss", 1), "rgb.npz", "(32, 32, 3)")
    nolabels = tmp_path / "nolabels.npz"
    np.savez(nolabels, x_train=np.zeros((8, 28, 28), np.uint8), x_test=np.zeros((4, 28, 28), np.uint8))
    assert_one_line_error(run("calibrate-exit", MODEL, "--data", nolabels, "--calib-size", 2, "--holdout", 2,
                              "--max-loss", 1), "nolabels.npz", "y_train")


# ---------------------------------------------------------------------------
# one command line: a converted network's fixed options, shared defaults, options without effect

# every compile option `convert` fixes in a .snn.npz, with a value for it (None: a flag)
COMPILE_ARGS = {"--calib": DATA, "--bits": 6, "--percentile": 99, "--calib-size": 100, "--reset": "zero",
                "--v-init": "half", "--per-channel": None, "--clamp-headroom": 3, "--timesteps": 64}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("converted") / "net.snn.npz"
    r = run("convert", MODEL, "--calib", DATA, "-T", 64, "-o", out)
    assert r.exit_code == 0, r.output
    return out


def _args(opt, value):
    return [opt] if value is None else [opt, value]


@pytest.mark.parametrize("opt", sorted(COMPILE_ARGS))
def test_generate_refuses_each_compile_option_on_a_converted_network(converted, tmp_path, opt):
    out = tmp_path / "hw"
    r = run("generate", converted, *_args(opt, COMPILE_ARGS[opt]), "-o", out)
    assert_one_line_error(r, f"{opt}: fixed when {converted} was converted", "snnhw inspect")
    assert not out.exists()


def test_generate_names_every_fixed_option_given_even_at_its_default(converted, tmp_path):
    # --bits 8 and -T 300 are the defaults, but spelled out they ask for something the file fixed
    r = run("generate", converted, "--bits", 8, "-T", 300, "--calib", DATA, "-o", tmp_path / "hw")
    assert_one_line_error(r, "--calib, --bits, --timesteps: fixed when", "--test-data")


def test_generate_from_a_converted_network_with_defaults_only(converted, tmp_path):
    out = tmp_path / "hw"
    r = run("generate", converted, "--test-data", DATA, "--test-images", 1, "--test-steps", 2, "-o", out)
    assert r.exit_code == 0, r.output
    assert load_manifest(out).interface.max_timesteps == 64  # the file's T_MAX, not --timesteps' default


def test_inspect_shows_what_a_converted_network_fixed(converted):
    r = run("inspect", converted)
    assert r.exit_code == 0, r.output
    assert "--bits 8 --timesteps 64 --reset subtract --v-init zero" in r.output and "percentile p=99.9" in r.output
    assert "290,080" in r.output and "dense (output)" in r.output  # the same MACs as the ONNX model's


def test_onnx_only_commands_refuse_a_converted_network(converted, tmp_path):
    for cmd, *rest in (("evaluate", "--data", DATA), ("calibrate-exit", "--data", DATA, "--max-loss", 1),
                       ("convert", "-o", tmp_path / "again.snn.npz")):
        assert_one_line_error(run(cmd, converted, *rest), str(converted), f"snnhw {cmd} needs the ONNX model")


def test_options_without_effect_are_refused(tmp_path):
    out = tmp_path / "never.snn.npz"
    assert_one_line_error(run("convert", MODEL, "--percentile", 99, "--calib-size", 10, "-o", out),
                          "--percentile, --calib-size: not used without --calib")
    assert_one_line_error(run("generate", MODEL, "--calib-size", 10, "-o", tmp_path / "hw"), "--calib-size")
    assert_one_line_error(run("generate", MODEL, "--baud", 9600, "-o", tmp_path / "hw"), "--baud: only with --board")
    assert not out.exists() and not (tmp_path / "hw").exists()
    ev = ("evaluate", MODEL, "--data", DATA)
    assert_one_line_error(run(*ev, "--norm", "model", "--calib", DATA), "--calib: not used with --norm model")
    assert_one_line_error(run(*ev, "--norm", "max", "--percentile", 99), "--percentile: not used with --norm max")
    assert_one_line_error(run(*ev, "--no-fixed", "--bits", 6), "--bits: not used without the fixed-point")
    assert_one_line_error(run(*ev, "--exit-min-steps", 3), "--exit-min-steps: not used without early exit")
    assert_one_line_error(run("synth", tmp_path, "--no-pnr", "--seed", 2), "--seed: not used with --no-pnr")
    assert_one_line_error(run("synth", tmp_path, "--no-pnr", "--pnr-only", "--router", "router2"),
                          "--pnr-only, --router: not used with --no-pnr")
    assert_one_line_error(run("synth", tmp_path, "--board", "ulx3s", "--pnr-only"), "--pnr-only: not with --board")
    assert_one_line_error(run("synth", tmp_path, "--baud", 9600), "--baud: only with --board")
    assert_one_line_error(run("sim", tmp_path, "--serve", "--images", 2), "--images: not used with --serve")
    assert_one_line_error(run("sim", tmp_path, "--lint", "--taps", "--exit-margin", 3),
                          "--taps, --exit-margin: not used with --lint")


def test_evaluate_json_command_reruns_without_the_unused_options(tmp_path):
    js = tmp_path / "e.json"
    r = run("evaluate", MODEL, "--data", DATA, "--norm", "model", "--no-fixed", "-T", 2, "--limit", 5, "--json", js)
    assert r.exit_code == 0, r.output
    command = json.loads(js.read_text())["command"]
    assert "--images 5" in command and "--norm model" in command
    assert not any(o in command for o in ("--percentile", "--calib-size", "--bits", "--per-channel",
                                          "--clamp-headroom"))


# Options several commands share with a default of their own on purpose: run's -T is board.json's default,
# sim's and run's exit rule is the build's, and sim's --seed (random stalls) is not synth's (nextpnr placement).
OWN_DEFAULT = {("timesteps", "run"), ("exit_margin", "sim"), ("exit_min_steps", "sim"), ("exit_margin", "run"),
               ("exit_min_steps", "run"), ("seed", "synth"), ("output", "convert")}


def test_shared_options_have_one_spelling_and_default_across_commands():
    import snnhw.cli as cli

    seen = {}
    for cmd_name, cmd in main.commands.items():
        for p in cmd.params:
            if isinstance(p, click.Option) and (p.name, cmd_name) not in OWN_DEFAULT:
                seen.setdefault(p.name, {})[cmd_name] = (p.default, p.opts[0])
    for name, per_cmd in seen.items():
        assert len(set(per_cmd.values())) == 1, (name, per_cmd)
    for cmd in ("convert", "generate", "evaluate", "calibrate-exit"):
        params = {p.name: p for p in main.commands[cmd].params}
        assert params["timesteps"].default == cli.DEFAULT_TIMESTEPS and "-T" in params["timesteps"].opts
        assert params["calib_size"].default == cli.DEFAULT_CALIB_SIZE
    assert {p.name: p.default for p in main.commands["evaluate"].params}["exit_margin"] == cli.DEFAULT_EXIT_MARGIN


# ---------------------------------------------------------------------------
# snnhw sim --lint (python -m snnhw.sim is the same command)

def test_sim_lint_on_a_generated_build(tmp_path):
    from snnhw.sim.tools import ToolError, verilator_root

    try:
        verilator_root()
    except ToolError as exc:
        pytest.skip(str(exc))
    out = tmp_path / "hw"
    r = run("generate", MODEL, "--bits", 8, "--calib", DATA, "--test-images", 2, "--test-steps", 4, "-o", out)
    assert r.exit_code == 0, r.output
    r = run("sim", out, "--lint")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("lint clean: verilator --lint-only -Wall on the ") and str(out) in r.output


def test_sim_lint_reports_warnings_with_exit_status_1(tmp_path, monkeypatch):
    from snnhw.sim import tools

    said = "%Warning-UNUSEDSIGNAL: rtl/snn_top.v:12:8: Signal is not used: 'x'\n%Error: Exiting due to 1 warning(s)"

    def fake_lint_build(build_dir):
        raise tools.LintError(f"verilator lint failed on {build_dir}: 2 warnings or errors\n{said}", said)

    monkeypatch.setattr(tools, "lint_build", fake_lint_build)
    r = CliRunner().invoke(main, ["sim", str(tmp_path), "--lint"])
    assert r.exit_code == 1, r.output
    assert "UNUSEDSIGNAL: rtl/snn_top.v:12:8" in r.output
    assert r.output.strip().splitlines()[-1] == f"snnhw: verilator lint failed on {tmp_path}: 2 warnings or errors"


def test_sim_lint_without_a_build_directory(tmp_path):
    missing = tmp_path / "nowhere"
    assert_one_line_error(run("sim", missing, "--lint"), f"{missing}/manifest.json: no such file",
                          "not an snnhw build directory")
    proc = subprocess.run([sys.executable, "-m", "snnhw.sim", str(missing), "--lint"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert proc.stderr.startswith("snnhw: error: ") and "not an snnhw build directory" in proc.stderr, proc.stderr
