"""cocotb test of snn_stream_fork: random valid on the input and random ready on every output; every
output gets every token once and in order, a token per cycle when every output is ready, and reset
forgets which outputs have taken the current token."""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
N_OUT = int(PARAMS.get("N_OUT", 2))
WIDTH = int(PARAMS.get("WIDTH", 8))


async def _reset(dut):
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def _out(dut, k):
    return (int(dut.out_data.value) >> (k * WIDTH)) & ((1 << WIDTH) - 1)


async def _stream(dut, p_valid, p_ready, beats, seed):
    """``beats`` random tokens in; per output the tokens it took; and the cycles. Inputs change on the
    falling edge (a token offered stays offered until taken); handshakes are sampled before the rising edge."""
    rng = random.Random(seed)
    words = [rng.randrange(1 << WIDTH) for _ in range(beats)]
    sent, got, cycles, offer = 0, [[] for _ in range(N_OUT)], 0, False
    while sent < beats or any(len(g) < beats for g in got):
        offer = sent < beats and (offer or rng.random() < p_valid)
        dut.in_valid.value = int(offer)
        dut.in_data.value = words[sent] if offer else rng.randrange(1 << WIDTH)
        ready = [rng.random() < p for p in p_ready]
        dut.out_ready.value = sum(int(r) << k for k, r in enumerate(ready))
        await ReadOnly()
        valid = int(dut.out_valid.value)
        for k in range(N_OUT):
            if (valid >> k) & 1:
                assert offer, f"output {k} valid without an input token"
                if ready[k]:
                    got[k].append(_out(dut, k))
        if offer and int(dut.in_ready.value):
            sent += 1
            offer = False
        await FallingEdge(dut.clk)
        cycles += 1
        assert cycles < 40 * beats + 100, "stream stuck"
    return words, got, cycles


@cocotb.test()
async def every_output_gets_every_token_in_order(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await _reset(dut)
    cases = [(1.0, [1.0] * N_OUT), (0.6, [1.0] * N_OUT), (1.0, [0.3] + [1.0] * (N_OUT - 1)),
             (0.8, [0.5 + 0.4 * k / N_OUT for k in range(N_OUT)]), (0.3, [0.2] * N_OUT)]
    for seed, (pv, pr) in enumerate(cases):
        words, got, cycles = await _stream(dut, pv, pr, 200, seed)
        for k in range(N_OUT):
            assert got[k] == words, f"valid {pv} ready {pr}: output {k} lost, repeated or reordered tokens"
        if pv == 1.0 and all(p == 1.0 for p in pr):
            assert cycles <= 200 + 1, f"full rate: {cycles} cycles for 200 tokens"
        dut.in_valid.value = 0
        await FallingEdge(dut.clk)


@cocotb.test()
async def reset_forgets_the_outputs_served(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await _reset(dut)
    dut.in_valid.value = 1
    dut.in_data.value = 1
    dut.out_ready.value = 1  # output 0 takes the token, the others wait
    await FallingEdge(dut.clk)
    dut.out_ready.value = 0
    await ReadOnly()
    assert not (int(dut.out_valid.value) & 1) and not int(dut.in_ready.value), "output 0 has the token"
    await FallingEdge(dut.clk)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    await ReadOnly()
    assert int(dut.out_valid.value) == (1 << N_OUT) - 1, "after reset every output is offered the token"
