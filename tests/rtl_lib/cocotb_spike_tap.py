"""cocotb test of snn_spike_tap: random token streams {eos, last, address} of several images with valid and
ready toggling independently (junk on the data lines while valid is low), against a Python model of what the
tap reports: spikes and ends of step only on accepted beats, the step counter, the C-H-W index.

Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_TAP_EXTENT`` is the map's channel count (MAP = 1) or
the vector length (MAP = 0).
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
MAP = int(PARAMS.get("MAP", 1))
CW = int(PARAMS.get("CW", 1))
YW = int(PARAMS.get("YW", 1))
XW = int(PARAMS.get("XW", 1))
HEIGHT = int(PARAMS.get("HEIGHT", 1))
WIDTH = int(PARAMS.get("WIDTH", 1))
ADDR_W = int(PARAMS.get("ADDR_W", 1))
STEP_W = int(PARAMS.get("STEP_W", 1))
EXTENT = int(os.environ.get("SNNHW_TAP_EXTENT", 1 << CW))
ADDR_BITS = CW + (YW + XW if MAP else 0)
TOKEN_W = ADDR_BITS + 2


def spike_token(rng):
    """A spike: (token word, expected flat index)."""
    if MAP:
        c, y, x = rng.randrange(EXTENT), rng.randrange(HEIGHT), rng.randrange(WIDTH)
        if rng.random() < 0.1:   # the map's corners
            c, y, x = rng.choice([(0, 0, 0), (EXTENT - 1, HEIGHT - 1, WIDTH - 1), (EXTENT - 1, 0, WIDTH - 1)])
        return (((c << YW) | y) << XW) | x, (c * HEIGHT + y) * WIDTH + x
    i = rng.choice([0, EXTENT - 1]) if rng.random() < 0.1 else rng.randrange(EXTENT)
    return i, i


def eos_token(last, rng):
    """An end of step; the address bits carry junk (the tap must ignore them)."""
    return (1 << (TOKEN_W - 1)) | (int(last) << (TOKEN_W - 2)) | rng.randrange(1 << ADDR_BITS)


def stream(rng, images):
    """Tokens of whole images: each step a few spikes then its end of step; the image's last one flagged last."""
    for _ in range(images):
        steps = rng.randint(1, (1 << STEP_W) + 1 if rng.random() < 0.2 else (1 << STEP_W) - 1 or 1)
        for t in range(steps):
            for _ in range(rng.choice([0, 0, 1, 2, 5])):
                word, addr = spike_token(rng)
                yield word, addr, False, False
            yield eos_token(t == steps - 1, rng), None, True, t == steps - 1


@cocotb.test()
async def tap(dut):
    """Several hundred images; each cycle checks tap_valid, tap_eos, tap_step and (on spikes) tap_addr."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    rng = random.Random(MAP * 7919 + CW * 31 + ADDR_W * 7 + STEP_W)
    dut.rst.value = 1
    dut.valid.value = 0
    dut.ready.value = 0
    dut.data.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    step = 0
    tokens = stream(rng, 200)
    cur = next(tokens)
    seen = dict(spikes=0, eos=0, last=0, refused=0, junk=0, wrapped=0)
    for cycle in range(20000):
        p_valid, p_ready = [(0.9, 0.9), (0.5, 0.5), (0.3, 0.9), (0.9, 0.3)][(cycle // 500) % 4]
        valid = int(rng.random() < p_valid)
        ready = int(rng.random() < p_ready)
        word, addr, is_eos, last = cur
        dut.valid.value = valid
        dut.ready.value = ready
        dut.data.value = word if valid else rng.randrange(1 << TOKEN_W)   # junk while not valid
        await ReadOnly()
        fire = valid and ready
        ctx = f"cycle {cycle}: valid={valid} ready={ready} token {word:#x}"
        assert int(dut.tap_valid.value) == int(fire and not is_eos), f"{ctx}: tap_valid {dut.tap_valid.value}"
        assert int(dut.tap_eos.value) == int(fire and is_eos), f"{ctx}: tap_eos {dut.tap_eos.value}"
        got_step = int(dut.tap_step.value)
        assert got_step == step % (1 << STEP_W), f"{ctx}: tap_step {got_step}, expected {step % (1 << STEP_W)}"
        if fire and not is_eos:
            got = int(dut.tap_addr.value)
            assert got == addr, f"{ctx}: tap_addr {got}, expected {addr}"
            seen["spikes"] += 1
        seen["refused"] += valid and not ready
        seen["junk"] += not valid and ready
        if fire:
            if is_eos:
                seen["eos"] += 1
                seen["last"] += last
                seen["wrapped"] += step + 1 >= 1 << STEP_W and not last
                step = 0 if last else step + 1
            try:
                cur = next(tokens)
            except StopIteration:
                break
        await FallingEdge(dut.clk)
    dut._log.info(f"coverage: {seen}")
    assert seen["last"] >= 100 and seen["spikes"] >= 300 and seen["refused"] >= 100 and seen["junk"] >= 100, seen
