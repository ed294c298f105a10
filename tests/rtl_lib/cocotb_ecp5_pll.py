"""cocotb test of snn_ecp5_pll built with SNNHW_PLL_BYPASS (what simulation uses): clk_out is clk_in and
locked is 1. (The EHXPLLL instance itself is checked by Yosys synth_ecp5 in test_ecp5_pll.py.)"""
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, Timer


@cocotb.test()
async def bypass(dut):
    cocotb.start_soon(Clock(dut.clk_in, 10, unit="ns").start())
    rng = random.Random(61)
    seen = set()
    for _ in range(200):
        await Timer(rng.randrange(1, 13), unit="ns")
        await ReadOnly()
        clk = int(dut.clk_in.value)
        seen.add(clk)
        assert int(dut.clk_out.value) == clk, "clk_out differs from clk_in"
        assert int(dut.locked.value) == 1, "locked low in bypass"
    assert seen == {0, 1}
