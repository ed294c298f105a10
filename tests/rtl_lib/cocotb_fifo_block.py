"""cocotb tests of snn_fifo_block against a cycle-accurate Python model.

Parameters come from ``SNNHW_PARAMS`` (JSON).
"""
import json
import os
import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from cocotb_fifo import check, start  # the same reset and the same per-cycle check of the model's outputs

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))
DEPTH = int(PARAMS.get("DEPTH", 16))
QUEUE = 3  # the output queue's words


class FifoBlockModel:
    """The FIFO as the RTL behaves, one clock edge per step(): the RAM's words, the read in flight, the
    output queue."""

    def __init__(self):
        self.ram, self.flight, self.queue = [], None, []

    def outputs(self):
        return dict(s_ready=int(len(self.ram) < DEPTH), m_valid=int(bool(self.queue)),
                    m_data=self.queue[0] if self.queue else None)

    def step(self, rst, s_valid, s_data, m_ready):
        """One clock edge; returns (pushed, popped)."""
        if rst:
            self.__init__()
            return False, False
        pop = bool(self.queue) and bool(m_ready)
        issue = bool(self.ram) and len(self.queue) + (self.flight is not None) <= QUEUE - 1
        push = bool(s_valid) and len(self.ram) < DEPTH
        if pop:
            self.queue.pop(0)
        if self.flight is not None:
            self.queue.append(self.flight)
        assert len(self.queue) <= QUEUE
        self.flight = self.ram.pop(0) if issue else None
        if push:
            self.ram.append(s_data)
        return push, pop

    def held(self):
        return len(self.ram) + (self.flight is not None) + len(self.queue)


async def drive(dut, model, cycle, rst, s_valid, s_data, m_ready):
    dut.rst.value = rst
    dut.s_valid.value = s_valid
    dut.s_data.value = s_data
    dut.m_ready.value = m_ready
    await ReadOnly()
    if not rst:
        check(dut, model, cycle)
    result = model.step(rst, s_valid, s_data, m_ready)
    await FallingEdge(dut.clk)
    return result


@cocotb.test()
async def random_traffic(dut):
    """Balanced, producer-heavy and consumer-heavy traffic with a holding producer, resets; every word out in
    order (the model's queue) and none lost."""
    await start(dut)
    model, rng = FifoBlockModel(), random.Random(11)
    sent, received, cycle, total = [], [], 0, 0
    for i, (pv, pr, p_reset) in enumerate([(0.5, 0.5, 0), (0.9, 0.2, 0), (0.3, 0.9, 0), (1.0, 1.0, 0),
                                           (0.8, 0.7, 0.005), (0.95, 0.05, 0), (0.05, 0.95, 0)]):
        s_valid, s_data = 0, 0
        for _ in range(4 * DEPTH + 400):
            rst = int(rng.random() < p_reset)
            if not s_valid:   # valid/ready: a refused word is held until taken
                s_valid = int(rng.random() < pv)
                s_data = rng.randrange(1 << WIDTH)
            m_ready = int(rng.random() < pr)
            out = model.outputs()["m_data"]
            pushed, popped = await drive(dut, model, cycle, rst, s_valid, s_data, m_ready)
            cycle += 1
            if rst:
                sent, received, s_valid = [], [], 0
                continue
            if pushed:
                sent.append(s_data)
                s_valid = 0
            if popped:
                received.append(out)
                total += 1
        assert received == sent[:len(received)], f"phase {i}: words out of order or lost"
    assert total > 500, f"too little traffic ({total} words)"


@cocotb.test()
async def fill_drain_and_stream(dut):
    """With the reader stalled the FIFO takes DEPTH + 3 words (s_ready falls when the RAM is full), gives
    them back in order, then passes one word per cycle in a steady stream."""
    await start(dut)
    model = FifoBlockModel()
    cycle = 0
    taken = 0
    for i in range(DEPTH + 8):
        pushed, _ = await drive(dut, model, cycle, 0, 1, i % (1 << WIDTH), 0)
        taken += pushed
        cycle += 1
    assert taken == DEPTH + QUEUE and model.held() == DEPTH + QUEUE, (taken, model.held())
    got = []
    for _ in range(DEPTH + 8):
        out = model.outputs()["m_data"]
        _, popped = await drive(dut, model, cycle, 0, 0, 0, 1)
        cycle += 1
        if popped:
            got.append(out)
    assert got == [i % (1 << WIDTH) for i in range(DEPTH + QUEUE)]
    pops = 0
    for i in range(200):
        _, popped = await drive(dut, model, cycle, 0, 1, i % (1 << WIDTH), 1)
        cycle += 1
        pops += popped
    assert pops == 200 - 3, f"{pops} words in 200 cycles of a steady stream (three cycles of latency)"
