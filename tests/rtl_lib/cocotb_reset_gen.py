"""cocotb tests of snn_reset_gen: rst high from time 0 (register initial values, no reset input), while
pll_locked is low or the button pressed, and falling at exactly the (HOLD_CYCLES + 3)-th rising edge after
the last cause goes away; a new cause shows at the 3rd edge. Plus random causes against a cycle-accurate model.

Parameters come from ``SNNHW_PARAMS`` (JSON). Inputs change between clock edges (they are asynchronous).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
HOLD = int(PARAMS.get("HOLD_CYCLES", 16))
ACTIVE_HIGH = int(PARAMS.get("BUTTON_ACTIVE_HIGH", 1))
PRESSED, RELEASED = (1, 0) if ACTIVE_HIGH else (0, 1)
RELEASE_EDGES = HOLD + 3   # rst falls at this rising edge after the last cause goes away
CAUSE_EDGES = 3            # rst rises at this rising edge after a cause appears


class ResetModel:
    """Two-flip-flop synchronizers, the hold counter, the rst register; power-on values."""

    def __init__(self):
        self.lm = self.ls = 0
        self.bm = self.bs = RELEASED
        self.count, self.rst = 0, 1

    def step(self, locked, button):
        cause = (not self.ls) or self.bs == PRESSED
        if cause:
            self.count, self.rst = 0, 1
        elif self.count != HOLD:
            self.count, self.rst = self.count + 1, 1
        else:
            self.rst = 0
        self.lm, self.ls = locked, self.lm
        self.bm, self.bs = button, self.bm


async def start(dut, locked=0):
    """The power-on state: from configuration in the first test (rst must be high before any clock edge);
    in later tests (one simulation runs them all) the same state by holding pll_locked low for 4 cycles."""
    first = not hasattr(start, "done")
    start.done = True
    dut.pll_locked.value = locked if first else 0
    dut.button.value = RELEASED
    await Timer(1, unit="ns")
    if first:
        assert int(dut.rst.value) == 1, "rst low at power-on"
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start(start_high=False))
    if not first:
        for _ in range(4):
            await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.rst.value) == 1
        await between_edges(dut)
        dut.pll_locked.value = locked


async def edges_until(dut, level, limit):
    """Rising edges from now until rst reads `level` after one; None if not within limit."""
    for n in range(1, limit + 1):
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.rst.value) == level:
            return n
    return None


async def stays(dut, level, edges):
    for n in range(edges):
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert int(dut.rst.value) == level, f"rst changed to {1 - level} {n + 1} edges in"


async def between_edges(dut):
    await FallingEdge(dut.clk)
    await Timer(2, unit="ns")


@cocotb.test()
async def power_on_and_lock(dut):
    """High from time 0 and while pll_locked is low; falls at the (HOLD + 3)-th edge after the lock."""
    await start(dut)
    await stays(dut, 1, 3 * HOLD + 20)
    await between_edges(dut)
    dut.pll_locked.value = 1
    assert await edges_until(dut, 0, RELEASE_EDGES + 5) == RELEASE_EDGES
    await stays(dut, 0, 2 * HOLD + 10)


@cocotb.test()
async def locked_from_start(dut):
    """pll_locked high from the start (a bypassed PLL): rst still starts high and falls at edge HOLD + 3."""
    await start(dut, locked=1)
    assert await edges_until(dut, 0, RELEASE_EDGES + 5) == RELEASE_EDGES


@cocotb.test()
async def button_and_lock_loss(dut):
    """A press shows at the 3rd edge and holds rst while pressed; release, a bouncing release and a lost lock
    (one cycle) each end HOLD + 3 edges after the last cause."""
    await start(dut, locked=1)
    await edges_until(dut, 0, RELEASE_EDGES + 5)
    rng = random.Random(41)
    for trial in range(4):
        await stays(dut, 0, rng.randrange(1, 10))
        await between_edges(dut)
        if trial == 3:
            dut.pll_locked.value = 0
        else:
            dut.button.value = PRESSED
        assert await edges_until(dut, 1, 10) == CAUSE_EDGES
        await stays(dut, 1, 1 if trial == 3 else rng.randrange(HOLD + 5, 3 * HOLD + 10))
        if trial == 2:   # bounces: short presses at random within the hold time
            for _ in range(5):
                await between_edges(dut)
                dut.button.value = RELEASED
                await stays(dut, 1, rng.randrange(1, HOLD + 1))   # released for at most HOLD edges
                await between_edges(dut)
                dut.button.value = PRESSED
                await stays(dut, 1, rng.randrange(1, 3))
        await between_edges(dut)
        dut.button.value = RELEASED
        dut.pll_locked.value = 1
        n = await edges_until(dut, 0, RELEASE_EDGES + 5)
        assert n == RELEASE_EDGES, f"trial {trial}: rst fell {n} edges after the release, expected {RELEASE_EDGES}"


@cocotb.test()
async def random_against_model(dut):
    """Random pll_locked and button levels, every cycle against the model."""
    await start(dut)
    model = ResetModel()   # the power-on state, which start() recreates
    rng = random.Random(42)
    locked, button = 0, RELEASED
    prev, falls = 1, 0
    for cycle in range(4000):
        await Timer(3, unit="ns")   # inputs change between edges
        if rng.random() < 1.0 / (HOLD + 4):
            locked = int(rng.random() < 0.8)
            button = PRESSED if rng.random() < 0.3 else RELEASED
        dut.pll_locked.value = locked
        dut.button.value = button
        await RisingEdge(dut.clk)
        model.step(locked, button)
        await ReadOnly()
        got = int(dut.rst.value)
        assert got == model.rst, f"cycle {cycle}: rst {got}, expected {model.rst}"
        falls += prev and not got
        prev = got
    assert falls >= 5, f"rst fell only {falls} times"
