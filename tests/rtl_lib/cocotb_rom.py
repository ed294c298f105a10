"""cocotb tests of snn_rom: the words of INIT_FILE read back with latency OUTREG + 1."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))
DEPTH = int(PARAMS.get("DEPTH", 16))
OUTREG = int(PARAMS.get("OUTREG", 0))
INIT_FILE = str(PARAMS.get("INIT_FILE", "")).strip('"')


def read_hex(path):
    return [int(line, 16) for line in open(path) if line.strip()]


@cocotb.test()
async def reads(dut):
    """Random addresses and read enables against the file's words (re = 0 holds the read register)."""
    words = read_hex(INIT_FILE)
    assert len(words) == DEPTH
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.re.value = 0
    dut.addr.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    rng = random.Random(5)
    rd0 = None                 # the read register
    outregs = [None] * OUTREG  # the output registers
    checked = 0
    for cycle in range(800):
        re = int(rng.random() < (0.7 if cycle < 600 else 0.1))
        addr = rng.randrange(DEPTH) if cycle >= DEPTH else cycle
        dut.re.value, dut.addr.value = re, addr
        await ReadOnly()
        exp = outregs[-1] if OUTREG else rd0
        if exp is not None:
            got = int(dut.data.value)
            assert got == exp, f"cycle {cycle}: data {got:#x}, expected {exp:#x}"
            checked += 1
        if OUTREG:
            outregs = [rd0] + outregs[:-1]
        if re:
            rd0 = words[addr]
        await FallingEdge(dut.clk)
    assert checked > 500
