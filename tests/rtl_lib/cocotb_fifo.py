"""cocotb tests of snn_fifo against a cycle-accurate Python model.

Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_FIFO_MODE`` picks the
stimulus of the SNNHW_ASSERT builds (see test_fifo.py).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))
DEPTH = int(PARAMS.get("DEPTH", 16))
SLACK = int(PARAMS.get("SLACK", 0))


class FifoModel:
    """The FIFO as the RTL behaves, one clock edge per step()."""

    def __init__(self):
        self.words = []

    def outputs(self):
        count = len(self.words)
        return dict(s_ready=int(count + SLACK < DEPTH), m_valid=int(count > 0),
                    m_data=self.words[0] if self.words else None)

    def step(self, rst, s_valid, s_data, m_ready):
        """One clock edge; returns (pushed, popped)."""
        if rst:
            self.words = []
            return False, False
        push = bool(s_valid) and len(self.words) != DEPTH
        pop = bool(self.words) and bool(m_ready)
        if pop:
            self.words.pop(0)
        if push:
            self.words.append(s_data)
        return push, pop


async def start(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.s_data.value = 0
    dut.m_ready.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def check(dut, model, cycle):
    exp = model.outputs()
    got_ready, got_valid = int(dut.s_ready.value), int(dut.m_valid.value)
    assert got_ready == exp["s_ready"], f"cycle {cycle}: s_ready {got_ready}, expected {exp['s_ready']}"
    assert got_valid == exp["m_valid"], f"cycle {cycle}: m_valid {got_valid}, expected {exp['m_valid']}"
    if exp["m_valid"]:
        got = int(dut.m_data.value)
        assert got == exp["m_data"], f"cycle {cycle}: m_data {got:#x}, expected {exp['m_data']:#x}"


async def run_random(dut, model, cycles, p_valid, p_ready, hold_valid, seed, p_reset=0.0):
    """Random valid/ready traffic; with hold_valid the producer keeps a refused word (valid/ready protocol),
    otherwise it may drop s_valid any time (words offered while full are lost, as in the RTL)."""
    rng = random.Random(seed)
    sent = received = 0
    s_valid, s_data = 0, 0
    for cycle in range(cycles):
        rst = int(rng.random() < p_reset)
        if not (hold_valid and s_valid):   # a held word stays until taken
            s_valid = int(rng.random() < p_valid)
            s_data = rng.randrange(1 << WIDTH)
        m_ready = int(rng.random() < p_ready)
        dut.rst.value = rst
        dut.s_valid.value = s_valid
        dut.s_data.value = s_data
        dut.m_ready.value = m_ready
        await ReadOnly()
        if not rst:
            check(dut, model, cycle)
        pushed, popped = model.step(rst, s_valid, s_data, m_ready)
        sent += pushed
        received += popped
        if hold_valid and (pushed or rst):
            s_valid = 0
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    return sent, received


@cocotb.test()
async def random_traffic(dut):
    """Balanced, producer-heavy and consumer-heavy traffic, dropping and holding producers, resets."""
    await start(dut)
    model = FifoModel()
    total = 0
    for i, (pv, pr, hold) in enumerate([(0.5, 0.5, True), (0.9, 0.3, True), (0.3, 0.9, True),
                                         (0.9, 0.3, False), (1.0, 1.0, False), (0.7, 0.6, False)]):
        sent, received = await run_random(dut, model, 600, pv, pr, hold, seed=100 + i, p_reset=0.01 if i == 5 else 0.0)
        total += received
    assert total > 1000, f"too little traffic ({total} words)"


@cocotb.test()
async def fill_and_drain(dut):
    """Fill to DEPTH (s_ready falls SLACK words early, every word still fits), then drain in order."""
    await start(dut)
    model = FifoModel()
    for i in range(DEPTH + 2):
        dut.s_valid.value = 1
        dut.s_data.value = i % (1 << WIDTH)
        dut.m_ready.value = 0
        await ReadOnly()
        check(dut, model, i)
        model.step(0, 1, i % (1 << WIDTH), 0)
        await FallingEdge(dut.clk)
    assert len(model.words) == DEPTH
    dut.s_valid.value = 0
    for i in range(DEPTH + 2):
        dut.m_ready.value = 1
        await ReadOnly()
        check(dut, model, DEPTH + 2 + i)
        model.step(0, 0, 0, 1)
        await FallingEdge(dut.clk)
    assert not model.words


@cocotb.test()
async def credit_producer(dut):
    """A producer that decides on s_ready and pushes DELAY cycles later (SNNHW_FIFO_MODE=credit:DELAY).

    DELAY <= SLACK never overflows; DELAY = SLACK + 1 overflows under back-pressure (with SNNHW_ASSERT the
    simulation must stop there)."""
    mode = os.environ.get("SNNHW_FIFO_MODE", "")
    if not mode.startswith("credit:"):
        return
    delay = int(mode.split(":")[1])
    await start(dut)
    rng = random.Random(7)
    model = FifoModel()
    pipe = [None] * delay   # words decided but not yet at s_valid
    lost = 0
    for cycle in range(3000):
        word = pipe.pop(0) if delay else None
        m_ready = int(rng.random() < (0.15 if cycle % 400 < 200 else 0.9))
        dut.s_valid.value = int(word is not None)
        dut.s_data.value = word or 0
        dut.m_ready.value = m_ready
        await ReadOnly()
        check(dut, model, cycle)
        decide = int(dut.s_ready.value) and rng.random() < 0.8
        if word is not None and len(model.words) == DEPTH:
            lost += 1   # push ignores a pop in the same cycle: the word is not stored
        model.step(0, int(word is not None), word or 0, m_ready)
        if delay:
            pipe.append(rng.randrange(1 << WIDTH) if decide else None)
        await FallingEdge(dut.clk)
    assert lost == 0, f"{lost} word(s) offered while full"
