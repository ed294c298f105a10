"""cocotb test of snn_axis_register: random valid/ready on both sides, every beat once and in order,
a beat per cycle when neither side stalls, and reset empties the slice."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
WIDTH = int(PARAMS.get("WIDTH", 8))


async def _reset(dut):
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    dut.s_data.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def _stream(dut, p_valid, p_ready, beats, seed):
    """Drive ``beats`` random words with the given valid/ready probabilities; return (sent, received,
    cycles). Inputs change on the falling edge; handshakes are sampled just before the rising edge."""
    rng = random.Random(seed)
    words = [rng.randrange(1 << WIDTH) for _ in range(beats)]
    sent, got, cycles = 0, [], 0
    while len(got) < beats:
        offer = sent < beats and rng.random() < p_valid
        dut.s_valid.value = int(offer)
        dut.s_data.value = words[sent] if offer else rng.randrange(1 << WIDTH)
        dut.m_ready.value = int(rng.random() < p_ready)
        await ReadOnly()
        if offer and int(dut.s_ready.value):
            sent += 1
        if int(dut.m_valid.value) and int(dut.m_ready.value):
            got.append(int(dut.m_data.value))
        await FallingEdge(dut.clk)
        cycles += 1
        assert cycles < 20 * beats + 100, "stream stuck"
    return words, got, cycles


@cocotb.test()
async def every_beat_in_order(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await _reset(dut)
    for seed, (pv, pr) in enumerate([(1.0, 1.0), (0.5, 1.0), (1.0, 0.4), (0.7, 0.6), (0.2, 0.9)]):
        words, got, cycles = await _stream(dut, pv, pr, 300, seed)
        assert got == words, f"valid {pv} ready {pr}: beats lost, duplicated or reordered"
        if pv == pr == 1.0:
            assert cycles <= 300 + 2, f"full rate: {cycles} cycles for 300 beats"
        dut.s_valid.value = 0
        dut.m_ready.value = 0
        await FallingEdge(dut.clk)
        await ReadOnly()
        assert not int(dut.m_valid.value), "a beat left over"
        await FallingEdge(dut.clk)


@cocotb.test()
async def reset_empties(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await _reset(dut)
    dut.m_ready.value = 0
    for w in (1, 2):  # fill the main and the skid register
        dut.s_valid.value = 1
        dut.s_data.value = w % (1 << WIDTH)
        await FallingEdge(dut.clk)
    dut.s_valid.value = 0
    await ReadOnly()
    assert int(dut.m_valid.value) and not int(dut.s_ready.value), "two beats should fill the slice"
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await ReadOnly()
    assert not int(dut.m_valid.value) and int(dut.s_ready.value), "reset must empty the slice"
