"""cocotb test of snn_delay: q is d delayed by STAGES cycles."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))
STAGES = int(PARAMS.get("STAGES", 1))


@cocotb.test()
async def delays(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.d.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    rng = random.Random(3)
    history = []   # d of every cycle
    for cycle in range(400):
        d = rng.randrange(1 << WIDTH)
        dut.d.value = d
        history.append(d)
        await ReadOnly()
        if cycle >= STAGES:
            got = int(dut.q.value)
            assert got == history[cycle - STAGES], f"cycle {cycle}: q {got:#x}, expected {history[cycle - STAGES]:#x}"
        await FallingEdge(dut.clk)
