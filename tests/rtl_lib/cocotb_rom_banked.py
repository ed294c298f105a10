"""cocotb test of snn_rom_banked: every bank file's words read back, three-cycle latency, register-level model."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS["WIDTH"])
DEPTH = int(PARAMS["DEPTH"])
BANK_AW = int(PARAMS["BANK_AW"])
INIT_PREFIX = str(PARAMS["INIT_PREFIX"]).strip('"')
BANK_WORDS = 1 << BANK_AW
BANKS = -(-DEPTH // BANK_WORDS)


def bank_words():
    """The words of every bank, from its file (the file names as the compiler writes them)."""
    banks = []
    for k in range(BANKS):
        with open(f"{INIT_PREFIX}.b{k:02d}.hex") as f:
            banks.append([int(line, 16) for line in f if line.strip()])
    return banks


class Model:
    """Bank read registers (enabled by re, every bank reads at addr's low bits), bank registers, the bank
    select delayed twice, the output register. None: undefined."""

    def __init__(self, banks):
        self.banks = banks
        self.q0 = [None] * BANKS
        self.q1 = [None] * BANKS
        self.sel1 = self.sel2 = None
        self.data = None

    def step(self, re, addr):
        self.data = None if self.sel2 is None else (self.q1[self.sel2] if self.sel2 < BANKS else 0)
        self.sel2, self.sel1 = self.sel1, addr >> BANK_AW
        self.q1 = list(self.q0)
        if re:
            for k, words in enumerate(self.banks):
                bank_bits = max(1, (len(words) - 1).bit_length())   # the bank's own address width
                a = addr & ((1 << bank_bits) - 1)
                self.q0[k] = words[a] if a < len(words) else None


@cocotb.test()
async def reads(dut):
    banks = bank_words()
    assert sum(len(b) for b in banks) == DEPTH
    assert all(len(b) == BANK_WORDS for b in banks[:-1])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.re.value = 0
    dut.addr.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    rng = random.Random(9)
    model = Model(banks)
    checked = 0
    addrs = list(range(DEPTH)) + [rng.randrange(DEPTH) for _ in range(2 * DEPTH + 300)]
    for cycle, addr in enumerate(addrs):
        re = 1 if cycle < DEPTH else int(rng.random() < 0.7)
        dut.re.value, dut.addr.value = re, addr
        await ReadOnly()
        if model.data is not None:
            got = int(dut.data.value)
            assert got == model.data, f"cycle {cycle}: data {got:#x}, expected {model.data:#x}"
            checked += 1
        model.step(re, addr)
        await FallingEdge(dut.clk)
    assert checked > DEPTH
