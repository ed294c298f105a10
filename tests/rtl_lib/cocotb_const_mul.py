"""cocotb test of snn_const_mul: y = x * K mod 2**OUT_WIDTH for edge and random x."""
import json
import os
import random

import cocotb
from cocotb.triggers import Timer

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
IN_WIDTH = int(PARAMS["IN_WIDTH"])
OUT_WIDTH = int(PARAMS["OUT_WIDTH"])
K = int(PARAMS["K"])


@cocotb.test()
async def products(dut):
    mask = (1 << IN_WIDTH) - 1
    xs = {v & mask for v in (0, 1, 2, mask, mask - 1, mask >> 1, 0x5555555555555555, 0xAAAAAAAAAAAAAAAA)}
    rng = random.Random(K ^ (IN_WIDTH << 8) ^ OUT_WIDTH)
    xs |= {rng.randrange(1 << IN_WIDTH) for _ in range(400)}
    for x in sorted(xs):
        dut.x.value = x
        await Timer(1, unit="ns")
        got = int(dut.y.value)
        exp = (x * K) % (1 << OUT_WIDTH)
        assert got == exp, f"x = {x:#x}: y = {got:#x}, expected {exp:#x} (K = {K:#x})"
