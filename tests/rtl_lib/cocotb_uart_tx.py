"""cocotb tests of snn_uart_tx: a cycle-accurate model of the line (each taken byte is 10 * DIVISOR cycles
of start, data LSB first, stop; s_ready while idle and in the stop bit's last cycle) checked every cycle,
and cocotbext-uart's UartSink as an independent decoder of the line.

Parameters come from ``SNNHW_PARAMS`` (JSON). Clock period 100 ns (as in cocotb_uart_rx.py).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer
from cocotbext.uart import UartSink

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
DIVISOR = int(PARAMS.get("DIVISOR", 16))
CLK_NS = 100
BIT_NS = CLK_NS * DIVISOR


class TxModel:
    """The line as it should be: the levels of the cycles still to come of the character on the line."""

    def __init__(self):
        self.wave = []

    def outputs(self):
        return dict(tx=self.wave[0] if self.wave else 1, s_ready=int(len(self.wave) <= 1))

    def step(self, rst, s_valid, s_data):
        """One clock edge; returns whether a byte was taken."""
        take = not rst and s_valid and self.outputs()["s_ready"]
        if rst:
            self.wave = []
        elif take:
            bits = [0] + [(s_data >> k) & 1 for k in range(8)] + [1]
            self.wave = [b for b in bits for _ in range(DIVISOR)]
        elif self.wave:
            self.wave.pop(0)
        return take


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, CLK_NS, unit="ns").start())
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.s_data.value = 0
    await Timer(1, unit="ns")
    for _ in range(3):
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.tx.value) == 1, "tx low in reset"
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def check(dut, model, cycle):
    exp = model.outputs()
    got = dict(tx=int(dut.tx.value), s_ready=int(dut.s_ready.value))
    assert got == exp, f"cycle {cycle}: {got}, expected {exp}"


async def run(dut, model, rng, cycles, p_valid, hold=True, p_reset=0.0):
    """Random producer: with hold a refused byte stays on s_valid/s_data until taken (valid/ready)."""
    taken, take_cycles = [], []
    s_valid, s_data = 0, 0
    for cycle in range(cycles):
        rst = int(rng.random() < p_reset)
        if not (hold and s_valid):
            s_valid = int(rng.random() < p_valid)
            s_data = rng.randrange(256)
        dut.rst.value = rst
        dut.s_valid.value = s_valid
        dut.s_data.value = s_data
        await ReadOnly()
        check(dut, model, cycle)
        if model.step(rst, s_valid, s_data):
            taken.append(s_data)
            take_cycles.append(cycle)
            s_valid = 0
        if rst:
            s_valid = 0
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    dut.s_valid.value = 0
    return taken, take_cycles


async def drain(dut, model):
    cycle = 0
    while model.wave:
        await ReadOnly()
        check(dut, model, cycle)
        model.step(0, 0, 0)
        await FallingEdge(dut.clk)
        cycle += 1
    await Timer(2 * BIT_NS, unit="ns")


@cocotb.test()
async def back_to_back(dut):
    """s_valid always high: a new character every 10 * DIVISOR cycles exactly, no idle between them; the
    UartSink reads exactly the bytes."""
    await start(dut)
    sink = UartSink(dut.tx, baud=1e9 / (BIT_NS + 0.5), bits=8, stop_bits=1)
    model = TxModel()
    taken, cycles = await run(dut, model, random.Random(21), 10 * DIVISOR * 40 + 5, p_valid=1.0)
    gaps = {b - a for a, b in zip(cycles, cycles[1:])}
    assert gaps == {10 * DIVISOR}, f"cycles between characters: {sorted(gaps)}"
    await drain(dut, model)
    got = list(sink.read_nowait())
    assert got == taken, f"UartSink read {got[:10]}..., sent {taken[:10]}..."


@cocotb.test()
async def random_gaps(dut):
    """Random s_valid (held until taken, and dropped at random), every cycle against the model; the
    UartSink reads exactly the taken bytes."""
    await start(dut)
    sink = UartSink(dut.tx, baud=1e9 / (BIT_NS + 0.5), bits=8, stop_bits=1)
    model = TxModel()
    rng = random.Random(22)
    taken = []
    for p_valid, hold in [(0.02, True), (0.3, True), (0.05, False), (0.9, False)]:
        t, _ = await run(dut, model, rng, 10 * DIVISOR * 25, p_valid, hold)
        taken += t
    await drain(dut, model)
    assert len(taken) > 60, f"too little traffic ({len(taken)} bytes)"
    got = list(sink.read_nowait())
    assert got == taken, f"UartSink read {len(got)} bytes, sent {len(taken)}; {got[:10]} vs {taken[:10]}"


@cocotb.test()
async def resets(dut):
    """rst at random, also mid-character: tx high and s_ready at once, then characters as before."""
    await start(dut)
    model = TxModel()
    rng = random.Random(23)
    await run(dut, model, rng, 10 * DIVISOR * 30, p_valid=0.5, p_reset=0.3 / DIVISOR)
