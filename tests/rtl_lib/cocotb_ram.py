"""cocotb tests of snn_ram against a register-level Python model (flat with every OUTREG, and banked), and its
write to all banks at once (we_all)."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))
DEPTH = int(PARAMS.get("DEPTH", 16))
AW = int(PARAMS.get("AW", 4))
OUTREG = int(PARAMS.get("OUTREG", 0))
BANK_AW = int(PARAMS.get("BANK_AW", 0))


class RamModel:
    """snn_ram's registers; None is an undefined word."""

    def __init__(self):
        self.mem = [None] * DEPTH
        if BANK_AW:
            self.banks = (DEPTH + (1 << BANK_AW) - 1) >> BANK_AW
            self.q0 = [None] * self.banks   # per bank: read register, then the bank register
            self.q1 = [None] * self.banks
            self.bank1 = self.bank2 = None
            self.rd2 = None
        else:
            self.rd0 = None
            self.delay = [None] * OUTREG

    def rdata(self):
        if BANK_AW:
            return self.rd2
        return self.delay[-1] if OUTREG else self.rd0

    def step(self, we, waddr, wdata, re, raddr, we_all=0):
        """One clock edge."""
        if BANK_AW:
            mask = (1 << BANK_AW) - 1
            # bank multiplexer into rd2: bank2 selects one of the bank registers (none: zero)
            if self.bank2 is None:
                self.rd2 = None
            else:
                self.rd2 = self.q1[self.bank2] if self.bank2 < self.banks else 0
            self.bank2, self.bank1 = self.bank1, raddr >> BANK_AW
            self.q1 = list(self.q0)
            if re:   # every bank reads its word at raddr's low bits
                for b in range(self.banks):
                    a = (b << BANK_AW) + (raddr & mask)
                    self.q0[b] = self.mem[a] if a < DEPTH else None
        else:
            if OUTREG:
                self.delay = [self.rd0] + self.delay[:-1]
            if re:
                self.rd0 = self.mem[raddr]
        if we and we_all and BANK_AW:   # the word at waddr's offset in every bank
            mask = (1 << BANK_AW) - 1
            for a in range(waddr & mask, DEPTH, 1 << BANK_AW):
                self.mem[a] = wdata
        elif we:
            self.mem[waddr] = wdata


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.we.value = 0
    dut.we_all.value = 0
    dut.re.value = 0
    dut.waddr.value = 0
    dut.raddr.value = 0
    dut.wdata.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)


async def drive(dut, model, cycles, rng, p_we, p_re, checked, p_all=0.0):
    for cycle in range(cycles):
        we = int(rng.random() < p_we)
        we_all = int(rng.random() < p_all)
        re = int(rng.random() < p_re)
        waddr = rng.randrange(DEPTH)
        raddr = rng.randrange(DEPTH)
        mask = (1 << BANK_AW) - 1 if BANK_AW else -1
        if we and re and (waddr == raddr or (we_all and (waddr & mask) == (raddr & mask))):
            we = 0   # no read of a word written in the same cycle (no_rw_check: undefined)
        wdata = rng.randrange(1 << WIDTH)
        dut.we.value, dut.we_all.value, dut.waddr.value, dut.wdata.value = we, we_all, waddr, wdata
        dut.re.value, dut.raddr.value = re, raddr
        await ReadOnly()
        exp = model.rdata()
        if exp is not None:
            got = int(dut.rdata.value)
            assert got == exp, f"cycle {cycle}: rdata {got:#x}, expected {exp:#x}"
            checked[0] += 1
        model.step(we, waddr, wdata, re, raddr, we_all)
        await FallingEdge(dut.clk)


@cocotb.test()
async def writes_then_reads(dut):
    """Fill every word, read each back (latency OUTREG + 1, or 3 when banked), then random traffic with gaps."""
    await start(dut)
    rng = random.Random(11)
    model = RamModel()
    checked = [0]
    for a in range(DEPTH):   # fill
        w = rng.randrange(1 << WIDTH)
        dut.we.value, dut.waddr.value, dut.wdata.value, dut.re.value = 1, a, w, 0
        await ReadOnly()
        model.step(1, a, w, 0, 0)
        await FallingEdge(dut.clk)
    dut.we.value = 0
    for a in list(range(DEPTH)) + [0] * 4:   # read back in order, then flush the pipeline
        dut.re.value, dut.raddr.value = 1, a
        await ReadOnly()
        exp = model.rdata()
        if exp is not None:
            assert int(dut.rdata.value) == exp, f"read-back: rdata {int(dut.rdata.value):#x}, expected {exp:#x}"
            checked[0] += 1
        model.step(0, 0, 0, 1, a)
        await FallingEdge(dut.clk)
    assert checked[0] >= DEPTH
    await drive(dut, model, 1500, rng, 0.5, 0.6, checked)
    await drive(dut, model, 300, rng, 0.1, 0.2, checked)   # re mostly low: the read register holds
    assert checked[0] > DEPTH + 1000


@cocotb.test()
async def clear_all_banks(dut):
    """we_all: zero the RAM in one bank depth (2**BANK_AW writes; a flat RAM: DEPTH writes), read every word back,
    then random traffic mixing plain and all-bank writes."""
    await start(dut)
    rng = random.Random(23)
    model = RamModel()
    checked = [0]
    await drive(dut, model, 200, rng, 0.8, 0.0, checked)   # some contents
    span = (1 << BANK_AW) if BANK_AW else DEPTH
    for a in range(span):
        dut.we.value, dut.we_all.value, dut.waddr.value, dut.wdata.value, dut.re.value = 1, 1, a, 0, 0
        await ReadOnly()
        model.step(1, a, 0, 0, 0, 1)
        await FallingEdge(dut.clk)
    dut.we.value = dut.we_all.value = 0
    assert all(w == 0 for w in model.mem), "the model is not cleared"
    for a in list(range(DEPTH)) + [0] * 4:
        dut.re.value, dut.raddr.value = 1, a
        await ReadOnly()
        exp = model.rdata()
        if exp is not None:
            assert int(dut.rdata.value) == exp, f"after the clear: rdata {int(dut.rdata.value):#x}, expected {exp:#x}"
            checked[0] += 1
        model.step(0, 0, 0, 1, a)
        await FallingEdge(dut.clk)
    assert checked[0] >= DEPTH
    await drive(dut, model, 800, rng, 0.5, 0.6, checked, p_all=0.3)
